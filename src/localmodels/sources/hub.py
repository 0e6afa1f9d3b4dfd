"""The Hugging Face Hub as a source: ``huggingface_hub`` for the transfer, our checks around it.

What ``huggingface_hub`` (pinned ``>=2.4,<3``) does not do and this module adds (see
``notes/hub-protocol.md``):

* a retry with exponential backoff and jitter around every Hub call (429 with ``Retry-After``,
  5xx, dropped connections), see :mod:`._retry`;
* a sha256 check of every downloaded file against the Hub's LFS oid (git blob sha1 for small
  files); a bad file is deleted and fetched once more, then :class:`IntegrityError`;
* LFS files that resume from the partial a killed or failed pull left (HTTP ``Range``), see
  :mod:`.hub_transfer`; connect and read timeouts on every Hub request (:mod:`._hubapi`);
* refusal of pickle weights without opt-in and of repo file names that would escape the folder;
* a free-disk check before a download, and removal of orphan partial downloads;
* our own errors with a hint (gated 401 vs 403, not found, offline).

Files live in the standard Hugging Face cache (``config.hub_cache()``), so what transformers or
sentence-transformers downloaded is found, and what we download serves them too. Offline
(``config.offline()``) nothing here makes a network request.

Split by concern: :mod:`._hubnames` (names, pickle policy, patterns), :mod:`._hubapi` (the remote
calls), :mod:`._hubcheck` (offline checks of cached snapshots), :mod:`.hfcache` (the cache layout),
:mod:`.hub_source` (the :class:`~.base.Source` the store uses). This module fetches and repairs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import config
from ..errors import (
    InsufficientResourcesError,
    IntegrityError,
    ModelNotFoundError,
    NetworkError,
    NotInStoreError,
    OfflineError,
)
from ._files import free_space as _disk_free
from ._hflayout import folder_files, norm_patterns, read_tree, select_files
from ._hubapi import download as _download
from ._hubapi import remote_commit, remote_tree, token_of
from ._hubcheck import HubSnapshot, check_files_of, find_cached, find_cached_or_raise, read_ref
from ._hubnames import (
    PICKLE_SUFFIXES,
    apply_pickle_policy,
    check_repo_id,
    check_revision,
    check_safe_name,
    download_patterns,
    entry_size,
    expected_digest,
    is_pickle,
)
from ._offline import offline_missing
from .base import FileProblem, FileRecord
from .hfcache import RepoFolder
from .hub_transfer import fetch_lfs_blobs

log = logging.getLogger("localmodels.sources.hub")


def repo_folder(repo_id: str) -> Path:
    return RepoFolder(repo_id).path


def clean_incomplete(repo_id: str) -> list[Path]:
    """Delete this repo's orphan partial downloads (a live download, holding its lock, stays)."""
    return RepoFolder(repo_id).clean_incomplete()


def _check_disk(repo_id: str, needed: int) -> None:
    if needed <= 0:
        return
    free = _disk_free(repo_folder(repo_id))
    if needed > free:
        raise InsufficientResourcesError(
            "disk space", needed=needed, available=free,
            hint=f"free space under {config.hub_cache()}, or set HF_HUB_CACHE to a bigger disk",
        )


def _missing(repo_id: str, commit: str, names: Sequence[str], tree: dict[str, dict]) -> list[str]:
    """Files whose blob is not in the cache yet (or whose snapshot link is gone)."""
    repo = RepoFolder(repo_id)
    return [n for n in names if not repo.has_file(commit, n, expected_digest(tree[n]))]


def _verified_cached(snap: HubSnapshot, shown: str) -> HubSnapshot:
    """The cached snapshot after a hash check of its files (memoised by size+mtime+inode)."""
    records, problems = check_files_of(snap.repo_id, snap.commit, [f.path for f in snap.files],
                                     read_tree(snap.repo_id, snap.commit), use_memo=True)
    if problems:
        raise IntegrityError(
            f"the cached copy of {shown} is damaged: " + "; ".join(p.message for p in problems[:3]),
            path=problems[0].path, expected=problems[0].expected, actual=problems[0].actual,
            hint=f"run online: localmodels verify {shown} --repair",
        )
    snap.files = records
    return snap


def fetch_snapshot(
    repo_id: str,
    *,
    revision: str | None = None,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
    allow_pickle: bool = False,
    token: str | bool | None = None,
    progress: bool = False,
    force: bool = False,
    seeds: Mapping[str, str] | None = None,
) -> HubSnapshot:
    """Download (or find in the cache) a verified snapshot of ``repo_id`` at ``revision``.

    Online: resolve the commit, list the files, refuse unsafe names and pickle-only weights, check
    free disk, download what is missing with ``huggingface_hub``, check every file's sha256 (LFS oid
    / git blob sha1), fetch a bad file once more, write the ref last. Offline: the cached
    snapshot or :class:`NotInStoreError`.

    Raises:
        InvalidReferenceError, ModelNotFoundError (repo, revision or patterns match nothing),
        NotInStoreError (offline, not cached), AccessError (gated: 401 no token, 403 no access),
        UnsafeFileError, InsufficientResourcesError, IntegrityError, NetworkError (after retries).
    """
    check_repo_id(repo_id)
    rev = revision or "main"
    check_revision(rev)
    shown = f"{repo_id}@{revision}" if revision else repo_id
    if config.offline():
        snap = find_cached(repo_id, rev, allow_patterns, ignore_patterns, allow_pickle=allow_pickle)
        if snap is None:
            if not allow_pickle and find_cached(repo_id, rev, allow_patterns, ignore_patterns, allow_pickle=True):
                find_cached_or_raise(repo_id, rev, allow_patterns, ignore_patterns, allow_pickle=False)  # says why
            raise offline_missing(shown)
        return _verified_cached(snap, shown)

    tok = token_of(token)
    try:
        commit = remote_commit(repo_id, rev, token=tok)
        tree = remote_tree(repo_id, commit, token=tok)
    except NetworkError as e:
        # The Hub is unreachable (after retries): a complete cached copy still serves, as in huggingface_hub.
        snap = find_cached(repo_id, rev, allow_patterns, ignore_patterns, allow_pickle=allow_pickle)
        if snap is None or force:
            raise
        log.warning("%s; using the cached copy of %s (commit %s)", e, shown, snap.commit[:12])
        return _verified_cached(snap, shown)
    selected = select_files(tree, allow_patterns, ignore_patterns)
    for name in selected:
        check_safe_name(name)
    names, skipped = apply_pickle_policy(repo_id, selected, allow_pickle)
    if not names:
        pats = ", ".join(norm_patterns(allow_patterns) or []) or "(all)"
        raise ModelNotFoundError(
            f"no file of {shown} matches the patterns {pats}"
            + (f" (ignoring {ignore_patterns})" if ignore_patterns else ""),
            ref=shown,
            hint=f"list the repo's files at {config.hf_endpoint()}/{repo_id}/tree/{rev} and fix the patterns",
        )

    missing = list(names) if force else _missing(repo_id, commit, names, tree)
    repo = RepoFolder(repo_id)
    no_blob = [n for n in missing if force or not repo.blob(expected_digest(tree[n])).is_file()]
    _check_disk(repo_id, sum(entry_size(tree[n]) for n in no_blob))
    if seeds and missing and not force:  # another source's copy with the Hub's sha256: copied, not downloaded
        missing = [n for n in missing if not repo.place_copy(commit, n, tree[n].get("lfs_sha256"), seeds)]
    if missing and not force:  # LFS files resume from the partial a killed or failed pull left (.hub_transfer)
        fetch_lfs_blobs(repo_id, commit, missing, tree, token=tok, progress=progress)
    clean_incomplete(repo_id)  # partials left now are orphans: another file's, another commit's
    if missing:
        pats = (download_patterns(tree, names, allow_patterns, ignore_patterns, allow_pickle)
                if len(missing) == len(names) else None)
        _download(repo_id, commit, missing, token=tok, progress=progress, force=force, patterns=pats)

    records, problems = check_files_of(repo_id, commit, names, tree, use_memo=not force)
    if problems:
        bad = [p.path for p in problems]
        log.warning("%s: %s; downloading again", shown, "; ".join(p.message for p in problems))
        for rel in bad:
            RepoFolder(repo_id).delete_file(commit, rel)
        _download(repo_id, commit, bad, token=tok, progress=progress, force=True)
        again, problems = check_files_of(repo_id, commit, bad, tree, use_memo=False)
        if problems:
            for p in problems:
                RepoFolder(repo_id).delete_file(commit, p.path)
            first = problems[0]
            raise IntegrityError(
                f"{first.path} of {shown} does not match the Hub's digest after a second download "
                f"({first.what} {first.actual}, expected {first.expected})",
                path=first.path, expected=first.expected, actual=first.actual,
                hint="the server or a proxy is serving bad bytes; check HF_ENDPOINT and try again later",
            )
        by_path = {r.path: r for r in records + again}
        records = [by_path[n] for n in names]

    RepoFolder(repo_id).write_ref(rev, commit)
    clean_incomplete(repo_id)
    return HubSnapshot(repo_id, rev, commit, RepoFolder(repo_id).snapshot(commit), records, skipped,
                       no_blob)


# -------------------------------------------------------------------------------- verify / repair
def _target(snapshot: HubSnapshot | str, commit: str | None, allow_patterns, ignore_patterns
            ) -> tuple[str, str, list[str], dict[str, dict] | None]:
    if isinstance(snapshot, HubSnapshot):
        return snapshot.repo_id, snapshot.commit, [f.path for f in snapshot.files], read_tree(
            snapshot.repo_id, snapshot.commit)
    repo_id = snapshot
    check_repo_id(repo_id)
    c = read_ref(repo_id, commit)
    if c is None:
        raise NotInStoreError(repo_id if not commit else f"{repo_id}@{commit}")
    tree = read_tree(repo_id, c)
    snap = RepoFolder(repo_id).snapshot(c)
    present = folder_files(snap) if snap.is_dir() else []
    # dangling links count too: os.walk lists them as files
    if allow_patterns is not None or ignore_patterns is not None:
        paths = select_files(tree if tree is not None else present, allow_patterns, ignore_patterns)
    else:
        paths = present
    return repo_id, c, paths, tree


def verify_snapshot(
    snapshot: HubSnapshot | str,
    commit: str | None = None,
    *,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
) -> list[FileProblem]:
    """Hash every file of a cached snapshot against the cached tree (or blob names); offline.

    ``snapshot`` is a :class:`HubSnapshot` (its files are checked) or a repo id with ``commit`` (a
    commit sha or a cached branch or tag; default main): the files in the snapshot folder are
    checked, or, with patterns, the tree's files that match them (absent ones are ``missing``).
    """
    return check_snapshot(snapshot, commit, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns)[1]


def check_snapshot(
    snapshot: HubSnapshot | str,
    commit: str | None = None,
    *,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
) -> tuple[list[FileRecord], list[FileProblem]]:
    """:func:`verify_snapshot`, also returning the size and sha256 of each good file, from the same pass."""
    repo_id, c, paths, tree = _target(snapshot, commit, allow_patterns, ignore_patterns)
    return check_files_of(repo_id, c, paths, tree, use_memo=False)


def repair(
    snapshot: HubSnapshot | str,
    commit: str | None = None,
    *,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
    token: str | bool | None = None,
    progress: bool = False,
) -> list[FileProblem]:
    """Verify, download the bad and missing files again, verify again; returns what is still wrong.

    Raises OfflineError when something needs fixing and offline mode is on.
    """
    repo_id, c, paths, tree = _target(snapshot, commit, allow_patterns, ignore_patterns)
    _, problems = check_files_of(repo_id, c, paths, tree, use_memo=False)
    if not problems:
        return []
    if config.offline():
        raise OfflineError(f"repairing {repo_id} ({len(problems)} bad file(s)) needs the network, "
                           "and offline mode is on")
    tok = token_of(token)
    tree = tree or remote_tree(repo_id, c, token=tok)
    bad = [p.path for p in problems]
    for rel in bad:
        check_safe_name(rel)
        if rel not in tree:
            raise ModelNotFoundError(f"{rel} is not part of {repo_id}@{c[:12]} on the Hub", ref=repo_id)
        RepoFolder(repo_id).delete_file(c, rel)
    clean_incomplete(repo_id)
    _check_disk(repo_id, sum(entry_size(tree[n]) for n in bad))
    _download(repo_id, c, bad, token=tok, progress=progress, force=True)
    _, remaining = check_files_of(repo_id, c, bad, tree, use_memo=False)
    for p in remaining:
        RepoFolder(repo_id).delete_file(c, p.path)
    return remaining


__all__ = [
    "HubSnapshot", "FileProblem", "FileRecord", "fetch_snapshot", "find_cached", "verify_snapshot",
    "check_snapshot", "repair",
    "clean_incomplete", "remote_commit", "remote_tree", "read_tree", "read_ref", "repo_folder",
    "select_files", "check_safe_name", "check_repo_id", "check_revision", "is_pickle", "PICKLE_SUFFIXES",
]

