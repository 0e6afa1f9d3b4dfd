"""Every error localmodels raises on purpose.

Each class also inherits the builtin a caller would catch generically, carries the fields a
program needs, and a ``hint``: the next thing the user should do. The CLI prints
``error: <message>`` and ``hint: <hint>`` and exits with ``exit_code``; it never shows a traceback
for one of these.

    LocalModelsError
    ├── UsageError (ValueError)                 bad input from the user: a reference, a flag, a file
    │   ├── InvalidReferenceError
    │   └── ManifestError                       localmodels.toml / lock file problems (with a line)
    ├── ModelNotFoundError (LookupError)        unknown alias, repo, revision or file
    │   └── NotInStoreError                     known, but not pulled (offline or never fetched)
    ├── AccessError (PermissionError)           gated or private repo: token missing (401) or lacking (403)
    ├── IntegrityError (OSError)                sha256 / size mismatch, truncated or tampered files
    ├── StorageError (OSError)                  the filesystem said no: disk full, permission denied, a file
    │                                           where a folder must be, a name too long (:func:`from_os_error`)
    ├── UnsafeFileError (ValueError)            pickle weights without opt-in, path traversal, links in bundles
    ├── NetworkError (ConnectionError)          the Hub or a remote endpoint failed after all retries
    │   └── OfflineError                        a network call was needed in offline mode
    ├── InsufficientResourcesError (MemoryError)  not enough RAM or disk (needed vs available)
    ├── MissingDependencyError (ImportError)    an optional extra is not installed (with the pip command)
    └── RuntimeFailure (RuntimeError)           a backend failed on valid input (a corrupt model file, ...)
"""

from __future__ import annotations

import errno as _errno
import os
from collections.abc import Sequence
from pathlib import Path


class LocalModelsError(Exception):
    """Base class. ``hint`` tells the user what to do next; ``exit_code`` is the CLI's."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable across processes (pool workers, pytest-xdist)
        return (_rebuild, (type(self), self.__dict__))


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    Exception.__init__(obj, state.get("message", ""))
    obj.__dict__.update(state)
    return obj


class UsageError(LocalModelsError, ValueError):
    exit_code = 2


class InvalidReferenceError(UsageError):
    def __init__(self, ref: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"invalid model reference {ref!r}: {reason}",
            hint=hint or "use an alias (localmodels catalog), org/name[@revision], ./path or pypi:package",
        )
        self.ref = ref


class ManifestError(UsageError):
    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, hint: str | None = None):
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(where + message, hint=hint)
        self.path = path
        self.line = line


class ModelNotFoundError(LocalModelsError, LookupError):
    def __init__(self, message: str, *, ref: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.ref = ref


class NotInStoreError(ModelNotFoundError):
    def __init__(self, ref: str, *, detail: str = "") -> None:
        super().__init__(
            f"model {ref!r} is not in the store" + (f" ({detail})" if detail else ""),
            ref=ref,
            hint=f"run: localmodels pull {ref}",
        )


class AccessError(LocalModelsError, PermissionError):
    def __init__(self, message: str, *, repo_id: str, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.repo_id = repo_id
        self.status = status


class IntegrityError(LocalModelsError, OSError):
    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, expected: str | None = None,
                 actual: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.expected = expected
        self.actual = actual


class StorageError(LocalModelsError, OSError):
    """The filesystem refused: ``path`` is the one the system named, ``errno`` its reason."""

    def __init__(self, message: str, *, path: str | None = None, errno: int | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.errno = errno


class UnsafeFileError(LocalModelsError, ValueError):
    exit_code = 2


class NetworkError(LocalModelsError, ConnectionError):
    pass


class OfflineError(NetworkError):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint or "unset HF_HUB_OFFLINE / LOCALMODELS_OFFLINE, or pull the model first")


class InsufficientResourcesError(LocalModelsError, MemoryError):
    def __init__(self, what: str, *, needed: int, available: int, hint: str | None = None) -> None:
        super().__init__(
            f"not enough {what}: needs {_human(needed)}, {_human(available)} available",
            hint=hint,
        )
        self.what = what
        self.needed = needed
        self.available = available


class MissingDependencyError(LocalModelsError, ImportError):
    def __init__(self, package: str, extra: str, *, purpose: str = "") -> None:
        super().__init__(
            f"{package} is not installed" + (f"; it is needed {purpose}" if purpose else ""),
            hint=f"pip install 'localmodels[{extra}]'",
        )
        self.package = package
        self.extra = extra


class RuntimeFailure(LocalModelsError, RuntimeError):
    pass


def _human(n: int | float) -> str:
    """Decimal units, as the Hub shows sizes: 90.9 MB."""
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


human_size = _human


# ---------------------------------------------------------------------------------- OSError -> ours
_NO_SPACE = {_errno.ENOSPC, getattr(_errno, "EDQUOT", -1)}
_DENIED = {_errno.EACCES, _errno.EPERM, _errno.EROFS}


Folders = Sequence[tuple[str, Path]]  # (variable that moves it, folder): config.store_folders()


def _owner_var(path: Path, folders: Folders) -> tuple[str, Path] | None:
    for var, folder in folders:
        if path == folder or folder in path.parents:
            return var, folder
    return None


def _not_a_folder(path: Path) -> Path | None:
    """The first part of ``path`` that exists and is not a folder (what blocks a mkdir/open)."""
    for part in (*reversed(path.parents), path):
        try:
            if part.exists() and not part.is_dir():
                return part
        except OSError:
            return None
    return None


def _short(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[: n // 2] + "…" + text[-n // 2:]


def from_os_error(err: OSError, *, path: str | os.PathLike | None = None,
                  folders: Folders = ()) -> LocalModelsError:
    """Our error for a filesystem failure (or ``err`` itself when it already is one of ours).

    The message says what happened to which path in words; the hint says what to do, and names the
    variable (``LOCALMODELS_HOME``, ``HF_HOME``, ``HF_HUB_CACHE``) that moves the folder concerned
    when ``folders`` (``config.store_folders()``, passed by the caller: errors imports nothing) holds it.
    """
    if isinstance(err, LocalModelsError):
        return err
    if isinstance(err, (ConnectionError, TimeoutError)) or type(err).__module__.split(".")[0] in (
            "requests", "urllib3", "httpx", "httpcore", "socket", "ssl"):
        return NetworkError(f"network error: {err}", hint="check the connection (and HF_ENDPOINT); retry later")
    code = err.errno
    raw = path if path is not None else err.filename
    p = Path(os.fsdecode(raw)) if raw is not None else None
    where = str(p) if p is not None else None  # the error's path
    shown = _short(str(p)) if p is not None else "a file"
    owner = _owner_var(p, folders) if p is not None else None
    move = (f"or set {owner[0]} to another folder (it is {owner[1]})" if owner else None)
    reason = err.strerror or str(err)
    if code in _NO_SPACE:
        return StorageError(
            f"the disk is full: no space left to write {shown}", path=where, errno=code,
            hint="free space on that disk (localmodels du shows what the store takes; localmodels prune "
                 "--max-size SIZE removes the least recently used models)" + (f", {move}" if move else ""))
    if code in _DENIED:
        what = "read-only file system" if code == _errno.EROFS else "permission denied"
        if owner:
            hint = (f"this user cannot write the store's folder {owner[1]}: fix its permissions "
                    f"(ls -ld {owner[1]}), {move}")
        else:
            hint = f"check the permissions of {shown} (ls -l), or use a path this user can read and write"
        return StorageError(f"{what}: {shown}", path=where, errno=code, hint=hint)
    if code in (_errno.ENOTDIR, _errno.EEXIST) and p is not None:
        blocker = _not_a_folder(p)
        if blocker is not None:
            var = next((v for v, folder in folders if folder == blocker), None)
            if var and os.environ.get(var):
                return StorageError(f"{var} points at a file, not a folder: {blocker}", path=str(blocker),
                                    errno=code, hint=f"set {var} to a folder (or unset it), or move {blocker} away")
            if var:
                return StorageError(f"{blocker} is a file, but it is where the store's folder goes", path=str(blocker),
                                    errno=code, hint=f"move {blocker} away, or set {var} to another folder")
            reach = f" (to reach {shown})" if blocker != p else ""
            return StorageError(
                f"{_short(str(blocker))} is a file, but a folder is needed there{reach}",
                path=str(blocker), errno=code,
                hint=f"move or remove the file {_short(str(blocker))}" + (f", {move}" if move else ""))
    if code == _errno.EISDIR:
        return StorageError(f"{shown} is a folder, but a file is needed", path=where, errno=code,
                            hint="give the path of a file in that folder")
    if code == _errno.ENAMETOOLONG:
        return StorageError(f"a file name is too long for the file system: {shown}", path=where,
                            errno=code, hint="use a shorter name: each part of a path may have at most 255 bytes")
    if code == _errno.ENOENT:
        return StorageError(f"no such file or folder: {shown}", path=where, errno=code,
                            hint="check the path" + (f" (the store's folders are recreated: {move})" if move else ""))
    if code in (_errno.EMFILE, _errno.ENFILE):
        return StorageError("too many open files", errno=code, hint="raise the limit, e.g. ulimit -n 4096")
    if code == _errno.ELOOP:
        return StorageError(f"too many levels of symbolic links: {shown}", path=where, errno=code,
                            hint="a link points back at itself: fix or remove it")
    return StorageError(f"cannot read or write {shown}: {reason}", path=where, errno=code,
                        hint="check that path (permissions, free space, the disk itself)")
