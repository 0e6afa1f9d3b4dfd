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
    ├── UnsafeFileError (ValueError)            pickle weights without opt-in, path traversal, links in bundles
    ├── NetworkError (ConnectionError)          the Hub or a remote endpoint failed after all retries
    │   └── OfflineError                        a network call was needed in offline mode
    ├── InsufficientResourcesError (MemoryError)  not enough RAM or disk (needed vs available)
    ├── MissingDependencyError (ImportError)    an optional extra is not installed (with the pip command)
    └── RuntimeFailure (RuntimeError)           a backend failed on valid input (a corrupt model file, ...)
"""

from __future__ import annotations


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
