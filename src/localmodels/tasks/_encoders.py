"""Shared plumbing for the encoder tasks: resolve a model reference and pick its runtime."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..errors import UsageError

if TYPE_CHECKING:
    from ..store import LocalModel


# Resolving a reference reads the catalog, records and package metadata (about 1 ms): a server or a
# loop calling a task per text would pay it every time. A resolution is reused for a few seconds,
# while its folder still exists, so that a pull or an rm in another process is seen soon after.
RESOLVE_TTL_S = 5.0
_resolved: dict[tuple[str, ...], tuple[float, "LocalModel"]] = {}


def resolve_model(model: "str | LocalModel") -> "LocalModel":
    """A :class:`LocalModel` for a reference (through the store), or the model itself."""
    if not isinstance(model, str):
        return model
    now = time.monotonic()
    key = (model, *(os.environ.get(v, "") for v in ("LOCALMODELS_HOME", "HF_HOME", "HF_HUB_CACHE")))
    hit = _resolved.get(key)
    if hit is not None and now - hit[0] < RESOLVE_TTL_S and Path(hit[1].path).is_dir():
        return hit[1]
    from ..store import resolve

    found = resolve(model)
    if len(_resolved) > 256:
        _resolved.clear()
    _resolved[key] = (now, found)
    return found


def runtime_of(model: "LocalModel") -> str:
    """``entry.runtime`` for catalog models, else guessed from the files (onnx by default)."""
    if model.entry is not None and model.entry.runtime not in ("none", "tokenizers"):
        return model.entry.runtime
    if getattr(model, "source", None) == "remote" or str(model.ref).startswith("remote:"):
        return "remote"
    folder = Path(model.path)
    if list(folder.glob("*.gguf")):
        return "llama"
    if (folder / "config.cfg").is_file() and (folder / "meta.json").is_file():
        return "spacy"
    return "onnx"


def require_onnx(model: "LocalModel", task: str) -> None:
    rt = runtime_of(model)
    if rt != "onnx":
        raise UsageError(
            f"{task} needs an encoder model (ONNX runtime); {model.name!r} runs on {rt}",
            hint="pick an encoder, e.g. --model minilm",
        )


def as_list(texts: "str | Sequence[str]", what: str = "texts") -> tuple[list[str], bool]:
    """(list of texts, whether a single string was given); rejects non-strings clearly."""
    if isinstance(texts, str):
        return [texts], True
    if isinstance(texts, (bytes, bytearray)):
        raise UsageError(f"{what} must be str, not bytes", hint="decode the bytes as UTF-8 first")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise UsageError(f"{what}[{i}] is {type(t).__name__}, not str")
    return out, False
