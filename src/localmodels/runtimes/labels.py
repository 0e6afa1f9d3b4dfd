"""Choosing a label from its log-probability, and the grammar of a reasoned JSON answer: shared by
every LLM runtime (llama.cpp, remote) and the classification task, free of any backend import."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence

REASONING_MAX_CHARS = 200


def reasoning_grammar(max_chars: int = REASONING_MAX_CHARS) -> str:
    """GBNF for the rest of a JSON answer once the category is written: the reasoning string's
    characters (at most ``max_chars``), its closing quote and the closing brace."""
    return (
        f'root ::= char{{0,{max_chars}}} "\\"" ws "}}"\n'
        'char ::= [^"\\\\\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})\n'
        'ws ::= " "?\n'
    )


def normalise(logps: Sequence[float]) -> list[float]:
    """Probabilities from log-probabilities (softmax)."""
    m = max(logps)
    ws = [math.exp(x - m) for x in logps]
    total = sum(ws)
    return [w / total for w in ws]


def choose(labels: Sequence[str], logps: Sequence[float], temperature: float, seed: int | None) -> str:
    """The most probable label at temperature 0, else one sampled from softmax(logp / temperature)."""
    if temperature <= 0:
        return labels[max(range(len(labels)), key=lambda i: logps[i])]
    weights = normalise([x / temperature for x in logps])
    return random.Random(seed).choices(list(labels), weights=weights)[0]


def json_string_prefix(text: str) -> str:
    """The reasoning string the grammar produced (up to its closing quote), decoded from JSON."""
    end = text.rfind('"')
    raw = text[:end] if end >= 0 else text  # cut short by max_tokens: keep what is there
    try:
        return json.loads('"' + raw + '"').strip()
    except ValueError:
        return raw.strip()
