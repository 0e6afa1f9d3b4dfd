"""Encoder endpoints beyond OpenAI's: /v1/rerank (Cohere/Jina shape), /v1/ner, /v1/classify.

/rerank is also answered without the /v1 prefix, as llama-server and infinity do.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from . import schemas as s
from .limits import check_labels, check_texts
from .routes_openai import ERRORS
from .state import ServerState, get_state

router = APIRouter()


@router.post("/v1/rerank", response_model=s.RerankResponse, response_model_exclude_none=True,
             responses=ERRORS, tags=["tasks"])
@router.post("/rerank", response_model=s.RerankResponse, response_model_exclude_none=True,
             responses=ERRORS, tags=["tasks"], include_in_schema=False)
async def rerank(req: s.RerankRequest, state: ServerState = Depends(get_state)) -> s.RerankResponse:
    docs = [d if isinstance(d, str) else d.text for d in req.documents]
    limits = state.settings.limits
    check_texts(docs, limits, param="documents", what="documents")
    check_texts([req.query], limits, param="query")
    ref = state.directory.ref(req.model)
    scored = await state.timed(state.runner.rerank(ref, req.query, docs))
    order = sorted(range(len(docs)), key=lambda i: -scored[i].score)
    if req.top_n is not None:
        order = order[:req.top_n]
    results = [s.RerankHit(index=i, relevance_score=scored[i].score,
                           document=s.RerankDocument(text=docs[i]) if req.return_documents else None)
               for i in order]
    tokens = sum(o.tokens for o in scored)
    return s.RerankResponse(id=f"rerank-{uuid.uuid4().hex[:24]}", model=req.model, results=results,
                            usage=s.RerankUsage(total_tokens=tokens))


@router.post("/v1/ner", response_model=s.NerResponse, responses=ERRORS, tags=["tasks"])
async def ner(req: s.NerRequest, state: ServerState = Depends(get_state)) -> s.NerResponse:
    texts = [req.input] if isinstance(req.input, str) else req.input
    check_texts(texts, state.settings.limits)
    labels = tuple(req.labels) if req.labels else None
    if labels:
        check_labels(labels, state.settings.limits)
    ref = state.directory.ref(req.model)
    per_text = await state.timed(state.runner.ner(ref, texts, labels=labels, threshold=req.threshold))
    data = [s.NerResult(index=i, entities=[s.EntityOut(text=e.text, label=e.label, start=e.start, end=e.end,
                                                       score=float(e.score)) for e in ents])
            for i, ents in enumerate(per_text)]
    return s.NerResponse(model=req.model, data=data)


@router.post("/v1/classify", response_model=s.ClassifyResponse, responses=ERRORS, tags=["tasks"])
async def classify(req: s.ClassifyRequest, state: ServerState = Depends(get_state)) -> s.ClassifyResponse:
    texts = [req.input] if isinstance(req.input, str) else req.input
    limits = state.settings.limits
    check_texts(texts, limits)
    check_labels(req.labels, limits)
    if len(set(req.labels)) != len(req.labels):
        from .errors import APIError

        raise APIError(400, "labels must be distinct", param="labels", code="invalid_value")
    ref = state.directory.ref(req.model)
    descriptions = tuple(sorted(req.descriptions.items())) if req.descriptions else None
    results = await state.timed(state.runner.classify(
        ref, texts, labels=tuple(req.labels), method=req.method, multi_label=req.multi_label,
        template=req.hypothesis_template, descriptions=descriptions))
    data = [s.ClassificationOut(index=i, label=c.label, score=float(c.score),
                                scores={k: float(v) for k, v in c.scores.items()}, labels=list(c.labels or []))
            for i, c in enumerate(results)]
    return s.ClassifyResponse(model=req.model, data=data)
