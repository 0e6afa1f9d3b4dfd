"""Reranking: score (query, document) pairs with a cross-encoder, best first.

A bi-encoder (an embedding model, e.g. ``minilm``) also works: documents are then ranked by the
cosine similarity of their embeddings to the query's, and a warning says so.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from ..results import RerankResult
from ._encoders import as_list, require_onnx, resolve_model

if TYPE_CHECKING:
    from ..store import LocalModel

log = logging.getLogger("localmodels.rerank")


class BiEncoderFallbackWarning(UserWarning):
    """The rerank model is a bi-encoder: scores are cosine similarities, not cross-encoder scores."""


def is_cross_encoder(model: "LocalModel") -> bool:
    """True for a sequence-classification model (``*ForSequenceClassification`` or catalog task rerank)."""
    if model.entry is not None:
        if model.entry.task == "rerank":
            return True
        if model.entry.task == "embedding":
            return False
    from ..runtimes.onnx.tokenizer import read_json

    archs = read_json(model.path / "config.json").get("architectures") or []
    return any(str(a).endswith("ForSequenceClassification") for a in archs)


def rerank(query: str, docs: str | Sequence[str], *, model: "str | LocalModel" = "minilm",
           top_n: int | None = None, batch_size: int = 32, quantize: Literal["int8"] | None = None,
           ) -> list[RerankResult]:
    """Documents sorted by relevance to ``query`` (``index`` points into ``docs``)."""
    items, _ = as_list(docs, "docs")
    as_list(query, "query")
    lm = resolve_model(model)
    require_onnx(lm, "rerank")
    if not items:
        return []
    if is_cross_encoder(lm):
        from ..runtimes.onnx.encoder import load_config
        from ..runtimes.onnx.sequence_classification import activation, classify_sequences, scores_from_logits

        logits = classify_sequences(lm, [(query, d) for d in items], batch_size=batch_size, quantize=quantize)
        scores = scores_from_logits(logits, activation(load_config(lm.path)))
    else:
        msg = f"{lm.name} is a bi-encoder, not a cross-encoder: ranking by embedding cosine similarity"
        log.info(msg)
        warnings.warn(msg, BiEncoderFallbackWarning, stacklevel=2)
        from .embed import embed

        q = embed(query, model=lm, kind="query", quantize=quantize)
        d = embed(items, model=lm, kind="passage", batch_size=batch_size, quantize=quantize)
        scores = d @ q
    order = np.argsort(-scores, kind="stable")
    if top_n is not None:
        order = order[: max(0, top_n)]
    return [RerankResult(int(i), float(scores[i]), items[i]) for i in order]
