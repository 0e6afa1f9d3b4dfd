"""The page (``GET /``) and the one store action the other APIs lack (``POST /ui/api/verify``).

Pull and remove go through Ollama's ``/api/pull`` and ``/api/delete``; the playgrounds call
``/api/embed``, ``/v1/ner``, ``/v1/classify`` and ``/api/chat``: the page uses the public API only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ... import __version__, store
from ..errors import APIError
from ..ollama._common import keep_alive_of
from ..state import ServerState, get_state
from .data import snapshot
from .render import page

router = APIRouter(include_in_schema=False)
UI_HEADER = "x-localmodels-ui"


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)  # HEAD: Ollama's heartbeat
async def dashboard(request: Request, state: ServerState = Depends(get_state)) -> HTMLResponse:
    snap = await asyncio.to_thread(snapshot, state, __version__, keep_alive_of(request))
    return HTMLResponse(page(snap), headers={"Cache-Control": "no-store"})


class VerifyRequest(BaseModel):
    model: str = Field(min_length=1, max_length=1024)
    repair: bool = False


@router.post("/ui/api/verify")
async def verify(req: VerifyRequest, state: ServerState = Depends(get_state),
                 ui: str | None = Header(default=None, alias=UI_HEADER)) -> dict[str, Any]:
    if ui != "1":  # a cross-site form cannot send this header without a CORS preflight we never grant
        raise APIError(403, f"send the header '{UI_HEADER}: 1' (the dashboard does)", code="forbidden")
    ref = state.directory.ref(req.model)
    checks = await asyncio.to_thread(store.verify, ref, repair=req.repair)
    if not checks:
        from ...errors import NotInStoreError

        raise NotInStoreError(ref)
    return {"model": req.model, "ok": all(c.ok for c in checks), "checks": [c.to_dict() for c in checks]}
