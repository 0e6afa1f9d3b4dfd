"""A local folder used in place: list its model files and hash them (nothing is copied);
:class:`LocalFolderSource` serves it to the store."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelNotFoundError, UsageError
from ..refs import parse_ref
from . import _records as rec
from ._files import git_blob_sha1, sha256_file  # noqa: F401  (shared digest helpers, re-exported)
from ._serve import SourceBase, check_record, save_if_changed, to_model
from .base import FileProblem, LocalModel, Spec
from .verify import CheckResult

# Never part of a model: VCS data, bytecode, huggingface_hub's local_dir bookkeeping, editor litter.
_SKIP_DIRS = {".git", "__pycache__", ".cache", ".ipynb_checkpoints", ".hg", ".svn"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".incomplete", ".lock")
_SKIP_NAMES = {".DS_Store", "Thumbs.db", ".gitattributes"}


@dataclass(frozen=True)
class ScannedFile:
    path: str  # relative, '/'-separated
    size: int
    sha256: str
    mtime_ns: int

    def as_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "mtime_ns": self.mtime_ns}


def check_folder(path: str | Path, *, ref: str | None = None) -> Path:
    """The folder as an absolute path; a clear error when it is missing or not a folder."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelNotFoundError(f"no such folder: {p}", ref=ref, hint="check the path (a local model is a folder)")
    if not p.is_dir():
        raise UsageError(f"not a folder: {p}", hint="a local model is a folder holding the model files")
    return p.resolve()


def list_files(folder: Path, *, skip_python: bool = False) -> list[str]:
    """Relative paths of the model files under ``folder`` (sorted, '/'-separated)."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".dist-info"))
        rel_root = Path(root).relative_to(folder)
        for name in files:
            if name in _SKIP_NAMES or name.endswith(_SKIP_SUFFIXES) or name.startswith(".~"):
                continue
            if skip_python and name.endswith(".py"):
                continue
            out.append((rel_root / name).as_posix())
    return sorted(out)


def scan(folder: Path, paths: Iterable[str] | None = None, *,
         previous: Mapping[str, Mapping] | None = None, skip_python: bool = False) -> list[ScannedFile]:
    """Size and sha256 of each file; a digest in ``previous`` is reused when size and mtime match."""
    previous = previous or {}
    out: list[ScannedFile] = []
    for rel in (list(paths) if paths is not None else list_files(folder, skip_python=skip_python)):
        st = (folder / rel).stat()
        old = previous.get(rel)
        if old and old.get("sha256") and old.get("size") == st.st_size and old.get("mtime_ns") == st.st_mtime_ns:
            digest = old["sha256"]
        else:
            digest = sha256_file(folder / rel)
        out.append(ScannedFile(rel, st.st_size, digest, st.st_mtime_ns))
    return out


def looks_like_model(folder: Path) -> bool:
    """A folder that holds model files we know how to load."""
    if (folder / "config.json").is_file() or (folder / "meta.json").is_file():
        return True
    return any(folder.glob("*.onnx")) or any(folder.glob("*.gguf")) or any(folder.glob("*.safetensors"))


# ---- the Source ---------------------------------------------------------------------------------
class LocalFolderSource(SourceBase):
    """``./dir``, ``/abs/dir``, ``~/dir``: a folder used in place, hashed once and then recognised by
    size + mtime. Removing it forgets our record; the files are the user's and are never deleted."""

    kind = "local"

    def parse(self, ref: str) -> Spec | None:
        r = parse_ref(ref)
        return Spec(self.kind, r.name, r.raw) if r.kind == self.kind else None

    def key(self, spec: Spec) -> str:
        return rec.local_key(Path(spec.name).resolve())

    def present(self, spec: Spec) -> LocalModel:
        path = check_folder(spec.name, ref=spec.ref)
        key = rec.local_key(path)
        old = rec.load(key)
        previous = old.files_by_path() if old and old.path == str(path) else None
        files = [f.as_dict() for f in scan(path, previous=previous)]
        if not files:
            raise ModelNotFoundError(f"the folder {path} holds no files", ref=spec.ref,
                                     hint="point at the folder that holds the model files "
                                     "(config.json, *.onnx, *.gguf...)")
        r = rec.Record(key=key, ref=spec.ref, name=str(path), source=self.kind, path=str(path), files=files,
                       served_by=f"local:{path}", pulled_at=(old.pulled_at if old else rec.now_iso()),
                       last_used=(old.last_used if old else ""), license=(old.license if old else None))
        save_if_changed(r, old)
        return to_model(r, spec.ref, None)

    def fetch(self, spec: Spec, *, force: bool = False, install: bool = False, progress: bool = False,
              offline: bool = False) -> LocalModel:
        if force:
            rec.delete(rec.local_key(os.path.realpath(spec.name)))
        return self.present(spec)

    def check(self, record: rec.Record, *, deep: bool = True) -> CheckResult:
        return check_record(record, deep=deep, kind="changed")

    def repair(self, record: rec.Record, problems: Sequence[FileProblem]) -> None:
        """The folder is the user's: accept it as it is now."""
        rec.delete(record.key)
        self.present(Spec(self.kind, record.path, record.path))

    def remove(self, spec: Spec, *, dry_run: bool) -> list[dict[str, Any]]:
        return self.forget(rec.local_key(spec.name), spec.name, dry_run=dry_run)

    def in_place(self, record: rec.Record) -> bool:
        return True
