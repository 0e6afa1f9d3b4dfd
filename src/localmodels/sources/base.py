"""The contract every source implements, and the data it hands up.

    FileRecord    one file of a model: path, size, sha256
    FileProblem   one file that is not what it must be (missing, corrupt, changed, pin mismatch)
    CheckResult   what a check of a model's files found (see :func:`.verify.check_files`)
    LocalModel    a model whose files are all present on local disk
    ModelStatus   one line of ``localmodels list``
    Spec          what to serve: a parsed reference (or a catalog source line) plus the options
    Source        the protocol: parse, present, fetch, check, repair, remove, describe, ...

A source is found by its kind with :func:`localmodels.sources.registry.source_for`; the store's
verbs loop over sources and never ask which kind they hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..errors import NotInStoreError
    from ..registry import ModelEntry
    from ..registry import Source as CatalogSource
    from ._records import Record

ProblemKind = Literal["missing", "corrupt", "changed", "pin mismatch"]


@dataclass(frozen=True)
class FileRecord:
    """One file of a model: ``path`` relative to the model folder ('/'-separated), size, sha256."""

    path: str
    size: int
    sha256: str | None = None


def _short(value: str | None) -> str:
    text = str(value)
    return text[:12] + "..." if len(text) > 16 else text


@dataclass(frozen=True)
class FileProblem:
    """One file that is not what it must be.

    ``kind``: ``missing``; ``corrupt`` (differs from the digest its source guarantees);
    ``changed`` (a user's file differs from what we recorded); ``pin mismatch`` (differs from a
    digest the catalog pins). ``what`` names the property that differs (``size``, ``sha256``,
    ``git-sha1``); ``expected`` / ``actual`` are its values.
    """

    path: str
    kind: ProblemKind
    expected: str | None = None
    actual: str | None = None
    what: str = "sha256"

    @property
    def detail(self) -> str:
        """The difference in a few words ('' for a missing file)."""
        if self.kind == "missing":
            return ""
        if self.kind == "pin mismatch":
            has = f", file has {_short(self.actual)}" if self.actual else ""
            return f"catalog pins {_short(self.expected)}{has}"
        return f"{self.what} is {_short(self.actual)}, expected {_short(self.expected)}"

    @property
    def message(self) -> str:
        return f"{self.path}: missing" if self.kind == "missing" else f"{self.path}: {self.kind} ({self.detail})"

    @property
    def problem(self) -> str:
        """The store's earlier name for :attr:`kind`."""
        return self.kind

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """JSON view: the fields, plus ``problem`` and ``detail`` as ``verify --json`` always wrote them."""
        return {"path": self.path, "problem": self.kind, "detail": self.detail, "kind": self.kind,
                "expected": self.expected, "actual": self.actual, "what": self.what}


@dataclass
class CheckResult:
    problems: list[FileProblem] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # path -> sha256 of each file read or trusted
    records: list[FileRecord] = field(default_factory=list)  # good files: actual size and sha256

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class LocalModel:
    """A model whose files are all present (and were verified when they were fetched).

    ``path`` is the folder to load from: a Hub snapshot folder, a local folder used in place, or
    the model folder inside an installed PyPI package (or, for a model assembled from PyPI chunk
    packages, the folder under ``LOCALMODELS_HOME/models/pypi/<package>/``).
    """

    ref: str  # what the user asked for
    name: str  # canonical name: repo id, alias target, package or folder
    path: Path
    source: str  # the source kind: "hub" | "local" | "pypi" | ...
    commit: str | None = None
    revision: str | None = None
    files: list[FileRecord] = field(default_factory=list)
    entry: ModelEntry | None = None
    license: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    served_by: str = ""  # which source served it: "hub:org/name", "pypi:package", "local:/path"
    key: str = ""  # the store's record key (records/<key>.json)
    pulled_at: str | None = None
    last_used: str | None = None

    def file(self, relative: str) -> Path:
        return self.path / relative

    def has(self, relative: str) -> bool:
        return (self.path / relative).is_file()

    def find(self, pattern: str) -> list[Path]:
        return sorted(self.path.glob(pattern))

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def task(self) -> str | None:
        return self.entry.task if self.entry else None

    def sha256(self, relative: str) -> str | None:
        for f in self.files:
            if f.path == relative:
                return f.sha256
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (``localmodels info --json``)."""
        return {
            "ref": self.ref,
            "name": self.name,
            "path": str(self.path),
            "source": self.source,
            "served_by": self.served_by,
            "commit": self.commit,
            "revision": self.revision,
            "license": self.license,
            "task": self.task,
            "size": self.size,
            "pulled_at": self.pulled_at,
            "last_used": self.last_used,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
            **({"metadata": self.metadata} if self.metadata else {}),
        }


@dataclass
class ModelStatus:
    """One line of ``list``."""

    name: str
    source: str  # the source kind
    path: str
    size: int
    status: str  # ok | incomplete | cached (in the HF cache, not yet verified by us) | installed
    served_by: str = ""
    aliases: list[str] = field(default_factory=list)
    commit: str | None = None
    revision: str | None = None
    license: str | None = None
    pulled_at: str | None = None
    last_used: str | None = None
    key: str | None = None
    ref: str | None = None
    also_served_by: list[str] = field(default_factory=list)  # other copies of the same model (one row)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Spec:
    """What to serve: the parsed reference (or a catalog source line) and the pull options.

    ``name`` is what the source calls the model (repo id, package, absolute folder...);
    ``origin`` the catalog's source line when the catalog named it (pins, parts, module...).
    """

    kind: str
    name: str
    ref: str
    revision: str | None = None
    entry: ModelEntry | None = None
    origin: CatalogSource | None = None
    names_entry: bool = False  # the reference names the catalog entry itself: try all its sources
    allow: list[str] | None = None
    ignore: list[str] | None = None
    allow_pickle: bool = False
    exact_patterns: bool = False  # a present copy must have been pulled with exactly these patterns
    quant: str | None = None
    seeds: dict[str, str] | None = None  # sha256 -> a file already here with those bytes (another source's copy)


@dataclass
class StoredModel:
    """A model that takes space in the store (what ``prune`` may remove, least recently used first)."""

    name: str
    bytes: int
    last_used: float
    remove: Callable[[bool], list[dict[str, Any]]]  # remove(dry_run) -> what was removed


@runtime_checkable
class Source(Protocol):
    """One place models come from. Register an instance with ``register_source``.

    Records are the store's JSON metadata (:mod:`._records`); a source writes one for each model it
    serves, after the files are verified, and is handed it back by ``kind``.
    """

    kind: str
    supports_revision: bool  # may a reference pin a revision (``@rev``) for this source?
    # May a server take this source's references from a request (a shared name such as a Hub id)?
    # False where resolving one would open a path, an installed package or another tool's store the
    # operator did not list (local folders, file:, pypi:, remote:, ollama: ...): only --models serves those.
    nameable_in_requests: bool

    def parse(self, ref: str) -> Spec | None:
        """The spec for a reference this source claims (its scheme or shape), else None."""

    def from_catalog(self, entry: ModelEntry, origin: CatalogSource, spec: Spec) -> Spec:
        """The spec for one catalog source line of ``entry`` (``spec`` carries the user's options)."""

    def key(self, spec: Spec) -> str:
        """The store's record key of ``spec``."""

    def present(self, spec: Spec) -> LocalModel | None:
        """The model when it is on disk and counts as present, else None; no network.
        Raises IntegrityError for a corrupt copy."""

    def fetch(self, spec: Spec, *, force: bool, install: bool, progress: bool, offline: bool) -> LocalModel:
        """Make the model present (download, install...) and return it."""

    def missing_hint(self, spec: Spec) -> str | None:
        """What to run when ``spec`` is not present (None: the store's ``localmodels pull`` hint)."""

    def not_present(self, spec: Spec) -> NotInStoreError:
        """The error ``resolve`` raises when ``spec`` is not present."""

    def check(self, record: Record, *, deep: bool = True) -> CheckResult:
        """Each recorded file against what it must be (offline)."""

    def repair(self, record: Record, problems: Sequence[FileProblem]) -> None:
        """Fix what ``check`` found (fetch again, re-record...); raises when it cannot."""

    def remove(self, spec: Spec, *, dry_run: bool) -> list[dict[str, Any]]:
        """Delete the model's files the store owns and its record; returns what was removed."""

    def forget(self, key: str, name: str, *, dry_run: bool) -> list[dict[str, Any]]:
        """Drop only the record ``key``."""

    def adopt(self, spec: Spec) -> str | None:
        """Record an unverified copy found on disk (so ``verify`` can check it); its key, or None."""

    def describe(self, model: LocalModel) -> dict[str, Any]:
        """What ``info`` shows about a present model."""

    def unrecorded(self, listed: Sequence[ModelStatus]) -> list[ModelStatus]:
        """Models on disk that have no record and are not ``listed`` yet (for ``list``)."""

    def usage(self) -> dict[str, Any]:
        """This source's part of ``disk_usage``: ``stored_bytes`` and any fields of its own."""

    def prune_orphans(self, dry_run: bool) -> list[dict[str, Any]]:
        """Remove leftovers no model uses (partial downloads, unused blobs); returns them."""

    def stored(self, records: Sequence[Record]) -> list[StoredModel]:
        """Models of this source that take space in the store, for an LRU ``prune``."""

    def in_place(self, record: Record) -> bool:
        """Is the model used where it lies (costing the store nothing)?"""
