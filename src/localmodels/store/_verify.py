"""``verify``: each recorded model checked by its own source (and, with ``repair``, fixed by it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, NotInStoreError
from ..sources import _files
from ..sources import _records as rec
from ..sources.base import FileProblem
from ..sources.registry import source_for
from . import permissions
from ._resolve import parse_spec, resolve, specs_of


@dataclass
class ModelCheck:
    """The result of verifying one model."""

    name: str
    key: str
    source: str
    path: str
    files: int
    problems: list[FileProblem] = field(default_factory=list)
    repaired: bool = False
    world_writable: list[str] = field(default_factory=list)  # anyone here could swap these (a warning)
    modes_fixed: bool = False  # set by whoever gave those paths the store's modes (``verify --repair``)

    @property
    def ok(self) -> bool:
        return not self.problems or self.repaired

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "problems": [p.to_dict() for p in self.problems], "ok": self.ok}


def resolve_for_verify(ref: str) -> str:
    """The record key of a model, without re-recording it (verify must see what changed)."""
    specs = specs_of(parse_spec(ref))
    for s in specs:
        key = source_for(s).key(s)
        if rec.load(key) is not None:
            return key
    try:
        return resolve(ref).key
    except IntegrityError:
        pass
    for s in specs:  # on disk but corrupt: record it as it is, then check it
        key = source_for(s).adopt(s)
        if key is not None:
            return key
    raise NotInStoreError(ref)


def _targets(ref: str | None) -> list[rec.Record]:
    if ref is None:
        return rec.all_records()
    r = rec.load(resolve_for_verify(ref))
    return [r] if r else []


def verify(ref: str | None = None, *, repair: bool = False) -> list[ModelCheck]:
    """Hash every file of one model (or of every recorded model) and compare with the expected digests.

    Each source holds its files to what it guarantees: Hub files to the cache's own digests (LFS
    sha256 / git blob sha1) and the sha256 recorded at pull, PyPI files to the record and the
    catalog's pins, local folders to the record. With ``repair`` the source fixes what it can
    (broken Hub files fetched again, a GGUF assembled again, a changed local folder re-recorded).
    Files and folders of the model that anyone may write are listed in ``world_writable`` (a
    warning, not a failure; :func:`.permissions.fix` gives them the store's modes).
    """
    out = []
    for r in _targets(ref):
        src = source_for(r)
        result = src.check(r)
        check = ModelCheck(name=r.name, key=r.key, source=r.source, path=r.path, files=len(r.files),
                           problems=result.problems)
        if check.problems and repair:
            src.repair(r, check.problems)
            again = rec.load(r.key)
            after = src.check(again).problems if again else check.problems
            check.repaired = not after
            if after:
                check.problems = after
        elif not check.problems and r.extra.get("unverified"):
            r.extra.pop("unverified", None)
            r.files = [{**f, "sha256": f.get("sha256") or result.digests.get(f["path"])
                        or _files.sha256_file(Path(r.path) / f["path"])} for f in r.files]
            r.save()
        check.world_writable = [str(p) for p in permissions.world_writable([r.path])]  # after any repair
        out.append(check)
    return out
