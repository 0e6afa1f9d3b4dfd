"""Reranking: score (query, document) pairs with a cross-encoder, best first.

A bi-encoder (an embedding model, e.g. ``minilm``) also works: documents are then ranked by the
cosine similarity of their embeddings to the query's, and a warning says so. ``remote:NAME``
models are scored by the endpoint's ``/rerank``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..results import RerankResult
from ..runtimes.base import PairScores
from ..runtimes.onnx.runtime import is_cross_encoder
from ..runtimes.registry import runtime_for
from ._encoders import as_list, check_text

if TYPE_CHECKING:
    from ..store import LocalModel

__all__ = ["BiEncoderFallbackWarning", "is_cross_encoder", "rerank", "score_pairs"]

log = logging.getLogger("localmodels.rerank")


class BiEncoderFallbackWarning(UserWarning):
    """The rerank model is a bi-encoder: scores are cosine similarities, not cross-encoder scores."""


def score_pairs(pairs: Sequence[tuple[str, str]], *, model: str | LocalModel = "minilm", batch_size: int = 32,
                quantize: Literal["int8"] | None = None, warn: bool = True) -> PairScores:
    """Relevance of each (query, document) pair, in order, whatever the queries (one batch for a
    cross-encoder), and the tokens read."""
    pairs = list(pairs)
    for i, (query, doc) in enumerate(pairs):
        check_text(query, f"pairs[{i}] query")
        check_text(doc, f"pairs[{i}] document")
    enc = runtime_for(model, "encoder", quantize=quantize, task="rerank")
    if warn and not enc.cross_encoder:
        msg = f"{enc.name} is a bi-encoder, not a cross-encoder: ranking by embedding cosine similarity"
        log.info(msg)
        warnings.warn(msg, BiEncoderFallbackWarning, stacklevel=3)
    return enc.score_pairs(pairs, batch_size=batch_size)


def rerank(query: str, docs: str | Sequence[str], *, model: str | LocalModel = "minilm",
           top_n: int | None = None, batch_size: int = 32, quantize: Literal["int8"] | None = None,
           ) -> list[RerankResult]:
    """Documents sorted by relevance to ``query`` (``index`` points into ``docs``)."""
    items, _ = as_list(docs, "docs")
    as_list(query, "query")
    enc = runtime_for(model, "encoder", quantize=quantize, task="rerank")
    if not items:
        return []
    scores = score_pairs([(query, d) for d in items], model=enc, batch_size=batch_size).scores
    order = np.argsort(-scores, kind="stable")
    if top_n is not None:
        order = order[: max(0, top_n)]
    return [RerankResult(int(i), float(scores[i]), items[i]) for i in order]
