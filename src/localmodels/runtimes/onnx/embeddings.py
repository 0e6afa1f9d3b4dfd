"""Sentence embeddings from an :class:`OnnxEncoder`: pooled, optionally L2-normalised, in input order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .encoder import OnnxEncoder
from .pooling import PoolingConfig, l2_normalize, pool


def embed_texts(encoder: OnnxEncoder, texts: Sequence[str], *, pooling: PoolingConfig | None = None,
                normalize: bool | None = True, batch_size: int = 32) -> np.ndarray:
    """(len(texts), dim) float32. ``normalize=None`` follows the model's own Normalize module."""
    return embed_counted(encoder, texts, pooling=pooling, normalize=normalize, batch_size=batch_size)[0]


def embed_counted(encoder: OnnxEncoder, texts: Sequence[str], *, pooling: PoolingConfig | None = None,
                  normalize: bool | None = True, batch_size: int = 32) -> tuple[np.ndarray, list[int]]:
    """:func:`embed_texts` and the tokens each text took (after truncation)."""
    pooling = pooling or PoolingConfig.read(encoder.folder)
    if normalize is None:
        normalize = pooling.normalize
    if not texts:
        return np.zeros((0, embedding_dim(encoder, pooling)), dtype=np.float32), []
    encodings = encoder.tokenize(texts)
    out: np.ndarray | None = None
    for b in encoder.batches(encodings, batch_size=batch_size):
        vecs = pool(b.output, b.attention_mask, pooling.modes)
        if out is None:
            out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
        out[b.positions] = vecs
    assert out is not None
    return (l2_normalize(out) if normalize else out), [len(e.ids) for e in encodings]


def embedding_dim(encoder: OnnxEncoder, pooling: PoolingConfig | None = None) -> int:
    pooling = pooling or PoolingConfig.read(encoder.folder)
    shape = encoder.session.get_outputs()[0].shape
    config = encoder.config
    dim = shape[-1] if isinstance(shape[-1], int) else int(config.get("hidden_size") or config.get("dim") or 0)
    return dim * len(pooling.modes)
