"""Our metadata record per model: a small JSON file under ``LOCALMODELS_HOME/records/``.

    records/   one JSON metadata record per model (written atomically)
    locks/     one file lock per model, taken by pull / remove / repair
    models/    files we had to build ourselves (e.g. a GGUF assembled from PyPI chunk packages)

A source writes the record of each model it serves; the store reads them back (``list``,
``verify``, ``prune``) and hands each to its source by kind.

A record is written last, after every file is in place and verified, so a killed pull leaves
no record, and a model without a valid record does not count as present.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

from .. import config
from ._files import is_safe_relpath, write_atomic
from .hfcache import valid_repo_id, valid_revision

RECORD_VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
log = logging.getLogger("localmodels.store")
_REPORTED: set[Path] = set()


def records_dir() -> Path:
    return config.home() / "records"


def locks_dir() -> Path:
    return config.home() / "locks"


def models_dir() -> Path:
    return config.home() / "models"


def safe_name(text: str, *, limit: int = 80) -> str:
    """A file-name-safe rendering of ``text`` (not unique on its own: pair it with a hash)."""
    return _UNSAFE.sub("-", text).strip("-.")[:limit] or "x"

# last_used is rewritten at most this often (resolve stays cheap).
TOUCH_INTERVAL_S = 60.0


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_iso(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return 0.0


@dataclass
class Record:
    key: str
    ref: str  # what the user asked for (the last time)
    name: str  # canonical name: catalog id, repo id, package or folder
    source: str  # the source kind ("hub", "pypi", "local", ...)
    path: str  # the model folder
    files: list[dict[str, Any]] = field(default_factory=list)  # path, size, sha256, mtime_ns
    served_by: str = ""  # "hub:org/name", "pypi:package", "local:/path"
    repo_id: str | None = None
    revision: str | None = None
    commit: str | None = None
    package: str | None = None
    version: str | None = None
    entry_id: str | None = None
    allow_patterns: list[str] | None = None
    license: str | None = None
    size: int = 0
    pulled_at: str = ""
    last_used: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    version_of_record: int = RECORD_VERSION

    @property
    def file_path(self) -> Path:
        return records_dir() / f"{self.key}.json"

    def files_by_path(self) -> dict[str, dict[str, Any]]:
        return {f["path"]: f for f in self.files}

    def save(self) -> None:
        self.size = sum(int(f.get("size", 0)) for f in self.files)
        write_atomic(self.file_path, json.dumps(asdict(self), indent=1, sort_keys=True).encode())
        _unsaved.pop(self.file_path, None)

    def try_save(self) -> None:
        """:meth:`save`, unless recording is off or the store is read-only: then the record is kept in
        this process's memory (a record only saves re-hashing: resolving works without)."""
        if recording_on():
            try:
                self.save()
                return
            except OSError:
                pass
        self.size = sum(int(f.get("size", 0)) for f in self.files)
        _unsaved[self.file_path] = copy.deepcopy(self)

    def touch(self) -> None:
        """Update ``last_used`` (rewrites the record at most once a minute; a record kept only in memory
        is written as soon as recording allows)."""
        if time.time() - parse_iso(self.last_used) < TOUCH_INTERVAL_S and not (
                recording_on() and self.file_path in _unsaved):
            return
        self.last_used = now_iso()
        self.try_save()

    def missing_or_changed(self) -> list[str]:
        """Recorded files that are gone or whose size changed (a cheap stat, no hashing)."""
        base = Path(self.path)
        bad = []
        for f in self.files:
            try:
                if (base / f["path"]).stat().st_size != f["size"]:
                    bad.append(f["path"])
            except OSError:
                bad.append(f["path"])
        return bad


class FileShape(BaseModel):
    """What a record says about one file (validated when the record is read back)."""

    model_config = ConfigDict(extra="allow")
    path: StrictStr
    size: StrictInt = Field(ge=0)
    sha256: StrictStr | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    mtime_ns: StrictInt | None = None

    @field_validator("path")
    @classmethod
    def _inside(cls, v: str) -> str:
        if not is_safe_relpath(v):
            raise ValueError("not a relative path inside the model folder")
        return v


class RecordShape(BaseModel):
    """The shape a record file must have (like the catalog, checked with pydantic; unknown keys ignored)."""

    model_config = ConfigDict(extra="ignore")
    key: StrictStr = Field(pattern=r"^[A-Za-z0-9._-]+$")
    ref: StrictStr
    name: StrictStr
    source: StrictStr = Field(min_length=1)
    path: StrictStr = Field(min_length=1)
    files: list[FileShape] = Field(default_factory=list)
    served_by: StrictStr = ""
    repo_id: StrictStr | None = None
    revision: StrictStr | None = None
    commit: StrictStr | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")
    package: StrictStr | None = None
    version: StrictStr | None = None
    entry_id: StrictStr | None = None
    allow_patterns: list[StrictStr] | None = None
    license: StrictStr | None = None
    size: StrictInt = Field(default=0, ge=0)
    pulled_at: StrictStr = ""
    last_used: StrictStr = ""
    extra: dict[str, Any] = Field(default_factory=dict)
    version_of_record: StrictInt = RECORD_VERSION

    @field_validator("repo_id")
    @classmethod
    def _repo(cls, v: str | None) -> str | None:
        if v is not None and not valid_repo_id(v):
            raise ValueError("not a Hub repo id (org/name)")
        return v

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str | None) -> str | None:
        if v is not None and not valid_revision(v):
            raise ValueError("not a branch, tag or commit")
        return v


def load(key: str) -> Record | None:
    return load_file(records_dir() / f"{key}.json")


def load_file(path: Path) -> Record | None:
    """The record in ``path`` (or the one this process kept in memory, unrecorded); None when there is
    none, or when it is damaged (reported once, by name: a damaged record counts as absent, and the
    next pull of its model writes a good one over it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        kept = _unsaved.get(path)
        return copy.deepcopy(kept) if kept is not None else None
    try:
        shape = RecordShape.model_validate_json(text)
        if shape.key != path.stem:
            raise ValueError(f"its key {shape.key!r} is not its file name")
    except ValueError as e:  # pydantic's ValidationError is a ValueError
        _report_damaged(path, e)
        return None
    data = shape.model_dump()
    data["files"] = [f.model_dump(exclude_none=False) for f in shape.files]
    return Record(**data)


def _report_damaged(path: Path, err: ValueError) -> None:
    if path in _REPORTED:
        return
    _REPORTED.add(path)
    if isinstance(err, ValidationError) and err.errors():
        first = err.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "the record"
        reason = f"{where}: {first.get('msg', 'invalid')}"
    else:
        reason = str(err).splitlines()[0] if str(err) else "invalid"
    log.warning("ignoring the damaged record %s (%s); pulling the model again replaces it", path.name, reason)


def all_records() -> list[Record]:
    d = records_dir()
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.json")):
        r = load_file(p)
        if r is not None:
            out.append(r)
    return out


def delete(key: str) -> bool:
    _unsaved.pop(records_dir() / f"{key}.json", None)
    try:
        os.unlink(records_dir() / f"{key}.json")
        return True
    except FileNotFoundError:
        return False


# ---- recording on or off ------------------------------------------------------------------------
# A server resolves without writing to the store (issue 20): while recording is off, ``try_save``
# (what resolving calls) keeps records in this process's memory, where ``load`` finds them, so nothing
# is hashed twice; ``save`` (a pull, a repair) always writes.
_RECORDING: ContextVar[bool | None] = ContextVar("localmodels_recording", default=None)
_recording_default = True
_unsaved: dict[Path, Record] = {}


def recording_on() -> bool:
    on = _RECORDING.get()
    return _recording_default if on is None else on


@contextmanager
def recording(on: bool) -> Iterator[None]:
    """Recording on or off in this context (a thread started inside does not inherit it)."""
    token = _RECORDING.set(on)
    try:
        yield
    finally:
        _RECORDING.reset(token)


def set_recording_default(on: bool) -> bool:
    """Recording on or off for every thread of this process without a :func:`recording` context (a
    server turns it off while it serves); returns the previous default."""
    global _recording_default
    previous, _recording_default = _recording_default, on
    return previous


# ---- keys -------------------------------------------------------------------------------------

def hub_key(repo_id: str, revision: str | None) -> str:
    org, _, name = repo_id.partition("/")
    return f"hub--{safe_name(org)}--{safe_name(name)}--{safe_name(revision or 'main')}"


def hub_lock_key(repo_id: str) -> str:
    org, _, name = repo_id.partition("/")
    return f"hub--{safe_name(org)}--{safe_name(name)}"


def pypi_key(package: str) -> str:
    return f"pypi--{safe_name(package.lower())}"


def local_key(folder: str | Path) -> str:
    p = str(folder)
    return f"local--{safe_name(Path(p).name, limit=40)}-{hashlib.sha1(p.encode()).hexdigest()[:12]}"


def lock(key: str, timeout: float = -1):
    """A cross-process lock for one model (``filelock``)."""
    from filelock import FileLock

    d = locks_dir()
    d.mkdir(parents=True, exist_ok=True)
    return FileLock(str(d / f"{key}.lock"), timeout=timeout)
