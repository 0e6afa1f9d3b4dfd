"""Encoder models on ONNX Runtime (onnxruntime + tokenizers): embeddings, token and sequence classification.

    enc = load_encoder(model, head="base", quantize=None)      # cached; exported once if needed
    vecs = embed_texts(enc, ["hello", "world"])                  # pooled as the model says
    ents = classify_tokens(model, ["Barack Obama visited Paris."], aggregation="first")
    logits = classify_sequences(model, [("premise", "hypothesis")])

Torch is only imported to export a safetensors-only model (the ``torch`` extra).
"""

from __future__ import annotations

from ..._lazy import lazy_getattr

_LAZY = {
    "OnnxEncoder": "encoder",
    "load_encoder": "encoder",
    "TruncationWarning": "encoder",
    "embed_texts": "embeddings",
    "embedding_dim": "embeddings",
    "PoolingConfig": "pooling",
    "classify_tokens": "token_classification",
    "classify_sequences": "sequence_classification",
    "onnx_file": "model_files",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
