"""``verify --dir``: a folder made by ``materialize`` checked against its record, and repaired.

Every file is hashed and compared with the digest recorded in ``.localmodels.json`` (which came
from the store's record or the lock); a ``SHA256SUMS`` that disagrees, files that do not belong,
and world-writable entries are reported. A repair lays the folder out again from the store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NotInStoreError, UsageError
from ..sources._files import is_safe_relpath
from . import checksums, permissions
from .materialize import MARKER, materialize, read_marker, wanted_from_ref


@dataclass
class FolderProblem:
    path: str
    problem: str  # missing | corrupt | extra | sums | record | world-writable
    detail: str = ""


@dataclass
class FolderCheck:
    folder: Path
    name: str
    files: int
    problems: list[FolderProblem] = field(default_factory=list)
    warnings: list[FolderProblem] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems or self.repaired

    def to_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "name": self.name, "files": self.files, "ok": self.ok,
                "repaired": self.repaired, "problems": [vars(p) for p in self.problems],
                "warnings": [vars(p) for p in self.warnings]}


def check_folder(folder: str | Path) -> FolderCheck:
    """Hash every file of a materialized folder against its recorded digest; report files that
    are missing, differ, do not belong, a ``SHA256SUMS`` that disagrees, and world-writable entries."""
    from ..sources._files import sha256_file

    folder = Path(folder).expanduser().absolute()
    marker = read_marker(folder)
    if marker is None:
        raise UsageError(f"{folder} is not a folder made by localmodels materialize (no {MARKER})",
                         hint="make it with: localmodels materialize REF --dir PARENT")
    files = {f["path"]: f for f in marker.get("files", [])
             if isinstance(f, dict) and is_safe_relpath(str(f.get("path")))}
    check = FolderCheck(folder, str(marker.get("name")), len(files))
    for rel, f in sorted(files.items()):
        p = folder / rel
        if not p.is_file():
            check.problems.append(FolderProblem(rel, "missing", "broken link" if p.is_symlink() else ""))
            continue
        digest = sha256_file(p)
        if digest != f["sha256"]:
            detail = f"sha256 {digest[:12]}..., recorded {f['sha256'][:12]}..."
            check.problems.append(FolderProblem(rel, "corrupt", detail))
    sums = checksums.read(folder)
    if sums != {k: v["sha256"] for k, v in files.items()}:
        check.problems.append(FolderProblem(checksums.SUMS_NAME, "sums", "missing" if sums is None else
                                            "differs from the recorded digests"))
    for base, _dirs, names in os.walk(folder):
        for n in names:
            rel = (Path(base) / n).relative_to(folder).as_posix()
            if rel not in files and rel not in (MARKER, checksums.SUMS_NAME):
                check.problems.append(FolderProblem(rel, "extra", "not part of the model"))
    check.problems += _record_problems(marker, files)
    for p in permissions.world_writable([folder]):
        check.warnings.append(FolderProblem(str(p), "world-writable", "anyone on this machine can change it"))
    return check


def _record_problems(marker: dict[str, Any], files: dict[str, Any]) -> list[FolderProblem]:
    """The store's record, where this machine has the model, must still give the same digests."""
    from . import resolve

    try:
        m = resolve(str(marker.get("resolve")))
    except Exception:  # noqa: BLE001 - a copied folder needs no store (e.g. in a container)
        return []
    recorded = {f.path: f.sha256 for f in m.files if f.sha256}
    return [FolderProblem(rel, "record", "the store's record has another sha256")
            for rel, f in sorted(files.items()) if recorded.get(rel) not in (None, f["sha256"])]


def repair_folder(folder: str | Path, *, group: str | None = None) -> FolderCheck:
    """Lay the folder out again from the store (removing files that do not belong) and fix the modes
    of world-writable entries; returns the check after the repair."""
    folder = Path(folder).expanduser().absolute()
    before = check_folder(folder)
    if before.problems:
        marker = read_marker(folder) or {}
        try:
            w = wanted_from_ref(str(marker.get("resolve")), name=folder.name)
        except NotInStoreError as e:
            e.hint = f"the store no longer has it: run: localmodels pull {marker.get('ref')}, then repair again"
            raise
        locked = {f["path"]: f["sha256"] for f in marker.get("files", [])}
        if marker.get("lock"):  # keep exactly the locked files
            w.files = [f for f in w.files if f.path in locked]
            w.lock = marker.get("lock")
        w.ref = str(marker.get("ref") or w.ref)
        for f in before.problems:
            p = folder / f.path
            if f.problem in ("corrupt", "extra") and is_safe_relpath(f.path) and os.path.lexists(p) and not p.is_dir():
                p.unlink()
        materialize(w, folder.parent, mode=str(marker.get("mode") or "link"), group=group)
    if before.warnings:
        permissions.fix([Path(p.path) for p in before.warnings], permissions.modes(group))
    after = check_folder(folder)
    after.repaired = bool(before.problems or before.warnings) and not after.problems and not after.warnings
    if after.repaired:
        after.problems, after.warnings = before.problems, before.warnings
    return after
