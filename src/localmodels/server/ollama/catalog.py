"""What /api/tags, /api/show and /api/ps say about a model, from the store's public API.

Ollama's ``digest`` is its manifest's sha256; ours is the sha256 of the model's identity in the
store (name, commit, and each file's sha256), so it changes exactly when the files do.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ... import store
from ...tasks.loaded import loaded_info
from .keepalive import KeepAlive

_QUANT = re.compile(r"(?i)(?:^|[-_.])((?:IQ|Q)\d(?:_[A-Z0-9]+)*|F16|BF16|F32)(?=[-_.]|$)")
CAPABILITIES = {"embedding": ["embedding"], "generation": ["completion"], "chat": ["completion"],
                "rerank": ["rerank"], "ner": ["ner"], "token-classification": ["ner"],
                "zero-shot": ["classify"], "classification": ["classify"]}


def public_name(name: str) -> str:
    """Ollama clients add ``:latest`` to a bare name; our refs have no tag."""
    if not name.startswith("ollama:") and name.endswith(":latest"):
        return name[: -len(":latest")]
    return name


def iso(ts: float | str | None) -> str:
    if isinstance(ts, str) and ts:
        return ts
    value = float(ts) if isinstance(ts, (int, float)) else time.time()
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")


def digest_of(model: store.LocalModel) -> str:
    ident = [model.name, model.commit or ""] + sorted(f"{f.path}:{f.sha256 or f.size}" for f in model.files)
    return hashlib.sha256("\n".join(ident).encode()).hexdigest()


def details(model: store.LocalModel) -> dict[str, Any]:
    entry = model.entry
    fmt = entry.formats[0] if entry and entry.formats else _format_of(model)
    family = entry.architecture if entry and entry.architecture else ""
    quant = ""
    for f in model.files:
        m = _QUANT.search(Path(f.path).stem)
        if f.path.endswith(".gguf") and m:
            quant = m.group(1).upper()
    return {"parent_model": "", "format": fmt, "family": family, "families": [family] if family else None,
            "parameter_size": "", "quantization_level": quant}


def _format_of(model: store.LocalModel) -> str:
    names = [f.path for f in model.files]
    for ext, fmt in ((".gguf", "gguf"), (".onnx", "onnx"), (".safetensors", "safetensors")):
        if any(n.endswith(ext) for n in names):
            return fmt
    return "spacy" if any(n.endswith("config.cfg") for n in names) else ""


def tag(name: str, model: store.LocalModel) -> dict[str, Any]:
    return {"name": name, "model": name, "modified_at": iso(model.pulled_at or _mtime(model.path)),
            "size": model.size, "digest": digest_of(model), "details": details(model)}


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def served_models(served: dict[str, str]) -> list[tuple[str, store.LocalModel]]:
    """(public name, model) for every model this server answers for and the store has."""
    out: list[tuple[str, store.LocalModel]] = []
    if served:
        pairs = list(served.items())
    else:
        pairs = []
        for st in store.list_models():
            if st.status == "incomplete":
                continue
            name = st.ref or (st.aliases[0] if st.aliases else st.name)
            pairs.append((name, name))
    seen: set[str] = set()
    for name, ref in pairs:
        try:
            model = store.resolve(ref, offline=True)
        except Exception:  # noqa: BLE001 - listed elsewhere as absent; not servable now
            continue
        if str(model.path) in seen:
            continue
        seen.add(str(model.path))
        out.append((name, model))
    return out


def show(name: str, model: store.LocalModel) -> dict[str, Any]:
    entry = model.entry
    task = entry.task if entry else None
    info: dict[str, Any] = {"general.architecture": entry.architecture if entry else "",
                            "localmodels.source": model.served_by or model.source,
                            "localmodels.path": str(model.path)}
    if entry and entry.dims:
        info[f"{entry.architecture}.embedding_length"] = entry.dims
    template, params = "", ""
    gguf = _gguf_info(model)
    if gguf is not None:
        template = gguf.chat_template or ""
        info["general.architecture"] = gguf.architecture
        if gguf.context_length:
            info[f"{gguf.architecture}.context_length"] = gguf.context_length
        task = task or "generation"
    caps = list(CAPABILITIES.get(task or "", []))
    if gguf is not None and "completion" not in caps:
        caps.append("completion")
    return {
        "modelfile": f"# localmodels: {name}\nFROM {model.path}\n",
        "parameters": params,
        "template": template,
        "license": model.license or (entry.license if entry else "") or "",
        "details": details(model),
        "model_info": info,
        "capabilities": caps,
        "modified_at": iso(model.pulled_at or _mtime(model.path)),
    }


def _gguf_info(model: store.LocalModel):
    if not any(f.path.endswith(".gguf") for f in model.files) and not list(model.path.glob("*.gguf")):
        return None
    try:
        from ...runtimes.llama import find_gguf, read_gguf

        return read_gguf(find_gguf(model))
    except Exception:  # noqa: BLE001 - /api/show still answers without the GGUF header
        return None


def loaded(served: dict[str, str], keep: KeepAlive) -> list[dict[str, Any]]:
    """/api/ps: the loaded-model cache, each slot named by the model that loaded it."""
    slots = loaded_info()
    if not slots:
        return []
    models = served_models(served)
    by_name = dict(models)
    out = []
    for slot in slots:
        key = str(slot["key"])
        name = keep.owner(key)
        model = by_name.get(name) if name else None
        if model is None:
            name, model = _owner(key, models)
        out.append({"name": name or key, "model": name or key, "size": int(slot["bytes"]), "size_vram": 0,
                    "digest": digest_of(model) if model else "", "details": details(model) if model else {},
                    "expires_at": iso(keep.expires_at(key, float(slot["last_used"])))})
    return out


def _owner(key: str, models: list[tuple[str, store.LocalModel]]) -> tuple[str | None, store.LocalModel | None]:
    """The model whose folder (llama.cpp, spaCy, an ONNX file used in place) is in ``key``."""
    for name, model in models:
        if str(model.path) in key:
            return name, model
    return None, None


def cache_keys_of(model: store.LocalModel) -> list[str]:
    """Loaded-model cache keys that name ``model``'s folder."""
    return [str(s["key"]) for s in loaded_info() if str(model.path) in str(s["key"])]
