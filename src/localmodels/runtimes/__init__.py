"""Runtimes load a model's files and run them: onnx, llama, spacy, gliner, remote; plus the loaded-model cache.

One ``Protocol`` per capability (:mod:`.base`: ``Encoder``, ``SpanModel``, ``LLM``) and one registry
that picks the runtime for a model (:func:`.registry.runtime_for`); tasks only call those methods.
Span helpers every NER runtime shares (windows over long texts, merging) live in :mod:`.spans`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "Encoder": "base",
    "SpanModel": "base",
    "LLM": "base",
    "Capability": "base",
    "runtime_for": "registry",
    "resolve_model": "registry",
}
__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

if TYPE_CHECKING:  # the names of _LAZY for IDEs and type checkers (`X as X`: a re-export)
    from .base import LLM as LLM
    from .base import Capability as Capability
    from .base import Encoder as Encoder
    from .base import SpanModel as SpanModel
    from .registry import resolve_model as resolve_model
    from .registry import runtime_for as runtime_for
