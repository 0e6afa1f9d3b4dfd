"""The loaded-model cache: lazy loading, LRU eviction, a memory budget, explicit unload.

Every runtime loads through :func:`loaded_models` so that the CLI, the tasks and the server share
one policy. Before a load, :func:`ensure_memory` refuses with needed-vs-available numbers when the
model would not fit in the machine's available memory.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..config import settings
from ..errors import InsufficientResourcesError

T = TypeVar("T")

# A model usually needs more than its file size once loaded (activations, arenas, KV cache).
DEFAULT_HEADROOM = 1.2


def available_memory() -> int:
    """Bytes the OS says are available now (``LOCALMODELS_AVAILABLE_MEMORY`` overrides, for tests)."""
    override = settings().available_memory
    if override is not None:
        return override
    import psutil

    return int(psutil.virtual_memory().available)


def ensure_memory(needed: int, *, what: str = "memory to load the model", hint: str | None = None) -> None:
    """Raise :class:`InsufficientResourcesError` when ``needed`` bytes would not fit."""
    avail = available_memory()
    if needed > avail:
        raise InsufficientResourcesError(
            what, needed=needed, available=avail,
            hint=hint or "free memory, unload other models, or pick a smaller / quantized model",
        )


@dataclass
class _Slot:
    value: Any
    size: int
    loaded_at: float
    last_used: float


class ModelCache:
    """LRU of loaded models, bounded by count and by an estimated byte budget."""

    def __init__(self, max_models: int = 4, max_bytes: int | None = None) -> None:
        self.max_models = max_models
        self.max_bytes = max_bytes
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._lock = threading.RLock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, key: str, load: Callable[[], T], *, estimate_bytes: int = 0) -> T:
        """Return the loaded model for ``key``, loading it (once, even under concurrency) if needed."""
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None:
                slot.last_used = time.time()
                self._slots.move_to_end(key)
                return slot.value
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                slot = self._slots.get(key)
                if slot is not None:
                    return slot.value
                if self.max_bytes is not None and estimate_bytes > self.max_bytes:
                    # evicting everything would not make room: refuse before loading anything
                    raise InsufficientResourcesError(
                        "memory within LOCALMODELS_MAX_MEMORY", needed=estimate_bytes, available=self.max_bytes,
                        hint="raise LOCALMODELS_MAX_MEMORY (bytes), or pick a smaller / quantized model")
                self._make_room(estimate_bytes)
            if estimate_bytes:
                ensure_memory(estimate_bytes)
            value = load()
            now = time.time()
            with self._lock:
                self._slots[key] = _Slot(value, estimate_bytes, now, now)
                self._loading.pop(key, None)
            return value

    def _make_room(self, incoming: int) -> None:
        while self._slots and (
            len(self._slots) >= self.max_models
            or (self.max_bytes is not None and self.used_bytes() + incoming > self.max_bytes)
        ):
            self._evict(next(iter(self._slots)))

    def _evict(self, key: str) -> None:
        slot = self._slots.pop(key, None)
        if slot is not None:
            close = getattr(slot.value, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001 - unloading must not fail the caller
                    pass

    def unload(self, key: str) -> bool:
        with self._lock:
            present = key in self._slots
            self._evict(key)
            return present

    def unload_idle(self, idle_seconds: float) -> list[str]:
        """Unload models unused for ``idle_seconds`` (the server's keep_alive)."""
        cutoff = time.time() - idle_seconds
        with self._lock:
            stale = [k for k, s in self._slots.items() if s.last_used < cutoff]
            for k in stale:
                self._evict(k)
        return stale

    def clear(self) -> None:
        with self._lock:
            for k in list(self._slots):
                self._evict(k)

    def used_bytes(self) -> int:
        return sum(s.size for s in self._slots.values())

    def info(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"key": k, "bytes": s.size, "loaded_at": s.loaded_at, "last_used": s.last_used}
                for k, s in self._slots.items()
            ]

    def __contains__(self, key: str) -> bool:
        return key in self._slots

    def __len__(self) -> int:
        return len(self._slots)


_CACHE: ModelCache | None = None
_CACHE_LOCK = threading.Lock()


def loaded_models() -> ModelCache:
    """The process-wide cache (``LOCALMODELS_MAX_MODELS``, ``LOCALMODELS_MAX_MEMORY`` in bytes)."""
    global _CACHE
    with _CACHE_LOCK:
        if _CACHE is None:
            s = settings()
            _CACHE = ModelCache(s.max_models, s.max_memory)
            atexit.register(_unload_all)
        return _CACHE


def _unload_all() -> None:
    """At exit, close loaded models while the interpreter is whole (llama.cpp's destructor
    otherwise runs during teardown and prints an ignored exception)."""
    if _CACHE is not None:
        _CACHE.clear()
