"""Finding, checking and loading a GGUF: settings from the environment and the machine, memory checks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import config
from ...errors import ModelNotFoundError, UsageError, human_size
from ._cpp import _warn_once, gpu_available
from .gguf import GGUFInfo, check_gguf, read_gguf
from .model import LlamaModel, LlamaSettings

if TYPE_CHECKING:
    from ...store import LocalModel

DEFAULT_N_CTX = 4096


def _physical_cores() -> int:
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
    except Exception:  # noqa: BLE001
        n = None
    return max(1, n or os.cpu_count() or 1)


def settings_for(info: GGUFInfo, *, n_ctx: int | None = None, n_threads: int | None = None,
                 n_gpu_layers: int | None = None, seed: int | None = None) -> LlamaSettings:
    """Fill in defaults from the environment, the machine and the model."""
    from ...config import num_threads

    trained = info.context_length or DEFAULT_N_CTX
    ctx = n_ctx or config.settings().n_ctx or min(DEFAULT_N_CTX, trained)
    if ctx <= 0:
        raise UsageError(f"n_ctx must be positive, got {ctx}")
    explicit = n_threads or num_threads()  # an explicit limit applies to prompt processing too
    threads = explicit or _physical_cores()
    batch_threads = explicit or max(threads, os.cpu_count() or threads)
    if n_gpu_layers is None:
        n_gpu_layers = config.settings().gpu_layers
    if n_gpu_layers is None:
        n_gpu_layers = -1 if gpu_available() else 0
    elif n_gpu_layers != 0 and not gpu_available():
        _warn_once("nogpu", "n_gpu_layers was set but this llama.cpp build has no GPU support: running on CPU")
        n_gpu_layers = 0
    return LlamaSettings(ctx, threads, batch_threads, n_gpu_layers, seed, n_batch=min(512, ctx))



# --------------------------------------------------------------------------------------------
# finding and checking the file


def find_gguf(model: LocalModel) -> Path:
    """The GGUF to load: the catalog entry's ``default_file``, else the single ``*.gguf``.

    Sharded files (``-00001-of-00003.gguf``) load from their first shard; multimodal projector
    files (``mmproj``) are ignored.
    """
    entry = model.entry
    if entry is not None and entry.default_file:
        p = model.path / entry.default_file
        if p.is_file():
            return p
        raise ModelNotFoundError(
            f"{model.name}: the GGUF file {entry.default_file} is missing from {model.path}",
            ref=model.ref, hint=f"run: localmodels pull {model.ref}",
        )
    files = [p for p in sorted(model.path.rglob("*.gguf")) if "mmproj" not in p.name.lower()]
    shards = [p for p in files if "-of-" in p.stem and p.stem.rsplit("-of-", 1)[0].endswith("-00001")]
    if not files:
        raise ModelNotFoundError(
            f"{model.name}: no .gguf file in {model.path}", ref=model.ref,
            hint=f"pull a GGUF repo with a quantization, e.g.: localmodels pull {model.ref} --quant Q4_K_M",
        )
    if len(files) == 1:
        return files[0]
    if len(shards) == 1:
        return shards[0]
    names = ", ".join(p.name for p in files[:8]) + (" ..." if len(files) > 8 else "")
    raise UsageError(
        f"{model.name}: several GGUF files in {model.path} ({names}); which one?",
        hint="pass the file itself as the model (model='path/to/file.gguf') or pull with --quant",
    )


def _shard_paths(first: Path) -> list[Path]:
    stem = first.stem
    if "-of-" not in stem:
        return [first]
    head, total = stem.rsplit("-of-", 1)
    base = head.rsplit("-", 1)[0]
    try:
        n = int(total)
    except ValueError:
        return [first]
    return [first.with_name(f"{base}-{i:05d}-of-{total}.gguf") for i in range(1, n + 1)]


def estimate_memory(path: str | Path, n_ctx: int) -> int:
    """Bytes needed to load a GGUF (all its shards) and run it at ``n_ctx``."""
    first = Path(path)
    info = read_gguf(first)
    extra = sum(p.stat().st_size for p in _shard_paths(first)[1:] if p.is_file())
    return info.estimate_memory(n_ctx) + extra


# --------------------------------------------------------------------------------------------
# loading


def _as_local(model: LocalModel | str | os.PathLike[str]) -> tuple[LocalModel, Path]:
    from ...store import LocalModel

    if isinstance(model, LocalModel):
        return model, find_gguf(model)
    ref = os.fspath(model)
    p = Path(ref).expanduser()
    scheme = ref.split(":", 1)[0] if ":" in ref else ""
    has_scheme = len(scheme) > 1 and scheme.isidentifier()  # ollama:, lmstudio:, file: ... (not C:)
    if p.suffix.lower() == ".gguf" and (not has_scheme or p.is_file()) and not p.is_dir():
        if not p.is_file():
            raise ModelNotFoundError(f"GGUF file not found: {p}", ref=ref, hint="check the path, or pull the model")
        p = p.resolve()
        return LocalModel(ref=ref, name=p.stem, path=p.parent, source="local"), p
    from ...registry import find_entry

    entry = None if p.exists() else find_entry(ref.split("@", 1)[0])
    _check_runtime(entry, ref)
    from ...store import resolve

    local = resolve(ref)
    _check_runtime(local.entry, local.name)
    return local, find_gguf(local)


def _check_runtime(entry: Any, name: str) -> None:
    if entry is not None and entry.runtime != "llama":
        raise UsageError(
            f"{name} is a {entry.task} model ({entry.runtime} runtime); text generation needs a GGUF model",
            hint="pick a generation model: localmodels catalog (e.g. gemma3-270m) or remote:<model>",
        )


def load(model: LocalModel | str | os.PathLike[str], *, n_ctx: int | None = None, n_threads: int | None = None,
         n_gpu_layers: int | None = None, seed: int | None = None) -> LlamaModel:
    """Load a GGUF model through the loaded-model cache (once per settings)."""
    from ..cache import ensure_memory, loaded_models

    local, path = _as_local(model)
    for shard in _shard_paths(path):
        info = check_gguf(shard)
    info = read_gguf(path)
    settings = settings_for(info, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers, seed=seed)
    key = f"llama:{path}:{settings.key()}"
    cache = loaded_models()
    need = estimate_memory(path, settings.n_ctx)
    if key not in cache:
        weights = need - info.kv_cache_bytes(settings.n_ctx)
        ensure_memory(
            need,
            what=(f"memory to load {local.name} (weights and buffers {human_size(weights)} + KV cache "
                  f"{human_size(info.kv_cache_bytes(settings.n_ctx))} for n_ctx={settings.n_ctx})"),
            hint="use a smaller context (n_ctx= or LOCALMODELS_N_CTX), a smaller quantization, "
                 "or unload other models",
        )
    return cache.get(key, lambda: LlamaModel.open(local, path, info, settings), estimate_bytes=need)

