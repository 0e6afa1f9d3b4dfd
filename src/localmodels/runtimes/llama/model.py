"""One loaded GGUF on llama.cpp: tokens, chat prompts, grammar-constrained generation, continuation scores."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import RuntimeFailure, UsageError
from ...results import Generation
from .._stream import GenerationStream
from ._batched import BatchedScoring
from ._cpp import _import_llama_cpp, _warn_once, batch_invariant_loading
from ._logprobs import TokenLogprobs
from ._scoring import LabelScoring
from .gguf import GGUFInfo
from .templates import ChatTemplate, check_messages, pick_template

if TYPE_CHECKING:

    from ...store import LocalModel

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


class LlamaModel(LabelScoring, BatchedScoring, TokenLogprobs):
    """One loaded GGUF (an :class:`~localmodels.runtimes.base.LLM`). Calls are serialised by ``lock``
    (a llama.cpp context is not thread-safe)."""

    def __init__(self, llm: Any, local: LocalModel, path: Path, info: GGUFInfo, settings: LlamaSettings) -> None:
        self.llm = llm
        self.local = local
        self.path = path
        self.info = info
        self.settings = settings
        self.name = local.name
        self.lock = threading.RLock()
        self.n_vocab = int(llm.n_vocab())
        # llama.cpp may round the context up (to 256) while llama-cpp-python keeps buffers of the size
        # asked for: the smaller one is what a prompt may fill.
        self.n_ctx = min(int(llm.n_ctx()), len(llm.input_ids))
        bos = llm.token_bos()
        eos = llm.token_eos()
        self.bos_text = llm._model.token_get_text(bos) if bos != -1 else ""
        self.eos_text = llm._model.token_get_text(eos) if eos != -1 else ""
        fallback = local.entry.chat_template if local.entry is not None else None
        self.template: ChatTemplate = pick_template(
            info.chat_template, fallback, bos_token=self.bos_text, eos_token=self.eos_text
        )

    @classmethod
    def open(cls, local: LocalModel, path: Path, info: GGUFInfo, settings: LlamaSettings) -> LlamaModel:
        llama_cpp = _import_llama_cpp()
        kwargs: dict[str, Any] = dict(
            n_ctx=settings.n_ctx, n_batch=settings.n_batch, n_threads=settings.n_threads,
            n_threads_batch=settings.n_threads_batch, n_gpu_layers=settings.n_gpu_layers, verbose=False,
        )
        if settings.seed is not None:
            kwargs["seed"] = settings.seed
        try:
            with batch_invariant_loading(llama_cpp):
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

    def generate(self, *, prompt: str | None = None, messages: Sequence[dict[str, Any]] | None = None,
                 max_tokens: int = 128, temperature: float = 0.0, stop: str | Sequence[str] | None = None,
                 seed: int | None = None, json_schema: dict[str, Any] | str | None = None,
                 grammar: str | None = None, stream: bool = False, model_name: str | None = None,
                 top_p: float | None = None, top_k: int | None = None) -> Generation | GenerationStream:
        """Complete ``prompt`` or answer chat ``messages`` (rendered with the model's chat template).
        ``top_p`` / ``top_k``: None keeps llama.cpp's defaults (0.95 / 40)."""
        compiled = self.compile_grammar(grammar=grammar, json_schema=json_schema)
        extra_stops: list[str] = []
        if messages is not None:
            tokens, extra_stops = self.chat_prompt(messages)
        else:
            if not prompt:
                raise UsageError("the prompt is empty")
            tokens = self.prompt_tokens(prompt)
        stops = ([stop] if isinstance(stop, str) else list(stop or [])) + extra_stops
        sampling = {k: v for k, v in (("top_p", top_p), ("top_k", top_k)) if v is not None}
        return self.generate_tokens(tokens, max_tokens=max_tokens, temperature=temperature, stop=stops, seed=seed,
                                    grammar=compiled, stream=stream, model_name=model_name, **sampling)

    def chat(self, messages: Sequence[dict[str, Any]], **options: Any) -> Generation | GenerationStream:
        return self.generate(messages=messages, **options)

    def generate_tokens(self, tokens: list[int], *, max_tokens: int = 128, temperature: float = 0.0,
                 stop: str | Sequence[str] | None = None, seed: int | None = None, grammar: Any = None,
                 stream: bool = False, top_p: float = 0.95, top_k: int = 40, repeat_penalty: float = 1.0,
                 model_name: str | None = None) -> Generation | GenerationStream:
        """Complete ``tokens``. ``grammar`` is a compiled grammar (:meth:`compile_grammar`)."""
        if max_tokens is None or max_tokens < 1:
            raise UsageError(f"max_tokens must be >= 1, got {max_tokens}")
        if temperature < 0:
            raise UsageError(f"temperature must be >= 0, got {temperature}")
        if len(tokens) >= self.n_ctx:
            raise UsageError(
                f"the prompt has {len(tokens)} tokens and the context of {self.name} holds {self.n_ctx} "
                f"(prompt and answer must fit in it)",
                hint=f"shorten the prompt or give a larger context: --n-ctx {_next_ctx(len(tokens) + max_tokens)} "
                     "(n_ctx= in Python, LOCALMODELS_N_CTX)",
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


def _next_ctx(n: int) -> int:
    """The smallest power of two >= ``n`` (a context size to suggest)."""
    size = 256
    while size < n:
        size *= 2
    return size
