"""Issue 14: static embeddings (model2vec), derived models, few-shot heads, Magika, the cascade."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from hub_server import hub, hub_session  # noqa: F401  (fixtures: our local Hub on 127.0.0.1)
from localmodels.errors import UsageError
from tiny_models import derived_home, shared_home  # noqa: F401  (fixtures)

pytest.importorskip("model2vec")


def _tiny_static(tmp_path: Path) -> str:
    pytest.importorskip("skeletoken")
    from tests.tiny_models import build

    from localmodels.apps.distill import distill

    folder = build(tmp_path / "tiny", "bert")
    lm = distill(str(folder), name="tiny-static")
    return lm.ref


def test_static_distilled_from_tiny_bert_embeds_verifies_and_heads_reload(tmp_path, cli):
    ref = _tiny_static(tmp_path)
    from localmodels import store
    from localmodels.apps.fewshot import Example, load_head, train_classifier
    from localmodels.runtimes.registry import runtime_for
    from localmodels.runtimes.static import StaticRuntime
    from localmodels.tasks.embed import embed

    enc = runtime_for(ref, "encoder")
    assert isinstance(enc, StaticRuntime)
    vecs = embed(["Barack Obama visited Paris.", "The stock market fell."], model=ref)
    assert vecs.shape == (2, enc.dims()) and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    texts = ["Barack Obama visited Paris.", "The stock market fell."]  # tokens: counted when read (usage)
    assert list(enc.embed_batch(texts).tokens) == [len(ids) for ids in enc.static.tokenize(texts)]
    made = store.resolve(ref).metadata["derived"]
    assert made["kind"] == "static" and len(made["teacher"]["digest"]) == 64
    assert all(c.ok for c in store.verify(ref))

    exs = [Example("places", "Paris is in France"), Example("places", "Berlin is in Germany"),
           Example("money", "the stock market fell"), Example("money", "the central bank raised rates")]
    head = train_classifier(exs, model=ref, name="tiny-head")
    texts = ["museums in Berlin", "interest rates and stocks"]
    again = load_head("derived:tiny-head")
    assert np.array_equal(head.predict(texts), again.predict(texts))  # bit-identical after reload
    assert again.meta["examples_digest"] == head.meta["examples_digest"]
    assert store.resolve("derived:tiny-head").metadata["derived"]["parent"]["ref"] == ref

    # classify --model derived:tiny-head uses the head's own categories (CLI, as a user runs it)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "note.txt").write_text("The bank raised interest rates again.\n")
    out = tmp_path / "r.json"
    r = cli("classify", "-i", str(tmp_path / "in"), "-o", str(out), "--model", "derived:tiny-head", "--json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(out.read_text())["files"][0]
    assert set(rec["scores"]) == {"places", "money"}


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_bad_examples_give_clear_errors(tmp_path, cli):
    from localmodels.apps.fewshot import check_examples, read_examples

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(UsageError, match="is empty"):
        read_examples(empty)
    one = read_examples(_jsonl(tmp_path / "one.jsonl", [{"text": "a", "label": "x"}, {"text": "b", "label": "x"}]))
    with pytest.raises(UsageError, match="one category"):
        check_examples(one)
    few_file = _jsonl(tmp_path / "few.jsonl", [{"text": "a", "label": "x"}, {"text": "b", "label": "x"},
                                               {"text": "c", "label": "y"}])
    with pytest.raises(UsageError, match=r"fewer than 2 examples for: y \(1\)"):
        check_examples(read_examples(few_file))
    two = read_examples(_jsonl(tmp_path / "two.jsonl", [{"text": t, "label": lab} for t, lab in
                                                         (("a", "x"), ("b", "x"), ("c", "y"), ("d", "y"))]))
    with pytest.raises(UsageError, match="not in the category set: y"):
        check_examples(two, ["x", "z"])
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 40)
    binary = _jsonl(tmp_path / "bin.jsonl", [{"path": "blob.bin", "label": "x"}])
    with pytest.raises(UsageError, match="blob.bin cannot be used"):
        read_examples(binary)
    # the same through the CLI: exit code 2-ish and the message on stderr, no traceback
    r = cli("train-classifier", "--examples", str(empty), "--name", "h")
    assert r.returncode != 0 and "is empty" in r.stderr and "Traceback" not in r.stderr
    r = cli("train-classifier", "--examples", str(few_file), "--name", "h")
    assert r.returncode != 0 and "fewer than 2 examples" in r.stderr


def test_magika_on_real_files_of_known_types(tmp_path):
    pytest.importorskip("magika")
    from localmodels.runtimes.filetype import FileTypes, category_evidence

    root = Path(__file__).resolve().parents[1]
    names = ["code", "documentation", "configuration", "data"]
    ft = FileTypes()
    src = root / "src" / "localmodels" / "apps" / "cascade.py"
    readme = root / "datasets" / "files" / "README.md"
    got = ft.detect([src, readme, root / "src" / "localmodels" / "registry" / "catalog.json"])
    assert [g.label for g in got] == ["python", "markdown", "json"]
    assert category_evidence(got[0], names)[0] == "code"
    assert category_evidence(got[1], names)[0] == "documentation"
    assert category_evidence(got[2], names)[0] == "data"
    assert ft.detect_bytes(b"[tool.ruff]\nline-length = 120\n[tool.pytest.ini_options]\naddopts = '-q'\n").label \
        in ("toml", "ini")


class _Fixed:
    """A stand-in stage that returns constructed probability rows (by path)."""

    def __init__(self, rows: dict[str, dict[str, float]], label: str) -> None:
        self.rows, self.model_label, self.seen = rows, label, []

    def classify(self, docs, progress=None):
        from localmodels.apps._report import FileResult

        self.seen += [d.path for d in docs]
        out = []
        for d in docs:
            s = self.rows[d.path]
            best = max(s, key=s.__getitem__)
            out.append(FileResult(d.path, best, s[best], dict(s), self.model_label, "embedding", 0.0))
        return out


def test_cascade_escalates_exactly_the_low_margin_files():
    from localmodels.apps._report import Document
    from localmodels.apps.cascade import CascadeClassifier, margin

    cheap = {"a": {"x": 0.90, "y": 0.10}, "b": {"x": 0.55, "y": 0.45}, "c": {"x": 0.30, "y": 0.70},
             "d": {"x": 0.49, "y": 0.51}, "e": {"x": 0.64, "y": 0.36}}
    costly = {p: {"x": 0.0, "y": 1.0} if p != "e" else {"x": 1.0, "y": 0.0} for p in cheap}
    c = CascadeClassifier.__new__(CascadeClassifier)
    c.cheap, c.expensive = _Fixed(cheap, "static"), _Fixed(costly, "minilm")
    c.threshold, c.filetype, c.esc_method, c.model, c.names = 0.3, "off", "embedding", "static", ["x", "y"]
    docs = [Document(p, "text") for p in cheap]
    out = {r.path: r for r in c.classify(docs)}
    low = sorted(p for p, s in cheap.items() if margin(s) < 0.3)
    assert low == ["b", "d", "e"] and sorted(c.expensive.seen) == low and c.last_escalated == 3
    assert out["a"].category == "x" and out["a"].method == "cascade"
    assert out["b"].category == "y" and out["b"].method == "cascade>embedding"
    assert "margin 0.100 < 0.3" in out["b"].evidence[-1]
    assert out["c"].method == "cascade" and out["e"].category == "x"


def _small_tree(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "bank.py").write_text("def raise_rates(bank):\n    bank.rate += 0.25\n    return bank.rate\n")
    (root / "NOTES.txt").write_text("The bank raised interest rates again; markets fell.\n")
    return root


def test_default_method_without_the_static_twin_falls_back_with_a_one_line_notice(tmp_path, shared_home, cli):
    """No derived:minilm-static and no auto-distilling: --method embedding, and one line says how to get the fast path."""
    tree = _small_tree(tmp_path / "tree")
    out = tmp_path / "r.json"
    r = cli("classify", "-i", str(tree), "-o", str(out), "--json",
            env={"LOCALMODELS_AUTO_DISTILL": "0", "LOCALMODELS_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "--method embedding" in notes[0] and "localmodels distill minilm" in notes[0], r.stderr
    assert json.loads(r.stdout)["method"] == "embedding"
    assert {f["method"] for f in json.loads(out.read_text())["files"]} == {"embedding"}


def test_default_method_is_the_cascade_when_the_static_twin_is_in_the_store(tmp_path, cli):
    """With derived:minilm-static in the store (here distilled from a tiny BERT), no --method means the cascade."""
    ref = _tiny_static(tmp_path)
    from localmodels.apps.distill import install_folder
    from localmodels.sources.derived import derived_folder

    twin = tmp_path / "twin"  # the tiny static model, under the default twin's name
    shutil.copytree(derived_folder(ref.split(":", 1)[1]), twin)
    install_folder(twin, "minilm-static", json.loads((twin / "derived.json").read_text()))
    tree = _small_tree(tmp_path / "tree")
    out = tmp_path / "r.json"
    # custom categories: the static model's prototypes (the shipped head belongs to the real twin)
    r = cli("classify", "-i", str(tree), "-o", str(out), "--categories", "code,money", "--json",
            env={"LOCALMODELS_AUTO_DISTILL": "0"})
    assert r.returncode == 0, r.stderr
    assert "note:" not in r.stderr and json.loads(r.stdout)["method"] == "cascade"
    recs = json.loads(out.read_text())["files"]
    assert len(recs) == 2 and all(f["method"] in ("cascade", "cascade>embedding") for f in recs)
    assert json.loads(r.stdout)["escalated"] == sum(f["method"] == "cascade>embedding" for f in recs)
    assert {f["model"] for f in recs if f["method"] == "cascade"} <= {"derived:minilm-static"}
    # --threshold alone asks for the cascade too; the Python API takes method="auto"
    r = cli("classify", "-i", str(tree), "-o", str(out), "--categories", "code,money", "--threshold", "0", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["method"] == "cascade", r.stderr
    from localmodels.apps._categories import parse_categories
    from localmodels.apps.classify import classify_paths

    report = classify_paths([tree], method="auto", categories=parse_categories("code,money"))
    assert report.method == "cascade" and len(report.files) == 2


@pytest.mark.slow
def test_default_classify_distills_the_real_minilm_once_then_runs_the_cascade(tmp_path):
    """torch installed, no static twin: the first default classify distills derived:minilm-static from the real
    all-MiniLM-L6-v2 (PyPI carrier) once, with a notice; similar sentences stay closer than unrelated ones."""
    pytest.importorskip("skeletoken")
    from tests.conftest import run_cli

    from localmodels import store
    from localmodels.apps.distill import model_digest
    from localmodels.tasks.embed import embed

    root = Path(__file__).resolve().parents[1] / "datasets" / "files" / "click-8.1.7"
    picks = [p for p in sorted(root.rglob("*")) if p.is_file()][:6]
    out = tmp_path / "r.json"
    env = {"OMP_NUM_THREADS": "2", "LOCALMODELS_AUTO_DISTILL": "1"}
    r = run_cli("classify", *map(str, picks), "-o", str(out), "--json", env=env, timeout=1800)
    assert r.returncode == 0, r.stderr
    assert "note: distilling derived:minilm-static from minilm once" in r.stderr
    recs = json.loads(out.read_text())["files"]
    assert len(recs) == len(picks) and all(x["method"].startswith("cascade") for x in recs)
    assert all(x["model"] == "derived:files-head" for x in recs if x["method"] == "cascade")
    again = run_cli("classify", *map(str, picks), "-o", str(out), "--json", env=env)
    assert again.returncode == 0 and "note:" not in again.stderr and json.loads(again.stdout)["method"] == "cascade"

    lm = store.resolve("derived:minilm-static")  # the recipe the shipped head was trained on
    made = lm.metadata["derived"]
    assert made["teacher"]["digest"] == model_digest(store.resolve("minilm"))
    v = embed(["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply."],
              model=lm.ref)
    assert v.shape == (3, 256) and v[0] @ v[1] > v[0] @ v[2] + 0.1
    assert all(c.ok for c in store.verify(lm.ref))


def test_potion_catalog_entry_pulls_from_a_hub_and_embeds(tmp_path, hub):  # noqa: F811  (fixture)
    """The catalog's potion models pull like any Hub model (here from our local Hub) and run static."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    from localmodels import store
    from localmodels.runtimes.registry import runtime_for
    from localmodels.runtimes.static import StaticRuntime
    from localmodels.tasks.embed import embed

    vocab = {"[UNK]": 0, "[PAD]": 1, "hello": 2, "world": 3, "paris": 4, "france": 5}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    vectors = np.random.default_rng(0).standard_normal((len(vocab), 8)).astype(np.float32)
    folder = tmp_path / "potion"
    StaticModel(vectors=vectors, tokenizer=tok).save_pretrained(str(folder))
    config = json.loads((folder / "config.json").read_text())  # as the Hub's potion repos have it
    (folder / "config.json").write_text(json.dumps({"model_type": "model2vec", "architectures": ["StaticModel"],
                                                    **config}))
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(files)
    hub.add_repo("minishlab/potion-base-8M", files)
    lm = store.pull("potion-8m")
    assert isinstance(runtime_for("potion-8m", "encoder"), StaticRuntime)
    v = embed(["hello world", "paris france"], model="potion-8m")
    assert v.shape == (2, 8) and lm.name == "minishlab/potion-base-8M"


def test_10k_benchmark_runs_the_cli_on_a_copied_tree_and_reports_its_figures(tmp_path, shared_home):
    """benchmarks/classify_10k.py, small: it copies real text files, runs the default classify as a user does and
    prints files/s, share escalated, peak RSS and the load average (no speed asserted: benchmarks print ratios)."""
    import subprocess
    import sys

    from conftest import ROOT

    out = tmp_path / "fig.json"
    env = {**os.environ, "LOCALMODELS_AUTO_DISTILL": "0"}
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "classify_10k.py"), "--files", "12",
                        "--source", str(ROOT / "examples"), "--json", str(out)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    fig = json.loads(out.read_text())
    assert fig["files_classified"] == 12 and fig["method"] == "embedding" and "distill minilm" in fig["notice"]
    for key in ("wall_s", "files_per_s", "escalated_share", "peak_rss_mb", "ratio_to_60s_goal",
                "loadavg_1m_before_after", "cpu_s"):
        assert key in fig
    assert "x the 60 s goal" in r.stdout and "load average" in r.stdout
