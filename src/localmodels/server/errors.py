"""Errors in OpenAI's JSON shape, ``{"error": {"message", "type", "param", "code"}}``, for every failure.

Our own :class:`~localmodels.errors.LocalModelsError` types map to 4xx/5xx statuses; FastAPI's
validation errors become 422; anything unexpected becomes a 500 in the same shape, logged with
its traceback but never with the request body.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import errors as lm_errors

log = logging.getLogger("localmodels.server")


class APIError(Exception):
    """An error answer: HTTP status plus OpenAI's error fields."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return error_body(self.message, type=self.type, param=self.param, code=self.code)


def error_body(message: str, *, type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(status: int, message: str, *, type: str, param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, type=type, param=param, code=code), status_code=status, headers=headers)


# (class, status, type, code): the first match wins, so subclasses come before their bases.
_LOCAL_ERRORS: list[tuple[type[Exception], int, str, str]] = [
    (lm_errors.NotInStoreError, 404, "invalid_request_error", "model_not_found"),
    (lm_errors.ModelNotFoundError, 404, "invalid_request_error", "model_not_found"),
    (lm_errors.InvalidReferenceError, 404, "invalid_request_error", "model_not_found"),
    (lm_errors.UsageError, 400, "invalid_request_error", "invalid_request"),
    (lm_errors.UnsafeFileError, 400, "invalid_request_error", "unsafe_model"),
    (lm_errors.AccessError, 403, "permission_error", "model_access"),
    (lm_errors.OfflineError, 503, "server_error", "offline"),
    (lm_errors.NetworkError, 502, "server_error", "upstream_error"),
    (lm_errors.InsufficientResourcesError, 503, "server_error", "insufficient_resources"),
    (lm_errors.MissingDependencyError, 501, "server_error", "missing_dependency"),
    (lm_errors.IntegrityError, 500, "server_error", "model_integrity"),
    (lm_errors.RuntimeFailure, 500, "server_error", "runtime_failure"),
]


def from_local_error(err: lm_errors.LocalModelsError) -> APIError:
    for cls, status, type_, code in _LOCAL_ERRORS:  # noqa: B007 - used after the break
        if isinstance(err, cls):
            break
    else:
        status, type_, code = 500, "server_error", "internal_error"
    message = err.message + (f" (hint: {err.hint})" if err.hint else "")
    param = "model" if status == 404 else None
    return APIError(status, message, type=type_, param=param, code=code)


def _validation_param(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


async def _api_error(_: Request, exc: APIError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _local_error(request: Request, exc: lm_errors.LocalModelsError) -> JSONResponse:
    api = from_local_error(exc)
    if api.status >= 500:
        log.warning("%s %s -> %d %s: %s", request.method, request.url.path, api.status, type(exc).__name__, exc)
    return JSONResponse(api.body(), status_code=api.status)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errs = exc.errors()
    first = errs[0] if errs else {}
    param = _validation_param(tuple(first.get("loc", ())))
    # The message names the field and pydantic's reason, never the value that was sent.
    reasons = "; ".join(f"{_validation_param(tuple(e.get('loc', ()))) or 'body'}: {e.get('msg', 'invalid')}"
                        for e in errs[:5])
    return error_response(422, f"invalid request: {reasons}", type="invalid_request_error",
                          param=param, code="invalid_value")


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    type_ = "invalid_request_error" if exc.status_code < 500 else "server_error"
    code = {404: "not_found", 405: "method_not_allowed", 401: "invalid_api_key"}.get(exc.status_code)
    return error_response(exc.status_code, str(exc.detail), type=type_, code=code,
                          headers=getattr(exc, "headers", None))


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(lm_errors.LocalModelsError, _local_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]


class CatchAllMiddleware:
    """Last line of defence: an unexpected exception becomes a 500 in the error shape.

    The traceback is logged (with method and path only: no body, no headers); the process goes on.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:  # noqa: BLE001 - the server must survive any request
            log.error("%s %s -> 500 %s", scope.get("method"), scope.get("path"), type(exc).__name__,
                      exc_info=exc)
            if started:  # a stream broke half-way: nothing more can be said to this client
                return
            response = error_response(500, f"internal server error ({type(exc).__name__})",
                                      type="server_error", code="internal_error")
            await response(scope, receive, send)
