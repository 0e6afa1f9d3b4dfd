"""What the Ollama routes share: model names, NDJSON answers, in-band stream errors, timings."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from ...errors import LocalModelsError
from ..errors import APIError, from_local_error
from ..state import ServerState
from .catalog import public_name
from .errors import ollama_error
from .keepalive import KeepAlive
from .schemas import keep_alive_seconds

log = logging.getLogger("localmodels.server")
NDJSON = "application/x-ndjson"


def keep_alive_of(request: Request) -> KeepAlive:
    """The app's keep-alive book (made on first use, from the server's --keep-alive)."""
    app_state = request.app.state
    keep = getattr(app_state, "ollama_keep_alive", None)
    if keep is None:
        keep = KeepAlive(app_state.lm.settings.keep_alive_s)
        app_state.ollama_keep_alive = keep
    return keep


def resolve_name(state: ServerState, name: str) -> tuple[str, str]:
    """(public name, model reference); 404 for a name this server does not serve."""
    name = public_name(name.strip())
    if not name:
        raise APIError(400, "'model' must not be empty", param="model", code="invalid_value")
    return name, state.directory.ref(name)


def requested_keep_alive(value: float | str | None) -> float | None:
    try:
        return keep_alive_seconds(value)
    except ValueError as e:
        raise APIError(400, str(e), param="keep_alive", code="invalid_value") from None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def ns(seconds: float) -> int:
    return int(seconds * 1e9)


def error_text(e: BaseException) -> str:
    """The message a client sees for an error inside an open stream."""
    if isinstance(e, APIError):
        return e.message
    if isinstance(e, LocalModelsError):
        return from_local_error(e).message
    log.error("stream failed: %s", type(e).__name__, exc_info=e)
    return f"internal error ({type(e).__name__})"


def ndjson(lines: AsyncIterator[dict[str, Any]]) -> StreamingResponse:
    """One JSON object per line; an error after the answer started is a last ``{"error": ...}`` line."""

    async def body() -> AsyncIterator[bytes]:
        try:
            async for line in lines:
                yield (json.dumps(line, ensure_ascii=False) + "\n").encode()
        except Exception as e:  # noqa: BLE001 - the stream is open: report in-band, as Ollama does
            yield (json.dumps(ollama_error(error_text(e)), ensure_ascii=False) + "\n").encode()

    return StreamingResponse(body(), media_type=NDJSON, headers={"Cache-Control": "no-cache",
                                                                 "X-Accel-Buffering": "no"})


class Clock:
    """Ollama's timings (nanoseconds): load, prompt evaluation (to the first token), generation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.loaded = self.start
        self.first: float | None = None

    def mark_loaded(self) -> None:
        self.loaded = time.perf_counter()

    def mark_first(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()

    def totals(self, prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
        end = time.perf_counter()
        first = self.first or end
        return {"total_duration": ns(end - self.start), "load_duration": ns(self.loaded - self.start),
                "prompt_eval_count": prompt_tokens, "prompt_eval_duration": ns(max(first - self.loaded, 0.0)),
                "eval_count": completion_tokens, "eval_duration": ns(end - first)}
