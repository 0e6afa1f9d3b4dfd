"""llama-cpp-python import, its log routing, batch-invariant settings, GPU detection and once-only warnings.

Label scoring evaluates a prompt once and each label after it; that equals scoring prompt + label in
one batch only if a token's logits do not depend on the batch it was decoded in. On CPU, three parts
of ggml break that: llamafile's sgemm (a build option: our Makefile builds without it), weight
repacking (``use_extra_bufts``) and the tiled K-quant kernels (``GGML_CPU_TILED_MM``), both taken
only for some batch sizes. The last two are runtime switches, turned off here for every model we
open. Measured on this CPU: logits then equal to the bit for every batch shape and thread count.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

from ...errors import MissingDependencyError

log = logging.getLogger("localmodels.llama")
_WARNED: set[str] = set()


def _import_llama_cpp():
    # Read by ggml once, at the first matrix product: set before any model runs (a user's value wins).
    os.environ.setdefault("GGML_CPU_TILED_MM", "0")
    try:
        import llama_cpp
    except ImportError as e:  # pragma: no cover - CI always builds it
        raise MissingDependencyError("llama-cpp-python", "llama", purpose="to run GGUF models") from e
    _quiet_llama_logs(llama_cpp)
    return llama_cpp


_LOG_CALLBACK: Any = None
_CPP_LOG = logging.getLogger("localmodels.llama.cpp")


def _quiet_llama_logs(llama_cpp: Any) -> None:
    """Route llama.cpp's own log lines to the ``localmodels.llama.cpp`` logger at DEBUG.

    llama-cpp-python's callback maps ggml's log levels with an old table and prints warnings
    (e.g. about the SWA cache) to stderr even with ``verbose=False``; our errors say what failed.
    """
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None:
        return
    import ctypes

    @llama_cpp.llama_log_callback
    def _callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if _CPP_LOG.isEnabledFor(logging.DEBUG):
            _CPP_LOG.debug(text.decode("utf-8", errors="replace").rstrip("\n"))

    _LOG_CALLBACK = _callback  # keep a reference: llama.cpp holds a raw pointer to it
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def batch_invariant_loading(llama_cpp: Any) -> Iterator[None]:
    """While a ``llama_cpp.Llama`` is constructed inside, its model is loaded without weight
    repacking (``use_extra_bufts=False``). llama-cpp-python has no argument for it, so the default
    parameters it starts from are wrapped for the duration, under a lock."""
    from llama_cpp import llama as high_level

    low = high_level.llama_cpp
    with _PARAMS_LOCK:
        original = low.llama_model_default_params

        def without_repacking() -> Any:
            params = original()
            if hasattr(params, "use_extra_bufts"):
                params.use_extra_bufts = False
            return params

        low.llama_model_default_params = without_repacking
        try:
            yield
        finally:
            low.llama_model_default_params = original


def batch_invariant_build(llama_cpp: Any) -> bool:
    """False when this llama.cpp was built with llamafile's sgemm (logits then vary with the batch)."""
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    return "LLAMAFILE = 1" not in info


def gpu_available() -> bool:
    """True when this llama.cpp build can offload layers to a GPU."""
    try:
        return bool(_import_llama_cpp().llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001
        return False



def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        log.warning(message)

