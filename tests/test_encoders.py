"""Encoder tasks (embed, search, rerank, zero-shot) on ONNX Runtime.

Tiny random models of every architecture in :mod:`tiny_models` are checked against transformers
(torch) run on the same files; search and embedding zero-shot run on the real all-MiniLM-L6-v2
(its PyPI carrier); the CLI commands run as subprocesses. Plain embedding checks of MiniLM against
sentence-transformers are in ``test_onnx_minilm.py``.
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

import localmodels as lm
from localmodels.errors import UsageError
from localmodels.runtimes.onnx import TruncationWarning
from localmodels.runtimes.onnx.sequence_classification import classify_sequences
from localmodels.store._model import LocalModel
from localmodels.tasks._index import build_index, default_index_dir
from localmodels.tasks.rerank import BiEncoderFallbackWarning
from localmodels.tasks.zero_shot import nli_indices
from tiny_models import (  # noqa: F401
    ARCHITECTURES,
    NLI_LABELS,
    build,
    derived_home,
    shared_home,
    tiny_root,
    torch_forward,
)

TEXTS = [
    "Barack Obama visited Paris in 2015 and met the French president.",
    "Cook the pasta.",
    "Microsoft and Google compete in cloud computing, search and artificial intelligence, "
    "and the stock market fell sharply today after the central bank raised interest rates.",
    "Berlin",
    "The quick brown fox jumps over the lazy dog near the river bank.",
]
PAIRS = [
    ("A man is eating food.", "A man is eating a piece of bread."),
    ("The football team won the championship.", "This text is about sports."),
    ("Angela Merkel was the chancellor of Germany for sixteen years.",
     "Berlin is well known for its museums."),
    ("She flew from New York to Tokyo.", "Nobody travelled."),
]
LABELS = ["sports", "politics", "technology"]
TEMPLATE = "This text is about {}."
# transformers' zero-shot pipeline on every architecture would cost ~1 s each; two cover the maths
# (shared by all), the logits themselves are compared on all architectures.
PIPELINE_ARCHS = ("bert", "roberta", "modernbert")
# ONNX Runtime vs torch on the tiny models: logits differ by < 1e-6 (5e-6 on logits of ~15). The tiny
# tokenizers are retrained per session (not bit-for-bit the same), and random heads give close scores,
# so tolerances are tight and orders are compared up to ties.
TOL = {"atol": 2e-6, "rtol": 1e-5}


@pytest.fixture(autouse=True)
def _home(shared_home):  # noqa: F811
    return shared_home


def _local(folder) -> LocalModel:
    return LocalModel(ref=str(folder), name=folder.name, path=folder, source="local")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# -- tiny models of every architecture, against transformers -------------------------------------------


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_embeddings_equal_mean_pooled_torch(arch, tiny_root):  # noqa: F811
    folder = build(tiny_root, arch, "base")
    model = _local(folder)
    ref = np.stack([h.mean(axis=0) for h in torch_forward(folder, TEXTS)])  # one text at a time: no padding
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    batched = lm.embed(TEXTS, model=model)  # one padded batch of very different lengths
    assert batched.shape == (len(TEXTS), 32) and batched.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    cos = (batched * ref).sum(axis=1)
    assert cos.min() >= 0.9999, cos
    one_by_one = lm.embed(TEXTS, model=model, batch_size=1)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    np.testing.assert_allclose(lm.embed(TEXTS[1], model=model), batched[1], atol=1e-5)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_nli_logits_and_zero_shot_equal_transformers(arch, tiny_root):  # noqa: F811
    folder = build(tiny_root, arch, "sequence-classification")
    model = _local(folder)
    hyps = [TEMPLATE.format(x) for x in LABELS]
    pairs = [(TEXTS[0], h) for h in hyps] + PAIRS
    ours = classify_sequences(model, pairs, batch_size=3)  # padded batches, sorted by length
    ref = torch_forward(folder, [p for p, _ in pairs], [h for _, h in pairs])  # one pair at a time
    assert ours.shape == (len(pairs), len(NLI_LABELS))
    np.testing.assert_allclose(ours, ref, **TOL)
    # random heads give small logits: the rows must still differ by far more than the tolerance, so a
    # mix-up of rows, of the pair order or of the padding would show
    assert np.ptp(ref, axis=0).max() > 20 * TOL["atol"]
    assert not np.allclose(ours, ref[::-1], **TOL)
    swapped = classify_sequences(model, [(h, p) for p, h in pairs])
    assert not np.allclose(swapped, ref, **TOL)
    # zero-shot NLI = transformers' zero-shot formulas on these logits (single: softmax of the entailment
    # logits across labels; multi-label: per label, softmax over [contradiction, entailment])
    entail, contra = NLI_LABELS.index("entailment"), NLI_LABELS.index("contradiction")
    logits = ref[: len(LABELS)]
    single = lm.zero_shot(TEXTS[0], LABELS, model=model, method="nli")
    np.testing.assert_allclose([single.scores[x] for x in LABELS], _softmax(logits[:, entail]), **TOL)
    multi = lm.zero_shot(TEXTS[0], LABELS, model=model, method="nli", multi_label=True)
    np.testing.assert_allclose([multi.scores[x] for x in LABELS],
                               _softmax(logits[:, [contra, entail]], axis=1)[:, 1], **TOL)
    if arch in PIPELINE_ARCHS:  # single texts (no pair) work too
        singles = classify_sequences(model, [p for p, _ in PAIRS])
        ref_singles = torch_forward(folder, [p for p, _ in PAIRS])
        np.testing.assert_allclose(singles, ref_singles, **TOL)


def _zero_shot_pipeline(folder):
    from transformers import AutoTokenizer, pipeline

    kw = {}
    if folder.name.split("-")[0] in ("distilbert", "mpnet", "modernbert"):
        # these use a BERT tokenizer here, whose token_type_ids their models reject
        kw["model_input_names"] = ["input_ids", "attention_mask"]
    tokenizer = AutoTokenizer.from_pretrained(str(folder), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline("zero-shot-classification", model=str(folder), tokenizer=tokenizer, device="cpu")


@pytest.mark.parametrize("arch", PIPELINE_ARCHS)
def test_zero_shot_nli_equals_transformers_pipeline(arch, tiny_root):  # noqa: F811
    folder = build(tiny_root, arch, "sequence-classification")
    model = _local(folder)
    nlp = _zero_shot_pipeline(folder)
    texts = [TEXTS[0], TEXTS[2]]
    for multi in (False, True):
        ours = lm.zero_shot(texts, LABELS, model=model, method="nli", hypothesis_template=TEMPLATE,
                            multi_label=multi, threshold=0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = nlp(texts, LABELS, hypothesis_template=TEMPLATE, multi_label=multi)
        for res, o in zip(ours, out):
            theirs = dict(zip(o["labels"], o["scores"]))
            assert res.method == "nli" and set(res.scores) == set(LABELS)
            np.testing.assert_allclose([res.scores[x] for x in LABELS], [theirs[x] for x in LABELS],
                                       **TOL)
            # (random heads give near ties, so compare the winner's score, not its name)
            assert theirs[res.label] == pytest.approx(max(theirs.values()), abs=TOL["atol"])
            if multi:
                assert res.labels == [x for x in LABELS if res.scores[x] >= 0.5]
            else:
                assert abs(sum(res.scores.values()) - 1.0) < 1e-5 and res.labels == [res.label]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_rerank_cross_encoder_equals_torch(arch, tiny_root):  # noqa: F811
    folder = build(tiny_root, arch, "cross-encoder")
    query = "Who was the chancellor of Germany?"
    docs = list(TEXTS) + ["Angela Merkel was the chancellor of Germany for sixteen years."]
    with warnings.catch_warnings():
        warnings.simplefilter("error", BiEncoderFallbackWarning)  # a cross-encoder: no cosine fallback
        results = lm.rerank(query, docs, model=_local(folder), batch_size=4)
    logits = torch_forward(folder, [query] * len(docs), docs)  # (n, 1)
    # one logit and no activation in the config: sigmoid, as sentence-transformers' CrossEncoder does
    expected = _sigmoid(logits[:, 0])
    assert sorted(r.index for r in results) == list(range(len(docs)))
    assert all(r.text == docs[r.index] for r in results)
    np.testing.assert_allclose([r.score for r in results], expected[[r.index for r in results]], **TOL)
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True) and np.ptp(scores) > 0
    ranked = expected[[r.index for r in results]]  # transformers' scores in our order: descending, up to ties
    assert (np.diff(ranked) <= TOL["atol"]).all(), ranked
    top = lm.rerank(query, docs, model=_local(folder), top_n=2)
    assert [(r.index, r.score) for r in top] == [(r.index, r.score) for r in results[:2]]


# -- search on the real MiniLM -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def minilm():
    return lm.resolve("minilm")


QUERY = "How do I bake bread at home?"
CORPUS = [
    "The stock market fell sharply today after the central bank raised interest rates.",
    "To bake bread at home, mix flour, water, yeast and salt, let the dough rise, "
    "then bake it in a hot oven.",
    "To bake bread at home, mix flour, water, yeast and salt, let the dough rise, "
    "then bake it in a hot oven!",
    "To bake bread at home: mix flour, water, yeast and salt, let the dough rise, and bake it in a hot oven.",
    "Sourdough uses a starter of wild yeast instead of dried yeast, which gives the loaf a sour taste.",
    "Preheat the oven to 230 degrees Celsius and put a tray of water in it so the crust gets crisp.",
    "The football team won the championship after a dramatic penalty shootout.",
    "Berlin is well known for its museums, its history and its night life.",
    "Kneading develops gluten, which lets homemade dough hold the gas from the yeast.",
    "A cat sleeps on the warm windowsill all afternoon.",
]
DUPLICATES = {1, 2, 3}


def test_cosine_search_finds_the_relevant_passage(minilm, tmp_path):
    hits = lm.search("Who won the championship?", CORPUS, k=3, model=minilm, index=tmp_path / "idx")
    assert [type(h).__name__ for h in hits] == ["SearchHit"] * 3
    assert hits[0].index == 6 and hits[0].text == CORPUS[6]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    q = lm.embed("Who won the championship?", model=minilm)
    assert hits[0].score == pytest.approx(float(lm.embed(CORPUS[6], model=minilm) @ q), abs=1e-4)
    # k larger than the corpus: every passage once
    every = lm.search("bread", CORPUS, k=50, model=minilm, index=False)
    assert sorted(h.index for h in every) == list(range(len(CORPUS)))


def test_mmr_and_dartboard_avoid_near_duplicates(minilm, tmp_path):
    k = 3
    cos = lm.search(QUERY, CORPUS, k=k, model=minilm, index=tmp_path / "idx")
    assert {h.index for h in cos} == DUPLICATES  # plain cosine takes the three copies (pairwise cos > 0.96)
    # dartboard's default kernel (sigma=0.1) is so narrow that copies this close still win over passages
    # half as similar to the query; a wider one trades them for the other passages about baking
    for method, kw in (("mmr", {}), ("dartboard", {"sigma": 0.2})):
        hits = lm.search(QUERY, CORPUS, k=k, method=method, model=minilm, index=tmp_path / "idx", **kw)
        idx = [h.index for h in hits]
        assert len(idx) == k == len(set(idx)), (method, idx)
        assert idx[0] in DUPLICATES  # the most relevant passage still comes first
        assert len(set(idx) & DUPLICATES) == 1, (method, idx)  # and no second copy of it
        assert all(h.text == CORPUS[h.index] for h in hits)
        if method == "dartboard":
            assert set(idx[1:]) <= {4, 5, 8}, idx  # relevant, not merely different
    # exact copies: no copy adds information, so dartboard skips them with its default sigma too
    exact = [CORPUS[0]] + [CORPUS[1]] * 3 + CORPUS[4:]
    assert {h.index for h in lm.search(QUERY, exact, k=k, model=minilm, index=False)} == DUPLICATES
    for method in ("mmr", "dartboard"):
        idx = [h.index for h in lm.search(QUERY, exact, k=k, method=method, model=minilm, index=False)]
        assert len(set(idx)) == k and len(set(idx) & DUPLICATES) == 1, (method, idx)
    dart = [h.index for h in lm.search(QUERY, exact, k=k, method="dartboard", model=minilm, index=False)]
    assert set(dart[1:]) <= {4, 5, 8}, dart


def test_index_is_written_once_and_rebuilt_for_a_new_corpus(minilm, tmp_path):
    folder = tmp_path / "idx"
    first = build_index(CORPUS, model=minilm, path=folder)
    assert not first.reused and first.path == folder
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "embeddings.npy", "meta.json", "texts.json"]
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["count"] == len(CORPUS) and meta["dims"] == 384 and meta["key"] == first.key
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = build_index(CORPUS, model=minilm, path=folder)
    assert again.reused and again.key == first.key
    np.testing.assert_array_equal(again.vectors, first.vectors)
    lm.search(QUERY, CORPUS, model=minilm, index=folder)  # search reuses it too
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps  # nothing rewritten
    changed = CORPUS[:-1] + ["A dog sleeps on the warm windowsill all afternoon."]
    new = build_index(changed, model=minilm, path=folder)
    assert not new.reused and new.key != first.key
    assert json.loads((folder / "meta.json").read_text())["key"] == new.key
    assert build_index(changed, model=minilm, path=folder).reused
    # the default location is keyed by corpus + model; index=False writes nothing
    default = build_index(CORPUS, model=minilm)
    assert default.path == default_index_dir(first.key) and (default.path / "meta.json").is_file()
    other = ["only in memory"]
    mem = build_index(other, model=minilm, persist=False)
    assert mem.path is None and not default_index_dir(mem.key).exists()
    lm.search("memory", other, model=minilm, index=False)
    assert not default_index_dir(mem.key).exists()


def test_search_arguments(minilm):
    with pytest.raises(UsageError, match="k must be"):
        lm.search(QUERY, CORPUS, k=0, model=minilm)
    with pytest.raises(UsageError, match="unknown search method"):
        lm.search(QUERY, CORPUS, method="bm25", model=minilm)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="sigma"):
        lm.search(QUERY, CORPUS, method="dartboard", sigma=0, model=minilm, index=False)
    with pytest.raises(UsageError):
        lm.search(QUERY, ["ok", 3], model=minilm)  # type: ignore[list-item]
    assert lm.search(QUERY, [], model=minilm) == []


# -- zero-shot by embedding similarity on MiniLM ------------------------------------------------------


def test_zero_shot_embedding_picks_the_obvious_label(minilm):
    texts = ["The striker scored twice and the team won the cup final.",
             "The parliament passed the new law after a long debate between the parties.",
             "The new laptop has a faster processor and more memory."]
    results = lm.zero_shot(texts, LABELS, model=minilm)
    assert [r.label for r in results] == LABELS
    for r in results:
        assert r.method == "embedding" and list(r.scores) == LABELS
        assert abs(sum(r.scores.values()) - 1.0) < 1e-5 and r.labels == [r.label]
        assert r.score == max(r.scores.values()) > 0.5
    one = lm.zero_shot(texts[0], "sports, politics, technology", model=minilm)
    assert one.label == "sports" and one.scores == pytest.approx(results[0].scores, abs=1e-6)
    # multi-label scores are clipped cosines (MiniLM gives ~0.15-0.25 for a matching label sentence)
    multi = lm.zero_shot(texts[0], LABELS, model=minilm, multi_label=True, threshold=0.1)
    assert multi.labels == ["sports"] and multi.label == "sports"
    q, h = lm.embed(texts[0], model=minilm), lm.embed([TEMPLATE.format(x) for x in LABELS], model=minilm)
    np.testing.assert_allclose([multi.scores[x] for x in LABELS], np.clip(h @ q, 0, 1), atol=1e-5)
    assert lm.zero_shot(texts[0], LABELS, model=minilm, multi_label=True).labels == []  # none reach 0.5
    assert all(0.0 <= s <= 1.0 for s in multi.scores.values()) and sum(multi.scores.values()) < 1.5
    # a label description replaces the template sentence
    desc = lm.zero_shot(texts[2], ["a", "b"], model=minilm,
                        descriptions={"a": "This text is about cooking.",
                                      "b": "This text is about computers."})
    assert desc.label == "b"


def test_zero_shot_arguments_and_non_nli_models(minilm, tiny_root):  # noqa: F811
    with pytest.raises(UsageError, match="no labels"):
        lm.zero_shot("x", [], model=minilm)
    with pytest.raises(UsageError, match="repeated"):
        lm.zero_shot("x", ["a", "a"], model=minilm)
    with pytest.raises(UsageError, match="no '\\{\\}'"):
        lm.zero_shot("x", ["a", "b"], model=minilm, hypothesis_template="About things.")
    with pytest.raises(UsageError, match="unknown method"):
        lm.zero_shot("x", ["a", "b"], model=minilm, method="magic")  # type: ignore[arg-type]
    assert nli_indices({"label2id": {"CONTRADICTION": 0, "NEUTRAL": 1, "ENTAILMENT": 2}}) == (2, 0)
    # two-class NLI (entailment first): multi-label compares with the other class, as transformers does
    assert nli_indices({"id2label": {"0": "entailment", "1": "not_entailment"}}) == (0, 1)
    assert nli_indices({"label2id": {"not_entailment": 0, "entailment": 1}}) == (1, 0)
    assert nli_indices({"id2label": {"0": "neutral", "1": "entailment", "2": "contradiction"}}) == (1, 2)
    with pytest.raises(UsageError, match="no 'entailment' label"):
        nli_indices({"label2id": {"LABEL_0": 0, "LABEL_1": 1}})
    with pytest.raises(UsageError, match="no 'entailment' label"):
        nli_indices({})
    cross = _local(build(tiny_root, "bert", "cross-encoder"))  # one output, LABEL_0: not an NLI model
    with pytest.raises(UsageError, match="not an NLI model"):
        lm.zero_shot("x", ["a", "b"], model=cross, method="nli")


# -- bad input ------------------------------------------------------------------------------------------


def test_empty_inputs(minilm, tiny_root):  # noqa: F811
    nli = _local(build(tiny_root, "bert", "sequence-classification"))
    cross = _local(build(tiny_root, "bert", "cross-encoder"))
    assert lm.rerank("q", [], model=cross) == []
    assert lm.zero_shot([], LABELS, model=minilm) == []
    assert lm.zero_shot([], LABELS, model=nli, method="nli") == []
    assert classify_sequences(nli, []).shape == (0, 3)
    # empty strings are texts like any other
    res = lm.rerank("", ["", "bread"], model=cross)
    assert sorted(r.index for r in res) == [0, 1] and all(np.isfinite(r.score) for r in res)
    z = lm.zero_shot("", LABELS, model=nli, method="nli")
    assert abs(sum(z.scores.values()) - 1.0) < 1e-5
    z = lm.zero_shot("", LABELS, model=minilm)
    assert abs(sum(z.scores.values()) - 1.0) < 1e-5
    hits = lm.search("", ["", "bread"], k=2, model=minilm, index=False)
    assert sorted(h.index for h in hits) == [0, 1] and all(np.isfinite(h.score) for h in hits)
    with pytest.raises(UsageError):
        lm.rerank("q", b"bytes", model=cross)  # type: ignore[arg-type]


def test_huge_texts_are_truncated(minilm, tiny_root):  # noqa: F811
    huge = "word " * 20_000  # 100,000 characters
    nli = _local(build(tiny_root, "bert", "sequence-classification"))
    cross = _local(build(tiny_root, "bert", "cross-encoder"))
    with pytest.warns(TruncationWarning):
        res = lm.rerank("which word?", ["short", huge], model=cross)
    assert sorted(r.index for r in res) == [0, 1] and all(np.isfinite(r.score) for r in res)
    with pytest.warns(TruncationWarning):
        z = lm.zero_shot(huge, LABELS, model=nli, method="nli")
    assert abs(sum(z.scores.values()) - 1.0) < 1e-5
    with pytest.warns(TruncationWarning):
        logits = classify_sequences(nli, [(huge, "a hypothesis"), ("premise", huge)])
    assert logits.shape == (2, 3) and np.isfinite(logits).all()
    with pytest.warns(TruncationWarning):
        hits = lm.search(huge, CORPUS + [huge], k=2, model=minilm, index=False)
    assert hits[0].index == len(CORPUS)  # the query is the (truncated) passage itself


# -- CLI ------------------------------------------------------------------------------------------------


def _ok(r):
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return r


def test_cli_embed_args_and_stdin(cli):
    out = json.loads(_ok(cli("embed", "--json", "a", "b")).stdout)
    assert out["dims"] == 384 and out["count"] == 2 and len(out["embeddings"]) == 2
    assert all(len(v) == 384 for v in out["embeddings"])
    np.testing.assert_allclose(np.array(out["embeddings"]), lm.embed(["a", "b"]), atol=1e-5)
    out = json.loads(_ok(cli("embed", "--json", input="first line\n\nsecond line\r\nthird\n")).stdout)
    assert out["count"] == 3  # blank lines skipped


def test_cli_search_and_zero_shot(cli, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    index = tmp_path / "index"
    r = _ok(cli("search", "Who won the championship?", "--corpus", str(corpus), "-k", "2", "--json",
                "--index", str(index)))
    out = json.loads(r.stdout)
    assert out["method"] == "cosine" and len(out["hits"]) == 2 and out["hits"][0]["index"] == 6
    assert (index / "meta.json").is_file()
    r = _ok(cli("search", QUERY, "--corpus", str(corpus), "-k", "3", "--method", "mmr", "--json", "--index",
                str(index)))
    assert len({h["index"] for h in json.loads(r.stdout)["hits"]} & DUPLICATES) == 1
    r = cli("search", QUERY, "--corpus", str(corpus), "-k", "0")
    assert r.returncode != 0 and "error:" in r.stderr and "Traceback" not in r.stderr
    r = _ok(cli("zero-shot", "--labels", "sports,politics,technology", "--json",
                "The striker scored twice and the team won the cup final."))
    (res,) = json.loads(r.stdout)
    assert res["label"] == "sports" and abs(sum(res["scores"].values()) - 1.0) < 1e-4


def test_cli_rerank(cli, tiny_root):  # noqa: F811
    folder = build(tiny_root, "bert", "cross-encoder")
    docs = ["The football team won.", "Cook the pasta.", "Berlin is well known for its museums."]
    expected = lm.rerank("Who won?", docs, model=_local(folder))
    r = _ok(cli("rerank", "Who won?", *docs, "--model", str(folder), "--json"))
    out = json.loads(r.stdout)
    assert out["method"] == "cross-encoder" and "note:" not in r.stderr
    assert [x["index"] for x in out["results"]] == [x.index for x in expected]
    np.testing.assert_allclose([x["score"] for x in out["results"]], [x.score for x in expected], atol=1e-5)
    # an embedding model works too, with a note that it ranks by cosine
    r = _ok(cli("rerank", "Who won the football match?", "--json", "--top-n", "1",
                input="\n".join(docs) + "\n"))
    out = json.loads(r.stdout)
    assert out["method"] == "cosine" and "note:" in r.stderr
    assert [x["index"] for x in out["results"]] == [0]


def test_cli_invalid_utf8_file_is_a_clear_error(cli, tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\u00e9 cr\u00e8me\n".encode("latin-1"))
    for args in (("embed", "--file", str(bad)), ("search", "q", "--corpus", str(bad))):
        r = cli(*args)
        assert r.returncode != 0, args
        assert "error:" in r.stderr and "not valid UTF-8" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    r = cli("embed", "--file", str(tmp_path / "missing.txt"))
    assert r.returncode != 0 and "no such file" in r.stderr and "Traceback" not in r.stderr


def test_resolution_is_reused_but_not_past_a_removed_folder(tmp_path, monkeypatch):
    from localmodels.errors import ModelNotFoundError
    from localmodels.tasks import _encoders

    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    first = _encoders.resolve_model(str(folder))
    assert _encoders.resolve_model(str(folder)) is first  # reused within the TTL
    monkeypatch.setenv("LOCALMODELS_HOME", str(tmp_path / "other-home"))
    assert _encoders.resolve_model(str(folder)) is not first  # another store: resolved again
    shutil.rmtree(folder)
    with pytest.raises(ModelNotFoundError):
        _encoders.resolve_model(str(folder))


def test_runtime_for_picks_once_by_capability(minilm):
    from localmodels.runtimes import Encoder, runtime_for
    from localmodels.runtimes.onnx.runtime import OnnxRuntime

    enc = runtime_for(minilm, "encoder")
    assert isinstance(enc, OnnxRuntime) and isinstance(enc, Encoder)
    assert runtime_for(enc, "encoder") is enc  # a runtime passed in is used as it is
    assert not enc.cross_encoder and enc.dims() == 384
    got = enc.embed_batch(["hello world", "a much longer sentence than the first one"])
    assert got.vectors.shape == (2, 384) and got.tokens[0] < got.tokens[1]
    np.testing.assert_allclose(got.vectors, lm.embed(["hello world", "a much longer sentence than the first one"],
                                                     model=minilm), atol=1e-6)
    with pytest.raises(UsageError, match="not an NER model"):
        runtime_for(minilm, "spans")
    with pytest.raises(UsageError, match="remote endpoints do not run NER"):
        runtime_for("remote:some-model", "spans")
    with pytest.raises(UsageError, match="unknown capability"):
        runtime_for(minilm, "vision")  # type: ignore[call-overload]


def test_spacy_pipeline_is_a_span_model_not_an_encoder():
    from localmodels.runtimes import SpanModel, runtime_for

    spans = runtime_for("spacy-en-sm", "spans")
    assert isinstance(spans, SpanModel) and "PERSON" in (spans.fixed_labels or [])
    with pytest.raises(UsageError, match="embed needs an encoder model"):
        lm.embed("hello", model="spacy-en-sm")


def test_remote_usage_is_shared_out_by_length():
    from localmodels.runtimes._remote_encoder import share_tokens

    assert share_tokens(10, ["aaaa", "a"]) == [8, 2]
    assert sum(share_tokens(7, ["x", "yy", "zzz"])) == 7 and share_tokens(0, []) == []
