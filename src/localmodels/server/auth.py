"""Optional bearer-key check (constant-time). ``/health`` and the API docs stay open."""

from __future__ import annotations

import hmac

from .errors import error_response

OPEN_PATHS = frozenset({"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


def key_matches(header_value: str | None, key: str) -> bool:
    """True when ``Authorization: Bearer <key>`` carries exactly ``key`` (compared in constant time)."""
    if not header_value:
        return False
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode("utf-8", "surrogatepass"), key.encode("utf-8"))


class AuthMiddleware:
    """Answers 401 in OpenAI's error shape, before the body is read, when the key is missing or wrong."""

    def __init__(self, app, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self.api_key or scope.get("path") in OPEN_PATHS \
                or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        if not key_matches(header, self.api_key):
            message = "missing API key: send 'Authorization: Bearer <key>'" if header is None \
                else "invalid API key"
            response = error_response(401, message, type="invalid_request_error", code="invalid_api_key",
                                      headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
