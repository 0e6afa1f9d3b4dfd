"""Derived models: ``derived:NAME`` names a model this machine made from others (a static twin
distilled from a sentence transformer, a few-shot classifier head) and keeps under
``LOCALMODELS_HOME/derived/models/NAME``.

Such a folder is served like a local folder (hashed, recorded with ``source: local``), so
``verify``, ``lock`` and ``export`` treat it like any folder; its ``derived.json`` says what it was
made from (the parent's reference and sha256 digest, the recipe) and is copied into the record's
metadata under ``derived``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import config
from ..errors import InvalidReferenceError, NotInStoreError
from . import _records as rec
from ._serve import SourceBase
from .base import FileProblem, LocalModel, Spec
from .local import LocalFolderSource
from .verify import CheckResult

PREFIX = "derived:"
MANIFEST = "derived.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def derived_models_dir() -> Path:
    return config.home() / "derived" / "models"


def derived_folder(name: str) -> Path:
    """The folder of the derived model ``name`` (not created)."""
    if not _NAME.match(name) or ".." in name:
        raise InvalidReferenceError(f"{PREFIX}{name}", "a derived model's name is letters, digits, '.', '_', '-'")
    return derived_models_dir() / name


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class DerivedSource(SourceBase):
    """``derived:NAME``: a model made here (``localmodels distill``, ``train-classifier``)."""

    kind = "derived"

    def __init__(self) -> None:
        self._local = LocalFolderSource()

    def parse(self, ref: str) -> Spec | None:
        if not isinstance(ref, str) or not ref.startswith(PREFIX):
            return None
        name = ref[len(PREFIX):]
        derived_folder(name)  # validates the name
        return Spec(self.kind, name, ref)

    def key(self, spec: Spec) -> str:
        return rec.local_key(str(derived_folder(spec.name).resolve()))

    def missing_hint(self, spec: Spec) -> str | None:
        if spec.name.endswith("-static"):
            return f"make it: localmodels distill {spec.name.removesuffix('-static')} (needs the torch extra)"
        return ("make it: localmodels distill MODEL --name NAME, or localmodels train-classifier ... --name NAME; "
                "see: localmodels list")

    def present(self, spec: Spec) -> LocalModel:
        folder = derived_folder(spec.name)
        if not folder.is_dir():
            raise self.not_present(spec)
        model = self._local.present(Spec("local", str(folder.resolve()), spec.ref))
        made = read_manifest(folder)
        r = rec.load(model.key or "")
        if r is not None and made and (r.extra.get("derived") != made or r.license != made.get("license")):
            r.extra["derived"] = made
            r.license = made.get("license") or r.license
            r.try_save()
        model.license = model.license or made.get("license")
        meta = dict(model.metadata or {})
        if made:
            meta["derived"] = made
        model.metadata = meta
        return model

    def fetch(self, spec: Spec, *, force: bool = False, install: bool = False, progress: bool = False,
              offline: bool = False) -> LocalModel:
        return self.present(spec)

    def check(self, record: rec.Record, *, deep: bool = True) -> CheckResult:
        return self._local.check(record, deep=deep)

    def repair(self, record: rec.Record, problems: Sequence[FileProblem]) -> None:
        self._local.repair(record, problems)

    def remove(self, spec: Spec, *, dry_run: bool) -> list[dict[str, Any]]:
        return self.forget(self.key(spec), str(derived_folder(spec.name)), dry_run=dry_run)


def not_present(ref: str) -> NotInStoreError:
    return DerivedSource().not_present(Spec("derived", ref.removeprefix(PREFIX), ref))
