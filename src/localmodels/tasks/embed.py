"""Sentence embeddings: ``embed(texts, model=...)`` -> (n, dim) float32 (or (dim,) for one string)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from ..errors import UsageError
from ._encoders import as_list, require_onnx, resolve_model

if TYPE_CHECKING:
    from ..store import LocalModel

Kind = Literal["query", "passage"]


def prefix_for(model: "LocalModel", kind: Kind | None) -> str:
    """The text to put before inputs of this kind: the catalog's e5-style ``prefixes``, else the
    model's sentence-transformers ``prompts`` (``config_sentence_transformers.json``)."""
    if kind is None:
        return ""
    if kind not in ("query", "passage"):
        raise UsageError(f"unknown kind {kind!r}", hint="use kind='query' or kind='passage'")
    if model.entry is not None and model.entry.prefixes:
        return model.entry.prefixes.get(kind, "")
    from ..runtimes.onnx.tokenizer import read_json

    prompts = read_json(model.path / "config_sentence_transformers.json").get("prompts") or {}
    names = (kind, "document") if kind == "passage" else (kind,)
    for n in names:
        if isinstance(prompts.get(n), str):
            return prompts[n]
    return ""


def embed(texts: str | Sequence[str], *, model: "str | LocalModel" = "minilm", kind: Kind | None = None,
          normalize: bool | None = True, batch_size: int = 32, quantize: Literal["int8"] | None = None,
          pooling: str | None = None) -> np.ndarray:
    """Embed one text ((dim,) array) or a list ((n, dim) array, float32, rows in input order).

    Pooling follows the model's sentence-transformers config unless ``pooling`` (cls/mean/max) is
    given; ``normalize=None`` follows the model's Normalize module; ``kind`` adds query/passage
    prefixes for e5-style models. Inputs longer than the model's limit are truncated (with a warning).
    """
    items, single = as_list(texts)
    lm = resolve_model(model)
    require_onnx(lm, "embed")
    from ..runtimes.onnx import PoolingConfig, embed_texts, load_encoder

    prefix = prefix_for(lm, kind)
    if prefix:
        items = [prefix + t for t in items]
    enc = load_encoder(lm, head="base", quantize=quantize)
    pool_cfg = PoolingConfig.read(lm.path).with_mode(pooling)
    vecs = embed_texts(enc, items, pooling=pool_cfg, normalize=normalize, batch_size=batch_size)
    return vecs[0] if single else vecs


def dims(model: "str | LocalModel" = "minilm", *, quantize: Literal["int8"] | None = None) -> int:
    """The embedding size of ``model``."""
    lm = resolve_model(model)
    if lm.entry is not None and lm.entry.dims:
        return lm.entry.dims
    from ..runtimes.onnx import embedding_dim, load_encoder

    return embedding_dim(load_encoder(lm, head="base", quantize=quantize))
