"""``org/name[@rev]``: Hub models in the standard Hugging Face cache, as a :class:`~.base.Source`.

A model some other tool put in the cache is checked against the cache's own digests and adopted
(a record is written). Downloads run under a per-repo file lock, so concurrent pulls end with one
good copy; the record is written last. Removing deletes the snapshot, the refs naming it and the
blobs no other snapshot uses (:meth:`.hfcache.RepoFolder.remove_revisions`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config
from ..errors import IntegrityError, ModelNotFoundError
from ..refs import parse_ref
from . import _records as rec
from ._confine import remove_path
from ._files import sha256_file
from ._hflayout import matches
from ._offline import offline_missing
from ._serve import SourceBase, check_record, find_entry, refuse_pin_mismatch, to_model
from .base import FileProblem, FileRecord, LocalModel, ModelStatus, Spec, StoredModel
from .hfcache import RepoFolder, cached_repos, is_blob_name
from .verify import CheckResult

if TYPE_CHECKING:
    from ..registry import ModelEntry
    from ..registry import Source as CatalogSource


def _hub():
    from . import hub

    return hub


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def record_matches(r: rec.Record, allow: Sequence[str] | None, ignore: Sequence[str] | None,
                   allow_pickle: bool = False) -> bool:
    """Did the recorded pull fetch (at least) what these patterns ask for?"""
    if allow_pickle and r.extra.get("skipped_pickle") and not r.extra.get("allow_pickle"):
        return False
    if r.allow_patterns is None and not r.extra.get("ignore_patterns"):
        return True
    return sorted(r.allow_patterns or []) == sorted(allow or []) and \
        sorted(r.extra.get("ignore_patterns") or []) == sorted(ignore or [])


def _allow(spec: Spec) -> list[str] | None:
    """The spec's patterns, or the catalog entry's files (``default_file`` too when pulling)."""
    if spec.allow is not None or spec.entry is None:
        return spec.allow
    e = spec.entry
    if spec.exact_patterns:
        return list(e.files) or ([e.default_file] if e.default_file else None)
    return list(e.files) or None


def _record(snap, spec: Spec, *, allow: Sequence[str] | None, adopted: bool) -> rec.Record:
    """The record of a verified snapshot (its files' sha256 come from the check that verified them)."""
    repo_id, entry = spec.name, spec.entry
    files = []
    for f in snap.files:
        p = Path(snap.path) / f.path
        st = p.stat()
        files.append({"path": f.path, "size": st.st_size, "sha256": f.sha256 or sha256_file(p),
                      "mtime_ns": st.st_mtime_ns})
    if not files:
        raise ModelNotFoundError(
            f"{repo_id}: no file matches " + (f"{list(allow)}" if allow else "the request"), ref=spec.ref,
            hint="check --include / --quant (localmodels catalog shows the files of known models)")
    if entry is not None:
        pins = {k: v for k, v in entry.sha256.items() if any(f["path"] == k for f in files)}
        refuse_pin_mismatch(Path(snap.path), files, pins, where=repo_id, ref=spec.ref)
    ignore, skipped = spec.ignore, getattr(snap, "skipped", None)
    return rec.Record(
        key=rec.hub_key(repo_id, spec.revision), ref=spec.ref, name=repo_id, source="hub", path=str(snap.path),
        files=files, served_by=f"hub:{repo_id}", repo_id=repo_id,
        revision=spec.revision or getattr(snap, "revision", None), commit=snap.commit,
        entry_id=entry.id if entry else None, license=entry.license if entry else None,
        allow_patterns=list(allow) if allow is not None else None, pulled_at=rec.now_iso(), last_used=rec.now_iso(),
        extra={**({"adopted_from_cache": True} if adopted else {}),
               **({"ignore_patterns": list(ignore)} if ignore else {}),
               **({"allow_pickle": True} if spec.allow_pickle else {}),
               **({"skipped_pickle": list(skipped)} if skipped else {})},
    )


def _snapshot_of(r: rec.Record):
    """The hub module's view of a recorded snapshot (exactly the recorded files)."""
    return _hub().HubSnapshot(r.repo_id or "", r.revision or "main", r.commit or "", Path(r.path),
                              [FileRecord(f["path"], int(f["size"]), f.get("sha256")) for f in r.files])


class HubSource(SourceBase):
    kind = "hub"
    supports_revision = True
    nameable_in_requests = True  # a shared name: resolved in the store, never an arbitrary path

    def parse(self, ref: str) -> Spec | None:
        r = parse_ref(ref)
        if r.kind != self.kind:
            return None
        entry = find_entry(r.name)
        names = entry is not None and entry.id.lower() == r.name.lower()
        return Spec(self.kind, r.name, r.raw, r.revision, entry=entry, names_entry=names)

    def from_catalog(self, entry: ModelEntry, origin: CatalogSource, spec: Spec) -> Spec:
        allow = spec.allow
        if allow is None:
            allow = (list(origin.allow_patterns) if origin.allow_patterns else
                     [entry.default_file] if entry.default_file else list(entry.files) or None)
        return Spec(self.kind, origin.repo_id or "", spec.ref, spec.revision or origin.revision, entry=entry,
                    origin=origin, names_entry=True, allow=allow, ignore=spec.ignore,
                    allow_pickle=spec.allow_pickle, exact_patterns=bool(spec.allow or spec.ignore))

    def key(self, spec: Spec) -> str:
        return rec.hub_key(spec.name, spec.revision)

    # ---- present / fetch ------------------------------------------------------------------------
    def present(self, spec: Spec) -> LocalModel | None:
        """From our record, or adopted from the HF cache after checking its digests.
        Raises IntegrityError when the cached copy is corrupt (so the caller can say to repair it)."""
        repo_id, revision, entry, allow = spec.name, spec.revision, spec.entry, _allow(spec)
        r = rec.load(self.key(spec))
        if r is not None and r.commit and not r.missing_or_changed() and (
                not spec.exact_patterns or record_matches(r, allow, spec.ignore, spec.allow_pickle)):
            r.touch()
            return to_model(r, spec.ref, entry)
        hub = _hub()
        snap = hub.find_cached(repo_id, revision, allow, spec.ignore, allow_pickle=spec.allow_pickle)
        if snap is None:
            return None
        present = {f.path for f in snap.files}
        if RepoFolder(repo_id).read_tree(snap.commit) is None and entry is not None:
            # no listing to tell a complete snapshot: at least the catalog's weight files must be there
            if any(name not in present for name in entry.sha256 if matches(name, allow, spec.ignore)):
                return None
        problems = hub.verify_snapshot(snap)
        if problems:
            raise IntegrityError(
                f"{repo_id}@{snap.commit[:10]}: {problems[0].message}"
                + (f" and {len(problems) - 1} more" if len(problems) > 1 else ""),
                path=problems[0].path, expected=problems[0].expected, actual=problems[0].actual,
                hint=f"run: localmodels verify {spec.ref} --repair",
            )
        r = _record(snap, spec, allow=allow, adopted=True)
        r.try_save()
        return to_model(r, spec.ref, entry)

    def fetch(self, spec: Spec, *, force: bool = False, install: bool = False, progress: bool = False,
              offline: bool = False) -> LocalModel:
        spec = replace(spec, exact_patterns=True)  # a present copy must have what this pull asks for
        corrupt = False  # a damaged cached copy: fetch every file again (repairing it)

        def present() -> LocalModel | None:
            nonlocal corrupt
            try:
                return self.present(spec)
            except IntegrityError:
                corrupt = True
                return None

        if not force:
            model = present()
            if model is not None:
                return model
        if offline:
            raise offline_missing(spec.ref)
        with rec.lock(rec.hub_lock_key(spec.name)):
            if not force:
                corrupt = False
                model = present()  # another process may have finished (or repaired) it while we waited
                if model is not None:
                    return model
            allow = _allow(spec)
            snap = _hub().fetch_snapshot(
                spec.name, revision=spec.revision, allow_patterns=allow, ignore_patterns=spec.ignore,
                allow_pickle=spec.allow_pickle, token=config.hf_token(), progress=bool(progress),
                force=force or corrupt, seeds=spec.seeds,
            )
            r = _record(snap, spec, allow=allow, adopted=False)
            r.save()
            return to_model(r, spec.ref, spec.entry)

    # ---- verify ---------------------------------------------------------------------------------
    def check(self, record: rec.Record, *, deep: bool = True) -> CheckResult:
        """The snapshot against the cache's own digests (LFS sha256 / git blob sha1) and, without a
        cached listing, against the sha256 recorded at pull."""
        if not (record.repo_id and record.commit):
            return check_record(record, deep=deep)
        good, problems = _hub().check_snapshot(_snapshot_of(record))
        digests = {g.path: g.sha256 for g in good if g.sha256}
        if RepoFolder(record.repo_id).read_tree(record.commit) is None:
            for f in record.files:
                if f.get("sha256") and f["path"] in digests and digests[f["path"]] != f["sha256"]:
                    problems.append(FileProblem(f["path"], "corrupt", f["sha256"], digests[f["path"]]))
        return CheckResult(problems, digests, good)

    def repair(self, record: rec.Record, problems: Sequence[FileProblem]) -> None:
        """Fetch the broken files again (under the repo's lock) and re-record their digests."""
        with rec.lock(rec.hub_lock_key(record.repo_id or record.name)):
            remaining = _hub().repair(_snapshot_of(record), progress=False)
            if remaining:
                raise IntegrityError(f"{record.name}: could not repair {remaining[0].message}",
                                     path=remaining[0].path,
                                     hint="try again later, or: localmodels pull --force " + record.ref)
            fixed = {p.path for p in problems}
            base = Path(record.path)
            for f in record.files:
                if f["path"] in fixed:
                    st = (base / f["path"]).stat()
                    f.update(size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=sha256_file(base / f["path"]))
            record.save()

    def adopt(self, spec: Spec) -> str | None:
        """A snapshot in the HF cache without a record: record it as it is, unverified."""
        key = self.key(spec)
        if rec.load(key) is not None:
            return key
        repo = RepoFolder(spec.name)
        commit = repo.resolve(spec.revision)
        if commit is None:
            return None
        files = []
        for rel in repo.snapshot_files(commit):
            st = (repo.snapshot(commit) / rel).stat()
            files.append({"path": rel, "size": st.st_size, "sha256": None, "mtime_ns": st.st_mtime_ns})
        rec.Record(key=key, ref=spec.ref, name=spec.name, source=self.kind, path=str(repo.snapshot(commit)),
                   files=files, served_by=f"hub:{spec.name}", repo_id=spec.name, revision=spec.revision,
                   commit=commit, entry_id=spec.entry.id if spec.entry else None, pulled_at=rec.now_iso(),
                   extra={"adopted_from_cache": True, "unverified": True}).save()
        return key

    # ---- remove / list / du / prune -------------------------------------------------------------
    def _remove(self, repo_id: str, commits: list[str] | None, *, dry_run: bool) -> list[dict[str, Any]]:
        """Records of these snapshots (all when ``commits`` is None), then the snapshots themselves."""
        removed: list[dict[str, Any]] = []
        with rec.lock(rec.hub_lock_key(repo_id)):
            for r in rec.all_records():
                if r.source == self.kind and r.repo_id == repo_id and (commits is None or r.commit in commits):
                    removed.append({"kind": "record", "path": str(r.file_path), "bytes": 0, "name": r.name})
                    if not dry_run:
                        rec.delete(r.key)
            return removed + RepoFolder(repo_id).remove_revisions(commits, dry_run=dry_run)

    def remove(self, spec: Spec, *, dry_run: bool) -> list[dict[str, Any]]:
        if spec.revision is None:
            return self._remove(spec.name, None, dry_run=dry_run)
        commit = RepoFolder(spec.name).resolve(spec.revision)
        if commit is None:  # a record may still name it (its snapshot vanished)
            r = rec.load(self.key(spec))
            if r is None:
                return []
            if not dry_run:
                rec.delete(r.key)
            return [{"kind": "record", "path": str(r.file_path), "bytes": 0, "name": spec.name}]
        return self._remove(spec.name, [commit], dry_run=dry_run)

    def unrecorded(self, listed: Sequence[ModelStatus]) -> list[ModelStatus]:
        """Snapshots other tools downloaded (not verified by us yet)."""
        seen = {m.path for m in listed}
        out = []
        for repo in cached_repos():
            for commit in repo.commits():
                path = str(repo.snapshot(commit))
                if path in seen:
                    continue
                names = [n for n, c in repo.refs().items() if c == commit]
                entry = find_entry(repo.repo_id)
                out.append(ModelStatus(
                    name=repo.repo_id, source=self.kind, path=path, size=repo.snapshot_size(commit), status="cached",
                    served_by=f"hub:{repo.repo_id}", aliases=list(entry.aliases) if entry else [], commit=commit,
                    revision=names[0] if names else None, license=entry.license if entry else None,
                    last_used=_iso(os.stat(path).st_mtime),
                ))
                seen.add(path)
        return out

    def usage(self) -> dict[str, Any]:
        repos = [{"repo_id": r.repo_id, "path": str(r.path), "bytes": r.size(), "snapshots": len(r.commits()),
                  "incomplete_bytes": r.incomplete_bytes()} for r in cached_repos()]
        total = sum(r["bytes"] for r in repos)
        return {"hub_cache": str(config.hub_cache()), "hub_bytes": total, "stored_bytes": total, "repos": repos}

    def prune_orphans(self, dry_run: bool) -> list[dict[str, Any]]:
        """Partial downloads no process is writing, and blobs no snapshot links to."""
        from filelock import Timeout

        removed: list[dict[str, Any]] = []
        for repo in cached_repos():
            if repo.linked:  # a link to someone's folder: never ours to prune
                continue
            lk = rec.lock(rec.hub_lock_key(repo.repo_id), timeout=0)
            try:
                lk.acquire()
            except Timeout:  # a pull of this repo is running
                continue
            try:
                partial = {p: p.stat().st_size for p in repo.incomplete()}
                gone = list(partial) if dry_run else repo.clean_incomplete()
                removed += [{"kind": "incomplete", "path": str(p), "bytes": partial.get(p, 0), "name": repo.repo_id}
                            for p in gone]
                used = repo.blobs_in_use()
                for p in repo.blobs():
                    if p.name not in used and is_blob_name(p.name):  # a stranger's mine.txt stays
                        removed.append({"kind": "unreferenced blob", "path": str(p), "bytes": p.stat().st_size,
                                        "name": repo.repo_id})
                        if not dry_run:
                            remove_path(p, repo.path)
            finally:
                lk.release()
        return removed

    def stored(self, records: Sequence[rec.Record]) -> list[StoredModel]:
        recorded = {(r.repo_id, r.commit): r for r in records if r.source == self.kind and r.repo_id and r.commit}
        out = []
        for repo in (r for r in cached_repos() if not r.linked):
            for commit in repo.commits():
                r = recorded.get((repo.repo_id, commit))
                last = rec.parse_iso(r.last_used) if r else os.stat(repo.snapshot(commit)).st_mtime
                out.append(StoredModel(
                    f"{repo.repo_id}@{commit[:10]}", repo.snapshot_size(commit), last,
                    (lambda dry, repo_id=repo.repo_id, commit=commit: self._remove(repo_id, [commit], dry_run=dry))))
        return out
