"""Ollama's per-request ``keep_alive`` on top of the server's loaded-model cache.

Which cache slots belong to which model is learned as requests load them (a derived ONNX export's
key does not name its model). ``keep_alive: 0`` unloads the model when the answer is sent; a
duration unloads it that long after its last use. The server-wide ``--keep-alive`` still applies:
a request cannot keep a model longer than the server's sweeper does, and /api/ps says so.
"""

from __future__ import annotations

import asyncio
import time

from ...tasks import loaded as loaded_tasks


def loaded_keys() -> set[str]:
    return set(loaded_tasks.loaded_keys())


class KeepAlive:
    def __init__(self, server_keep_alive_s: float) -> None:
        self.server_s = server_keep_alive_s
        self.owners: dict[str, str] = {}
        self.expiry: dict[str, float] = {}
        self.active: dict[str, int] = {}  # requests being answered, per model name

    def start(self, name: str) -> set[str]:
        """A request for ``name`` begins; returns the cache keys loaded before it (for :meth:`finish`)."""
        self.active[name] = self.active.get(name, 0) + 1
        return loaded_keys()

    def finish(self, name: str, before: set[str], requested: float | None) -> None:
        """The request ends: learn which slots it loaded and apply its ``keep_alive``."""
        self.active[name] = max(0, self.active.get(name, 1) - 1)
        self.used(name, before, requested)

    def effective(self, requested: float | None) -> float:
        """Seconds a model stays loaded after use; < 0 is forever."""
        if requested is None:
            return self.server_s
        if self.server_s < 0:
            return requested
        return self.server_s if requested < 0 else min(requested, self.server_s)

    def used(self, name: str, before: set[str], requested: float | None) -> None:
        """Record that ``name`` just answered; apply its ``keep_alive``."""
        now_keys = loaded_keys()
        for key in now_keys - before:
            self.owners[key] = name
        mine = [k for k in now_keys if self.owners.get(k) == name]
        keep = self.effective(requested)
        for key in mine:
            if keep == 0 and not self.active.get(name):
                loaded_tasks.unload(key)
                self.expiry.pop(key, None)
            elif keep == 0:  # another request still uses it: unload when that one is done
                self.expiry[key] = time.time()
                self._schedule(key, 0.5)
            elif keep < 0:
                self.expiry[key] = float("inf")
            else:
                self.expiry[key] = time.time() + keep
                self._schedule(key, keep)

    def _schedule(self, key: str, delay: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_later(delay + 0.05, self._expire, key)

    def _expire(self, key: str) -> None:
        if self.active.get(self.owners.get(key, "")):
            self._schedule(key, 0.5)  # never unload a model a request is using
            return
        if self.expiry.get(key, float("inf")) <= time.time():
            loaded_tasks.unload(key)
            self.expiry.pop(key, None)

    def unload(self, name: str) -> list[str]:
        loaded = loaded_keys()  # once, not per owner: each call walks the loaded-model cache under its lock
        keys = [k for k, owner in self.owners.items() if owner == name and k in loaded]
        for key in keys:
            loaded_tasks.unload(key)
            self.expiry.pop(key, None)
        return keys

    def expires_at(self, key: str, last_used: float) -> float:
        if key in self.expiry:
            return self.expiry[key] if self.expiry[key] != float("inf") else last_used + 10 * 365 * 86400
        return last_used + (self.server_s if self.server_s >= 0 else 10 * 365 * 86400)

    def owner(self, key: str) -> str | None:
        return self.owners.get(key)
