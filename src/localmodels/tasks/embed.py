"""Sentence embeddings: ``embed(texts, model=...)`` -> (n, dim) float32 (or (dim,) for one string)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..runtimes.base import Embeddings, Kind
from ..runtimes.onnx.runtime import prefix_for
from ..runtimes.registry import runtime_for
from ._encoders import as_list

if TYPE_CHECKING:
    from ..store import LocalModel

__all__ = ["Kind", "dims", "embed", "embed_batch", "prefix_for"]


def embed_batch(texts: Sequence[str], *, model: str | LocalModel = "minilm", kind: Kind | None = None,
                normalize: bool | None = True, batch_size: int = 32, quantize: Literal["int8"] | None = None,
                pooling: str | None = None) -> Embeddings:
    """Vectors ((n, dim) float32, input order) and the tokens each text took (the usage to report)."""
    items, _ = as_list(texts)
    enc = runtime_for(model, "encoder", quantize=quantize, task="embed")
    return enc.embed_batch(items, kind=kind, normalize=normalize, pooling=pooling, batch_size=batch_size)


def embed(texts: str | Sequence[str], *, model: str | LocalModel = "minilm", kind: Kind | None = None,
          normalize: bool | None = True, batch_size: int = 32, quantize: Literal["int8"] | None = None,
          pooling: str | None = None) -> np.ndarray:
    """Embed one text ((dim,) array) or a list ((n, dim) array, float32, rows in input order).

    Pooling follows the model's sentence-transformers config unless ``pooling`` (cls/mean/max) is
    given; ``normalize=None`` follows the model's Normalize module; ``kind`` adds query/passage
    prefixes for e5-style models. Inputs longer than the model's limit are truncated (with a warning).
    ``model="remote:NAME"`` asks an OpenAI-compatible endpoint's ``/embeddings``.
    """
    items, single = as_list(texts)
    vecs = embed_batch(items, model=model, kind=kind, normalize=normalize, batch_size=batch_size,
                       quantize=quantize, pooling=pooling).vectors
    return vecs[0] if single else vecs


def dims(model: str | LocalModel = "minilm", *, quantize: Literal["int8"] | None = None) -> int:
    """The embedding size of ``model``."""
    return runtime_for(model, "encoder", quantize=quantize, task="embed").dims()
