"""The models loaded in this process, as a server shows and manages them (keep_alive, /health, /metrics).

A server talks to these functions, not to the runtimes' cache.
"""

from __future__ import annotations

from typing import Any

from ..runtimes.cache import available_memory, loaded_models

__all__ = ["available_memory", "loaded_count", "loaded_info", "loaded_keys", "unload", "unload_idle"]


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
