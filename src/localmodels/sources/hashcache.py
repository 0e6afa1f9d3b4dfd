"""sha256 of files, hashed once and remembered by size + mtime_ns + inode.

    from localmodels.sources import hashcache
    hashcache.sha256(path)          # hashed now, or the remembered digest of an unchanged file
    hashcache.sha256(path, fresh=True)     # hashed now whatever is remembered (pull --force)
    hashcache.known(path, st)       # the remembered digest, or None (never hashes)
    hashcache.remember(path, st, digest)   # a digest a store guarantees (an Ollama blob's name...)
    hashcache.flush()               # write what was learnt (``LOCALMODELS_HOME/hashcache.json``)

A file counts as unchanged while its size, mtime_ns and inode stay the same, so ``list --all``
over hundreds of models only stats them. The cache is loaded once per process; a failed write
(read-only home) only costs hashing again next time.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import config
from ._files import write_atomic

_BUF = 4 << 20  # large reads: hashing runs at the speed of sha256 itself, not of Python's loop
_lock = threading.Lock()
_cache: dict[str, list[Any]] | None = None
_cache_file: Path | None = None
_dirty = False
_pinned = 0


def cache_file() -> Path:
    return config.home() / "hashcache.json"


@contextmanager
def batch() -> Iterator[None]:
    """Within it, the cache file is located once (a listing of hundreds of files reads the setting once)."""
    global _pinned
    _entries()
    _pinned += 1
    try:
        yield
    finally:
        _pinned -= 1


def _entries() -> dict[str, list[Any]]:
    """The cache for the current ``LOCALMODELS_HOME`` (reloaded when it changes, as tests do)."""
    global _cache, _cache_file, _dirty
    if _cache is not None and _pinned:
        return _cache
    path = cache_file()
    if _cache is None or _cache_file != path:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            _cache = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            _cache = {}
        _cache_file, _dirty = path, False
    return _cache


def stamp(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def hash_file(path: str | Path) -> str:
    """sha256 of a file, read in large blocks into one reused buffer (no cache)."""
    h = hashlib.sha256()
    buf = bytearray(_BUF)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def known(path: str | Path, st: os.stat_result | None = None) -> str | None:
    """The remembered sha256 of ``path`` when it is unchanged since, else None."""
    real = os.path.realpath(path)
    try:
        st = st or os.stat(real)
    except OSError:
        return None
    return known_stamp(real, stamp(st))


def known_stamp(real: str, file_stamp: list[int]) -> str | None:
    """The remembered sha256 of the real path ``real`` if it still has ``[size, mtime_ns, inode]``."""
    with _lock:
        entry = _entries().get(real)
    return entry[3] if entry and entry[:3] == file_stamp else None


def remember(path: str | Path, st: os.stat_result, digest: str) -> None:
    global _dirty
    real = os.path.realpath(path)
    with _lock:
        entries = _entries()
        value = [*stamp(st), digest]
        if entries.get(real) != value:
            entries[real] = value
            _dirty = True


def sha256(path: str | Path, *, fresh: bool = False) -> str:
    """sha256 of ``path``: remembered when unchanged, else (or with ``fresh``) hashed now and remembered."""
    real = os.path.realpath(path)
    st = os.stat(real)
    digest = None if fresh else known(real, st)
    if digest is None:
        digest = hash_file(real)
        after = os.stat(real)
        if stamp(after) == stamp(st):  # not remembered when it changed while being read
            remember(real, st, digest)
    return digest


def extra(name: str) -> dict[str, Any]:
    """A named section of the cache for other scans keyed the same way (e.g. pip RECORDs)."""
    global _dirty
    with _lock:
        entries = _entries()
        section = entries.get(f"#{name}")
        if not isinstance(section, dict):
            section = entries[f"#{name}"] = {}
            _dirty = True
        return section


def mark_dirty() -> None:
    global _dirty
    _dirty = True


def flush() -> None:
    """Write the cache when it learnt something (atomically; failures are ignored)."""
    global _dirty
    with _lock:
        if not _dirty or _cache is None or _cache_file is None:
            return
        live = {k: v for k, v in _cache.items() if k.startswith("#") or os.path.exists(k)}
        try:
            write_atomic(_cache_file, json.dumps(live, separators=(",", ":")).encode())
            _dirty = False
        except OSError:
            pass
