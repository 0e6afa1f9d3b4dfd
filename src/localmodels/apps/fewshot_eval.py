"""Honest figures for heads and the cascade on a labelled files dataset: k-fold BY PROJECT.

No project's files are ever both in a head's training set and in its test set. The cascade's
threshold is chosen the same way: on the training folds' out-of-fold margins, then scored on the
held-out fold; the default is the median of the folds' choices.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._categories import name_evidence
from .fewshot import Example, _model_inputs, category_examples, check_examples, fit_softmax

THRESHOLDS = tuple(round(0.02 * i, 2) for i in range(0, 51))


def project_folds(groups: Sequence[str], k: int = 5) -> list[list[int]]:
    """Indices of each fold's test files; projects (sorted, dealt in turn) never split."""
    projects = sorted(set(groups))
    fold_of = {p: i % k for i, p in enumerate(projects)}
    return [[i for i, g in enumerate(groups) if fold_of[g] == f] for f in range(k)]


class ChunkEmbeddings:
    """Every example's chunk embeddings, computed once (a fold only re-fits the head)."""

    def __init__(self, examples: Sequence[Example], embed_fn: Callable[[list[str]], np.ndarray],
                 names: Sequence[str] = ()) -> None:
        self.n = len(examples)
        # the categories' descriptions and made-up examples: in every training set, as in fit_head
        self.extra = list(range(self.n, self.n + len(category_examples(None, names))))
        self.examples = [*examples, *category_examples(None, names)]
        texts, self.owner = [], []
        for i, e in enumerate(self.examples):
            chunks = _model_inputs(e)
            texts += chunks
            self.owner += [i] * len(chunks)
        self.owner_arr = np.asarray(self.owner)
        self.x = np.asarray(embed_fn(texts), dtype=np.float32)

    def fit(self, train: Sequence[int], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = np.isin(self.owner_arr, np.asarray([*train, *self.extra]))
        counts = np.bincount(self.owner_arr[rows], minlength=len(self.examples))
        index = {n: j for j, n in enumerate(names)}
        y = np.asarray([index[self.examples[o].label] for o in self.owner_arr[rows]])
        w = 1.0 / counts[self.owner_arr[rows]]
        return fit_softmax(self.x[rows], y, w, len(names))

    def predict(self, coef: np.ndarray, bias: np.ndarray, test: Sequence[int]) -> np.ndarray:
        z = self.x @ coef + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        out = []
        for i in test:
            mask = self.owner_arr == i
            chunk_len = np.asarray([max(len(t), 1) for t in _model_inputs(self.examples[i])], dtype=np.float64)
            out.append((p[mask] * chunk_len[:, None]).sum(axis=0) / chunk_len.sum())
        return np.asarray(out)


def with_prior(rows: np.ndarray, paths: Sequence[str], names: list[str], weight: float = 1.0) -> np.ndarray:
    """The classifier's name/path prior applied to probability rows (as FileClassifier does)."""
    out = []
    for row, path in zip(rows, paths):
        ev = name_evidence(path, names)
        prior = np.asarray([ev[n][0] if n in ev else 1.0 for n in names])
        post = row * prior ** weight
        out.append(post / post.sum())
    return np.asarray(out)


def oof_rows(emb: ChunkEmbeddings, names: list[str], folds: list[list[int]], *,
             per_label: int | None = None, seed: int = 0) -> np.ndarray:
    """Out-of-fold probability rows; ``per_label`` keeps only that many training files per category."""
    n = emb.n
    rows = np.zeros((n, len(names)))
    rng = random.Random(seed)
    for test in folds:
        held = set(test)
        train = [i for i in range(n) if i not in held]
        if per_label is not None:
            by: dict[str, list[int]] = {}
            for i in train:
                by.setdefault(emb.examples[i].label, []).append(i)
            train = [i for lab in sorted(by) for i in rng.sample(by[lab], min(per_label, len(by[lab])))]
        check_examples([emb.examples[i] for i in train], names)
        coef, bias = emb.fit(train, names)
        rows[test] = emb.predict(coef, bias, test)
    return rows


def margins(rows: np.ndarray) -> np.ndarray:
    top = np.sort(rows, axis=1)
    return top[:, -1] - top[:, -2]


def cascade_accuracy(cheap: np.ndarray, expensive: Sequence[int], labels: Sequence[int], t: float,
                     idx: Sequence[int]) -> tuple[float, float]:
    """(accuracy, share escalated) of the cascade at threshold ``t`` over files ``idx``."""
    idx = list(idx)
    m = margins(cheap[idx])
    pred = np.where(m < t, np.asarray(expensive)[idx], cheap[idx].argmax(axis=1))
    return float((pred == np.asarray(labels)[idx]).mean()), float((m < t).mean())


def choose_threshold(cheap: np.ndarray, expensive: Sequence[int], labels: Sequence[int], idx: Sequence[int],
                     *, slack: float = 0.005) -> float:
    """The smallest threshold whose cascade accuracy on ``idx`` is within ``slack`` of the best one."""
    scored = [(t, cascade_accuracy(cheap, expensive, labels, t, idx)[0]) for t in THRESHOLDS]
    best = max(a for _, a in scored)
    return next(t for t, a in scored if a >= best - slack)


def cv_threshold(cheap: np.ndarray, expensive: Sequence[int], labels: Sequence[int],
                 folds: list[list[int]]) -> dict[str, Any]:
    """Per fold: a threshold chosen on the other folds, scored on this one; the median is the default."""
    per_fold = []
    for test in folds:
        held = set(test)
        train = [i for i in range(len(labels)) if i not in held]
        t = choose_threshold(cheap, expensive, labels, train)
        acc, share = cascade_accuracy(cheap, expensive, labels, t, test)
        per_fold.append({"threshold": t, "accuracy": acc, "escalated": share, "files": len(test)})
    n = sum(f["files"] for f in per_fold)
    return {"threshold": float(np.median([f["threshold"] for f in per_fold])), "folds": per_fold,
            "cv_accuracy": sum(f["accuracy"] * f["files"] for f in per_fold) / n,
            "cv_escalated": sum(f["escalated"] * f["files"] for f in per_fold) / n}
