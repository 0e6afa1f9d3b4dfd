"""The one verify flow: each file of a model against its expected size and digests.

    result = check_files(folder, [FileRecord("model.onnx", 1234, "ab12..."), ...])
    result.problems   # [FileProblem(path, kind, expected, actual, what)]
    result.digests    # {path: sha256} of every file that was read (reuse it: no second hash)
    result.records    # the good files, with their actual size and sha256

Every caller uses it: ``verify`` and ``check`` of each source, the Hub snapshot check, ``sync`` and
bundle import. Pins (digests the catalog fixes for third-party files) are checked by
:func:`check_pins`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

from . import _files
from .base import CheckResult, FileProblem, FileRecord, ProblemKind

__all__ = ["CheckResult", "check_files", "check_pins"]


def _stamp(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _check_one(base: Path, f: FileRecord, *, deep: bool, git_sha1: str | None, known: str | None,
               memo: MutableMapping[str, list] | None, kind: ProblemKind
               ) -> tuple[FileRecord | None, FileProblem | None]:
    real = Path(os.path.realpath(base / f.path))
    stamp = _stamp(real) if real.is_file() else None
    if stamp is None:
        return None, FileProblem(f.path, "missing")
    size = stamp[0]
    if f.size >= 0 and size != f.size:
        return None, FileProblem(f.path, kind, str(f.size), str(size), "size")
    if not deep:
        return FileRecord(f.path, size, known or f.sha256), None
    if known is not None:
        digest = known
    else:
        remembered = memo.get(str(real)) if memo is not None else None
        if remembered and remembered[:3] == stamp and git_sha1 is None and (f.sha256 in (None, remembered[3])):
            return FileRecord(f.path, size, remembered[3]), None
        if git_sha1 is not None:
            digest, actual1 = _files.sha256_and_git_blob_sha1(real)
            if actual1 != git_sha1:
                return None, FileProblem(f.path, kind, git_sha1, actual1, "git-sha1")
        else:
            digest = _files.sha256_file(real)
    if f.sha256 is not None and digest != f.sha256:
        return None, FileProblem(f.path, kind, f.sha256, digest)
    if memo is not None and known is None and (f.sha256 or git_sha1):
        memo[str(real)] = [*stamp, digest]
    return FileRecord(f.path, size, digest), None


def check_files(
    base: Path,
    files: Sequence[FileRecord],
    *,
    deep: bool = True,
    git_sha1: Mapping[str, str] | None = None,
    known: Mapping[str, str] | None = None,
    memo: MutableMapping[str, list] | None = None,
    kind: ProblemKind = "corrupt",
) -> CheckResult:
    """Check each of ``files`` under ``base`` (links followed); offline, each file read at most once.

    Each :class:`FileRecord` says what the file must be: ``size`` (``-1``: any) and ``sha256``
    (None: any, only hashed). ``deep=False`` checks presence and size only (a stat per file).
    ``git_sha1`` maps paths to a git blob sha1 the file must have (small files in a git repo);
    ``known`` maps paths to a sha256 computed from these very files moments ago (not hashed
    again); ``memo`` (path of the real file -> ``[size, mtime_ns, inode, sha256]``) skips files
    hashed before and unchanged since, and learns the new ones. A differing file is a problem of
    ``kind`` (``corrupt``; ``changed`` for a user's own folder). Big files hash on 4 threads.
    """
    git_sha1 = git_sha1 or {}
    known = known or {}

    def one(f: FileRecord) -> tuple[FileRecord | None, FileProblem | None]:
        return _check_one(base, f, deep=deep, git_sha1=git_sha1.get(f.path), known=known.get(f.path),
                          memo=memo, kind=kind)

    workers = min(4, os.cpu_count() or 1, len(files)) if deep else 1
    if workers > 1:  # hashlib releases the GIL: big files hash in parallel
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, files))
    else:
        results = [one(f) for f in files]
    out = CheckResult()
    for rec, problem in results:
        if rec is not None:
            out.records.append(rec)
            if rec.sha256:
                out.digests[rec.path] = rec.sha256
        if problem is not None:
            out.problems.append(problem)
    return out


def check_pins(base: Path, files: Sequence[FileRecord], pins: Mapping[str, str],
               digests: Mapping[str, str] | None = None) -> list[FileProblem]:
    """Files whose sha256 differs from a digest the catalog pins (``pins``: name -> sha256).

    A pin names a path, or a file name found anywhere in ``files``; a pinned file that is absent
    is ``missing``. ``digests`` (path -> sha256) are used before hashing.
    """
    digests = dict(digests or {})
    by_path = {f.path: f for f in files}
    by_name: dict[str, FileRecord] = {}
    for f in files:
        by_name.setdefault(f.path.rsplit("/", 1)[-1], f)
    out = []
    for name, want in pins.items():
        f = by_path.get(name) or by_name.get(name.rsplit("/", 1)[-1])
        if f is None or not (base / f.path).is_file():
            out.append(FileProblem(f.path if f else name, "missing", want.lower()))
            continue
        digest = digests.get(f.path) or f.sha256 or _files.sha256_file(base / f.path)
        if digest != want.lower():
            out.append(FileProblem(f.path, "pin mismatch", want.lower(), digest))
    return out
