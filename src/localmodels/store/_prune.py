"""``disk_usage`` and ``prune``: what the store takes on disk, and freeing it.

Each source reports its own part (the HF cache, files we assembled) and removes its own orphans;
the store adds its records and derived artifacts and removes the least recently used models.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config
from ..errors import LocalModelsError, UsageError
from ..sources import _records as rec
from ..sources._confine import remove_path
from ..sources.hfcache import dir_size
from ..sources.registry import source_for, sources
from ._paths import derived_root, models_dir, records_dir
from ._prune_locks import kept_entry, locked_folders, project_locks, protected_by


@dataclass
class PruneReport:
    removed: list[dict[str, Any]] = field(default_factory=list)  # {"kind", "path", "bytes", "name"?}
    dry_run: bool = False
    kept: list[dict[str, Any]] = field(default_factory=list)  # LRU candidates a lock kept: {"name", "lock", ...}

    @property
    def freed(self) -> int:
        return sum(int(r["bytes"]) for r in self.removed)

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "freed": self.freed, "removed": self.removed, "kept": self.kept}


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$", re.I)


def parse_size(text: str | int) -> int:
    """``"20G"``, ``"500MB"``, ``"1.5GiB"``, ``1024`` -> bytes (powers of 1024)."""
    if isinstance(text, int):
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise UsageError(f"not a size: {text!r}", hint="use a number with K, M, G or T, e.g. 20G or 500M")
    unit = m.group(2).lower()
    return int(float(m.group(1)) * 1024 ** " kmgtp".index(unit or " "))


def disk_usage() -> dict[str, Any]:
    """Bytes used: each source's stored files (the HF cache per repo, files we assembled), our
    derived artifacts and records, and the models used in place (local folders, PyPI carriers),
    which cost nothing extra."""
    scalars: dict[str, Any] = {}
    lists: dict[str, Any] = {}
    stored = 0
    for src in sources():
        part = dict(src.usage())
        stored += int(part.pop("stored_bytes", 0))
        for k, v in part.items():
            (lists if isinstance(v, list) else scalars)[k] = v
    in_place = [{"name": r.name, "source": r.source, "path": r.path, "bytes": r.size}
                for r in rec.all_records() if source_for(r).in_place(r)]
    derived = dir_size(derived_root()) if derived_root().is_dir() else 0
    records = dir_size(records_dir()) if records_dir().is_dir() else 0
    return {
        **scalars,
        "home": str(config.home()),
        "derived_bytes": derived,
        "records_bytes": records,
        "total_bytes": stored + derived + records,
        "in_place_bytes": sum(m["bytes"] for m in in_place),
        **lists,
        "in_place": in_place,
    }


def prune(*, keep: int | None = None, max_size: str | int | None = None, dry_run: bool = False,
          locks: Sequence[str | Path] | None = None) -> PruneReport:
    """Remove orphans (incomplete downloads, blobs no snapshot uses, records whose files vanished),
    then the least-recently-used stored models beyond ``keep`` models or ``max_size`` bytes.

    Only models that take space in the store count (Hub snapshots, assembled GGUFs); local
    folders and PyPI carriers are used in place and are never deleted. Models a lock references
    are never removed for ``keep`` / ``max_size`` (``locks``; default: the current project's lock,
    see :mod:`._prune_locks`); ``report.kept`` says which lock kept each.
    """
    if keep is not None and keep < 0:
        raise UsageError("--keep must be 0 or more")
    limit = parse_size(max_size) if max_size is not None else None
    report = PruneReport(dry_run=dry_run)

    def drop(kind: str, path: Path, size: int, name: str | None = None) -> None:
        report.removed.append({"kind": kind, "path": str(path), "bytes": size, **({"name": name} if name else {})})
        if not dry_run:
            remove_path(path, config.home())  # never outside the store, whatever a record says

    # 1. each source's orphans (partial downloads, unused blobs), then our own leftovers
    for src in sources():
        report.removed += src.prune_orphans(dry_run)
    for d in (records_dir(), models_dir(), derived_root()):
        if d.is_dir():
            for p in d.rglob("*"):
                temp = p.name.endswith(".incomplete") or (p.name.startswith(".") and p.name.endswith(".tmp"))
                if p.is_file() and temp:
                    drop("incomplete", p, p.stat().st_size)
    # 2. records whose files vanished
    for r in rec.all_records():
        if r.missing_or_changed():
            drop("stale record", r.file_path, 0, r.name)
    # 3. least recently used stored models
    if keep is not None or limit is not None:
        locked = locked_folders(project_locks(locks))
        records = rec.all_records()
        stored = [m for src in sources() for m in src.stored(records)]
        stored.sort(key=lambda m: m.last_used, reverse=True)  # most recent first
        total = sum(m.bytes for m in stored) - report.freed
        for i, m in enumerate(stored):
            over_keep = keep is not None and i >= keep
            over_size = limit is not None and total > limit
            if not (over_keep or over_size):
                continue
            by = protected_by(m, locked)
            if by is not None:
                report.kept.append(kept_entry(m, by))
                continue
            try:
                removed = m.remove(dry_run)
            except LocalModelsError:
                continue
            report.removed.extend({**x, "reason": "lru"} for x in removed)
            total -= sum(int(x["bytes"]) for x in removed)
    return report
