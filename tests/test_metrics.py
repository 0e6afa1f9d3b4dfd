"""Metric code against hand-computed confusion matrices and against scikit-learn."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from localmodels.apps.metrics import (
    classification_report,
    confusion_matrix,
    mean_reciprocal_rank,
    percentile,
    recall_at_k,
)

LABELS = ["cat", "dog", "bird"]
TRUTH = ["cat", "cat", "cat", "dog", "dog", "bird", "bird", "bird", "bird", "dog"]
PRED = ["cat", "dog", "cat", "dog", "cat", "bird", "bird", "cat", "bird", "dog"]


def test_confusion_matrix_by_hand():
    # rows = truth, columns = prediction
    assert confusion_matrix(TRUTH, PRED, LABELS) == [
        [2, 1, 0],  # cat: 2 right, 1 called dog
        [1, 2, 0],  # dog: 1 called cat, 2 right
        [1, 0, 3],  # bird: 1 called cat, 3 right
    ]


def test_report_by_hand():
    r = classification_report(TRUTH, PRED, LABELS)
    assert r["accuracy"] == pytest.approx(7 / 10)
    cat, dog, bird = (r["per_label"][k] for k in LABELS)
    # cat: tp 2, predicted 4, support 3
    assert (cat["precision"], cat["recall"]) == (pytest.approx(2 / 4), pytest.approx(2 / 3))
    assert cat["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    # dog: tp 2, predicted 3, support 3 -> P = R = F1 = 2/3
    assert dog["precision"] == dog["recall"] == dog["f1"] == pytest.approx(2 / 3)
    # bird: tp 3, predicted 3, support 4
    assert (bird["precision"], bird["recall"]) == (pytest.approx(1.0), pytest.approx(0.75))
    assert bird["f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert r["macro_f1"] == pytest.approx((cat["f1"] + dog["f1"] + bird["f1"]) / 3)
    assert [v["support"] for v in r["per_label"].values()] == [3, 3, 4]


def test_label_never_predicted_and_absent_counts_zero():
    r = classification_report(["a", "a"], ["a", "a"], ["a", "b"])
    assert r["per_label"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert r["macro_f1"] == pytest.approx(0.5)  # as sklearn with zero_division=0


@pytest.mark.parametrize("seed", range(8))
def test_against_scikit_learn(seed):
    from sklearn import metrics as sk

    rng = random.Random(seed)
    labels = ["code", "documentation", "configuration", "data", "test", "build", "other"]
    truth = [rng.choice(labels) for _ in range(200)]
    # a biased predictor: right half the time, never predicts "other"
    pred = [t if rng.random() < 0.5 else rng.choice(labels[:-1]) for t in truth]
    pred = ["build" if p == "other" else p for p in pred]
    ours = classification_report(truth, pred, labels)
    assert ours["confusion_matrix"] == sk.confusion_matrix(truth, pred, labels=labels).tolist()
    assert ours["accuracy"] == pytest.approx(sk.accuracy_score(truth, pred))
    assert ours["macro_f1"] == pytest.approx(sk.f1_score(truth, pred, labels=labels, average="macro", zero_division=0))
    p, r, f, s = sk.precision_recall_fscore_support(truth, pred, labels=labels, zero_division=0)
    for i, lab in enumerate(labels):
        assert ours["per_label"][lab]["precision"] == pytest.approx(p[i])
        assert ours["per_label"][lab]["recall"] == pytest.approx(r[i])
        assert ours["per_label"][lab]["f1"] == pytest.approx(f[i])
        assert ours["per_label"][lab]["support"] == s[i]


def test_mismatched_lengths_rejected():
    with pytest.raises(ValueError):
        confusion_matrix(["a"], [], ["a"])


def test_percentile_matches_numpy():
    rng = random.Random(1)
    xs = [rng.expovariate(1.0) for _ in range(37)]
    for q in (0, 5, 50, 95, 100):
        assert percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)))
    assert math.isnan(percentile([], 50))


def test_recall_and_mrr_by_hand():
    ranked = [["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"]]
    relevant = [["a"], ["a", "b"], ["x"]]
    assert recall_at_k(ranked, relevant, 1) == pytest.approx((1 + 0 + 0) / 3)
    assert recall_at_k(ranked, relevant, 2) == pytest.approx((1 + 0.5 + 0) / 3)
    assert recall_at_k(ranked, relevant, 3) == pytest.approx((1 + 1 + 0) / 3)
    assert mean_reciprocal_rank(ranked, relevant) == pytest.approx((1 + 1 / 2 + 0) / 3)
