"""Label scoring on a remote endpoint, exactly where the server can score text, else from the answer's logprobs.

:class:`RemoteLabels` is mixed into :class:`~localmodels.runtimes.remote.RemoteModel` (which brings
``name``, ``post`` and ``chat_completion``). In order:

1. ``/v1/completions`` with ``echo`` and ``logprobs`` (our ``localmodels serve``, vLLM): every
   ``prompt + label`` is scored as the local runtime scores it (the sum of the label's token
   log-probabilities), so the probabilities equal the local model's; ``method`` ``llm-remote``;
2. ``/v1/chat/completions`` with a JSON schema whose value is an enum of the labels, validated (one
   retry when the endpoint ignores the schema); the confidence is the probability of each label's
   first token where the value starts, from ``logprobs`` (llama.cpp's server, OpenAI);
   ``method`` ``llm-remote-chat``;
3. no logprobs at all: the answer only, ``probs`` None, ``method`` ``llm-remote-nologprobs`` (the
   task refuses that unless asked for it: a confidence is never made up).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from ..errors import LocalModelsError, RuntimeFailure, UsageError
from .base import LabelScores
from .labels import choose, normalise

MAX_TEXT_CHARS = 20_000  # what a remote prompt takes of a text (the endpoint's context is unknown)


def json_schema_format(schema: dict[str, Any], name: str = "output") -> dict[str, Any]:
    """OpenAI's ``response_format`` envelope for a JSON schema."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


class RemoteLabels:
    """``score_labels``, ``count_tokens`` and ``fit_text`` for an endpoint without a local tokenizer."""

    name: str

    def count_tokens(self, text: str) -> int:
        """An estimate (about four characters a token): the endpoint's tokenizer is not here."""
        return max(1, len(text) // 4)

    def fit_text(self, text: str, *, prompt_without_text: str, answer_tokens: int) -> str:
        return text[:MAX_TEXT_CHARS]

    def score_labels(self, prompt: str, labels: Sequence[str], *, key: str = "category",
                     with_reasoning: bool = False, temperature: float = 0.0, seed: int | None = None) -> LabelScores:
        labels = list(labels)
        if not with_reasoning:
            logps = echo_logprobs(self, prompt, [f" {x}\n" for x in labels])
            if logps is not None:
                probs = dict(zip(labels, normalise(logps)))
                return LabelScores(choose(labels, logps, temperature, seed), probs, None, method="llm-remote")
        answer, probs, reasoning = remote_answer(self, prompt, labels, key, with_reasoning, temperature, seed)
        method = "llm-remote-chat" if probs is not None else "llm-remote-nologprobs"
        return LabelScores(answer, probs, reasoning, method=method)

    def score_labels_batch(self, prompts: Sequence[str], labels: Sequence[str], *, temperature: float = 0.0,
                           seed: int | None = None) -> list[LabelScores]:
        return [self.score_labels(p, labels, temperature=temperature, seed=seed) for p in prompts]


def echo_logprobs(llm: Any, prompt: str, answers: list[str]) -> list[float] | None:
    """log P(answer | prompt) for each answer from ``/completions`` with ``echo`` and ``logprobs``;
    None when the endpoint cannot (no such route, no prompt logprobs, a token across the boundary)."""
    if getattr(llm, "_echo_ok", True) is False:
        return None
    payload = {"model": llm.model_id, "prompt": [prompt + a for a in answers], "max_tokens": 0, "echo": True,
               "logprobs": 0, "temperature": 0.0}
    try:
        data = llm.post("completions", payload).json()
        choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
        out = [_answer_logprob(c["logprobs"], len(prompt), len(prompt) + len(a)) for c, a in zip(choices, answers)]
        if len(out) != len(answers):
            raise ValueError("one choice per prompt expected")
    except (LocalModelsError, ValueError, KeyError, TypeError, AttributeError):
        llm._echo_ok = False  # this endpoint cannot score prompts: ask it no more
        return None
    llm._echo_ok = True
    if any(x is None for x in out):  # a token across the prompt's end: this prompt goes the chat way
        return None
    return out  # type: ignore[return-value]


def _answer_logprob(lp: dict[str, Any], start: int, end: int) -> float | None:
    """The summed log-probabilities of the tokens in ``[start, end)``; None when one crosses ``start``."""
    if not lp or not lp.get("token_logprobs"):
        raise ValueError("no prompt logprobs")
    total, seen = 0.0, False
    for tok, logprob, off in zip(lp["tokens"], lp["token_logprobs"], lp["text_offset"]):
        if off < start < off + len(tok):
            return None
        if start <= off < end:
            if logprob is None:
                return None
            total += float(logprob)
            seen = True
    return total if seen else None


def remote_answer(llm: Any, prompt: str, options: list[str], key: str, with_reasoning: bool,
                  temperature: float, seed: int | None) -> tuple[str, dict[str, float] | None, str | None]:
    """Ask for ``{key: <option>}`` (+ reasoning) with a JSON schema; validate; read the logprobs."""
    props: dict[str, Any] = {key: {"type": "string", "enum": options}}
    if with_reasoning:
        props["reasoning"] = {"type": "string"}
    schema = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    payload: dict[str, Any] = {
        "messages": [{"role": "user", "content": prompt + "\nReply with JSON only."}],
        "temperature": temperature, "max_tokens": 400 if with_reasoning else 60,
        "response_format": json_schema_format(schema, name="classification"),
        "logprobs": True, "top_logprobs": 20,
    }
    if seed is not None:
        payload["seed"] = seed
    last_error = ""
    for _ in range(2):  # one retry when the endpoint ignores the schema
        try:
            data = llm.chat_completion(payload)
        except UsageError:
            if "logprobs" not in payload:
                raise
            payload.pop("logprobs")  # some endpoints refuse logprobs: ask again without them
            payload.pop("top_logprobs")
            data = llm.chat_completion(payload)
        choice = data["choices"][0]
        content = (choice.get("message") or {}).get("content") or ""
        try:
            obj = json.loads(content)
            answer = obj[key]
        except (ValueError, KeyError, TypeError):
            last_error = f"not the JSON object asked for: {content[:200]!r}"
            continue
        if answer not in options:
            last_error = f"{key} {answer!r} is not one of {options}"
            continue
        reasoning = str(obj.get("reasoning", "")) if with_reasoning else None
        return answer, _label_probs(content, choice.get("logprobs"), options, key, answer), reasoning
    raise RuntimeFailure(f"{llm.name} did not answer with one of the labels: {last_error}",
                         hint="the endpoint may not support response_format json_schema")


def _label_probs(content: str, logprobs: Any, options: list[str], key: str, answer: str) -> dict[str, float] | None:
    """Probability of each option where the answer's value starts, from the returned top logprobs.

    Each alternative token at that position gives its probability to the options it begins
    (split evenly when it begins several); the masses are normalised over the options.
    """
    items = (logprobs or {}).get("content") if isinstance(logprobs, dict) else None
    if not items:
        return None
    m = re.search(rf'"{re.escape(key)}"\s*:\s*"', content)
    if m is None:
        return None
    start = m.end()
    pos = 0
    for item in items:
        tok = item.get("token", "")
        end = pos + len(tok)
        if end > start:
            before = tok[: max(0, start - pos)]
            alts = item.get("top_logprobs") or [{"token": tok, "logprob": item.get("logprob", 0.0)}]
            mass = {x: 0.0 for x in options}
            for alt in alts:
                t = alt.get("token", "")
                if not t.startswith(before):
                    continue
                v = t[len(before):]
                closed = '"' in v
                v = v.split('"', 1)[0]
                if not v:
                    continue
                hits = [x for x in options if (x == v if closed else x.startswith(v))]
                for x in hits:
                    mass[x] += math.exp(float(alt.get("logprob", -1e9))) / len(hits)
            total = sum(mass.values())
            if total <= 0:
                return None
            return {x: p / total for x, p in mass.items()}
        pos = end
    return None
