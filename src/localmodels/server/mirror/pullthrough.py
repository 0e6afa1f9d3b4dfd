"""Pull-through: a repo revision the store lacks is fetched from the upstream, once.

The fetch is the store's own verified ``pull`` (every file's sha256 checked, under the store's
per-repo file lock) with ``HF_ENDPOINT`` pointing at the upstream (set by the server before
``huggingface_hub`` is imported). Concurrent requests for the same repo and revision wait for the
one fetch in flight (an in-process future), then are served from the store. An upstream "not
found" is remembered for a short while, so a client retrying an unknown repo does not hammer it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future

from ... import config, store
from ...errors import LocalModelsError, ModelNotFoundError

log = logging.getLogger("localmodels.mirror")
MISS_TTL_S = 30.0  # how long an upstream "not found" is remembered


class PullThrough:
    def __init__(self, upstream: str, *, on_fetched: Callable[[str], None],
                 on_gated: Callable[[str], None]) -> None:
        self.upstream = upstream.rstrip("/")
        self._on_fetched = on_fetched
        self._on_gated = on_gated
        self._guard = threading.Lock()
        self._inflight: dict[tuple[str, str], Future] = {}
        self._misses: dict[tuple[str, str], tuple[float, ModelNotFoundError]] = {}
        self.fetches = 0  # pulls started
        self.failures = 0
        self.last_error: str | None = None

    def fetch(self, repo_id: str, revision: str, allow_patterns: list[str] | None = None) -> None:
        """Pull ``repo_id@revision`` into the store (or wait for the pull already running).

        Raises the store's errors: ModelNotFoundError (unknown repo, revision), AccessError (gated
        upstream), NetworkError (upstream down).
        """
        key = (repo_id.lower(), revision)
        with self._guard:
            miss = self._misses.get(key)
            if miss is not None and miss[0] > time.monotonic():
                raise miss[1]  # the upstream said "not found" moments ago: do not ask again yet
            fut = self._inflight.get(key)
            owner = fut is None
            if owner:
                fut = self._inflight[key] = Future()
                self.fetches += 1
        assert fut is not None
        if not owner:
            fut.result()
            return
        started = time.monotonic()
        try:
            model = store.pull(f"{repo_id}@{revision}", allow_patterns=allow_patterns)
            if self._upstream_says_gated(repo_id):
                self._on_gated(repo_id)
            self._on_fetched(repo_id)
            log.info("pulled %s@%s from %s (%d files) in %.1f s", repo_id, revision, self.upstream,
                     len(model.files), time.monotonic() - started)
            fut.set_result(None)
        except BaseException as e:
            with self._guard:
                self.failures += 1
                self.last_error = f"{repo_id}@{revision}: {e}"
                if isinstance(e, ModelNotFoundError):
                    self._misses[key] = (time.monotonic() + MISS_TTL_S, e)
            if isinstance(e, LocalModelsError):
                log.warning("pull-through of %s@%s failed: %s", repo_id, revision, e)
            fut.set_exception(e)
            raise
        finally:
            with self._guard:
                self._inflight.pop(key, None)

    def _upstream_says_gated(self, repo_id: str) -> bool:
        """Ask the upstream whether the repo is gated (so its files go only to allowed tokens here too)."""
        req = urllib.request.Request(f"{self.upstream}/api/models/{repo_id}")
        token = config.hf_token()
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                gated = json.loads(resp.read()).get("gated")
        except (OSError, ValueError, AttributeError):
            return bool(token)  # unknown: fetched with our token, so keep it behind tokens
        return bool(gated) and gated != "false"
