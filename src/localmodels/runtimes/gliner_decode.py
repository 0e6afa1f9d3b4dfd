"""GLiNER decoding: a line-by-line port of gliner.decoding (SpanDecoder / TokenDecoder + greedy_search)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Span = tuple[int, int, str, float]  # (first word, last word inclusive, label, score)


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32, copy=False)
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def _overlaps(a: tuple, b: tuple, multi_label: bool) -> bool:
    if a[:2] == b[:2]:
        return not multi_label
    return not (a[0] > b[1] or b[0] > a[1])


def _overlaps_not_nested(a: tuple, b: tuple, multi_label: bool) -> bool:
    if a[:2] == b[:2]:
        return not multi_label
    nested = (a[0] <= b[0] and a[1] >= b[1]) or (b[0] <= a[0] and b[1] >= a[1])
    return not ((a[0] > b[1] or b[0] > a[1]) or nested)


def greedy_search(spans: list[Span], *, flat: bool, multi_label: bool) -> list[Span]:
    """Keep spans in order of decreasing score unless they clash with a kept one; sort by start."""
    clash = _overlaps if flat else _overlaps_not_nested
    kept: list[Span] = []
    for s in sorted(spans, key=lambda x: -x[-1]):
        if not any(clash(s[:-1], k, multi_label) for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda x: x[0])


def decode_spans(logits: np.ndarray, num_words: Sequence[int], labels: Sequence[str], *,
                 threshold: float = 0.5, flat: bool = True, multi_label: bool = False) -> list[list[Span]]:
    """Span-model logits ``[B, L, K, C]`` -> per item ``(start_word, end_word, label, score)``."""
    probs = sigmoid(logits)
    out: list[list[Span]] = []
    for i in range(probs.shape[0]):
        p = probs[i]
        spans: list[Span] = []
        for s, k, c in zip(*np.nonzero(p > threshold)):
            if s + k + 1 > num_words[i]:
                continue
            spans.append((int(s), int(s + k), labels[int(c)], float(p[s, k, c])))
        out.append(greedy_search(spans, flat=flat, multi_label=multi_label))
    return out


def decode_tokens(logits: np.ndarray, num_words: Sequence[int], labels: Sequence[str], *,
                  threshold: float = 0.5, flat: bool = True, multi_label: bool = False) -> list[list[Span]]:
    """Token-model logits ``[B, L, C, 3]`` (start, end, inside) -> spans, as gliner's TokenDecoder."""
    starts, ends, inside = (sigmoid(logits[..., j]) for j in range(3))
    out: list[list[Span]] = []
    for i in range(logits.shape[0]):
        st_i, en_i, in_i = starts[i], ends[i], inside[i]
        spans: list[Span] = []
        for st, cs in zip(*np.nonzero(st_i > threshold)):
            for ed, ce in zip(*np.nonzero(en_i > threshold)):
                if ed < st or cs != ce:
                    continue
                ins = in_i[st : ed + 1, cs]
                if (ins < threshold).any():
                    continue
                score = float(np.min(np.concatenate([ins, [st_i[st, cs], en_i[ed, ce]]])))
                spans.append((int(st), int(ed), labels[int(cs)], score))
        out.append(greedy_search(spans, flat=flat, multi_label=multi_label))
    return out
