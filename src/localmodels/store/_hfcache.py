"""Offline reading of the standard Hugging Face cache (``models--org--name/{blobs,snapshots,refs,trees}``).

No network and no ``huggingface_hub`` import: this is what ``list``, ``rm``, ``du`` and ``prune``
use to find models that any tool (transformers, sentence-transformers, huggingface_hub, us)
downloaded. Names and paths come from :mod:`localmodels.sources._hflayout`; digests are checked by
:mod:`localmodels.sources.hub`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import config
from ..sources._hflayout import folder_files, is_commit, read_ref_file
from ..sources._hflayout import repo_folder as repo_dir
from ..sources._hflayout import snapshot_folder as snapshot_dir


def repo_id_of(folder: Path) -> str | None:
    name = folder.name
    if not name.startswith("models--"):
        return None
    return name[len("models--"):].replace("--", "/", 1)


def read_ref(repo_id: str, revision: str | None) -> str | None:
    """The commit a revision points to in the cache (a commit sha is its own answer when its
    snapshot is there)."""
    if is_commit(revision):
        assert revision is not None
        return revision if snapshot_dir(repo_id, revision).is_dir() else None
    return read_ref_file(repo_id, revision or "main")


def refs(repo_id: str) -> dict[str, str]:
    base = repo_dir(repo_id) / "refs"
    out: dict[str, str] = {}
    if base.is_dir():
        for p in base.rglob("*"):
            if p.is_file():
                try:
                    out[p.relative_to(base).as_posix()] = p.read_text().strip()
                except OSError:
                    pass
    return out


def snapshot_files(repo_id: str, commit: str) -> list[str]:
    """Relative paths in a snapshot folder (links or copies), sorted."""
    return folder_files(snapshot_dir(repo_id, commit))


def blob_of(repo_id: str, commit: str, rel: str) -> Path | None:
    """The blob a snapshot entry links to (None when the entry is a plain copy or missing)."""
    p = snapshot_dir(repo_id, commit) / rel
    if not p.is_symlink():
        return None
    return Path(os.path.realpath(p))


def cached_repos() -> list[str]:
    base = config.hub_cache()
    if not base.is_dir():
        return []
    out = []
    for d in sorted(base.iterdir()):
        rid = repo_id_of(d)
        if rid and d.is_dir():
            out.append(rid)
    return out


def snapshots(repo_id: str) -> list[str]:
    base = repo_dir(repo_id) / "snapshots"
    return sorted(d.name for d in base.iterdir() if d.is_dir()) if base.is_dir() else []


def blobs_in_use(repo_id: str, *, except_commits: set[str] = frozenset()) -> set[str]:
    used: set[str] = set()
    for commit in snapshots(repo_id):
        if commit in except_commits:
            continue
        for rel in snapshot_files(repo_id, commit):
            b = blob_of(repo_id, commit, rel)
            if b is not None:
                used.add(b.name)
    return used


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if not os.path.islink(os.path.join(root, name)):
                total += st.st_size
    return total
