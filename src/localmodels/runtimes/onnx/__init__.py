"""Encoder models on ONNX Runtime (onnxruntime + tokenizers): embeddings, token and sequence classification.

    enc = load_encoder(model, head="base", quantize=None)      # cached; exported once if needed
    vecs = embed_texts(enc, ["hello", "world"])                  # pooled as the model says
    ents = classify_tokens(model, ["Barack Obama visited Paris."], aggregation="first")
    logits = classify_sequences(model, [("premise", "hypothesis")])

Torch is only imported to export a safetensors-only model (the ``torch`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import attach

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

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

if TYPE_CHECKING:  # the same names, spelled out for IDEs and type checkers
    from .embeddings import embed_texts as embed_texts
    from .embeddings import embedding_dim as embedding_dim
    from .encoder import OnnxEncoder as OnnxEncoder
    from .encoder import TruncationWarning as TruncationWarning
    from .encoder import load_encoder as load_encoder
    from .model_files import onnx_file as onnx_file
    from .pooling import PoolingConfig as PoolingConfig
    from .sequence_classification import classify_sequences as classify_sequences
    from .token_classification import classify_tokens as classify_tokens
