"""The NER benchmark: metric code against hand-computed cases, the shipped data set, a real run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from localmodels.apps import ner_bench as nb
from localmodels.errors import UsageError


def test_exact_match_hand_computed():
    gold = [(0, 12, "PERSON"), (21, 26, "LOC"), (30, 34, "DATE")]
    pred = [(0, 12, "PERSON"), (21, 26, "ORG"), (29, 34, "DATE"), (40, 45, "LOC")]
    counts = nb.match_exact(gold, pred)
    assert (counts["PERSON"].tp, counts["PERSON"].fp, counts["PERSON"].fn) == (1, 0, 0)
    assert (counts["LOC"].tp, counts["LOC"].fp, counts["LOC"].fn) == (0, 1, 1)
    assert (counts["ORG"].tp, counts["ORG"].fp, counts["ORG"].fn) == (0, 1, 0)
    assert (counts["DATE"].tp, counts["DATE"].fp, counts["DATE"].fn) == (0, 1, 1)
    s = nb.score([gold], [pred])
    # exact: tp 1, fp 3, fn 2 -> P 1/4, R 1/3, F1 2/7
    assert s["overall"]["exact"] == {"precision": 0.25, "recall": 0.3333, "f1": 0.2857, "tp": 1, "fp": 3, "fn": 2}
    # partial: PERSON and DATE (29-34 overlaps 30-34) match; LOC/ORG label errors do not
    # tp 2, fp 2 (ORG, LOC 40-45), fn 1 (LOC 21-26) -> P 1/2, R 2/3, F1 4/7
    assert s["overall"]["partial"] == {"precision": 0.5, "recall": 0.6667, "f1": 0.5714, "tp": 2, "fp": 2, "fn": 1}
    assert s["per_label"]["DATE"]["partial"]["f1"] == 1.0 and s["per_label"]["DATE"]["exact"]["f1"] == 0.0


def test_partial_match_is_one_to_one_largest_overlap_first():
    gold = [(0, 10, "ORG"), (12, 20, "ORG")]
    pred = [(0, 20, "ORG")]  # one wide prediction covering two gold entities counts once
    c = nb.match_partial(gold, pred)["ORG"]
    assert (c.tp, c.fp, c.fn) == (1, 0, 1)
    c = nb.match_partial([(0, 10, "ORG")], [(0, 4, "ORG"), (2, 10, "ORG")])["ORG"]  # 8 chars beat 4
    assert (c.tp, c.fp, c.fn) == (1, 1, 0)
    assert nb.match_partial([(0, 5, "X")], [(5, 9, "X")])["X"].tp == 0  # touching is not overlapping


def test_empty_documents_and_duplicates():
    s = nb.score([[], [(0, 1, "A")]], [[], [(0, 1, "A"), (0, 1, "A")]])
    assert s["overall"]["exact"]["tp"] == 1 and s["overall"]["exact"]["fp"] == 1
    assert nb.Counts().f1 == 0.0


def test_shipped_dataset_is_valid_and_reproducible():
    items = nb.load_dataset()
    assert len([it for it in items if it["domain"] != "long"]) >= 100
    assert {"news", "bio", "legal", "code", "social", "hard", "long"} <= {it["domain"] for it in items}
    for it in items:
        for e in it["entities"]:
            assert it["text"][e["start"] : e["end"]] == e["text"]
            assert e["label"] in {"PERSON", "ORG", "LOC", "NORP", "DATE", "TIME", "MONEY", "PERCENT", "EVENT",
                                  "PRODUCT", "LAW", "WORK_OF_ART", "LANGUAGE"}
    assert any(not it["text"].isascii() for it in items) and any(it["text"].isupper() for it in items)
    assert max(len(it["text"].split()) for it in items) > 384  # crosses GLiNER's window
    built = subprocess.run([sys.executable, "-c", "import build, json; print(json.dumps(build.build()))"],
                           cwd=nb.default_dataset().parent, capture_output=True, text=True, check=True)
    assert json.loads(built.stdout) == items  # the JSONL is exactly what build.py makes from sentences.md


def test_bad_dataset_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "Paris", "entities": [{"start": 0, "end": 3, "label": "LOC", "text": "Paris"}]}))
    with pytest.raises(UsageError, match="bad.jsonl:1"):
        nb.load_dataset(bad)
    with pytest.raises(UsageError, match="not found"):
        nb.load_dataset(tmp_path / "missing.jsonl")


def test_run_bench_on_spacy_and_format(tmp_path):
    data = tmp_path / "mini.jsonl"
    rows = [
        {"id": "1", "domain": "news", "text": "Barack Obama visited Paris in 2015.",
         "entities": [{"start": 0, "end": 12, "label": "PERSON"}, {"start": 21, "end": 26, "label": "LOC"},
                      {"start": 30, "end": 34, "label": "DATE"}]},
        {"id": "2", "domain": "news", "text": "Angela Merkel lives in Berlin.",
         "entities": [{"start": 0, "end": 13, "label": "PERSON"}, {"start": 23, "end": 29, "label": "ORG"}]},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = nb.run_ner_bench(["spacy-en-sm"], data)
    m = result["models"][0]
    assert result["dataset"]["entities"] == 5 and not m["zero_shot"]
    # spaCy finds all five spans; "Berlin" is LOC, not the ORG of the (deliberately wrong) gold
    assert m["overall"]["exact"] == {"precision": 0.8, "recall": 0.8, "f1": 0.8, "tp": 4, "fp": 1, "fn": 1}
    assert m["per_label"]["ORG"]["exact"]["fn"] == 1 and m["per_label"]["LOC"]["exact"]["fp"] == 1
    assert m["latency_ms"]["p50"] > 0 and m["throughput"]["texts_per_s"] > 0
    text = nb.format_ner_bench(result)
    assert "| spacy-en-sm | 0.800 | 0.800 | 0.800 |" in text and "### spacy-en-sm: per label" in text
