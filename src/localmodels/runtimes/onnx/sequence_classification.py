"""Sequence classification on ONNX Runtime: cross-encoder scores and NLI logits for texts or text pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...errors import UsageError
from .encoder import OnnxEncoder, load_encoder
from .model_files import Quantize

if TYPE_CHECKING:
    from ...store import LocalModel


def classify_sequences(model: LocalModel, inputs: Sequence[str | tuple[str, str]], *, batch_size: int = 32,
                       quantize: Quantize = None) -> np.ndarray:
    """Raw logits, shape (len(inputs), num_labels), in input order. Pairs are encoded as one sequence
    pair (``[CLS] a [SEP] b [SEP]``), truncated longest-first at the model's maximum length."""
    enc = load_encoder(model, head="sequence-classification", quantize=quantize)
    return run_sequences(enc, inputs, batch_size=batch_size)[0]


def run_sequences(enc: OnnxEncoder, inputs: Sequence[str | tuple[str, str]], *, batch_size: int = 32
                  ) -> tuple[np.ndarray, list[int]]:
    """Logits of a loaded sequence-classification encoder, and the tokens of each input."""
    items = list(inputs)
    if not items:
        n = len(enc.config.get("id2label") or {}) or 1
        return np.zeros((0, n), dtype=np.float32), []
    if all(isinstance(x, str) for x in items):
        encodings = enc.tokenize(items)  # type: ignore[arg-type]
    elif all(isinstance(x, (tuple, list)) and len(x) == 2 for x in items):
        encodings = enc.tokenize([a for a, _ in items], [b for _, b in items])  # type: ignore[misc]
    else:
        raise UsageError("inputs must be all texts or all (text, text) pairs")
    rows = enc.run_all(encodings, batch_size=batch_size)
    return np.stack(rows).astype(np.float32, copy=False), [len(e.ids) for e in encodings]


def activation(config: dict) -> str:
    """How a cross-encoder turns logits into a score: ``sigmoid`` for one logit (sentence-transformers'
    default) unless its config names another activation; ``softmax`` for several classes."""
    st = config.get("sentence_transformers") or {}
    fn = str(st.get("activation_fn") or "")
    n = len(config.get("id2label") or {}) or int(config.get("num_labels", 1) or 1)
    if fn.endswith("Identity"):
        return "identity"
    if fn.endswith("Sigmoid") or n == 1:
        return "sigmoid"
    return "softmax"


def scores_from_logits(logits: np.ndarray, how: str) -> np.ndarray:
    """One relevance score per row."""
    if logits.shape[1] == 1 or how != "softmax":
        x = logits[:, 0] if logits.shape[1] == 1 else logits[:, -1]
        return 1.0 / (1.0 + np.exp(-x)) if how == "sigmoid" else x
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True))[:, -1]
