"""What a project's lock protects from ``prune``: every model a lock references stays.

``prune --keep N`` / ``--max-size S`` removes the least recently used models; a model the current
project's ``localmodels.lock`` pins (or a lock named with ``--lock F``) is never one of them, and
the report says which lock kept it. A lock that cannot be read stops ``prune``: it never guesses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ManifestError
from ..sources.base import StoredModel
from .lock_format import LOCK_NAME, default_lock_path, read_lock
from .manifest import find_manifest
from .sync_compare import locate


@dataclass(frozen=True)
class LockedFolder:
    folder: Path  # where the locked model's files are here (resolved)
    name: str  # its name in the lock
    lock: Path


def project_locks(given: Sequence[str | Path] | None = None) -> list[Path]:
    """The locks ``given``; else the current project's: ``localmodels.lock`` here and the one next to
    the manifest found from here upwards (the lock ``sync`` and ``check`` use)."""
    if given:
        return [Path(p) for p in given]
    found: list[Path] = []
    here = Path.cwd() / LOCK_NAME
    if here.is_file():
        found.append(here)
    manifest = find_manifest()
    if manifest is not None:
        beside = default_lock_path(manifest)
        if beside.is_file() and beside.resolve() not in {p.resolve() for p in found}:
            found.append(beside)
    return found


def locked_folders(locks: Iterable[Path]) -> list[LockedFolder]:
    """The folders of every model the locks reference that is on this machine."""
    out: list[LockedFolder] = []
    for lock_path in locks:
        try:
            lock = read_lock(lock_path)
        except ManifestError as e:
            raise ManifestError(f"{e.message} (prune keeps the models this lock references, so it must read it)",
                                hint=f"fix it or regenerate it (localmodels lock), or pass --lock with "
                                     f"another lock file; {lock_path} was found in the current project") from None
        root = lock_path.parent
        for m in lock.model:
            folder = locate(m, root)
            if folder is not None:
                out.append(LockedFolder(folder.resolve(), m.name, lock_path))
    return out


def protected_by(model: StoredModel, locked: Sequence[LockedFolder]) -> LockedFolder | None:
    """The lock entry that forbids removing ``model`` (what it would remove holds a locked folder)."""
    if not locked:
        return None
    for item in model.remove(True):  # a dry run: the paths it would remove
        p = Path(item["path"]).resolve()
        for lf in locked:
            if lf.folder == p or p in lf.folder.parents:
                return lf
    return None


def kept_entry(model: StoredModel, by: LockedFolder) -> dict[str, Any]:
    return {"name": model.name, "bytes": model.bytes, "path": str(by.folder), "lock": str(by.lock),
            "locked_as": by.name, "reason": "locked"}
