"""``localmodels bench``: the shipped datasets, metrics of a real run on a small subset, the
Markdown table, the chart, the retrieval benchmark, and the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from localmodels.apps.bench import load_dataset, markdown_details, markdown_table, run_bench, write_chart
from localmodels.apps.metrics import classification_report
from localmodels.errors import UsageError
from tiny_models import derived_home, shared_home  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
FILES = ROOT / "datasets" / "files"
LABELS = ["code", "documentation", "configuration", "data", "test", "build", "other"]


def test_files_dataset_is_complete_and_small():
    manifest = json.loads((FILES / "MANIFEST.json").read_text())
    files = manifest["files"]
    assert len(files) >= 300 and manifest["count"] == len(files)
    assert len({f["project"] for f in files}) >= 10
    assert set(Counter(f["label"] for f in files)) == set(LABELS) == set(manifest["labels"])
    total = 0
    for f in files:
        path = FILES / f["path"]
        assert path.is_file(), f["path"]
        assert path.stat().st_size == f["bytes"] <= manifest["truncate_bytes"]
        assert f["licence"] and f["version"] and f["original_path"] and len(f["original_sha256"]) == 64
        total += f["bytes"]
    assert total < 3 * 2**20
    # every project's own licence text ships with its files
    projects = {f["project"] for f in files}
    with_licence = {f["project"] for f in files if f["label"] == "other" and
                    Path(f["path"]).name.upper().startswith(("LICENSE", "COPYING"))}
    assert with_licence == projects


def test_limit_is_stratified():
    _, items, labels = load_dataset("files", limit=14)
    assert labels == LABELS
    assert Counter(i["label"] for i in items) == {lab: 2 for lab in LABELS}
    with pytest.raises(UsageError):
        load_dataset("no-such-dataset")


def test_retrieval_dataset_shape():
    from localmodels.apps.retrieval_bench import load_retrieval

    passages, queries = load_retrieval()
    assert len(queries) >= 50 and len(passages) > len(queries) - 5
    assert all(q["relevant"] for q in queries)


@pytest.fixture(scope="module")
def small_report(tmp_path_factory, derived_home):  # noqa: F811
    import os

    old = os.environ.get("LOCALMODELS_HOME")
    os.environ["LOCALMODELS_HOME"] = str(derived_home)
    try:
        return run_bench(["minilm"], dataset="files", limit=14, latency_sample=3)
    finally:
        if old is None:
            os.environ.pop("LOCALMODELS_HOME", None)
        else:
            os.environ["LOCALMODELS_HOME"] = old


def test_bench_metrics_are_consistent_with_its_predictions(small_report):
    from sklearn import metrics as sk

    (run,) = small_report["runs"]
    assert "error" not in run, run.get("error")
    _, items, _ = load_dataset("files", limit=14)
    truth = {i["path"]: i["label"] for i in items}
    paths = sorted(truth)
    y, p = [truth[k] for k in paths], [run["predictions"][k] for k in paths]
    assert run["accuracy"] == pytest.approx(sk.accuracy_score(y, p))
    assert run["macro_f1"] == pytest.approx(sk.f1_score(y, p, labels=LABELS, average="macro", zero_division=0))
    assert run["confusion_matrix"] == sk.confusion_matrix(y, p, labels=LABELS).tolist()
    assert run["confusion_matrix"] == classification_report(y, p, LABELS)["confusion_matrix"]
    assert sum(map(sum, run["confusion_matrix"])) == 14
    assert len(run["errors"]) == sum(a != b for a, b in zip(y, p))
    assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["p95"] and run["latency_ms"]["n"] == 3
    assert run["files_per_s"] > 0 and run["load_s"] > 0
    assert run["peak_rss_mb"] > 50 and run["model_mb"] > 10
    assert run["cost_per_1000"] == 0.0
    assert run["accuracy"] > 0.4  # the real model on real files: far above chance (1/7)


def test_markdown_and_chart(small_report, tmp_path):
    table = markdown_table(small_report)
    assert table.splitlines()[0].startswith(
        "| Model | Method | Accuracy | Macro-F1 | p50 ms | Files/s | Peak MB | Cost/1000 |")
    assert "| minilm | embedding |" in table
    details = markdown_details(small_report)
    assert "Confusion matrix" in details and "| build |" in details
    png = write_chart(small_report, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_failed_run_is_reported_not_raised(shared_home):
    report = run_bench(["./no-such-model-folder"], dataset="files", limit=7, latency_sample=1)
    (run,) = report["runs"]
    assert "error" in run and "error:" in markdown_table(report)


def test_remote_cost_from_price(monkeypatch):
    from localmodels.apps.bench import _summarise

    raw = {"predictions": {"a": "code"}, "load_s": 0.1, "batch_s": 1.0, "latencies_ms": [10.0],
           "peak_rss_bytes": 2**20, "model_bytes": None, "input_chars": 4000}
    run = _summarise("remote:gpt", "llm", None, raw, {"a": "code"}, LABELS, 2.0)
    # 4000 chars / 4 = 1000 tokens per file; 1000 files = 1M tokens at $2 per million
    assert run["cost_per_1000"] == pytest.approx(2.0)
    assert _summarise("remote:gpt", "llm", None, raw, {"a": "code"}, LABELS, None)["cost_per_1000"] is None


def test_retrieval_bench_on_minilm(shared_home):
    from localmodels.apps.retrieval_bench import markdown_table as rtable
    from localmodels.apps.retrieval_bench import run_retrieval_bench

    report = run_retrieval_bench(["minilm"], limit=20)
    (run,) = report["runs"]
    assert 0.8 <= run["recall@5"] <= run["recall@10"] <= 1.0
    assert run["recall@1"] <= run["recall@5"] and 0 < run["mrr"] <= 1
    assert "| minilm |" in rtable(report)


def test_cli_bench_json_and_outputs(shared_home, tmp_path, cli):
    out, chart = tmp_path / "r.json", tmp_path / "c.png"
    r = cli("bench", "--models", "minilm", "--limit", "7", "--latency-sample", "2", "-o", str(out), "--chart", str(chart))
    assert r.returncode == 0, r.stderr
    assert "| minilm | embedding |" in r.stdout
    saved = json.loads(out.read_text())
    assert saved["n"] == 7 and saved["runs"][0]["accuracy"] >= 0
    assert chart.read_bytes()[:4] == b"\x89PNG"
    r = cli("bench", "--models", "minilm", "--methods", "magic")
    assert r.returncode == 2 and "unknown method" in r.stderr


def test_cli_bench_task_ner_calls_the_ner_bench(monkeypatch, capsys):
    from localmodels.apps import ner_bench
    from localmodels.cli.main import main

    calls = []

    def fake(models, dataset=None, **kw):
        calls.append((models, dataset))
        return {"runs": [], "fake": True}

    monkeypatch.setattr(ner_bench, "run_ner_bench", fake)
    monkeypatch.setattr(ner_bench, "format_ner_bench", lambda report: "NER TABLE")
    assert main(["bench", "--task", "ner", "--models", "spacy-en-sm"]) == 0
    assert calls == [(["spacy-en-sm"], None)]
    assert "NER TABLE" in capsys.readouterr().out
