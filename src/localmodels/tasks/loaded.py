"""The models loaded in this process, as a server shows and manages them (keep_alive, /health, /metrics),
and the store kept read-only while it serves.

A server talks to these functions, not to the runtimes' cache or the store's records.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..runtimes.cache import available_memory, loaded_models
from ..sources import _records

__all__ = ["available_memory", "loaded_count", "loaded_info", "loaded_keys", "read_only_store", "recording_pull",
           "unload", "unload_idle"]


@contextmanager
def read_only_store() -> Iterator[None]:
    """While it lasts, resolving a model (in any thread of this process) writes nothing to the store:
    what a resolution learns is kept in memory. A server serves inside it; pulls use :func:`recording_pull`."""
    previous = _records.set_recording_default(False)
    try:
        yield
    finally:
        _records.set_recording_default(previous)


def recording_pull():
    """Inside :func:`read_only_store`: the context (in the pulling thread) where a pull writes its record."""
    return _records.recording(True)


def loaded_info() -> list[dict[str, Any]]:
    """Per loaded model: ``key`` (names the runtime and the file), ``bytes`` (estimated), ``loaded_at``,
    ``last_used`` (epoch seconds)."""
    return loaded_models().info()


def loaded_keys() -> list[str]:
    return [str(m["key"]) for m in loaded_models().info()]


def loaded_count() -> int:
    return len(loaded_models())


def unload(key: str) -> bool:
    """Unload one model by its key; False when it was not loaded."""
    return loaded_models().unload(key)


def unload_idle(idle_seconds: float) -> list[str]:
    """Unload models unused for ``idle_seconds``; the keys of those unloaded."""
    return loaded_models().unload_idle(idle_seconds)
