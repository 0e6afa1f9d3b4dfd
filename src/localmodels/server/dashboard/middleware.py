"""In front of the server's auth: serves the static files, lets a page load carry the key in a
cookie, and answers an unauthenticated page load with the sign-in page instead of JSON.

Only ``GET``/``HEAD /`` may use the cookie: every store-changing call must send the
``Authorization`` header itself (a cross-site page cannot), so the cookie cannot be used for CSRF.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from importlib import resources
from urllib.parse import unquote

from starlette.responses import HTMLResponse, Response

from .render import STATIC, login_page

COOKIE = "lm_key"
_TYPES = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
_SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
             "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"}


def static_file(name: str) -> Response:
    if name not in _TYPES:
        return Response("not found\n", status_code=404, media_type="text/plain")
    data = resources.files(__package__).joinpath("static", name).read_bytes()
    return Response(data, media_type=_TYPES[name], headers={"Cache-Control": "no-cache", **_SECURITY})


def _cookie_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie is no cookie
                return None
            morsel = jar.get(COOKIE)
            return unquote(morsel.value) if morsel else None
    return None


class DashboardMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.startswith(STATIC + "/"):
            await static_file(path[len(STATIC) + 1:])(scope, receive, send)
            return
        if path != "/":
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", ()))
        if not any(n == b"authorization" for n, _ in headers):
            key = _cookie_key(headers)
            if key:
                headers.append((b"authorization", f"Bearer {key}".encode("latin-1", "replace")))
                scope = {**scope, "headers": headers}
        refused = False

        async def send_page(message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 401:
                refused = True
                await HTMLResponse(login_page(), status_code=401, headers=_SECURITY)(scope, receive, send)
                return
            if refused:
                return
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()),
                                                  *((k.lower().encode(), v.encode()) for k, v in _SECURITY.items())]}
            await send(message)

        await self.app(scope, receive, send_page)
