"""Build and run the mirror: a FastAPI app over the store, on uvicorn with zero-copy file bodies."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from .auth import Access, read_token_file
from .inventory import Inventory
from .pullthrough import PullThrough
from .routes import Mirror
from .status import Stats, document, state_dir, status_file, write
from .verify import CorruptBlob, Verifier

log = logging.getLogger("localmodels.mirror")
STATUS_EVERY_S = 2.0


@dataclass
class MirrorSettings:
    host: str = "127.0.0.1"
    port: int = 8090
    lock: Path | None = None  # serve only what this lock file names
    upstream: str | None = None  # pull-through from this endpoint (another mirror or the Hub)
    token_file: Path | None = None
    gated: tuple[str, ...] = ()  # more repos to treat as gated (fnmatch patterns)
    tree_page_size: int = 1000
    preverify: bool = True  # hash every served file at start (digests are cached across restarts)
    state: Path | None = None  # where the status and the digest cache go (default LOCALMODELS_HOME/mirror)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()} | {"url": self.url}


def build(settings: MirrorSettings) -> Mirror:
    """The mirror's state (not yet filled: :meth:`Inventory.refresh` reads the store)."""
    from ...store.lockfile import read_lock

    state = settings.state or state_dir()
    state.mkdir(parents=True, exist_ok=True)
    tokens = read_token_file(settings.token_file) if settings.token_file else None
    access = Access(tokens, settings.gated, state_file=state / "gated.json")
    verifier = Verifier(state / "digests.json")
    lock = read_lock(settings.lock) if settings.lock else None
    inventory = Inventory(verifier.git_blob_id, lock=lock, gated=access.is_gated)
    stats = Stats()
    pull = None
    if settings.upstream:
        pull = PullThrough(settings.upstream, on_fetched=lambda _repo: inventory.refresh(),
                           on_gated=access.remember_gated)
    mirror = Mirror(inventory, verifier, access, stats, pull=pull, tree_page_size=settings.tree_page_size)
    mirror.status = lambda: status_document(mirror, settings)
    return mirror


def status_document(mirror: Mirror, settings: MirrorSettings) -> dict[str, Any]:
    pull = None
    if mirror.pull is not None:
        pull = {"upstream": mirror.pull.upstream, "fetches": mirror.pull.fetches, "failures": mirror.pull.failures,
                "last_error": mirror.pull.last_error}
    return document(mirror.inventory, mirror.verifier, stats=mirror.stats, settings=settings.public() | {
        "pid": os.getpid(), "tokens": mirror.access.required}, pull=pull)


def _preverify(mirror: Mirror) -> None:
    started, n = time.monotonic(), 0
    for repo in mirror.inventory.all():
        for snap in repo.snapshots.values():
            for f in snap.files.values():
                try:
                    fd, _ = mirror.verifier.open_verified(f, repo.repo_id)
                    os.close(fd)
                    n += 1
                except CorruptBlob:
                    pass
    log.info("verified %d file(s) in %.1f s; %d corrupt", n, time.monotonic() - started, len(mirror.verifier.corrupt))


def _status_loop(mirror: Mirror, settings: MirrorSettings, stop: threading.Event) -> None:
    path = (settings.state or state_dir()) / status_file(settings.port).name
    while True:
        try:
            write(status_document(mirror, settings), path)
            mirror.stats.dirty = False
            mirror.verifier.save()
        except OSError as e:
            log.warning("could not write the mirror status: %s", e)
        if stop.wait(STATUS_EVERY_S):
            return


def create_app(settings: MirrorSettings, mirror: Mirror | None = None) -> FastAPI:
    mirror = mirror or build(settings)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 256  # waits on pull-through
        await anyio.to_thread.run_sync(mirror.inventory.refresh)
        repos = mirror.inventory.all()
        log.info("serving %d repo(s): %s", len(repos), ", ".join(r.repo_id for r in repos) or "none")
        if settings.preverify:
            threading.Thread(target=_preverify, args=(mirror,), daemon=True, name="mirror-verify").start()
        writer = threading.Thread(target=_status_loop, args=(mirror, settings, stop), daemon=True,
                                  name="mirror-status")
        writer.start()
        try:
            yield
        finally:
            stop.set()
            writer.join(timeout=5)

    app = FastAPI(title="localmodels mirror", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.mirror = mirror

    @app.api_route("/{rest:path}", methods=["GET", "HEAD", "POST"], include_in_schema=False)
    async def hub_route(request: Request) -> Response:
        body = await request.body() if request.method == "POST" else b""
        return await anyio.to_thread.run_sync(mirror.handle, request, body)

    return app


def serve(settings: MirrorSettings, *, log_level: str = "info") -> None:
    """Run the mirror until interrupted (uvicorn on the standard asyncio loop: ``os.sendfile``)."""
    import uvicorn

    from ...config import settings as env_settings
    from .sendfile import SendfileProtocol

    env = env_settings()
    protocol = SendfileProtocol.with_timeouts(env.server_header_timeout, env.server_body_timeout)
    if settings.upstream:  # read by huggingface_hub at import: the store's pull goes upstream
        os.environ["HF_ENDPOINT"] = settings.upstream.rstrip("/")
    app = create_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, http=protocol, loop="asyncio",
                            log_level=log_level, access_log=log_level == "debug", backlog=2048,
                            timeout_keep_alive=30)
    uvicorn.Server(config).run()
