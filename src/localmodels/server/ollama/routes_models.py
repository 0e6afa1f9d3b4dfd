"""Ollama's model routes: /api/version, /api/tags, /api/show, /api/ps, /api/pull, /api/delete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ... import __version__, store
from ...tasks.loaded import unload
from ..errors import APIError
from ..state import ServerState, get_state
from . import catalog
from ._common import keep_alive_of, ndjson, resolve_name
from .pulling import Pull
from .schemas import ModelRequest, PullRequest

router = APIRouter(prefix="/api", tags=["ollama"])

# The Ollama API level these routes follow (clients gate features on it); ours is in "localmodels".
OLLAMA_API_VERSION = "0.9.0"
PULL_FIRST_WAIT_S = 3.0


@router.api_route("/version", methods=["GET", "HEAD"])
async def version() -> dict[str, str]:
    return {"version": OLLAMA_API_VERSION, "localmodels": __version__}


@router.get("/tags")
async def tags(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    models = await asyncio.to_thread(catalog.served_models, state.directory.served)
    return {"models": [catalog.tag(name, m) for name, m in models]}


@router.get("/ps")
async def ps(request: Request, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    keep = keep_alive_of(request)
    return {"models": await asyncio.to_thread(catalog.loaded, state.directory.served, keep)}


def _name(req: ModelRequest) -> str:
    if not req.ref:
        raise APIError(400, "'model' is required", param="model", code="invalid_value")
    return req.ref


@router.post("/show")
async def show(req: ModelRequest, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    name, ref = resolve_name(state, _name(req))
    model = await asyncio.to_thread(store.resolve, ref, offline=True)
    return await asyncio.to_thread(catalog.show, name, model)


@router.delete("/delete")
async def delete(req: ModelRequest, request: Request, state: ServerState = Depends(get_state)) -> JSONResponse:
    name, ref = resolve_name(state, _name(req))
    keep = keep_alive_of(request)
    model = await asyncio.to_thread(store.resolve, ref, offline=True)
    keep.unload(name)  # a deleted model must not stay loaded
    for key in catalog.cache_keys_of(model):
        unload(key)
    removed = await asyncio.to_thread(store.remove, ref)
    return JSONResponse({"status": "success", "removed": len(removed)})


@router.post("/pull")
async def pull(req: PullRequest, state: ServerState = Depends(get_state)):
    _, ref = resolve_name(state, _name(req))
    job = Pull(ref)
    job.start()
    events = job.events(first_wait_s=PULL_FIRST_WAIT_S if req.stream else float("inf"))
    if not req.stream:
        last: dict[str, Any] = {}
        async for line in events:
            last = line
        return JSONResponse(last)
    first = await anext(events)  # an error before any byte arrived answers with its status code

    async def lines() -> AsyncIterator[dict[str, Any]]:
        yield first
        async for line in events:
            yield line

    return ndjson(lines())
