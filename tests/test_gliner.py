"""GLiNER-style span NER on ONNX Runtime, checked against the ``gliner`` package itself.

A tiny random GLiNER is built offline with ``gliner`` (tests/gliner_tiny.py), exported with its own
``export_to_onnx``; our pre-processing, decoding and whole pipeline must equal gliner's on it.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from localmodels.errors import UsageError
from localmodels.runtimes import gliner as rt
from localmodels.runtimes import spans as _spans
from localmodels.tasks.ner import ner

TEXTS = [
    "Barack Obama visited Paris in 2015.",
    "Ünïcode names like Zoë Saldaña and São Paulo-based ACME_Corp work at Dr. Müller's lab.",
    "x",
    "Apple, Microsoft & Google's CEOs met in Washington D.C. on 3/4/2021 -- e-mail: a@b.org!",
]
LABELS = ["person", "city", "organization"]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    from tests.gliner_tiny import build_tiny_gliner

    model, repo = build_tiny_gliner(tmp_path_factory.mktemp("gliner"), max_width=4)
    return model, repo


@pytest.fixture(scope="session")
def ours(tiny):
    return rt.load_gliner(tiny[1])


def _threshold(ours, texts, labels, q=80.0):
    """A threshold that keeps roughly the top 20% of spans of this random model."""
    probs = []
    for t in texts:
        words = [t[a:b] for a, b in _spans.split_words(t)]
        enc = ours.encode([words], labels)
        logits = ours.run(enc)[0, : len(words)]
        probs.append(rt.sigmoid(logits).ravel())
    return float(np.percentile(np.concatenate(probs), q))


def _reference_batch(model, texts, labels):
    """gliner's own collated batch for ``texts`` (what its inference() feeds the model)."""
    from gliner.data_processing.collator import SpanDataCollator

    tokens, _, _ = model.prepare_inputs(texts)
    collator = SpanDataCollator(model.config, data_processor=model.data_processor, return_tokens=True,
                                return_entities=True, return_id_to_classes=True, prepare_labels=False)
    return collator(model.prepare_base_input(tokens), entity_types=labels)


def test_inputs_equal_gliners_collator(tiny, ours):
    model, _ = tiny
    ref = _reference_batch(model, TEXTS, LABELS)
    words = [[t[a:b] for a, b in _spans.split_words(t)] for t in TEXTS]
    assert words == [list(x) for x in ref["tokens"]]
    enc = ours.encode(words, LABELS)
    for name in ("input_ids", "attention_mask", "words_mask", "text_lengths", "span_idx", "span_mask"):
        expected = ref[name].numpy()
        got = enc.inputs[name]
        if name in ("input_ids", "attention_mask", "words_mask"):  # ours is padded with the same pad id
            assert got.shape == expected.shape, name
        np.testing.assert_array_equal(got, expected, err_msg=name)


def test_onnx_logits_equal_torch(tiny, ours):
    import torch

    model, _ = tiny
    ref = _reference_batch(model, TEXTS, LABELS)
    with torch.no_grad():
        torch_logits = model.model(input_ids=ref["input_ids"], attention_mask=ref["attention_mask"],
                                   words_mask=ref["words_mask"], text_lengths=ref["text_lengths"],
                                   span_idx=ref["span_idx"], span_mask=ref["span_mask"])[0].numpy()
    words = [[t[a:b] for a, b in _spans.split_words(t)] for t in TEXTS]
    ort_logits = ours.run(ours.encode(words, LABELS))
    np.testing.assert_allclose(ort_logits, torch_logits, atol=1e-4)


@pytest.mark.parametrize("flat", [True, False])
@pytest.mark.parametrize("multi_label", [False, True])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_span_decoding_equals_gliner_on_same_logits(flat, multi_label, threshold):
    import torch
    from gliner.decoding.decoder import SpanDecoder

    rng = np.random.default_rng(7)
    logits = rng.normal(0, 1.5, size=(3, 9, 4, 3)).astype(np.float32)  # B, L, K, C
    num_words = [9, 5, 1]
    tokens = [["w"] * n for n in num_words]
    labels = ["a", "b", "c"]
    ref = SpanDecoder(None).decode(tokens, {1: "a", 2: "b", 3: "c"}, torch.from_numpy(logits), flat_ner=flat,
                                   threshold=threshold, multi_label=multi_label)
    got = rt.decode_spans(logits, num_words, labels, threshold=threshold, flat=flat, multi_label=multi_label)
    assert [[(s, e, lab, pytest.approx(sc, abs=1e-6)) for s, e, lab, sc in doc] for doc in ref] == got
    assert sum(map(len, got)) > 0


@pytest.mark.parametrize("flat", [True, False])
def test_token_decoding_equals_gliner_on_same_logits(flat):
    import torch
    from gliner.decoding.decoder import TokenDecoder

    rng = np.random.default_rng(3)
    logits = rng.normal(0, 1.5, size=(2, 7, 2, 3)).astype(np.float32)  # B, L, C, (start, end, inside)
    tokens = [["w"] * 7, ["w"] * 7]
    ref = TokenDecoder(None).decode(tokens, {1: "a", 2: "b"}, torch.from_numpy(logits), flat_ner=flat, threshold=0.5)
    got = rt.decode_tokens(logits, [7, 7], ["a", "b"], threshold=0.5, flat=flat)
    assert [[(s, e, lab, pytest.approx(sc, abs=1e-6)) for s, e, lab, sc in doc] for doc in ref] == got
    assert sum(map(len, got)) > 0


@pytest.mark.parametrize("flat,multi_label", [(True, False), (False, False), (False, True)])
def test_whole_pipeline_equals_gliner_inference(tiny, ours, flat, multi_label):
    model, repo = tiny
    th = _threshold(ours, TEXTS, LABELS)
    ref = model.inference(TEXTS, LABELS, flat_ner=flat, threshold=th, multi_label=multi_label, batch_size=2)
    got = ner(TEXTS, model=str(repo), labels=LABELS, threshold=th, flat=flat, multi_label=multi_label, batch_size=3)
    assert sum(map(len, ref)) > 3
    for text, r, g in zip(TEXTS, ref, got):
        _spans.check_offsets(text, g)
        want = [(d["start"], d["end"], d["text"], d["label"]) for d in r]
        assert want == [(e.start, e.end, e.text, e.label) for e in g]
        assert [d["score"] for d in r] == pytest.approx([e.score for e in g], abs=1e-5)
    assert all(e.model and e.source_label == e.label for doc in got for e in doc)


def test_common_labels_are_prompted_in_words(tiny, ours):
    model, repo = tiny
    th = _threshold(ours, TEXTS[:2], ["person", "location"], q=60)
    ref = model.inference(TEXTS[:2], ["person", "location"], threshold=th)
    got = ner(TEXTS[:2], model=str(repo), labels="PERSON,LOC", threshold=th)
    expect = [[(d["start"], d["end"], {"person": "PERSON", "location": "LOC"}[d["label"]]) for d in doc] for doc in ref]
    assert [[(e.start, e.end, e.label) for e in doc] for doc in got] == expect
    assert {e.source_label for doc in got for e in doc} <= {"person", "location"}


def _short_window_copy(repo, tmp_path, max_len):
    copy = tmp_path / "gliner-short"
    shutil.copytree(repo, copy)
    cfg = json.loads((copy / "gliner_config.json").read_text())
    cfg["max_len"] = max_len
    (copy / "gliner_config.json").write_text(json.dumps(cfg))
    return copy


def test_long_text_is_windowed_never_truncated(tiny, tmp_path):
    _, repo = tiny
    short = _short_window_copy(repo, tmp_path, max_len=20)  # 20 words per window, 16 shared
    text = " ".join(TEXTS * 6)
    n_words = len(_spans.split_words(text))
    assert n_words > 100
    with pytest.raises(UsageError, match="takes at most 20 words") as err:
        ner(text, model=str(short), labels=LABELS, max_length="error")
    assert "chunk" in err.value.hint
    th = _threshold(rt.load_gliner(short), TEXTS, LABELS)
    found = ner(text, model=str(short), labels=LABELS, threshold=th)
    _spans.check_offsets(text, found)
    assert found and found[-1].end > len(text) * 0.8  # the end of the text was read
    spans = [(e.start, e.end) for e in found]
    assert len(spans) == len(set(spans))
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # flat: no overlaps
    nested = ner(text, model=str(short), labels=LABELS, threshold=th, flat=False)
    keys = [(e.start, e.end, e.label) for e in nested]
    assert len(keys) == len(set(keys)) and len(nested) >= len(found)


def test_window_entities_match_a_single_window_run(tiny, tmp_path):
    """Entities away from window borders are exactly those a run on that window alone finds."""
    _, repo = tiny
    short = _short_window_copy(repo, tmp_path, max_len=30)
    text = " ".join(TEXTS[:2] * 3)
    model = rt.load_gliner(short)
    th = _threshold(model, TEXTS[:2], LABELS, q=90)
    found = ner(text, model=str(short), labels=LABELS, threshold=th, flat=False)
    words = _spans.split_words(text)
    first = words[:30]
    alone = model.predict([text[: first[-1][1]]], LABELS, threshold=th, flat=False)[0]
    inner_end = words[30 - 1 - 4][0]  # well inside the first window (max_width 4)
    pick = lambda ents: {(e.start, e.end, e.label) for e in ents if e.end <= inner_end}  # noqa: E731
    assert pick(found) == pick(alone)


def test_missing_labels_prompt_and_bad_config(tiny, tmp_path):
    _, repo = tiny
    got = ner("Barack Obama visited Paris.", model=str(repo), threshold=0.0)
    assert {e.label for e in got} <= {"PERSON", "ORG", "LOC", "DATE"}
    broken = tmp_path / "broken"
    shutil.copytree(repo, broken)
    shutil.rmtree(broken / "onnx")
    with pytest.raises(UsageError, match="no ONNX file"):
        ner("text", model=str(broken), labels=["x"])


def test_cli_gliner_json(tiny, cli):
    _, repo = tiny
    r = cli("ner", "Barack Obama visited Paris.", "--model", str(repo), "--labels", "person,city",
            "--threshold", "0.0", "--json")
    assert r.returncode == 0, r.stderr
    ents = json.loads(r.stdout)
    assert ents and {e["label"] for e in ents} <= {"person", "city"}
    text = "Barack Obama visited Paris."
    assert all(text[e["start"] : e["end"]] == e["text"] for e in ents)


@pytest.fixture(scope="session")
def tiny_token(tmp_path_factory):
    from tests.gliner_tiny import build_tiny_gliner

    return build_tiny_gliner(tmp_path_factory.mktemp("gliner-token"), token_level=True)


@pytest.mark.parametrize("flat", [True, False])
def test_token_level_model_equals_gliner_inference(tiny_token, flat):
    """Token-level GLiNER (the NuNER Zero kind): no span inputs, logits [B, words, classes, 3]."""
    model, repo = tiny_token
    assert rt.load_gliner(repo).token_level
    ref = model.inference(TEXTS, LABELS, flat_ner=flat, threshold=0.3)
    got = ner(TEXTS, model=str(repo), labels=LABELS, threshold=0.3, flat=flat)
    assert sum(map(len, ref)) > 3
    for text, r, g in zip(TEXTS, ref, got):
        _spans.check_offsets(text, g)
        assert [(d["start"], d["end"], d["label"]) for d in r] == [(e.start, e.end, e.label) for e in g]
        assert [d["score"] for d in r] == pytest.approx([e.score for e in g], abs=1e-5)
