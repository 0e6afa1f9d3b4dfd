"""What the Hub and its standard cache agree on, with no network and no ``huggingface_hub`` import:
repo and revision names, the cache layout (``models--org--name/{blobs,snapshots,refs,trees}``), and
the allow/ignore pattern rule of ``snapshot_download``.

The Hub source, the store's cache reader, sync and bundles all use these, so there is one
definition of each.
"""

from __future__ import annotations

import json
import os
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Iterable, Sequence

from .. import config
from ..refs import _REPO_ID, _REVISION  # the reference grammar's own rules for org/name and @revision

HEX40 = re.compile(r"^[0-9a-f]{40}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
TREE_FORMAT_VERSION = 1


# ---- names ---------------------------------------------------------------------------------------
def is_commit(revision: str | None) -> bool:
    return bool(revision and HEX40.match(revision))


def valid_repo_id(repo_id: object) -> bool:
    return isinstance(repo_id, str) and bool(_REPO_ID.match(repo_id)) and ".." not in repo_id and "--" not in repo_id


def valid_revision(revision: object) -> bool:
    """A branch, tag or commit: no path tricks (it names a file under ``refs/``)."""
    return isinstance(revision, str) and bool(_REVISION.match(revision)) and not any(
        part in ("", ".", "..") for part in revision.split("/"))


# ---- cache layout --------------------------------------------------------------------------------
def repo_folder_name(repo_id: str) -> str:
    return "models--" + repo_id.replace("/", "--")


def repo_folder(repo_id: str) -> Path:
    """``<hub cache>/models--org--name`` (it may not exist)."""
    return config.hub_cache() / repo_folder_name(repo_id)


def snapshot_folder(repo_id: str, commit: str) -> Path:
    return repo_folder(repo_id) / "snapshots" / commit


def folder_files(folder: Path) -> list[str]:
    """Relative '/'-separated paths of every file (links included, dangling ones too), sorted."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            out.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(out)


def read_tree(repo_id: str, commit: str) -> dict[str, dict] | None:
    """The cached listing ``trees/<commit>.json`` as ``{path: {size, blob_id, lfs_sha256?, lfs_size?}}``."""
    try:
        data = json.loads((repo_folder(repo_id) / "trees" / f"{commit}.json").read_text(encoding="utf-8"))
        if data.get("format_version") != TREE_FORMAT_VERSION:
            return None
        files = data["files"]
        return {str(p): dict(info) for p, info in files.items()} if isinstance(files, dict) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def read_ref_file(repo_id: str, revision: str) -> str | None:
    """The commit ``refs/<revision>`` names (None when missing, unreadable, not a commit, or a bad name)."""
    if not valid_revision(revision):
        return None
    try:
        commit = (repo_folder(repo_id) / "refs" / revision).read_text().strip()
    except OSError:
        return None
    return commit if HEX40.match(commit) else None


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
