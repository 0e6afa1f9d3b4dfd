"""The web dashboard at ``/``: the store, disk, memory, requests, and a playground per task.

Server-rendered HTML with a small vanilla script and stylesheet shipped as package data (no build
step, no CDN: it works offline). The page's data and every action go through the server's own
auth: with an API key, the page asks for it once and sends it as ``Authorization: Bearer`` (a
SameSite=Strict cookie carries it for page loads only; store-changing calls need the header).
"""

from __future__ import annotations

from fastapi import FastAPI

from .middleware import DashboardMiddleware
from .routes import router

__all__ = ["install", "router"]


def install(app: FastAPI, *, enabled: bool = True) -> None:
    """Serve the dashboard (``enabled``), or only a one-line "running" answer at ``/`` (``--no-ui``)."""
    if enabled:
        app.include_router(router)
        app.add_middleware(DashboardMiddleware)
        return

    from fastapi.responses import PlainTextResponse

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def running() -> PlainTextResponse:
        return PlainTextResponse("localmodels is running (dashboard off: --no-ui)\n")
