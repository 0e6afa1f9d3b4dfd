"""llama-cpp-python import, its log routing, GPU detection and once-only warnings."""

from __future__ import annotations

import logging
from typing import Any

from ...errors import MissingDependencyError

log = logging.getLogger("localmodels.llama")
_WARNED: set[str] = set()


def _import_llama_cpp():
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

