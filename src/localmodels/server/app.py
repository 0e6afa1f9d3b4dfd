"""The FastAPI application: ``create_app(settings)``; ``serve(settings)`` runs it with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse

from .. import __version__
from .auth import AuthMiddleware, OriginMiddleware
from .errors import CatchAllMiddleware, install_handlers
from .limits import BodyLimitMiddleware
from .metrics import CONTENT_TYPE, Metrics, MetricsMiddleware
from .models import ModelDirectory
from .routes_openai import router as openai_router
from .routes_tasks import router as tasks_router
from .runner import TaskRunner
from .schemas import Health
from .settings import ServerSettings
from .state import ServerState, get_state

log = logging.getLogger("localmodels.server")


async def _unload_idle_loop(keep_alive_s: float) -> None:
    """Unload models idle for ``keep_alive_s`` (Ollama's keep_alive), checking a few times per period."""
    from ..tasks.loaded import unload_idle

    interval = min(max(keep_alive_s / 4, 0.25), 30.0)
    while True:
        await asyncio.sleep(interval)
        try:
            gone = await asyncio.to_thread(unload_idle, keep_alive_s)
            if gone:
                log.info("unloaded idle models: %s", ", ".join(map(str, gone)))
        except Exception as e:  # noqa: BLE001 - the sweeper must keep running
            log.warning("unloading idle models failed: %s", e)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    metrics = Metrics()
    state = ServerState(settings, metrics, TaskRunner(settings, metrics),
                        ModelDirectory(settings.models, matryoshka=settings.matryoshka))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        from ..tasks.loaded import read_only_store

        state.runner.open()
        sweeper = asyncio.create_task(_unload_idle_loop(settings.keep_alive_s)) if settings.keep_alive_s >= 0 else None
        try:
            with read_only_store():  # requests never write to the store; /api/pull is the one exception
                yield
        finally:
            if sweeper:
                sweeper.cancel()
            state.runner.close()

    app = FastAPI(
        title="localmodels",
        version=__version__,
        description="OpenAI-compatible embeddings, chat and completions, plus rerank, NER and classification, "
                    "served from local models.",
        lifespan=lifespan,
    )
    app.state.lm = state
    install_handlers(app)
    app.include_router(openai_router)
    app.include_router(tasks_router)

    @app.get("/health", response_model=Health, tags=["server"])
    async def health(st: ServerState = Depends(get_state)) -> Health:
        from ..tasks.loaded import loaded_count

        return Health(version=__version__, loaded_models=loaded_count(), uptime_s=time.time() - st.started)

    @app.get("/metrics", response_class=PlainTextResponse, tags=["server"],
             responses={200: {"content": {CONTENT_TYPE: {}}}})
    async def prometheus(st: ServerState = Depends(get_state)) -> PlainTextResponse:
        text = await asyncio.to_thread(st.metrics.render)
        return PlainTextResponse(text, media_type=CONTENT_TYPE)

    # Outermost last: metrics see every answer, the catch-all turns surprises into 500s, a foreign
    # web origin is refused first, listed origins get CORS (also on a 401), auth answers before any
    # body is read, and the body limit wraps the routes.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    app.add_middleware(AuthMiddleware, api_key=settings.api_key)
    if settings.origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.origins), allow_methods=["*"],
                           allow_headers=["*"])
    app.add_middleware(OriginMiddleware, listed=settings.origins, bind_host=settings.host)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    from .dashboard import install as install_dashboard
    from .ollama import install as install_ollama

    install_ollama(app)  # Ollama's /api/*; its error shaping goes outermost
    install_dashboard(app, enabled=settings.ui)
    return app


def serve(settings: ServerSettings, *, log_level: str = "info") -> None:
    """Run the server in this process until interrupted."""
    import uvicorn

    if not settings.is_loopback and not settings.api_key:
        log.warning("listening on %s without an API key: anyone who can reach this port can use it "
                    "(set --api-key-env)", settings.host)
    from .timeouts import ReadTimeoutProtocol

    protocol = ReadTimeoutProtocol.with_timeouts(settings.header_timeout_s, settings.body_timeout_s)
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, log_level=log_level,
                            access_log=True, server_header=False, timeout_graceful_shutdown=5, http=protocol)
    logging.getLogger("uvicorn.access").addFilter(_PathOnly())  # after Config: it sets logging up
    uvicorn.Server(config).run()


class _PathOnly(logging.Filter):
    """The access log shows the path, never the query string (a key put in a URL stays out of logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, full path, HTTP version, status)
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True
