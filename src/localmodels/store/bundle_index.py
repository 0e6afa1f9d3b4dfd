"""The bundle's format: its digest index ``localmodels-bundle.json`` and the safe reading of a tar.

A bundle is a plain tar (``.tar``, or ``.tar.gz`` / ``.tgz``) holding::

    hub/...                    each file of each model, a regular file at its place in a Hugging
                               Face cache snapshot (see BundleModel.member)
    stores/...                 the same for a model of another tool's store (``source``: ollama,
                               lmstudio, file...): our copy's layout (:mod:`..sources.found_copy`)
    localmodels-bundle.json    the digests: repo id, commit, and every file's path, size, sha256
                               and HF cache blob name (version 2 when a model names its ``source``)

:func:`read_index` checks every entry's name and type (no absolute names, no ``..``, no links, no
devices; tarfile's ``data`` filter on top) and matches the entries to the index.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from ..errors import IntegrityError, UnsafeFileError, UsageError
from ..sources._hflayout import HEX40 as _HEX40
from ..sources._hflayout import HEX64 as _HEX64
from ..sources._hflayout import valid_repo_id, valid_revision
from ..sources.hfcache import RepoFolder, repo_folder_name
from .lock_format import LockedFile

BUNDLE_MANIFEST = "localmodels-bundle.json"
BUNDLE_FORMAT = "localmodels-bundle"
BUNDLE_VERSION = 2  # 2: a model may name its source (a model of another tool's store)
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class BundleFile(LockedFile):
    blob: str  # the name of the file's blob in the HF cache: its sha256 (LFS) or git blob sha1

    @field_validator("blob")
    @classmethod
    def _blob(cls, v: str) -> str:
        if not (_HEX40.match(v) or _HEX64.match(v)):
            raise ValueError(f"bad blob name {v!r}")
        return v


class BundleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    ref: str
    repo_id: str
    revision: str | None = None
    commit: str
    files: list[BundleFile]
    source: str | None = None  # None: a Hub model; else the kind of the source that records it (ollama...)
    details: dict[str, Any] | None = None  # what ``info`` shows of it (Ollama's template, params, system...)
    _folder: Path | None = PrivateAttr(default=None)  # export: where the files are read from

    @field_validator("details")
    @classmethod
    def _details(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None and len(json.dumps(v)) > 1 << 20:
            raise ValueError("details larger than 1 MiB")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str | None) -> str | None:
        if v is not None and not _KIND.match(v):
            raise ValueError(f"bad source kind {v!r}")
        return v

    @field_validator("repo_id")
    @classmethod
    def _repo(cls, v: str) -> str:
        if not valid_repo_id(v):
            raise ValueError(f"bad repo id {v!r}")
        return v

    @field_validator("commit")
    @classmethod
    def _commit(cls, v: str) -> str:
        if not _HEX40.match(v):
            raise ValueError(f"not a commit sha: {v!r}")
        return v

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str | None) -> str | None:
        if v is not None and not valid_revision(v):
            raise ValueError(f"bad revision {v!r}")
        return v

    @property
    def label(self) -> str:
        """How an import names it: ``org/name@commit``, or the other store's ref (``ollama:NAME``)."""
        return f"{self.repo_id}@{self.commit}" if self.source is None else self.ref

    @property
    def repo_folder(self) -> str:
        return repo_folder_name(self.repo_id)

    def member(self, f: LockedFile) -> str:
        """The file's name in the tar: its place in a cache-shaped folder ``hub/``."""
        top = Path("hub" if self.source is None else "stores")
        return (RepoFolder(self.repo_id, top).snapshot(self.commit) / f.path).as_posix()


class BundleIndex(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = BUNDLE_FORMAT
    version: int = Field(default=BUNDLE_VERSION, ge=1, le=BUNDLE_VERSION)
    models: list[BundleModel]
    lock: str | None = None  # the project's lock file, when exported with --lock

    @field_validator("format")
    @classmethod
    def _format(cls, v: str) -> str:
        if v != BUNDLE_FORMAT:
            raise ValueError(f"not a localmodels bundle (format {v!r})")
        return v


def _check_member(m: tarfile.TarInfo) -> None:
    name = m.name
    why = None
    if not name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        why = "an absolute path"
    elif "\\" in name or "\x00" in name:
        why = "a backslash or NUL in the name"
    elif any(part in ("..",) for part in PurePosixPath(name).parts) or ".." in name.split("/"):
        why = "a path that climbs out ('..')"
    elif m.issym() or m.islnk():
        why = f"a {'symbolic' if m.issym() else 'hard'} link (to {m.linkname!r})"
    elif m.ischr() or m.isblk() or m.isfifo() or m.isdev():
        why = "a device or FIFO"
    elif not (m.isfile() or m.isdir()):
        why = "not a regular file"
    if why:
        raise UnsafeFileError(f"refusing the bundle: entry {name!r} is {why}",
                              hint="this archive was not written by `localmodels export`, or was tampered with")


def read_index(tar: tarfile.TarFile) -> tuple[BundleIndex, dict[str, tarfile.TarInfo]]:
    """Check every member's name and type, read the digest index, match members to it."""
    members = tar.getmembers()
    by_name: dict[str, tarfile.TarInfo] = {}
    for m in members:
        _check_member(m)
        try:
            tarfile.data_filter(m, "/nonexistent-dest")
        except tarfile.FilterError as e:
            raise UnsafeFileError(f"refusing the bundle: entry {m.name!r}: {e}",
                                  hint="this archive was not written by `localmodels export`") from None
        norm = str(PurePosixPath(m.name))
        if m.isfile():
            if norm in by_name:
                raise UnsafeFileError(f"refusing the bundle: entry {norm!r} appears twice")
            by_name[norm] = m
    by_name.pop("SHA256SUMS", None)  # for `sha256sum -c` after `tar xf`; import checks the index's digests
    meta = by_name.pop(BUNDLE_MANIFEST, None)
    if meta is None:
        raise UsageError(f"not a localmodels bundle: no {BUNDLE_MANIFEST}", hint="create one with: localmodels export")
    if meta.size > 64 << 20:
        raise UnsafeFileError(f"{BUNDLE_MANIFEST} is implausibly large ({meta.size} bytes)")
    fh = tar.extractfile(meta)
    assert fh is not None
    try:
        index = BundleIndex.model_validate(json.loads(fh.read().decode("utf-8")))
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UsageError(f"bad {BUNDLE_MANIFEST}: {where}: {err['msg'].removeprefix('Value error, ')}",
                         hint="the bundle is damaged or tampered with; export it again") from None
    except ValueError as e:
        raise UsageError(f"bad {BUNDLE_MANIFEST}: {str(e).splitlines()[0]}",
                         hint="the bundle is damaged; export it again") from None
    except RecursionError:
        raise UsageError(f"bad {BUNDLE_MANIFEST}: nested too deeply to be a bundle index",
                         hint="this archive was not written by `localmodels export`, or was tampered with") from None
    expected: dict[str, tuple[BundleModel, BundleFile]] = {}
    for model in index.models:
        for f in model.files:
            name = model.member(f)
            if name in expected:
                raise UnsafeFileError(f"refusing the bundle: {name!r} is listed twice")
            expected[name] = (model, f)
    extra = sorted(set(by_name) - set(expected))
    if extra:
        raise UnsafeFileError(f"refusing the bundle: entry {extra[0]!r} is not in {BUNDLE_MANIFEST}",
                              hint="the bundle was tampered with; export it again")
    missing = sorted(set(expected) - set(by_name))
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise IntegrityError(f"the bundle lacks {missing[0]!r}{more}", path=missing[0],
                             hint="the bundle is incomplete; export it again")
    for name, (model, f) in expected.items():
        if by_name[name].size != f.size:
            raise IntegrityError(f"{model.repo_id}: {f.path} has size {by_name[name].size} in the bundle, "
                                 f"its index says {f.size}", path=f.path, hint="the bundle is damaged; export it again")
    return index, by_name
