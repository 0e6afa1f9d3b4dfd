"""Errors in Ollama's shape, ``{"error": "message"}``, for every answer under ``/api/``.

The server's handlers (and the auth, body-limit and catch-all middlewares) answer in OpenAI's
shape; this middleware rewrites those bodies for ``/api/*`` so that Ollama's clients read our
message (the ``ollama`` Python client raises ``ResponseError(message, status)``). Validation
errors become 400, as Ollama answers a body it cannot use.
"""

from __future__ import annotations

import json
from typing import Any

PREFIX = "/api/"


def ollama_error(message: str) -> dict[str, Any]:
    return {"error": message}


def _rewrite(body: bytes) -> bytes | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return json.dumps(ollama_error(err["message"]), ensure_ascii=False).encode()
    return None


class OllamaErrorMiddleware:
    """Rewrites JSON error answers (status >= 400) under ``/api/`` into Ollama's error shape."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def send_shaped(message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", ()))
                if message["status"] >= 400 and headers.get(b"content-type", b"").startswith(b"application/json"):
                    held = message  # buffer the (small) error body, then rewrite it
                    return
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            status = int(held["status"])
            shaped = _rewrite(body)
            if shaped is not None:
                body = shaped
                status = 400 if status == 422 else status
            headers = [(k, v) for k, v in held.get("headers", ()) if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**held, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_shaped)
