"""Request limits: body size (413, checked while the body streams in) and per-field checks."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import APIError, error_response
from .settings import Limits


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes``: at once from Content-Length, else as soon as more bytes arrive."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = error_response(413, f"request body is larger than {self.max_bytes} bytes",
                                   type="invalid_request_error", code="request_too_large")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await too_large(scope, receive, send)
                    return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        # Read the whole body first (our bodies are JSON, parsed whole anyway), stopping at the limit.
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def check_texts(texts: Sequence[str], limits: Limits, *, param: str = "input", what: str = "inputs") -> None:
    """413 when there are too many texts or one is too long; 400 when there is none."""
    if not texts:
        raise APIError(400, f"'{param}' must not be empty", param=param, code="invalid_value")
    if len(texts) > limits.max_inputs:
        raise APIError(413, f"too many {what}: {len(texts)} > {limits.max_inputs}", param=param,
                       code="too_many_inputs")
    for i, t in enumerate(texts):
        if len(t) > limits.max_input_chars:
            raise APIError(413, f"{param}[{i}] is {len(t)} characters long; the limit is "
                                f"{limits.max_input_chars}", param=param, code="input_too_long")


def check_max_tokens(value: int | None, limits: Limits, *, param: str = "max_tokens") -> None:
    if value is not None and value > limits.max_tokens:
        raise APIError(422, f"{param} is {value}; this server allows at most {limits.max_tokens}",
                       param=param, code="max_tokens_too_large")


def check_labels(labels: Sequence[str], limits: Limits, *, param: str = "labels") -> None:
    if len(labels) > limits.max_labels:
        raise APIError(413, f"too many labels: {len(labels)} > {limits.max_labels}", param=param,
                       code="too_many_labels")
    for i, label in enumerate(labels):
        if not label.strip() or len(label) > 512:
            raise APIError(400, f"{param}[{i}] must be a non-empty label of at most 512 characters",
                           param=param, code="invalid_value")
