"""Quality and speed metrics for the benchmarks, in plain numpy-free Python (small inputs).

Classification: confusion matrix, accuracy, per-label precision / recall / F1 and macro-F1
(the unweighted mean of the per-label F1 over the labels, as scikit-learn's ``average="macro"``;
a label with no true and no predicted items counts as 0, a division by zero counts as 0).
Retrieval: recall@k and mean reciprocal rank. Latency: percentiles with linear interpolation
(numpy's default method).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def confusion_matrix(truth: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """``m[i][j]`` = how many items of true label ``labels[i]`` were predicted ``labels[j]``.

    Items whose true or predicted label is not in ``labels`` are not counted.
    """
    if len(truth) != len(pred):
        raise ValueError(f"{len(truth)} true labels but {len(pred)} predictions")
    index = {label: i for i, label in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, pred):
        if t in index and p in index:
            m[index[t]][index[p]] += 1
    return m


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


def per_label(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support for each label, from a confusion matrix."""
    out: dict[str, dict[str, float]] = {}
    n = len(labels)
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        predicted = sum(matrix[r][i] for r in range(n))
        support = sum(matrix[i])
        p = _div(tp, predicted)
        r = _div(tp, support)
        out[label] = {"precision": p, "recall": r, "f1": _div(2 * p * r, p + r), "support": support}
    return out


def classification_report(truth: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label P/R/F1 and the confusion matrix, JSON-ready."""
    matrix = confusion_matrix(truth, pred, labels)
    per = per_label(matrix, labels)
    correct = sum(1 for t, p in zip(truth, pred) if t == p)
    return {
        "n": len(truth),
        "accuracy": _div(correct, len(truth)),
        "macro_f1": _div(sum(v["f1"] for v in per.values()), len(labels)),
        "per_label": per,
        "labels": list(labels),
        "confusion_matrix": matrix,
    }


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation; NaN for no values."""
    xs = sorted(values)
    if not xs:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def recall_at_k(ranked: Sequence[Sequence[Any]], relevant: Sequence[Iterable[Any]], k: int) -> float:
    """Mean over queries of |relevant in the top k| / |relevant|."""
    if len(ranked) != len(relevant):
        raise ValueError("one ranking per query")
    scores = []
    for r, rel in zip(ranked, relevant):
        rel = set(rel)
        if rel:
            scores.append(len(rel & set(r[:k])) / len(rel))
    return _div(sum(scores), len(scores))


def mean_reciprocal_rank(ranked: Sequence[Sequence[Any]], relevant: Sequence[Iterable[Any]]) -> float:
    """Mean over queries of 1 / rank of the first relevant item (0 when none is ranked)."""
    if len(ranked) != len(relevant):
        raise ValueError("one ranking per query")
    total = 0.0
    for r, rel in zip(ranked, relevant):
        rel = set(rel)
        for i, item in enumerate(r, start=1):
            if item in rel:
                total += 1 / i
                break
    return _div(total, len(ranked))
