"""The ONNX :class:`~localmodels.runtimes.base.Encoder`: one object per model and quantization.

Each method loads the head it needs through :func:`load_encoder` (the loaded-model cache keeps
one session per file and head), so holding an :class:`OnnxRuntime` costs nothing until it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import UsageError
from ..base import Embeddings, Kind, PairScores
from .embeddings import embed_counted, embedding_dim
from .encoder import load_config, load_encoder
from .model_files import Quantize
from .pooling import PoolingConfig
from .sequence_classification import activation, run_sequences, scores_from_logits
from .tokenizer import read_json

if TYPE_CHECKING:
    from ...store import LocalModel


def prefix_for(model: LocalModel, kind: Kind | None) -> str:
    """The text to put before inputs of this kind: the catalog's e5-style ``prefixes``, else the
    model's sentence-transformers ``prompts`` (``config_sentence_transformers.json``)."""
    if kind is None:
        return ""
    if kind not in ("query", "passage"):
        raise UsageError(f"unknown kind {kind!r}", hint="use kind='query' or kind='passage'")
    if model.entry is not None and model.entry.prefixes:
        return model.entry.prefixes.get(kind, "")
    prompts = read_json(model.path / "config_sentence_transformers.json").get("prompts") or {}
    names = (kind, "document") if kind == "passage" else (kind,)
    for n in names:
        if isinstance(prompts.get(n), str):
            return prompts[n]
    return ""


def is_cross_encoder(model: LocalModel) -> bool:
    """True for a sequence-classification model (``*ForSequenceClassification`` or catalog task rerank)."""
    if model.entry is not None:
        if model.entry.task == "rerank":
            return True
        if model.entry.task == "embedding":
            return False
    archs = read_json(model.path / "config.json").get("architectures") or []
    return any(str(a).endswith("ForSequenceClassification") for a in archs)


class OnnxRuntime:
    """An encoder model on ONNX Runtime (implements :class:`~localmodels.runtimes.base.Encoder`)."""

    def __init__(self, model: LocalModel, *, quantize: Quantize = None) -> None:
        self.model = model
        self.name = model.name
        self.quantize = quantize

    def __repr__(self) -> str:
        return f"OnnxRuntime({self.name!r}, quantize={self.quantize!r})"

    @cached_property
    def config(self) -> dict[str, Any]:
        return load_config(self.model.path)

    @property
    def cross_encoder(self) -> bool:
        return is_cross_encoder(self.model)

    @property
    def fingerprint(self) -> str:
        """Identifies the weights, the recipe and the passage prefix (keys persistent indexes)."""
        enc = load_encoder(self.model, head="base", quantize=self.quantize)
        return f"{enc.fingerprint}|{prefix_for(self.model, 'passage')}"

    def embed_batch(self, texts: Sequence[str], *, kind: Kind | None = None, normalize: bool | None = True,
                    pooling: str | None = None, batch_size: int = 32) -> Embeddings:
        prefix = prefix_for(self.model, kind)
        items = [prefix + t for t in texts] if prefix else list(texts)
        enc = load_encoder(self.model, head="base", quantize=self.quantize)
        pool_cfg = PoolingConfig.read(self.model.path).with_mode(pooling)
        vecs, tokens = embed_counted(enc, items, pooling=pool_cfg, normalize=normalize, batch_size=batch_size)
        return Embeddings(vecs, tokens)

    def classify_batch(self, inputs: Sequence[str | tuple[str, str]], *, batch_size: int = 32) -> np.ndarray:
        enc = load_encoder(self.model, head="sequence-classification", quantize=self.quantize)
        return run_sequences(enc, inputs, batch_size=batch_size)[0]

    def score_pairs(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 32) -> PairScores:
        """Cross-encoders read each pair jointly; a bi-encoder scores the cosine of the embeddings."""
        pairs = list(pairs)
        if not pairs:
            return PairScores(np.zeros(0, dtype=np.float32), [])
        if self.cross_encoder:
            enc = load_encoder(self.model, head="sequence-classification", quantize=self.quantize)
            logits, tokens = run_sequences(enc, pairs, batch_size=batch_size)
            return PairScores(scores_from_logits(logits, activation(self.config)), tokens)
        queries = list(dict.fromkeys(q for q, _ in pairs))
        q = self.embed_batch(queries, kind="query", batch_size=batch_size)
        d = self.embed_batch([doc for _, doc in pairs], kind="passage", batch_size=batch_size)
        row = {text: i for i, text in enumerate(queries)}
        qv = q.vectors[[row[query] for query, _ in pairs]]
        scores = np.einsum("ij,ij->i", d.vectors, qv)
        per_query = dict(zip(queries, q.tokens))
        return PairScores(scores, [t + per_query[query] for t, (query, _) in zip(d.tokens, pairs)])

    def dims(self) -> int:
        if self.model.entry is not None and self.model.entry.dims:
            return self.model.entry.dims
        return embedding_dim(load_encoder(self.model, head="base", quantize=self.quantize))
