"""Ollama's /api/embed and the older /api/embeddings, plus /api/rerank in the shape the open Ollama
pull requests proposed (``query``, ``documents``, ``top_n`` in; ``results`` with ``index``,
``relevance_score`` and ``document`` out). They run the same task calls as /v1/embeddings and /v1/rerank.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Request

from ..errors import APIError
from ..limits import check_texts
from ..state import ServerState, get_state
from ._common import Clock, keep_alive_of, requested_keep_alive, resolve_name
from .schemas import EmbeddingsRequest, EmbedRequest, RerankRequest

router = APIRouter(prefix="/api", tags=["ollama"])


def _truncate(vec: np.ndarray, dims: int) -> list[float]:
    """The first ``dims`` values renormalised (Matryoshka), as /v1/embeddings does with ``dimensions``."""
    if dims > vec.shape[-1]:
        raise APIError(400, f"dimensions={dims} is more than the model's {vec.shape[-1]}", param="dimensions",
                       code="invalid_value")
    head = np.asarray(vec[:dims], dtype=np.float32)
    norm = float(np.linalg.norm(head))
    return (head / norm if norm > 0 else head).tolist()


def _max_length(ref: str) -> int | None:
    try:
        from ...registry import find_entry

        entry = find_entry(ref)
    except Exception:  # noqa: BLE001 - unknown to the catalog: no declared limit
        return None
    return getattr(entry, "max_length", None) if entry else None


@router.post("/embed")
async def embed(req: EmbedRequest, request: Request, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    name, ref = resolve_name(state, req.model)
    keep_alive = requested_keep_alive(req.keep_alive)
    texts = [req.input] if isinstance(req.input, str) else list(req.input)
    if req.dimensions is not None and not state.directory.is_matryoshka(name, ref):
        raise APIError(400, f"model {name!r} does not support 'dimensions': it was not trained to be "
                            "truncated (Matryoshka); leave 'dimensions' out", param="dimensions",
                       code="unsupported_parameter")
    if not texts:  # Ollama: an empty input answers with no embeddings
        return {"model": name, "embeddings": []}
    check_texts(texts, state.settings.limits)
    clock = Clock()
    keep = keep_alive_of(request)
    before = keep.start(name)
    try:
        outs = await state.timed(state.runner.embed(ref, texts, kind=None))
    finally:
        keep.finish(name, before, keep_alive)
    if not req.truncate:
        limit = await asyncio.to_thread(_max_length, ref)
        over = [i for i, o in enumerate(outs) if limit and o.tokens >= limit]
        if over:
            raise APIError(400, f"input[{over[0]}] fills the model's context of {limit} tokens and was cut; "
                                "shorten it, or send truncate: true", param="input", code="input_too_long")
    vectors = [_truncate(o.vector, req.dimensions) if req.dimensions else np.asarray(o.vector, np.float32).tolist()
               for o in outs]
    tokens = sum(o.tokens for o in outs)
    t = clock.totals(tokens, 0)
    return {"model": name, "embeddings": vectors, "total_duration": t["total_duration"], "load_duration": 0,
            "prompt_eval_count": tokens}


@router.post("/embeddings")
async def embeddings(req: EmbeddingsRequest, request: Request,
                     state: ServerState = Depends(get_state)) -> dict[str, Any]:
    name, ref = resolve_name(state, req.model)
    keep_alive = requested_keep_alive(req.keep_alive)
    if not req.prompt:
        return {"embedding": []}
    check_texts([req.prompt], state.settings.limits, param="prompt")
    keep = keep_alive_of(request)
    before = keep.start(name)
    try:
        outs = await state.timed(state.runner.embed(ref, [req.prompt], kind=None))
    finally:
        keep.finish(name, before, keep_alive)
    return {"embedding": np.asarray(outs[0].vector, np.float32).tolist()}


@router.post("/rerank")
async def rerank(req: RerankRequest, request: Request, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    name, ref = resolve_name(state, req.model)
    keep_alive = requested_keep_alive(req.keep_alive)
    limits = state.settings.limits
    check_texts(req.documents, limits, param="documents", what="documents")
    check_texts([req.query], limits, param="query")
    keep = keep_alive_of(request)
    before = keep.start(name)
    try:
        outs = await state.timed(state.runner.rerank(ref, req.query, req.documents))
    finally:
        keep.finish(name, before, keep_alive)
    scores = [float(getattr(o, "score", o)) for o in outs]
    order = sorted(range(len(scores)), key=lambda i: -scores[i])[: req.top_n or None]
    results = []
    for i in order:
        hit: dict[str, Any] = {"index": i, "relevance_score": float(scores[i])}
        if req.return_documents:
            hit["document"] = req.documents[i]
        results.append(hit)
    return {"model": name, "results": results}
