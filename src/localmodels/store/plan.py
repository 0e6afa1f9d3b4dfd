"""Disk planning: how many bytes a set of models needs before anything is fetched.

Per model: the bytes to download (from the lock's file list, else the Hub's file listing, else the
catalog's size), where a file already in the Hugging Face cache counts zero and a blob two models
share counts once; then the total, the free space on the target disk (``LOCALMODELS_FREE_SPACE``
can stand in for it in tests) and the margin. ``pull`` (through the same free-space reading) and
``sync`` (:func:`check_fits` on the whole lock) stop before a download that would not fit.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import config
from ..errors import InsufficientResourcesError, LocalModelsError, human_size
from ..sources._files import free_space as _os_free_space
from ..sources._hflayout import select_files
from ..sources.hfcache import RepoFolder

# basis of a number: lock | hub | catalog | present | in place | unknown


@dataclass
class PlanItem:
    name: str
    ref: str
    source: str  # hub | pypi | local
    basis: str
    size: int = 0  # the model's bytes
    download: int = 0  # bytes still to fetch (each shared blob counted under the first model only)
    shared: int = 0  # bytes of blobs counted under an earlier model
    files: int = 0
    detail: str = ""


@dataclass
class Plan:
    items: list[PlanItem]
    target: Path
    free: int
    reserve: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(i.download for i in self.items)

    @property
    def margin(self) -> int:
        return self.free - self.reserve - self.total

    @property
    def fits(self) -> bool:
        return self.margin >= 0

    def error(self) -> InsufficientResourcesError:
        return InsufficientResourcesError(
            "disk space", needed=self.total + self.reserve, available=self.free,
            hint=f"free {human_size(-self.margin)} under {self.target}, or set HF_HUB_CACHE to a bigger disk "
                 "(see: localmodels plan)")

    def to_dict(self) -> dict[str, Any]:
        return {"models": [asdict(i) for i in self.items], "total": self.total, "free": self.free,
                "reserve": self.reserve, "margin": self.margin, "fits": self.fits, "target": str(self.target),
                "warnings": self.warnings}


def free_bytes(path: str | Path) -> int:
    """Free bytes on the disk of ``path`` (``LOCALMODELS_FREE_SPACE`` when set; ``pull`` reads the same)."""
    fake = config.settings().free_space
    return fake if fake is not None else _os_free_space(path)


class _Blobs:
    """Counts each (repo, blob) once and zero when the cache already has it."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def add(self, item: PlanItem, repo_id: str, commit: str, path: str, size: int, names: Iterable[str]) -> None:
        names = [n for n in names if n]
        item.size += size
        item.files += 1
        if _cached(repo_id, commit, path, names):
            return
        key = (repo_id, names[0] if names else f"{commit}/{path}")
        if key in self.seen:
            item.shared += size
        else:
            self.seen.add(key)
            item.download += size


def _cached(repo_id: str, commit: str, path: str, blob_names: list[str]) -> bool:
    repo = RepoFolder(repo_id)
    if (repo.snapshot(commit) / path).is_file():
        return True
    entry = (repo.read_tree(commit) or {}).get(path) or {}
    names = blob_names + [entry.get("lfs_sha256") or "", entry.get("blob_id") or ""]
    return any(n and repo.blob(n).is_file() for n in names)


# ---- from a lock ------------------------------------------------------------------------------

def _locked_item(m: Any, root: Path, blobs: _Blobs) -> PlanItem:
    from .pins import pinning_for

    item = PlanItem(m.name, m.ref, m.source, "lock")
    pinning = pinning_for(m)
    if pinning.in_hf_cache and m.repo_id and m.commit:
        for f in m.file:
            blobs.add(item, m.repo_id, m.commit, f.path, f.size, [f.sha256])
        return item
    item.size, item.files = m.size, len(m.file)
    if pinning.locate(m, root) is not None:  # a folder or an installed package: used in place
        item.basis = "in place"
    else:
        item.download = m.size
    return item


def plan_lock(lock: Any, root: Path, *, target: Path | None = None, reserve: int = 0) -> Plan:
    """The plan for every model of a lock (exact: the lock lists every file's size and digest)."""
    blobs = _Blobs()
    items = [_locked_item(m, root, blobs) for m in sorted(lock.model, key=lambda m: m.name)]
    tgt = target or config.hub_cache()
    return Plan(items, tgt, free_bytes(tgt), reserve)


def check_fits(plan: Plan) -> None:
    """Raise InsufficientResourcesError when the plan does not fit (``sync``'s pre-check)."""
    if not plan.fits:
        raise plan.error()


# ---- from a manifest or references ------------------------------------------------------------

def _present(ref: str) -> Any:
    from . import resolve

    try:
        return resolve(ref)
    except LocalModelsError:
        return None


def _hub_target(spec: Any) -> tuple[str | None, list[str] | None, Any]:
    """(repo id, allow patterns, catalog entry) a manifest entry pulls from (repo None: not the Hub)."""
    from ..refs import parse_ref
    from ..registry import find_entry

    r = parse_ref(spec.pull_ref)
    entry = find_entry(r.name)
    q = spec.quant
    quant = sorted({f"*{q}*.gguf", f"*{q.lower()}*.gguf", f"*{q.upper()}*.gguf"}) if q else None
    allow = list(spec.include) if spec.include else quant
    if entry is not None and (r.kind == "alias" or entry.id.lower() == r.name.lower()):
        s = entry.sources[0] if entry.sources else None
        if s is None or s.type != "hub":
            return None, None, entry
        return s.repo_id, allow or s.allow_patterns or ([entry.default_file] if entry.default_file else None) \
            or list(entry.files) or None, entry
    return r.name, allow or ((list(entry.files) or None) if entry else None), entry


def _spec_item(spec: Any, root: Path, blobs: _Blobs, warnings: list[str]) -> PlanItem:
    from ..sources import hub
    from .manifest import is_folder_ref

    if is_folder_ref(spec.ref):
        folder = Path(spec.ref).expanduser()
        folder = folder if folder.is_absolute() else (root / folder).resolve()
        item = PlanItem(spec.name, spec.ref, "local", "in place")
        for base, _dirs, names in os.walk(folder):
            item.files += len(names)
            item.size += sum(os.path.getsize(os.path.join(base, n)) for n in names)
        return item
    revision = spec.pinned_revision
    present = _present(f"{spec.pull_ref}@{revision}" if revision else spec.pull_ref)
    if present is not None:
        return PlanItem(spec.name, spec.ref, present.source, "present", size=present.size, files=len(present.files))
    if spec.ref.startswith("pypi:"):
        from .. import registry

        e = next((e for e in registry.catalog().entries for s in e.sources
                  if s.package and s.package.lower() == spec.ref[5:].lower()), None)
        return _catalog_item(spec, "pypi", e, warnings)
    repo, allow, entry = _hub_target(spec)
    if repo is None:
        return _catalog_item(spec, "pypi", entry, warnings)
    try:
        commit = hub.remote_commit(repo, revision)
        tree = hub.remote_tree(repo, commit)
    except LocalModelsError as e:
        warnings.append(f"{spec.name}: no Hub listing ({e.message})")
        return _catalog_item(spec, "hub", entry, warnings)
    item = PlanItem(spec.name, spec.ref, "hub", "hub")
    for path in select_files(tree, allow, list(spec.exclude) if spec.exclude else None):
        if not spec.allow_pickle and hub.is_pickle(path):
            continue
        info = tree[path]
        blobs.add(item, repo, commit, path, int(info.get("lfs_size") or info.get("size") or 0),
                  [info.get("lfs_sha256") or info.get("blob_id") or ""])
    return item


def _catalog_item(spec: Any, source: str, entry: Any, warnings: list[str]) -> PlanItem:
    size = entry.size_bytes if entry is not None and entry.size_bytes else None
    if size is None:
        warnings.append(f"{spec.name}: size unknown (not in the catalog, no Hub listing)")
        return PlanItem(spec.name, spec.ref, source, "unknown", detail="size unknown")
    return PlanItem(spec.name, spec.ref, source, "catalog", size=size, download=size)


def plan_specs(specs: list[Any], root: Path, *, lock: Any = None, target: Path | None = None,
               reserve: int = 0) -> Plan:
    """The plan for manifest entries (or references): an entry the lock pins as written uses the
    lock's file list; the others the Hub's listing (one request each), else the catalog's size."""
    blobs = _Blobs()
    warnings: list[str] = []
    items = []
    for spec in sorted(specs, key=lambda s: s.name):
        locked = lock.get(spec.name) if lock is not None else None
        if locked is not None and locked.spec_key() == spec.spec_key():
            items.append(_locked_item(locked, root, blobs))
        else:
            items.append(_spec_item(spec, root, blobs, warnings))
    tgt = target or config.hub_cache()
    return Plan(items, tgt, free_bytes(tgt), reserve, warnings)


def plan_refs(refs: list[str], *, target: Path | None = None, reserve: int = 0) -> Plan:
    """The plan for model references as ``pull`` takes them."""
    from .manifest import ModelSpec

    specs = [ModelSpec.model_validate({"name": r, "ref": r}) for r in refs]
    return plan_specs(specs, Path.cwd(), target=target, reserve=reserve)
