"""The one place that picks a runtime for a model: :func:`runtime_for`.

    enc = runtime_for("minilm", "encoder")             # OnnxRuntime
    enc = runtime_for("remote:text-embed", "encoder")  # RemoteModel
    ner = runtime_for("spacy-en-sm", "spans")          # SpacyNER (GlinerModel, TokenClassifier)
    llm = runtime_for("gemma3-270m", "llm")            # LlamaModel (RemoteModel for remote:...)

Everything that tells runtimes apart (the ``remote:`` prefix, the catalog's ``runtime``, the files
in the folder: ``*.gguf``, spaCy's ``config.cfg`` + ``meta.json``, ``gliner_config.json``, a
``config.json`` with ``id2label``) is read here and nowhere else. A reference is resolved through
the store once and the resolution reused for a few seconds (:func:`resolve_model`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from ..config import home, hub_cache
from ..errors import UsageError
from .base import CAPABILITIES, LLM, Capability, Encoder, SpanModel

if TYPE_CHECKING:
    from ..store import LocalModel

RuntimeName = Literal["onnx", "llama", "spacy", "gliner", "token-classification", "remote"]
REMOTE_PREFIX = "remote:"

# Resolving a reference reads the catalog, records and package metadata (about 1 ms): a server or a
# loop calling a task per text would pay it every time. A resolution is reused for a few seconds,
# while its folder still exists, so that a pull or an rm in another process is seen soon after.
RESOLVE_TTL_S = 5.0
_resolved: dict[tuple[str, ...], tuple[float, LocalModel]] = {}


def resolve_model(model: str | LocalModel) -> LocalModel:
    """A :class:`LocalModel` for a reference (through the store, briefly memoized), or the model itself."""
    if not isinstance(model, str):
        return model
    if not model.strip():
        raise UsageError("model must be a non-empty string", hint="e.g. model='minilm'")
    now = time.monotonic()
    key = (model, str(home()), str(hub_cache()))
    hit = _resolved.get(key)
    if hit is not None and now - hit[0] < RESOLVE_TTL_S and Path(hit[1].path).is_dir():
        return hit[1]
    from ..store import resolve

    found = resolve(model)
    if len(_resolved) > 256:
        _resolved.clear()
    _resolved[key] = (now, found)
    return found


def is_remote(model: object) -> bool:
    """True for a ``remote:NAME`` reference."""
    return isinstance(model, str) and model.startswith(REMOTE_PREFIX)


def display_name(model: LocalModel) -> str:
    """The name a user typed when it is a catalog alias, else the model's canonical name."""
    aliases = getattr(model.entry, "aliases", None) or []
    return model.ref if model.ref in aliases else (model.name or model.ref)


def _read_config(path: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def runtime_name(model: LocalModel) -> RuntimeName:
    """Which runtime runs ``model``: the catalog's ``runtime`` where it says, else sniffed from its files."""
    entry_rt = getattr(model.entry, "runtime", None)
    if entry_rt in ("none", "tokenizers"):  # catalog entries that run nothing themselves: look at the files
        entry_rt = None
    folder = Path(model.path)
    if entry_rt == "spacy" or ((folder / "config.cfg").is_file() and (folder / "meta.json").is_file()):
        return "spacy"
    if entry_rt == "llama" or (entry_rt is None and any(folder.glob("*.gguf"))):
        return "llama"
    if (folder / "gliner_config.json").is_file():
        return "gliner"
    return "onnx"


SpanKind = Literal["spacy", "gliner", "token-classification"]


def span_kind(model: str | LocalModel) -> SpanKind:
    """Which span runtime :func:`runtime_for` picks for ``model`` (without loading it)."""
    lm = resolve_model(model)
    rt = runtime_name(lm)
    if rt in ("spacy", "gliner"):
        return rt  # type: ignore[return-value]
    config = _read_config(lm.path)
    archs = config.get("architectures") or []
    if rt == "onnx" and config.get("id2label") and (
            any(str(a).endswith("ForTokenClassification") for a in archs) or not archs):
        return "token-classification"
    raise UsageError(
        f"{display_name(lm)} is not an NER model (no spaCy pipeline, gliner_config.json, or "
        "*ForTokenClassification config.json with id2label)",
        hint="pick an NER model: localmodels catalog, e.g. --model spacy-en-sm",
    )


def _span_runtime(lm: LocalModel) -> SpanModel:
    kind = span_kind(lm)
    name = display_name(lm)
    if kind == "spacy":
        from .spacy_runtime import load_spacy

        return load_spacy(lm.path, name=name)
    if kind == "gliner":
        from .gliner import load_gliner

        return load_gliner(lm.path, name=name)
    from .onnx.token_classification import TokenClassifier

    return TokenClassifier(lm, name=name)


@overload
def runtime_for(model: str | LocalModel, capability: Literal["encoder"], **options: Any) -> Encoder: ...
@overload
def runtime_for(model: str | LocalModel, capability: Literal["spans"], **options: Any) -> SpanModel: ...
@overload
def runtime_for(model: Any, capability: Literal["llm"], **options: Any) -> LLM: ...


def runtime_for(model: Any, capability: Capability, **options: Any) -> Encoder | SpanModel | LLM:
    """The runtime that gives ``model`` this capability, loaded (or ready to load on first use).

    ``options``: ``task`` (names the task in errors); ``quantize`` for encoders; ``n_ctx``,
    ``n_threads``, ``n_gpu_layers``, ``seed`` for GGUF models. A runtime object passed in is
    returned as it is.

    Raises:
        UsageError: the model cannot do this (an LLM asked for embeddings, an encoder for NER...).
        ModelNotFoundError / NotInStoreError: the reference does not resolve.
    """
    task = options.pop("task", "this task")
    if capability not in CAPABILITIES:
        raise UsageError(f"unknown capability {capability!r}", hint=f"use one of: {', '.join(CAPABILITIES)}")
    from ..store import LocalModel

    if not isinstance(model, (str, os.PathLike, LocalModel)):
        return model  # already a runtime
    if is_remote(model):
        if capability == "spans":
            raise UsageError(f"{model}: remote endpoints do not run NER", hint="use a local NER model")
        from .remote import get_remote

        return get_remote(model)
    if capability == "llm":
        from .llama import load

        return load(model, **options)  # a GGUF file path, a reference or a LocalModel
    lm = resolve_model(model)
    if capability == "spans":
        return _span_runtime(lm)
    rt = runtime_name(lm)
    from .static import StaticRuntime, is_static_model  # model2vec folders: static embeddings

    if is_static_model(lm):
        return StaticRuntime(lm, name=display_name(lm))
    if rt != "onnx":
        raise UsageError(
            f"{task} needs an encoder model (ONNX runtime); {lm.name!r} runs on {rt}",
            hint="pick an encoder, e.g. --model minilm",
        )
    from .onnx.runtime import OnnxRuntime

    return OnnxRuntime(lm, quantize=options.get("quantize"))
