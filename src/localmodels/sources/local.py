"""A local folder used in place: list its model files and hash them (nothing is copied);
:class:`LocalFolderSource` serves it to the store."""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import config
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
    """The folder as an absolute path; a clear error when it is missing, not a folder, or a folder
    that is never a model (``/``, the home folder, one holding the store)."""
    p = Path(path).expanduser()
    try:
        if not p.exists():
            raise ModelNotFoundError(f"no such folder: {p}", ref=ref,
                                     hint="check the path (a local model is a folder)")
        if not p.is_dir():
            raise UsageError(f"not a folder: {p}", hint="a local model is a folder holding the model files")
        real = p.resolve(strict=True)
    except (OSError, RuntimeError) as e:  # a link loop (ELOOP), no permission
        raise UsageError(f"cannot use {p} as a model folder: {getattr(e, 'strerror', None) or e}",
                         hint="point at a real folder that holds the model files") from None
    refuse_special(real)
    return real


# ---- walking a folder: regular files only, each real folder once, within the sanity limits --------
_MODEL_NAMES = {"config.json", "meta.json", "gliner_config.json", "config.cfg", "modules.json"}
_MODEL_SUFFIXES = (".safetensors", ".onnx", ".gguf", ".ggml", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".keras",
                   ".msgpack", ".tflite", ".ot", ".npz", ".pkl", ".model", ".mlmodel", ".pb", ".llamafile")


def is_model_file(rel: str) -> bool:
    """A file that makes a folder a model: weights or a model config (not notes, not code)."""
    name = rel.rsplit("/", 1)[-1].lower()
    return name in _MODEL_NAMES or name.endswith(_MODEL_SUFFIXES)


def refuse_special(folder: Path) -> None:
    """``/``, the home folder, and any folder holding the store are never model folders."""
    why = None
    if folder == Path(folder.anchor):
        why = "it is the root of the filesystem"
    elif folder == Path(os.path.realpath(Path.home())):
        why = "it is your home folder"
    else:
        for what, place in (("LOCALMODELS_HOME", config.home()), ("the Hugging Face cache", config.hub_cache())):
            real = Path(os.path.realpath(place))
            if real == folder or real.is_relative_to(folder):
                why = f"it holds the localmodels store ({what}: {real})"
                break
    if why:
        raise UsageError(f"refusing {folder} as a model folder: {why}",
                         hint="point at the folder that holds the model files (config.json, *.onnx, *.gguf...)")


def _too_big(folder: Path, what: str, limit: int, var: str) -> UsageError:
    return UsageError(f"{folder} holds more than {limit} {what}: too much for a model folder "
                      f"(the sanity limit {var})",
                      hint=f"point at the folder that holds the model files, or raise {var}")


def walk_files(folder: Path, *, skip_python: bool = False) -> list[tuple[str, os.stat_result]]:
    """(relative path, stat) of each regular file under ``folder``, sorted; links are followed but
    each real folder is walked once (loops and ``a -> .`` links add nothing), FIFOs, devices,
    sockets and broken or looping links are left out. UsageError past the file-count or size limit
    (settings ``LOCALMODELS_FOLDER_MAX_FILES`` / ``_BYTES``), found while walking, before any hashing."""
    s = config.settings()
    out: list[tuple[str, os.stat_result]] = []
    total = 0
    top = os.stat(folder)
    seen = {(top.st_dev, top.st_ino)}
    queue: deque[tuple[str, str]] = deque([(str(folder), "")])
    while queue:
        path, rel = queue.popleft()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: (e.is_symlink(), e.name))  # real folders before links
        except OSError:
            continue
        for e in entries:
            try:
                st = os.stat(e.path)  # follows links: what the file really is
            except OSError:  # a broken link, a loop (ELOOP), no permission
                continue
            if stat.S_ISDIR(st.st_mode):
                ident = (st.st_dev, st.st_ino)
                if e.name in _SKIP_DIRS or e.name.endswith(".dist-info") or ident in seen:
                    continue
                seen.add(ident)
                queue.append((e.path, f"{rel}{e.name}/"))
            elif stat.S_ISREG(st.st_mode):
                name = e.name
                if name in _SKIP_NAMES or name.endswith(_SKIP_SUFFIXES) or name.startswith(".~"):
                    continue
                if skip_python and name.endswith(".py"):
                    continue
                out.append((rel + name, st))
                total += st.st_size
                if len(out) > s.folder_max_files:
                    raise _too_big(folder, "files", s.folder_max_files, "LOCALMODELS_FOLDER_MAX_FILES")
                if total > s.folder_max_bytes:
                    raise _too_big(folder, "bytes", s.folder_max_bytes, "LOCALMODELS_FOLDER_MAX_BYTES")
    return sorted(out, key=lambda x: x[0])


def list_files(folder: Path, *, skip_python: bool = False) -> list[str]:
    """Relative paths of the model files under ``folder`` (sorted, '/'-separated; see :func:`walk_files`)."""
    return [rel for rel, _st in walk_files(folder, skip_python=skip_python)]


def scan(folder: Path, paths: Iterable[str] | None = None, *,
         previous: Mapping[str, Mapping] | None = None, skip_python: bool = False) -> list[ScannedFile]:
    """Size and sha256 of each regular file; a digest in ``previous`` is reused when size and mtime match."""
    previous = previous or {}
    out: list[ScannedFile] = []
    if paths is None:
        listed = walk_files(folder, skip_python=skip_python)
    else:  # named files: only regular ones are read (a FIFO or a device would block or never end)
        listed = []
        for rel in paths:
            st = (folder / rel).stat()
            if stat.S_ISREG(st.st_mode):
                listed.append((rel, st))
    for rel, st in listed:
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
        return rec.local_key(os.path.realpath(spec.name))

    def present(self, spec: Spec) -> LocalModel:
        path = check_folder(spec.name, ref=spec.ref)
        key = rec.local_key(path)
        old = rec.load(key)
        previous = old.files_by_path() if old and old.path == str(path) else None
        listed = list_files(path)  # within the limits, before any hashing
        if not any(is_model_file(rel) for rel in listed):
            raise ModelNotFoundError(f"the folder {path} holds no model file"
                                     + ("" if listed else " (it holds no files at all)"), ref=spec.ref,
                                     hint="point at the folder that holds the model files "
                                     "(config.json, *.safetensors, *.onnx, *.gguf...)")
        files = [f.as_dict() for f in scan(path, listed, previous=previous)]
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
