"""Token classification (NER) on ONNX Runtime, checked against transformers' own pipeline on tiny models."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from localmodels.errors import UsageError
from localmodels.runtimes.onnx.token_classification import classify_tokens, split_tag
from localmodels.runtimes.spans import check_offsets
from localmodels.store._model import LocalModel
from tiny_models import ARCHITECTURES, build, derived_home, shared_home, tiny_root  # noqa: F401

TEXTS = [
    "Barack Obama visited Paris in 2015 and met the French president.",
    "Microsoft and Google compete in cloud computing, search and artificial intelligence.",
    "Angela Merkel was the chancellor of Germany for sixteen years.",
    "She flew from New York to Tokyo on Monday morning with her colleagues.",
]
STRATEGIES = ("none", "simple", "first", "average", "max")
WORDPIECE = ("bert", "distilbert", "mpnet", "deberta-v2", "modernbert")


@pytest.fixture(autouse=True)
def _home(shared_home):  # noqa: F811
    return shared_home


def _local(folder) -> LocalModel:
    return LocalModel(ref=str(folder), name=folder.name, path=folder, source="local")


def _pipeline_entities(folder, text, strategy):
    from transformers import pipeline

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nlp = pipeline("token-classification", model=str(folder), aggregation_strategy=strategy, device="cpu")
        out = nlp(text)
    if strategy == "none":
        return [(e["entity"], e["start"], e["end"], float(e["score"])) for e in out]
    return [(e["entity_group"], e["start"], e["end"], float(e["score"])) for e in out]


def _ours(entities, strategy):
    if strategy == "none":
        return [(e.source_label, e.start, e.end, e.score) for e in entities]
    return [(e.label, e.start, e.end, e.score) for e in entities]


def _same(ours, theirs):
    assert [x[:3] for x in ours] == [x[:3] for x in theirs]
    np.testing.assert_allclose([x[3] for x in ours], [x[3] for x in theirs], atol=1e-4)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_entities_equal_transformers_pipeline(arch, tiny_root):  # noqa: F811
    folder = build(tiny_root, arch, "token-classification")
    model = _local(folder)
    # BPE tokenizers (RoBERTa, XLM-R) have no "##" marker: transformers guesses word boundaries from
    # spaces, we use the tokenizer's word ids; they agree on simple/none, and on words without punctuation.
    strategies = STRATEGIES if arch in WORDPIECE else ("none", "simple")
    for strategy in strategies:
        ours = classify_tokens(model, TEXTS, aggregation=strategy)
        for text, ents in zip(TEXTS, ours):
            check_offsets(text, ents)
            _same(_ours(ents, strategy), _pipeline_entities(folder, text, strategy))
    assert any(classify_tokens(model, TEXTS, aggregation="simple"))  # the tiny model does predict entities


def test_bpe_word_aggregation_without_punctuation(tiny_root):  # noqa: F811
    folder = build(tiny_root, "roberta", "token-classification")
    text = "Barack Obama visited Paris in spring and met the French president"
    for strategy in ("first", "average", "max"):
        (ents,) = classify_tokens(_local(folder), [text], aggregation=strategy)
        _same(_ours(ents, strategy), _pipeline_entities(folder, text, strategy))


def test_long_text_is_windowed_and_merged(tiny_root):  # noqa: F811
    folder = build(tiny_root, "bert", "token-classification")
    model = _local(folder)
    text = " ".join(TEXTS * 40)  # ~4,000 tokens, far over the 128-token limit
    (ents,) = classify_tokens(model, [text], aggregation="first", window=64, stride=16)
    check_offsets(text, ents)
    assert ents and max(e.end for e in ents) > len(text) * 0.9  # the end of the text was read too
    assert all(a.end <= b.start for a, b in zip(ents, ents[1:]))  # flat, no duplicates from overlaps
    # a text that fits in one window gives the same entities whether or not windows are used
    short = TEXTS[0]
    assert classify_tokens(model, [short], window=64, stride=16) == classify_tokens(model, [short])


def test_huge_and_empty_inputs(tiny_root):  # noqa: F811
    model = _local(build(tiny_root, "bert", "token-classification"))
    huge = "Obama visited Paris. " * 5000  # 105,000 characters
    out = classify_tokens(model, ["", huge, "   "], aggregation="simple")
    assert out[0] == [] and out[2] == []
    check_offsets(huge, out[1])
    assert classify_tokens(model, []) == []


def test_unknown_label_map_is_a_clear_error(tiny_root, tmp_path):  # noqa: F811
    src = build(tiny_root, "bert", "token-classification")
    folder = tmp_path / "broken-labels"
    shutil.copytree(src, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["id2label"] = {"0": "O", "1": "B-PER"}  # the head has 7 outputs
    cfg["label2id"] = {"O": 0, "B-PER": 1}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UsageError, match="outputs 7 classes|do not fit its config.json"):
        classify_tokens(_local(folder), ["Obama visited Paris."])
    with pytest.raises(UsageError, match="unknown aggregation"):
        classify_tokens(_local(src), ["x"], aggregation="longest")  # type: ignore[arg-type]


def test_split_tag_iob2():
    assert split_tag("B-PER") == ("B", "PER")
    assert split_tag("I-LOC") == ("I", "LOC")
    assert split_tag("MISC") == ("I", "MISC")


def test_a_checkpoint_without_the_head_is_refused(tiny_root):  # noqa: F811
    """transformers would fill the missing classifier with random numbers: we refuse to export that."""
    base = build(tiny_root, "bert", "base")
    with pytest.raises(UsageError, match="no trained token-classification head"):
        classify_tokens(_local(base), ["Obama visited Paris."])
