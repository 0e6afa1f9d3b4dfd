"""Sentence embeddings from an :class:`OnnxEncoder`: pooled, optionally L2-normalised, in input order."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .encoder import OnnxEncoder
from .pooling import PoolingConfig, l2_normalize, pool


def embed_texts(encoder: OnnxEncoder, texts: Sequence[str], *, pooling: PoolingConfig | None = None,
                normalize: bool | None = True, batch_size: int = 32) -> np.ndarray:
    """(len(texts), dim) float32. ``normalize=None`` follows the model's own Normalize module."""
    pooling = pooling or PoolingConfig.read(encoder.folder)
    if normalize is None:
        normalize = pooling.normalize
    if not texts:
        return np.zeros((0, embedding_dim(encoder, pooling)), dtype=np.float32)
    encodings = encoder.tokenize(texts)
    out: np.ndarray | None = None
    for b in encoder.batches(encodings, batch_size=batch_size):
        vecs = pool(b.output, b.attention_mask, pooling.modes)
        if out is None:
            out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
        out[b.positions] = vecs
    assert out is not None
    return l2_normalize(out) if normalize else out


def embedding_dim(encoder: OnnxEncoder, pooling: PoolingConfig | None = None) -> int:
    pooling = pooling or PoolingConfig.read(encoder.folder)
    shape = encoder.session.get_outputs()[0].shape
    dim = shape[-1] if isinstance(shape[-1], int) else int(encoder.config.get("hidden_size") or encoder.config.get("dim") or 0)
    return dim * len(pooling.modes)
