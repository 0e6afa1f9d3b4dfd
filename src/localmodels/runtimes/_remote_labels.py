"""Label scoring on a remote endpoint: the answer constrained with ``response_format``, confidence from logprobs.

:class:`RemoteLabels` is mixed into :class:`~localmodels.runtimes.remote.RemoteModel` (which brings
``name`` and ``chat_completion``). The answer is asked for as a JSON object whose value is an enum
of the labels, validated (one retry when the endpoint ignores the schema); the confidence is the
probability of each label's first token where the value starts, when the server returns
``logprobs``; else the answer gets 1.0 and ``method`` says ``llm-remote-nologprobs``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from ..errors import RuntimeFailure, UsageError
from .base import LabelScores

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
        answer, probs, reasoning = remote_answer(self, prompt, list(labels), key, with_reasoning, temperature, seed)
        method = "llm-remote" if probs is not None else "llm-remote-nologprobs"
        return LabelScores(answer, probs, reasoning, method=method)


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
