"""Only verified bytes leave: a file is served from a descriptor whose sha256 matched the record.

Digests are cached by the file's identity (size, mtime_ns, ctime_ns, inode) and computed again
whenever that changes; the cache is kept on disk so a restart does not re-read every model. The
file is opened first and checked by ``fstat`` on that very descriptor, so a file renamed or
replaced after the check is never the one sent. A file that fails is remembered as corrupt
(``mirror status`` lists it) and answered with a 5xx, never with its bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ...sources._files import write_atomic
from .inventory import ServedFile

log = logging.getLogger("localmodels.mirror")
_CHUNK = 4 << 20


class CorruptBlob(Exception):
    """The file on disk is not the one recorded (or is gone)."""

    def __init__(self, report: CorruptReport) -> None:
        super().__init__(report.detail)
        self.report = report


@dataclass
class CorruptReport:
    repo_id: str
    path: str
    file: str
    expected: str
    actual: str
    detail: str
    at: float


def identity(st: os.stat_result) -> tuple[int, int, int, int]:
    """What changes when a file's bytes may have: size, mtime, ctime, inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


_identity = identity


def _hash_fd(fd: int, size: int, *, git: bool) -> tuple[str, str | None]:
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(b"blob %d\0" % size) if git else None
    offset = 0
    while True:
        chunk = os.pread(fd, _CHUNK, offset)
        if not chunk:
            break
        offset += len(chunk)
        sha256.update(chunk)
        if sha1 is not None:
            sha1.update(chunk)
    return sha256.hexdigest(), sha1.hexdigest() if sha1 is not None else None


class Verifier:
    """Digests of served files, cached by identity; one hash per file at a time."""

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self._digests: dict[str, list[Any]] = {}  # realpath -> [size, mtime_ns, ctime_ns, ino, sha256, sha1]
        self._guard = threading.Lock()
        self._file_locks: dict[str, threading.Lock] = {}
        self.corrupt: dict[str, CorruptReport] = {}  # "repo_id/path" -> report
        self.hashed_bytes = 0
        self._dirty = False
        self._load()

    # ---- persistence --------------------------------------------------------------------------
    def _load(self) -> None:
        if self.cache_file is None:
            return
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
            self._digests = {str(k): list(v) for k, v in data.get("digests", {}).items() if len(v) == 6}
        except (OSError, ValueError, AttributeError):
            self._digests = {}

    def save(self) -> None:
        if self.cache_file is None or not self._dirty:
            return
        with self._guard:
            data = json.dumps({"version": 1, "digests": self._digests})
            self._dirty = False
        try:
            write_atomic(self.cache_file, data.encode())
        except OSError as e:
            log.warning("could not save the digest cache %s: %s", self.cache_file, e)

    # ---- digests ------------------------------------------------------------------------------
    def _lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            return self._file_locks.setdefault(key, threading.Lock())

    def digests_of_fd(self, fd: int, key: str, *, git: bool) -> tuple[str, str | None]:
        """sha256 (and, with ``git``, the git blob sha1) of an open file, from the cache while its
        identity is unchanged."""
        with self._lock_for(key):
            st = os.fstat(fd)
            ident = list(_identity(st))
            cached = self._digests.get(key)
            if cached and cached[:4] == ident and (cached[5] or not git):
                return cached[4], cached[5]
            for _ in range(3):  # hashed while someone wrote to it: read it again
                sha256, sha1 = _hash_fd(fd, st.st_size, git=git)
                self.hashed_bytes += st.st_size
                after = os.fstat(fd)
                if _identity(after) == _identity(st):
                    break
                st = after
            with self._guard:
                self._digests[key] = [*_identity(st), sha256, sha1]
                self._dirty = True
            return sha256, sha1

    def git_blob_id(self, path: Path, expected_sha256: str) -> str:
        """The git blob sha1 of a plain (non-LFS) file's bytes, for its listing and ETag."""
        fd = os.open(path, os.O_RDONLY)
        try:
            _sha256, sha1 = self.digests_of_fd(fd, os.path.realpath(path), git=True)
        finally:
            os.close(fd)
        assert sha1 is not None
        return sha1

    def is_verified(self, f: ServedFile) -> bool:
        """Whether ``f`` matched its record at its current identity (no hashing)."""
        key = os.path.realpath(f.local)
        try:
            ident = list(_identity(os.stat(key)))
        except OSError:
            return False
        cached = self._digests.get(key)
        return bool(cached and cached[:4] == ident and cached[4] == f.sha256)

    # ---- serving ------------------------------------------------------------------------------
    def open_verified(self, f: ServedFile, repo_id: str, *, hash_now: bool = True) -> tuple[int, os.stat_result]:
        """An open descriptor of ``f`` whose bytes are the recorded ones; raises CorruptBlob.

        ``hash_now=False`` (for HEAD, which sends no bytes) only checks the size and what is already
        known about this very file: it refuses a file known to be corrupt, but does not read it.
        """
        where = f"{repo_id}/{f.path}"
        try:
            fd = os.open(f.local, os.O_RDONLY)
        except OSError as e:
            raise CorruptBlob(self._bad(where, repo_id, f, "", f"cannot open {f.local}: {e.strerror}")) from None
        try:
            st = os.fstat(fd)
            if st.st_size != f.size:
                raise CorruptBlob(self._bad(where, repo_id, f, "", f"size {st.st_size}, recorded {f.size}"))
            if hash_now:
                sha256, _ = self.digests_of_fd(fd, os.path.realpath(f.local), git=not f.lfs)
            else:
                cached = self._digests.get(os.path.realpath(f.local))
                sha256 = cached[4] if cached and cached[:4] == list(_identity(st)) else f.sha256
            if sha256 != f.sha256:
                raise CorruptBlob(self._bad(where, repo_id, f, sha256, f"sha256 {sha256[:12]}..., recorded "
                                                                       f"{f.sha256[:12]}..."))
        except BaseException:
            os.close(fd)
            raise
        if where in self.corrupt and hash_now:
            with self._guard:
                self.corrupt.pop(where, None)
            log.info("%s is good again", where)
        return fd, st

    def _bad(self, where: str, repo_id: str, f: ServedFile, actual: str, detail: str) -> CorruptReport:
        report = CorruptReport(repo_id, f.path, str(f.local), f.sha256, actual, detail, time.time())
        with self._guard:
            first = where not in self.corrupt
            self.corrupt[where] = report
        if first:
            log.error("refusing to serve %s: %s (file %s); repair it: localmodels verify %s --repair",
                      where, detail, f.local, repo_id)
        return report

    def corrupt_list(self) -> list[dict[str, Any]]:
        with self._guard:
            return [asdict(r) for r in sorted(self.corrupt.values(), key=lambda r: (r.repo_id, r.path))]
