"""What the Hub and its standard cache agree on, with no network and no ``huggingface_hub`` import:
repo and revision names and the allow/ignore pattern rule of ``snapshot_download``. The cache
layout itself belongs to :mod:`.hfcache` (paths here are shorthands for it).

The Hub source, the store's cache reader, sync and bundles all use these, so there is one
definition of each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from .hfcache import (  # noqa: F401  (names live with the cache layout; re-exported here)
    HEX40,
    HEX64,
    TREE_FORMAT_VERSION,
    RepoFolder,
    folder_files,
    is_commit,
    repo_folder_name,
    valid_repo_id,
    valid_revision,
)


# ---- cache layout: owned by .hfcache; these names stay for callers that want a path ------------
def repo_folder(repo_id: str) -> Path:
    """``<hub cache>/models--org--name`` (it may not exist)."""
    return RepoFolder(repo_id).path


def snapshot_folder(repo_id: str, commit: str) -> Path:
    return RepoFolder(repo_id).snapshot(commit)


def read_tree(repo_id: str, commit: str) -> dict[str, dict] | None:
    """The cached file listing at ``commit`` (see :meth:`RepoFolder.read_tree`)."""
    return RepoFolder(repo_id).read_tree(commit)


def read_ref_file(repo_id: str, revision: str) -> str | None:
    """The commit a cached ref names (see :meth:`RepoFolder.read_ref`)."""
    return RepoFolder(repo_id).read_ref(revision)


# ---- patterns ------------------------------------------------------------------------------------
def norm_patterns(patterns: str | Sequence[str] | None) -> list[str] | None:
    """``huggingface_hub``'s normalisation: one string is a list; ``dir/`` means ``dir/*``."""
    if patterns is None:
        return None
    if isinstance(patterns, str):
        patterns = [patterns]
    out = []
    for p in patterns:
        p = p.replace("\\", "/")
        out.append(p + "*" if p.endswith("/") else p)
    return out


def matches(path: str, allow_patterns=None, ignore_patterns=None) -> bool:
    """Would ``snapshot_download`` fetch ``path`` with these patterns? (fnmatchcase, ``dir/`` rule)."""
    allow, ignore = norm_patterns(allow_patterns), norm_patterns(ignore_patterns)
    q = path.replace("\\", "/")
    if allow is not None and not any(fnmatchcase(q, a) for a in allow):
        return False
    return not (ignore is not None and any(fnmatchcase(q, i) for i in ignore))


def select_files(paths: Iterable[str], allow_patterns=None, ignore_patterns=None) -> list[str]:
    """The paths ``snapshot_download`` would fetch for these patterns, sorted."""
    allow, ignore = norm_patterns(allow_patterns), norm_patterns(ignore_patterns)
    return sorted(p for p in paths if matches(p, allow, ignore))


def escape_pattern(name: str) -> str:
    """An fnmatch pattern that matches exactly ``name``."""
    return re.sub(r"([*?\[])", r"[\1]", name)
