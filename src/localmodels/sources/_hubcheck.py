"""Offline checks of Hub snapshots in the Hugging Face cache: what is cached, and is it intact.

Each file is held to its tree entry (size + LFS sha256, or size + git blob sha1) or, without a
cached tree, to the digest its blob is named by; the hashing is :func:`.verify.check_files`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..errors import UnsafeFileError
from ._files import sha256_file, write_atomic
from ._hflayout import HEX40, HEX64, folder_files, is_commit, select_files
from ._hubnames import apply_pickle_policy, check_repo_id, check_revision, check_safe_name, entry_size
from .base import FileProblem, FileRecord
from .hfcache import RepoFolder, repo_folder_name
from .verify import check_files


@dataclass
class HubSnapshot:
    """A complete, verified snapshot of a Hub repo in the Hugging Face cache."""

    repo_id: str
    revision: str  # what was asked for: a branch, tag or commit ("main" by default)
    commit: str  # the 40-hex commit it resolved to
    path: Path  # the snapshot folder
    files: list[FileRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # pickle files left out (no allow_pickle)
    downloaded: list[str] = field(default_factory=list)  # files fetched over the network by this call

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def read_ref(repo_id: str, revision: str | None) -> str | None:
    """The commit a branch or tag points to in the cache (a commit sha answers for itself)."""
    revision = revision or "main"
    if is_commit(revision):
        return revision
    check_revision(revision)
    return RepoFolder(repo_id).read_ref(revision)


# ---- the hashing memo: files hashed before and unchanged since are not hashed again -------------
_memo_lock = threading.Lock()


def _memo_path(repo_id: str) -> Path:
    return config.home() / "cache" / "hub-verified" / (repo_folder_name(repo_id) + ".json")


def _load_memo(repo_id: str) -> dict[str, list]:
    try:
        data = json.loads(_memo_path(repo_id).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_memo(repo_id: str, memo: dict[str, list]) -> None:
    try:
        write_atomic(_memo_path(repo_id), json.dumps(memo, sort_keys=True).encode())
    except OSError:  # the memo only saves time
        pass


def expectations(snapshot: Path, paths: Sequence[str], tree: dict[str, dict] | None
                 ) -> tuple[list[FileRecord], dict[str, str]]:
    """What each file must be: (records with size and sha256, git blob sha1 by path)."""
    records, git_sha1 = [], {}
    for rel in paths:
        entry = (tree or {}).get(rel)
        if entry is not None:
            sha = entry.get("lfs_sha256")
            if not sha and entry.get("blob_id"):
                git_sha1[rel] = entry["blob_id"]
            records.append(FileRecord(rel, entry_size(entry), sha))
            continue
        p = snapshot / rel
        name = Path(os.path.realpath(p)).name if p.is_symlink() else ""
        if HEX40.match(name):
            git_sha1[rel] = name
        records.append(FileRecord(rel, -1, name if HEX64.match(name) else None))
    return records, git_sha1


def check_files_of(repo_id: str, commit: str, paths: Sequence[str], tree: dict[str, dict] | None,
                   *, use_memo: bool) -> tuple[list[FileRecord], list[FileProblem]]:
    """Hash snapshot files against their tree entries (or blob names); (good files, problems)."""
    snap = RepoFolder(repo_id).snapshot(commit)
    records, git_sha1 = expectations(snap, paths, tree)
    with _memo_lock:
        memo = _load_memo(repo_id) if use_memo else {}
    result = check_files(snap, records, git_sha1=git_sha1, memo=memo)
    with _memo_lock:
        _save_memo(repo_id, {**_load_memo(repo_id), **memo})
    return result.records, result.problems


# ---- offline lookup -----------------------------------------------------------------------------
def find_cached(repo_id: str, revision: str | None = None, allow_patterns=None, ignore_patterns=None,
                *, allow_pickle: bool = False) -> HubSnapshot | None:
    """A complete snapshot already in the Hugging Face cache, or None. Never touches the network.

    Works for snapshots written by anyone (``huggingface_hub``, transformers, us): the commit comes
    from the cached ref (or is the revision), completeness from the cached tree. Without a cached
    tree (older tools) the files present in the snapshot are taken as the snapshot. Large files are
    not hashed here (see ``hub.verify_snapshot``); sha256 comes from the tree.
    """
    try:
        return find_cached_or_raise(repo_id, revision, allow_patterns, ignore_patterns, allow_pickle=allow_pickle)
    except UnsafeFileError:
        return None


def find_cached_or_raise(repo_id: str, revision: str | None, allow_patterns, ignore_patterns,
                         *, allow_pickle: bool) -> HubSnapshot | None:
    """:func:`find_cached`, raising UnsafeFileError for pickle-only weights or unsafe names."""
    check_repo_id(repo_id)
    revision = revision or "main"
    commit = read_ref(repo_id, revision)
    if commit is None:
        return None
    repo = RepoFolder(repo_id)
    snap = repo.snapshot(commit)
    if not snap.is_dir():
        return None
    tree = repo.read_tree(commit)
    wanted = select_files(tree if tree is not None else folder_files(snap), allow_patterns, ignore_patterns)
    for name in wanted:
        check_safe_name(name)
    wanted, skipped = apply_pickle_policy(repo_id, wanted, allow_pickle)
    if not wanted:
        return None
    records = []
    for rel in wanted:
        p = snap / rel
        if not p.is_file():  # follows the link: a dangling link is missing
            return None
        entry = (tree or {}).get(rel)
        size = p.stat().st_size
        if entry is not None:
            if size != entry_size(entry):
                return None
            digest = entry.get("lfs_sha256")
        else:
            name = Path(os.path.realpath(p)).name
            digest = name if HEX64.match(name) else None
        if digest is None:
            digest = sha256_file(p)  # small git file: cheap
        records.append(FileRecord(rel, size, digest))
    return HubSnapshot(repo_id, revision, commit, snap, records, skipped)
