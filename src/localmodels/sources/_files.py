"""File helpers every layer shares: sha256 and git blob sha1 of a file, atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20


def is_safe_relpath(name: str) -> bool:
    """A '/'-separated relative path that stays inside its folder: not empty or absolute, no drive
    letter, backslash, NUL, empty, ``.`` or ``..`` part."""
    return bool(name) and not (
        name.startswith("/")
        or "\\" in name
        or "\0" in name
        or re.match(r"^[A-Za-z]:", name) is not None
        or any(part in ("", ".", "..") for part in name.split("/"))
    )


def sha256_file(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def git_blob_sha1(path: str | Path) -> str:
    """``git hash-object``: sha1 over ``b"blob <size>\\0" + content``."""
    p = Path(path)
    h = hashlib.sha1(b"blob %d\0" % p.stat().st_size)
    with open(p, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def free_space(path: str | Path) -> int:
    """Free bytes on the disk that holds ``path`` (or would hold it: its nearest existing parent);
    ``LOCALMODELS_FREE_SPACE`` stands in for it when set (``plan`` reads the same)."""
    from .. import config

    fake = config.settings().free_space
    if fake is not None:
        return fake
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def sha256_and_git_blob_sha1(path: str | Path) -> tuple[str, str]:
    """Both digests of a file from one read (a plain git file is checked by sha1, recorded by sha256)."""
    p = Path(path)
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(b"blob %d\0" % p.stat().st_size)
    with open(p, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha256.update(chunk)
            sha1.update(chunk)
    return sha256.hexdigest(), sha1.hexdigest()


@contextmanager
def atomic_writer(path: str | Path, *, suffix: str = ".tmp") -> Iterator[BinaryIO]:
    """Write ``path`` through a temp file beside it (fsynced, then renamed over it).

    Readers see the old file or the whole new one; on any error the temp file is removed and
    ``path`` is left as it was. The temp file is named ``.NAME.XXXX<suffix>``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    with atomic_writer(path) as f:
        f.write(data)
