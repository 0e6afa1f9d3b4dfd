"""Text generation and chat with a local GGUF model (llama.cpp) or a remote OpenAI-compatible model.

    generate("Paris is the capital of", max_tokens=16)          # SmolLM2-135M-Instruct by default
    generate([{"role": "user", "content": "Hi"}])                # a list of messages: chat
    generate(messages=[{"role": "user", "content": "Hi"}], model="remote:gpt-4o-mini")
    generate("Paris is the capital of", model="gemma3-270m")    # a base model: completion only
    for piece in generate("Once upon a time", stream=True): print(piece, end="")

Chat messages are rendered with the chat template in the GGUF's metadata; a GGUF without one
(a base model) falls back to the catalog entry's template name, else to a plain-text transcript,
and says so once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..runtimes.base import LLM
from ..runtimes.registry import runtime_for

if TYPE_CHECKING:
    from ..results import Generation
    from ..runtimes._stream import GenerationStream
    from ..runtimes.base import TokenLogprob
    from ..store import LocalModel

__all__ = ["generate", "chat", "get_llm", "token_logprobs", "DEFAULT_MODEL"]

DEFAULT_MODEL = "smollm2-135m-instruct"  # instruction-tuned: chat, generate, --method llm


def get_llm(model: str | os.PathLike[str] | LocalModel | LLM, **load_options: Any) -> LLM:
    """The loaded model behind a reference: ``remote:...`` -> remote endpoint, else a GGUF on llama.cpp.

    ``load_options`` (``n_ctx``, ``n_threads``, ``n_gpu_layers``, ``seed``) apply to GGUF models.
    """
    return runtime_for(model, "llm", **load_options)


def generate(
    prompt: str | Sequence[dict[str, Any]] | None = None,
    *,
    messages: Sequence[dict[str, Any]] | None = None,
    model: str | os.PathLike[str] | LocalModel | LLM = DEFAULT_MODEL,
    max_tokens: int = 128,
    temperature: float = 0.0,
    stop: str | Sequence[str] | None = None,
    stream: bool = False,
    seed: int | None = None,
    json_schema: dict[str, Any] | str | None = None,
    grammar: str | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    **load_options: Any,
) -> Generation | GenerationStream:
    """Complete ``prompt`` (plain text) or answer ``messages`` (chat).

    ``prompt`` may also be the list of messages itself: ``generate([{"role": "user", ...}])``.

    ``temperature=0`` is greedy and deterministic; ``seed`` makes sampling repeatable; ``top_p`` /
    ``top_k`` narrow sampling (None: the runtime's defaults; ``top_k=1`` is greedy).
    ``json_schema`` or ``grammar`` (GBNF, local models only) constrain the output.
    With ``stream=True`` the result is an iterator of text pieces whose ``.result`` holds the
    :class:`Generation` once it is exhausted.

    Raises:
        UsageError: neither or both of prompt/messages, bad options, a prompt longer than the context.
        ModelNotFoundError / NotInStoreError: the model is not available locally.
        InsufficientResourcesError: the model would not fit in memory.
        AccessError / NetworkError: a remote endpoint refused the key or failed after retries.
    """
    if prompt is not None and not isinstance(prompt, str) and isinstance(prompt, Sequence):
        if messages is not None:
            raise UsageError("pass the messages once", hint="generate([...]) or generate(messages=[...])")
        prompt, messages = None, list(prompt)
    if (prompt is None) == (messages is None):
        raise UsageError("pass either a prompt or messages", hint="generate('text') or generate(messages=[...])")
    if prompt is not None and not isinstance(prompt, str):
        raise UsageError(f"prompt must be a string, got {type(prompt).__name__}")
    llm = get_llm(model, **load_options)
    name = model if isinstance(model, str) else llm.name
    sampling = {k: v for k, v in (("top_p", top_p), ("top_k", top_k)) if v is not None}  # only what was asked
    return llm.generate(prompt=prompt, messages=messages, max_tokens=max_tokens, temperature=temperature,
                        stop=stop, seed=seed, json_schema=json_schema, grammar=grammar, stream=stream,
                        model_name=name, **sampling)


def chat(
    messages: Sequence[dict[str, Any]],
    *,
    model: str | os.PathLike[str] | LocalModel | LLM = DEFAULT_MODEL,
    **options: Any,
) -> Generation | GenerationStream:
    """``generate(messages=messages, ...)``: one assistant turn for a conversation."""
    return generate(messages=messages, model=model, **options)


def token_logprobs(*, model: str | os.PathLike[str] | LocalModel | LLM = DEFAULT_MODEL, prompt: str | None = None,
                   messages: Sequence[dict[str, Any]] | None = None, completion: str = "", top: int = 0,
                   echo: bool = False) -> list[TokenLogprob]:
    """Log-probabilities of ``completion``'s tokens after the prompt (and of the prompt's, ``echo``),
    with ``top`` alternatives each: what ``logprobs`` reports over HTTP. Local GGUF models only."""
    llm = get_llm(model)
    fn = getattr(llm, "token_logprobs", None)
    if fn is None:
        raise UsageError(f"{llm.name} cannot report token log-probabilities", hint="use a local GGUF model")
    return fn(prompt=prompt, messages=messages, completion=completion, top=top, echo=echo)
