"""Who may call: an optional bearer key (constant-time; ``/health`` and the API docs stay open), and
the web origins a browser may call from (the server's own page, plus ``LOCALMODELS_SERVER_ORIGINS``).
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

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
        header = _header(scope, b"authorization")
        if not key_matches(header, self.api_key):
            message = "missing API key: send 'Authorization: Bearer <key>'" if header is None \
                else "invalid API key"
            response = error_response(401, message, type="invalid_request_error", code="invalid_api_key",
                                      headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


# Origins of desktop apps and editors, allowed by default as Ollama allows them.
APP_SCHEMES = frozenset({"app", "file", "tauri", "vscode-webview", "vscode-file"})


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return host.lower() == "localhost"


def origin_allowed(origin: str, host: str | None, *, listed: tuple[str, ...], bind_host: str) -> bool:
    """May a page at ``origin`` call this server? Listed origins (``*``: any), desktop-app schemes, and
    the server's own page: an origin that names the very host the request was sent to, by address (or
    ``localhost``, or the name the server binds): a name a DNS-rebinding page makes point at us is not."""
    origin = origin.strip().rstrip("/").lower()
    if "*" in listed or origin in listed:
        return True
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme in APP_SCHEMES:
        return True
    if parts.scheme not in ("http", "https") or not host or parts.netloc != host.strip().lower():
        return False
    return _is_address(hostname) or hostname == bind_host.lower()


class OriginMiddleware:
    """403, before anything else, for a request carrying an ``Origin`` this server does not allow (a web
    page elsewhere, or one that rebinds its name to us); requests without one (non-browser clients) pass."""

    def __init__(self, app, *, listed: tuple[str, ...] = (), bind_host: str = "127.0.0.1") -> None:
        self.app = app
        self.listed = listed
        self.bind_host = bind_host

    async def __call__(self, scope, receive, send) -> None:
        origin = _header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None or origin_allowed(origin, _header(scope, b"host"), listed=self.listed,
                                            bind_host=self.bind_host):
            await self.app(scope, receive, send)
            return
        shown = origin[:200]
        response = error_response(
            403, f"requests from the web page at {shown} are refused (not this server's own page); to allow it, "
            f"start the server with LOCALMODELS_SERVER_ORIGINS={shown}", type="invalid_request_error",
            code="forbidden_origin")
        await response(scope, receive, send)
