"""GGUF models on llama-cpp-python: load (with a memory check), generate, score continuations.

    model = load("gemma3-270m")                  # through the loaded-model cache
    model.generate(prompt="Paris is the capital of", max_tokens=8)    # or messages=[...]
    model.generate_tokens(model.tokenize("Paris is the capital of"), max_tokens=8)
    model.score_labels(prompt, ["yes", "no"])    # the answer constrained to the labels, with P(label)

Modules: ``loading`` (settings, finding and checking the file, the memory check), ``model`` (the
loaded :class:`LlamaModel`: tokens, chat templates, generation), ``_scoring`` (continuation
log-probabilities and label scoring), ``gguf`` (the file format), ``templates``, ``_cpp``.

Before llama.cpp sees a file we check it (GGUF magic, header, size) and estimate the memory it
needs (weights + KV cache for the context); a model that would not fit is refused with
needed-vs-available numbers. Settings: ``n_ctx`` (``LOCALMODELS_N_CTX``, default min(4096, trained
context)), ``n_threads`` (``LOCALMODELS_THREADS``, default the physical cores), ``n_gpu_layers``
(``LOCALMODELS_GPU_LAYERS``; all layers when llama.cpp was built with GPU support, else 0), ``seed``.
"""

from __future__ import annotations

from ._cpp import _WARNED, gpu_available
from .gguf import GGUFInfo, check_gguf, read_gguf
from .loading import LlamaSettings, estimate_memory, find_gguf, load, settings_for
from .model import LlamaModel

__all__ = [
    "LlamaModel", "LlamaSettings", "GGUFInfo", "find_gguf", "load", "estimate_memory", "read_gguf",
    "check_gguf", "gpu_available", "settings_for", "_WARNED",
]
