"""Deleting only inside a root: every delete the store makes on what a record or cache names goes here.

    remove_path(path, root)     a file, a link (never followed) or a folder inside ``root``; else UnsafeFileError
    inside(path, root)          is the entry ``path`` inside ``root``, both sides resolved?

A record's path such as ``$HOME/models/../../victim``, a link inside the store that leaves it, or a
repo folder of the cache that is a link to a user's folder would otherwise make ``rm``, ``prune``
or ``verify --repair`` delete someone else's files. The entry's parent folder is resolved (links
and ``..`` as the OS follows them) and so is the root; the entry itself is not followed, so a
link is removed as a link.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import UnsafeFileError


def _entry(path: str | Path) -> str | None:
    """The real location of the directory entry ``path`` (its parent resolved, its name kept)."""
    text = os.fspath(path)
    name = os.path.basename(text.rstrip(os.sep)) if text.rstrip(os.sep) else ""
    if name in ("", ".", ".."):
        return None
    parent = os.path.dirname(text.rstrip(os.sep)) or "."
    return os.path.join(os.path.realpath(parent), name)


def inside(path: str | Path, root: str | Path) -> bool:
    """Is ``path`` (the entry, not what a link names) strictly inside ``root``, both resolved?"""
    entry = _entry(path)
    if entry is None:
        return False
    real_root = os.path.realpath(root)
    return entry != real_root and os.path.commonpath([real_root, entry]) == real_root


def refuse(path: str | Path, root: str | Path) -> UnsafeFileError:
    return UnsafeFileError(
        f"refusing to delete {path}: it is not inside {root}",
        hint="a record or a cache entry names a place outside the store (damaged or tampered with); "
        "check it, and delete by hand only what you mean to",
    )


def remove_path(path: str | Path, root: str | Path, *, missing_ok: bool = True) -> bool:
    """Delete ``path`` when it lies inside ``root``: a link or file is unlinked, a folder removed
    with its contents (``shutil.rmtree`` never follows the links inside). True when something went."""
    if not inside(path, root):
        raise refuse(path, root)
    entry = _entry(path)
    assert entry is not None
    try:
        if os.path.isdir(entry) and not os.path.islink(entry):
            shutil.rmtree(entry)
        else:
            os.unlink(entry)
    except FileNotFoundError:
        if not missing_ok:
            raise
        return False
    return True
