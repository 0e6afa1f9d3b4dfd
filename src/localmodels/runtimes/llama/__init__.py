"""GGUF models on llama-cpp-python: load (with a memory check), generate, score continuations.

    model = load("gemma3-270m")                  # through the loaded-model cache
    model.generate(model.tokenize("Paris is the capital of"), max_tokens=8)
    model.continuation_logprobs(prefix_tokens, [label_tokens, ...])   # for LLM classification

Before llama.cpp sees a file we check it (GGUF magic, header, size) and estimate the memory it
needs (weights + KV cache for the context); a model that would not fit is refused with
needed-vs-available numbers. Settings: ``n_ctx`` (``LOCALMODELS_N_CTX``, default min(4096, trained
context)), ``n_threads`` (``LOCALMODELS_THREADS``, default the physical cores), ``n_gpu_layers``
(``LOCALMODELS_GPU_LAYERS``; all layers when llama.cpp was built with GPU support, else 0), ``seed``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from ...errors import MissingDependencyError, ModelNotFoundError, RuntimeFailure, UsageError, human_size
from ...results import Generation
from .._stream import GenerationStream
from .gguf import GGUFInfo, check_gguf, read_gguf
from .templates import ChatTemplate, check_messages, pick_template

if TYPE_CHECKING:
    import numpy as np

    from ...store._model import LocalModel

__all__ = [
    "LlamaModel", "LlamaSettings", "GGUFInfo", "find_gguf", "load", "estimate_memory", "read_gguf",
    "check_gguf", "gpu_available",
]

log = logging.getLogger("localmodels.llama")
_WARNED: set[str] = set()

DEFAULT_N_CTX = 4096


def _import_llama_cpp():
    try:
        import llama_cpp
    except ImportError as e:  # pragma: no cover - CI always builds it
        raise MissingDependencyError("llama-cpp-python", "llama", purpose="to run GGUF models") from e
    _quiet_llama_logs(llama_cpp)
    return llama_cpp


_LOG_CALLBACK: Any = None
_CPP_LOG = logging.getLogger("localmodels.llama.cpp")


def _quiet_llama_logs(llama_cpp: Any) -> None:
    """Route llama.cpp's own log lines to the ``localmodels.llama.cpp`` logger at DEBUG.

    llama-cpp-python's callback maps ggml's log levels with an old table and prints warnings
    (e.g. about the SWA cache) to stderr even with ``verbose=False``; our errors say what failed.
    """
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None:
        return
    import ctypes

    @llama_cpp.llama_log_callback
    def _callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if _CPP_LOG.isEnabledFor(logging.DEBUG):
            _CPP_LOG.debug(text.decode("utf-8", errors="replace").rstrip("\n"))

    _LOG_CALLBACK = _callback  # keep a reference: llama.cpp holds a raw pointer to it
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


def gpu_available() -> bool:
    """True when this llama.cpp build can offload layers to a GPU."""
    try:
        return bool(_import_llama_cpp().llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001
        return False


@dataclass(frozen=True)
class LlamaSettings:
    n_ctx: int
    n_threads: int
    n_threads_batch: int
    n_gpu_layers: int
    seed: int | None = None
    n_batch: int = 512

    def key(self) -> str:
        return f"ctx={self.n_ctx},t={self.n_threads}/{self.n_threads_batch},gpu={self.n_gpu_layers},b={self.n_batch}"


def _env_int(name: str) -> int | None:
    v = os.environ.get(name, "").strip()
    try:
        return int(v) if v else None
    except ValueError:
        raise UsageError(f"{name}={v!r} is not an integer") from None


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
    ctx = n_ctx or _env_int("LOCALMODELS_N_CTX") or min(DEFAULT_N_CTX, trained)
    if ctx <= 0:
        raise UsageError(f"n_ctx must be positive, got {ctx}")
    explicit = n_threads or num_threads()  # an explicit limit applies to prompt processing too
    threads = explicit or _physical_cores()
    batch_threads = explicit or max(threads, os.cpu_count() or threads)
    if n_gpu_layers is None:
        n_gpu_layers = _env_int("LOCALMODELS_GPU_LAYERS")
    if n_gpu_layers is None:
        n_gpu_layers = -1 if gpu_available() else 0
    elif n_gpu_layers != 0 and not gpu_available():
        _warn_once("nogpu", "n_gpu_layers was set but this llama.cpp build has no GPU support: running on CPU")
        n_gpu_layers = 0
    return LlamaSettings(ctx, threads, batch_threads, n_gpu_layers, seed, n_batch=min(512, ctx))


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        log.warning(message)


# --------------------------------------------------------------------------------------------
# finding and checking the file


def find_gguf(model: "LocalModel") -> Path:
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


def _as_local(model: "LocalModel | str | os.PathLike[str]") -> tuple["LocalModel", Path]:
    from ...store._model import LocalModel

    if isinstance(model, LocalModel):
        return model, find_gguf(model)
    ref = os.fspath(model)
    p = Path(ref).expanduser()
    if p.suffix.lower() == ".gguf" and not p.is_dir():
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


def load(model: "LocalModel | str | os.PathLike[str]", *, n_ctx: int | None = None, n_threads: int | None = None,
         n_gpu_layers: int | None = None, seed: int | None = None) -> "LlamaModel":
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


# --------------------------------------------------------------------------------------------
# the loaded model


class _StopOnTokens:
    """Stop once the last generated token is one of ``ids`` (llama.cpp shows this criterion the
    tokens evaluated so far, so the stop token itself, which renders as no text, ends the answer)."""

    def __init__(self, ids: set[int], n_prompt: int) -> None:
        self.ids = ids
        self.n_prompt = n_prompt

    def __call__(self, input_ids: Any, logits: Any) -> bool:
        return len(input_ids) > self.n_prompt and int(input_ids[-1]) in self.ids


class LlamaModel:
    """One loaded GGUF. Calls are serialised by ``lock`` (a llama.cpp context is not thread-safe)."""

    def __init__(self, llm: Any, local: "LocalModel", path: Path, info: GGUFInfo, settings: LlamaSettings) -> None:
        self.llm = llm
        self.local = local
        self.path = path
        self.info = info
        self.settings = settings
        self.name = local.name
        self.lock = threading.RLock()
        self.n_vocab = int(llm.n_vocab())
        self.n_ctx = int(llm.n_ctx())
        bos = llm.token_bos()
        eos = llm.token_eos()
        self.bos_text = llm._model.token_get_text(bos) if bos != -1 else ""
        self.eos_text = llm._model.token_get_text(eos) if eos != -1 else ""
        fallback = local.entry.chat_template if local.entry is not None else None
        self.template: ChatTemplate = pick_template(
            info.chat_template, fallback, bos_token=self.bos_text, eos_token=self.eos_text
        )

    @classmethod
    def open(cls, local: "LocalModel", path: Path, info: GGUFInfo, settings: LlamaSettings) -> "LlamaModel":
        llama_cpp = _import_llama_cpp()
        kwargs: dict[str, Any] = dict(
            n_ctx=settings.n_ctx, n_batch=settings.n_batch, n_threads=settings.n_threads,
            n_threads_batch=settings.n_threads_batch, n_gpu_layers=settings.n_gpu_layers, verbose=False,
        )
        if settings.seed is not None:
            kwargs["seed"] = settings.seed
        try:
            llm = llama_cpp.Llama(model_path=str(path), **kwargs)
        except (ValueError, RuntimeError, OSError) as e:
            raise RuntimeFailure(
                f"llama.cpp could not load {path}: {e}",
                hint="the file may be damaged or need a newer llama-cpp-python; try: localmodels verify --repair",
            ) from None
        return cls(llm, local, path, info, settings)

    def close(self) -> None:
        with self.lock:
            llm, self.llm = self.llm, None
            if llm is not None:
                llm.close()

    # ---------------------------------------------------------------- tokens and prompts

    def tokenize(self, text: str, *, add_bos: bool = True, special: bool = True) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special))

    def detokenize(self, tokens: Sequence[int], *, special: bool = False) -> str:
        return self.llm.detokenize(list(tokens), special=special).decode("utf-8", errors="replace")

    def chat_prompt(self, messages: Sequence[dict[str, Any]]) -> tuple[list[int], list[str]]:
        """Render chat messages with the model's template: (prompt tokens, extra stop strings)."""
        msgs = check_messages(messages)
        tpl = self.template
        if tpl.name != "gguf":
            how = (f"the {tpl.name!r} fallback template from the catalog" if tpl.name != "plain"
                   else "a plain-text User:/Assistant: template")
            _warn_once(f"tpl:{self.path}", f"{self.name}: the GGUF carries no chat template; using {how}")
        try:
            text = tpl.render(msgs)
        except Exception as e:  # jinja errors: a template that refuses these messages
            raise UsageError(f"{self.name}: its chat template rejected the messages: {e}") from None
        add_bos = not (self.bos_text and text.startswith(self.bos_text))
        return self.tokenize(text, add_bos=add_bos), list(tpl.stop)

    def prompt_tokens(self, prompt: str) -> list[int]:
        return self.tokenize(prompt, add_bos=True)

    # ---------------------------------------------------------------- generation

    def compile_grammar(self, *, grammar: str | None = None, json_schema: dict[str, Any] | str | None = None) -> Any:
        """A ``LlamaGrammar`` from GBNF text or a JSON schema, checked by llama.cpp first (fail closed)."""
        if grammar is None and json_schema is None:
            return None
        if grammar is not None and json_schema is not None:
            raise UsageError("pass either grammar or json_schema, not both")
        llama_cpp = _import_llama_cpp()
        from llama_cpp.llama_grammar import LlamaGrammar

        if json_schema is not None:
            import json

            schema = json_schema if isinstance(json_schema, str) else json.dumps(json_schema)
            try:
                g = LlamaGrammar.from_json_schema(schema, verbose=False)
            except Exception as e:  # noqa: BLE001 - the converter raises plain exceptions
                raise UsageError(f"cannot turn this JSON schema into a grammar: {e}") from None
        else:
            g = LlamaGrammar.from_string(grammar, verbose=False)
        sampler = llama_cpp.llama_sampler_init_grammar(
            self.llm._model.vocab, g._grammar.encode("utf-8"), g._root.encode("utf-8")
        )
        if not sampler:
            raise UsageError(
                "llama.cpp could not parse the grammar" + (" made from the JSON schema" if json_schema else ""),
                hint="check the GBNF syntax (rules 'name ::= ...', a 'root' rule, quoted literals)",
            )
        llama_cpp.llama_sampler_free(sampler)
        return g

    def generate(self, tokens: list[int], *, max_tokens: int = 128, temperature: float = 0.0,
                 stop: str | Sequence[str] | None = None, seed: int | None = None, grammar: Any = None,
                 stream: bool = False, top_p: float = 0.95, top_k: int = 40, repeat_penalty: float = 1.0,
                 model_name: str | None = None) -> "Generation | GenerationStream":
        """Complete ``tokens``. ``grammar`` is a compiled grammar (:meth:`compile_grammar`)."""
        if max_tokens is None or max_tokens < 1:
            raise UsageError(f"max_tokens must be >= 1, got {max_tokens}")
        if temperature < 0:
            raise UsageError(f"temperature must be >= 0, got {temperature}")
        if len(tokens) >= self.n_ctx:
            raise UsageError(
                f"the prompt has {len(tokens)} tokens; the context holds {self.n_ctx}",
                hint="shorten the prompt or load the model with a larger n_ctx (LOCALMODELS_N_CTX)",
            )
        stops = [stop] if isinstance(stop, str) else [s for s in (stop or []) if s]
        name = model_name or self.name
        n_prompt = len(tokens)
        kwargs = dict(
            max_tokens=max_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
            repeat_penalty=repeat_penalty, stop=stops, seed=seed, grammar=grammar,
        )
        stop_ids = self._special_stop_ids(stops)
        if stop_ids:
            from llama_cpp import StoppingCriteriaList

            kwargs["stopping_criteria"] = StoppingCriteriaList([_StopOnTokens(stop_ids, n_prompt)])
        if not stream:
            t0 = time.perf_counter()
            with self.lock:
                out = self.llm.create_completion(list(tokens), stream=False, **kwargs)
            choice = out["choices"][0]
            return Generation(
                text=choice["text"], model=name, prompt_tokens=n_prompt,
                completion_tokens=int(out["usage"]["completion_tokens"]),
                finish_reason=choice.get("finish_reason") or "stop", seconds=time.perf_counter() - t0,
            )

        state: dict[str, Any] = {"finish": "stop", "t0": time.perf_counter(), "evaluated": []}

        def pieces() -> Iterator[str]:
            with self.lock:
                llm = self.llm
                for chunk in llm.create_completion(list(tokens), stream=True, **kwargs):
                    choice = chunk["choices"][0]
                    if choice.get("finish_reason"):
                        state["finish"] = choice["finish_reason"]
                    if choice.get("text"):
                        yield choice["text"]
                state["evaluated"] = llm.input_ids[n_prompt:llm.n_tokens].tolist()

        def finish(text: str) -> Generation:
            return Generation(
                text=text, model=name, prompt_tokens=n_prompt,
                completion_tokens=self._streamed_count(state["evaluated"], text, state["finish"], stops),
                finish_reason=state["finish"], seconds=time.perf_counter() - state["t0"],
            )

        return GenerationStream(pieces(), finish)

    def _special_stop_ids(self, stops: Sequence[str]) -> set[int]:
        """Stop strings that are one special token (``<end_of_turn>``): llama.cpp drops special
        tokens from the text, so a text match can never see them; they stop by token id instead."""
        ids: set[int] = set()
        for s in stops:
            toks = self.tokenize(s, add_bos=False, special=True)
            if len(toks) == 1 and self.detokenize(toks) == "":
                ids.add(toks[0])
        return ids

    def _streamed_count(self, evaluated: list[int], text: str, finish: str, stops: list[str]) -> int:
        """Completion tokens of a finished stream, counted as llama-cpp-python's usage counts them.

        llama.cpp never evaluates the last sampled token: that is the end-of-generation token
        (not counted), or the token that hit ``max_tokens`` or completed a stop string (counted).
        """
        ended_by_eog = finish == "stop" and (not stops or self.detokenize(evaluated) == text)
        return len(evaluated) + (0 if ended_by_eog else 1)

    # ---------------------------------------------------------------- scoring

    def continuation_logprobs(self, prefix: Sequence[int], continuations: Sequence[Sequence[int]]) -> list[float]:
        """log P(continuation | prefix), summed over its tokens, for each continuation.

        The prefix is evaluated once (reusing whatever the KV cache already holds); each
        continuation is decoded after it in one batch and then removed from the cache.
        """
        if not prefix:
            raise UsageError("an empty prefix cannot be scored")
        with self.lock:
            llm = self.llm
            n = len(prefix)
            if n + max((len(c) for c in continuations), default=0) >= self.n_ctx:
                raise UsageError(
                    f"prompt of {n} tokens plus the answer does not fit the context of {self.n_ctx}",
                    hint="shorten the text or load the model with a larger n_ctx (LOCALMODELS_N_CTX)",
                )
            first = _log_softmax(self._prime(list(prefix)))
            out: list[float] = []
            try:
                for cont in continuations:
                    cont = list(cont)
                    if not cont:
                        out.append(0.0)
                        continue
                    total = float(first[cont[0]])
                    if len(cont) > 1:
                        rows = self._decode_rows(cont[:-1], n_past=n)
                        for row, tok in zip(rows, cont[1:]):
                            total += float(_log_softmax(row)[tok])
                        llm._ctx.kv_cache_seq_rm(-1, n, -1)
                    out.append(total)
            finally:
                # Leave the cache one token short so the next call recomputes fresh logits.
                llm._ctx.kv_cache_seq_rm(-1, n - 1, -1)
                llm.n_tokens = n - 1
            return out

    def _prime(self, tokens: list[int]) -> "np.ndarray":
        """Evaluate ``tokens`` (reusing the cached prefix) and return the last position's logits."""
        import numpy as np

        llm = self.llm
        cached = llm.input_ids[: llm.n_tokens].tolist()
        keep = 0
        for a, b in zip(cached, tokens):
            if a != b:
                break
            keep += 1
        keep = min(keep, len(tokens) - 1)
        if keep and not llm._ctx.kv_cache_seq_rm(-1, keep, -1):
            keep = 0
        llm.n_tokens = keep
        if keep == 0:
            llm.reset()
        # The last token is always decoded on its own: llama.cpp's numbers depend slightly on how
        # tokens are batched, and this makes a repeated call (which reuses the cache up to the
        # last token) give exactly the scores of the first.
        if len(tokens) - 1 > keep:
            llm.eval(tokens[keep:-1])
        llm.eval(tokens[-1:])
        ptr = llm._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64)

    def _decode_rows(self, tokens: list[int], *, n_past: int) -> list["np.ndarray"]:
        """Decode ``tokens`` at positions ``n_past...`` and return the logits after each one."""
        import numpy as np

        llm = self.llm
        rows = []
        for i in range(0, len(tokens), llm.n_batch):
            chunk = tokens[i:i + llm.n_batch]
            llm._batch.set_batch(batch=chunk, n_past=n_past + i, logits_all=True)
            llm._ctx.decode(llm._batch)
            for j in range(len(chunk)):
                ptr = llm._ctx.get_logits_ith(j)
                rows.append(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64))
        return rows


def _log_softmax(logits: "np.ndarray") -> "np.ndarray":
    import numpy as np

    m = logits.max()
    return logits - (m + np.log(np.exp(logits - m).sum()))
