"""Loose model files: ``file:PATH``, a bare path to a ``.gguf``, and the folders ``localmodels scan``
remembers (``LOCALMODELS_HOME/scan.json``, plus ``LOCALMODELS_SCAN_DIRS``).

The files are the user's: used where they lie, hashed once (then known by size + mtime + inode),
never deleted; a file that changed is re-recorded by ``verify --repair``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import config
from ..errors import UsageError
from ._files import write_atomic
from .base import Spec
from .discovery import (
    MODEL_SUFFIXES,
    Discovery,
    Found,
    FoundSource,
    file_of,
    format_of,
    gguf_strings,
    walk_files,
)


def scan_file() -> Path:
    return config.home() / "scan.json"


def remembered_dirs() -> list[Path]:
    try:
        data = json.loads(scan_file().read_text(encoding="utf-8"))
        return [Path(p) for p in data.get("dirs", []) if isinstance(p, str)]
    except (OSError, ValueError, AttributeError):
        return []


def scan_dirs() -> list[Path]:
    """Every folder of loose files: remembered by ``scan``, then ``LOCALMODELS_SCAN_DIRS``."""
    named = config.settings().scan_dirs
    extra = [Path(p).expanduser() for p in (named or "").split(os.pathsep) if p.strip()]
    out: list[Path] = []
    for p in [*remembered_dirs(), *extra]:
        if p not in out:
            out.append(p)
    return out


def remember(dirs: list[Path], *, forget: bool = False) -> list[Path]:
    """Add (or with ``forget`` drop) folders in the remembered list; returns the new list."""
    current = remembered_dirs()
    for d in dirs:
        d = Path(os.path.abspath(d.expanduser()))
        if forget:
            current = [p for p in current if p != d]
        elif d not in current:
            if not d.is_dir():
                raise UsageError(f"not a folder: {d}", hint="name folders that hold model files")
            current.append(d)
    write_atomic(scan_file(), json.dumps({"dirs": [str(p) for p in current]}, indent=1).encode())
    return current


class LooseFileSource(FoundSource):
    kind = "file"
    owner = "you"

    def name_of(self, ref: str) -> str | None:
        if ref.startswith("file:"):
            raw = ref[5:]
        elif ref.lower().endswith(".gguf") and (":" not in ref or os.path.isabs(ref)):
            raw = ref
        else:
            return None
        if not raw.strip():
            raise UsageError(f"invalid reference {ref!r}: no path after 'file:'", hint="e.g. file:./model.gguf")
        return os.path.abspath(os.path.expanduser(raw.strip()))

    def find(self, spec: Spec) -> Found | None:
        path = Path(spec.name)
        if path.is_dir():
            raise UsageError(f"{spec.ref} is a folder", hint=f"use the folder itself as the model: {path}")
        if not path.name.lower().endswith(MODEL_SUFFIXES):
            raise UsageError(f"{spec.ref} is not a model file", hint="a file: reference names a .gguf, .onnx or "
                             ".safetensors file")
        return self.found(path) if path.is_file() else None

    def found(self, path: Path) -> Found | None:
        f = file_of(path)
        if f is None:
            return None
        found = Found(store=self.kind, ref=f"file:{path}", name=str(path), files=[f], format=format_of(path.name),
                      modified=f.st.st_mtime)
        if found.format == "gguf":
            found.license = gguf_strings(f).get("general.license")
        return found

    def missing_hint(self, spec: Spec) -> str | None:
        return "check the path (a file:PATH reference names one model file)"

    def not_present(self, spec: Spec):  # type: ignore[no-untyped-def]
        from ..errors import ModelNotFoundError

        return ModelNotFoundError(f"model file not found: {spec.name}", ref=spec.ref, hint=self.missing_hint(spec))

    def remove_hint(self, spec: Spec) -> str:
        return f"the file is yours: delete {spec.name} yourself if you no longer want it"

    def discover(self) -> Discovery:
        out = Discovery()
        for folder in scan_dirs():
            if not folder.is_dir():
                out.notes.append(f"file: skipped {folder}: not a folder (localmodels scan --forget {folder})")
                continue
            for path in walk_files(folder, MODEL_SUFFIXES, depth=6):
                found = self.found(path)
                if found is not None:
                    out.found.append(found)
        return out
