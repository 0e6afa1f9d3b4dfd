"""Where derived artifacts (ONNX exports, int8 quantizations) live, and the digests that key them.

A derived artifact is keyed by the digests of its inputs and the recipe that made it, so a change
to either makes a new artifact and an unchanged model is exported once per machine.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ...config import home


def derived_dir(*key_parts: str) -> Path:
    """A folder under ``LOCALMODELS_HOME/derived/`` for these key parts (the store's, when present)."""
    try:
        from ...store import derived_dir as store_derived_dir  # type: ignore[attr-defined]
    except ImportError:
        store_derived_dir = None
    if store_derived_dir is not None:
        return Path(store_derived_dir(*key_parts))
    digest = hashlib.sha256("\x00".join(key_parts).encode()).hexdigest()[:32]
    path = home() / "derived" / digest
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def file_digest(path: Path, known: str | None = None) -> str:
    """The sha256 of ``path``: ``known`` when the store or catalog already recorded it, else computed.

    Computed digests are memoised next to the derived artifacts, keyed by path, size and mtime, so a
    warm start does not re-read a large weight file.
    """
    if known:
        return known
    st = path.stat()
    memo_file = home() / "derived" / "digests.json"
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        memo = {}
    if key in memo:
        return memo[key]
    digest = sha256_file(path)
    memo[key] = digest
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo))
        os.replace(tmp, memo_file)
    except OSError:
        pass
    return digest
