"""The ``ner`` front door: input shapes, labels, dispatch to token classification, and the CLI."""

from __future__ import annotations

import json

import pytest

from localmodels.errors import LocalModelsError, UsageError
from localmodels.results import Entity
from localmodels.runtimes import spans as _spans
from localmodels.tasks.ner import _fixed_label_filter, backend_for, ner, resolve_model, to_common

TEXT = "Barack Obama visited Paris in 2015."


def test_str_gives_a_list_and_list_gives_lists():
    assert ner([]) == []
    assert ner("") == []
    one = ner(TEXT)
    many = ner([TEXT, TEXT])
    assert isinstance(one[0], Entity) and many == [one, one]


@pytest.mark.parametrize("bad", [[TEXT, 3], b"bytes", 5])
def test_bad_text_types_are_usage_errors(bad):
    with pytest.raises(UsageError):
        ner(bad)


def test_bad_options_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="max_length"):
        ner(TEXT, max_length="truncate")
    with pytest.raises(UsageError, match="threshold"):
        ner(TEXT, threshold=2)
    with pytest.raises(UsageError, match="labels is empty"):
        ner(TEXT, labels=" , ")
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(UsageError, match="not an NER model"):
        ner(TEXT, model=str(tmp_path))


def test_unknown_model_is_our_error():
    with pytest.raises(LocalModelsError) as err:
        ner(TEXT, model="no-such-alias-xyz")
    assert err.value.hint


def test_common_scheme_mapping():
    assert [to_common(x) for x in ("PER", "B-PER", "GPE", "FAC", "LOC", "ORG", "MISC", "drug")] == [
        "PERSON", "PERSON", "LOC", "LOC", "LOC", "ORG", "MISC", "drug"]
    assert _fixed_label_filter("m", ["PER", "ORG", "LOC", "MISC"], ["PERSON", "location"]) == {"PER", "LOC"}
    assert _fixed_label_filter("m", ["GPE", "LOC", "FAC", "ORG"], ["LOC"]) == {"GPE", "LOC", "FAC"}
    with pytest.raises(UsageError, match="'disease'"):
        _fixed_label_filter("m", ["PER"], ["disease"])


# ------------------------------------------------------------------------- token classification (BERT NER)

@pytest.fixture(scope="module")
def bert_ner(tmp_path_factory):
    from tests import tiny_models
    return tiny_models.build(tmp_path_factory.mktemp("tok"), "bert", "token-classification")


def test_token_classification_dispatch_and_labels(bert_ner):
    from localmodels.runtimes.onnx.token_classification import classify_tokens

    lm = resolve_model(str(bert_ner))
    assert backend_for(lm) == "token-classification"
    texts = ["John Smith works for Acme Corp in Berlin.", "Maria lives in São Paulo."]
    raw = classify_tokens(lm, texts, aggregation="first")
    got = ner(texts, model=str(bert_ner), threshold=0.0)
    assert [[(e.start, e.end) for e in d] for d in got] == [[(e.start, e.end) for e in d] for d in raw]
    for text, doc in zip(texts, got):
        _spans.check_offsets(text, doc)
        for e in doc:
            assert e.source_label in {"PER", "ORG", "LOC"} and e.label == to_common(e.source_label)
    only_people = ner(texts, model=str(bert_ner), labels=["PERSON"], threshold=0.0)
    assert all(e.label == "PERSON" for d in only_people for e in d)
    with pytest.raises(UsageError, match="fixed labels"):
        ner(texts, model=str(bert_ner), labels=["drug"])
    with pytest.raises(UsageError, match="tokens"):
        ner("word " * 2000, model=str(bert_ner), max_length="error")


# ------------------------------------------------------------------------- CLI

def test_cli_text_table(cli):
    r = cli("ner", TEXT, "--labels", "PERSON,LOC")
    assert r.returncode == 0, r.stderr
    assert "Barack Obama" in r.stdout and "PERSON" in r.stdout and "GPE" in r.stdout and "2015" not in r.stdout


def test_cli_batch_jsonl_in_and_out(cli, tmp_path):
    src = tmp_path / "texts.jsonl"
    lines = [json.dumps({"id": "a", "text": TEXT}), "", json.dumps({"text": "Angela Merkel lives in Berlin."})]
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "entities.jsonl"
    r = cli("ner", "-i", str(src), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 3] and rows[0]["id"] == "a"
    assert rows[0]["entities"][1] == {"text": "Paris", "label": "LOC", "start": 21, "end": 26, "score": 1.0,
                                      "model": "spacy-en-sm", "source_label": "GPE"}
    assert [e["text"] for e in rows[1]["entities"]] == ["Angela Merkel", "Berlin"]
    for row in rows:
        assert all(row["text"][e["start"] : e["end"]] == e["text"] for e in row["entities"])


def test_plain_text_files_are_one_text_per_line(tmp_path):
    from localmodels.cli.ner import read_texts

    txt = tmp_path / "texts.txt"
    txt.write_text(f"{TEXT}\n\n{{not json}}\n")
    assert read_texts(txt) == [{"line": 1, "text": TEXT}, {"line": 3, "text": "{not json}"}]


def test_cli_bad_labels_and_bad_input_fail_cleanly(cli, tmp_path):
    r = cli("ner", TEXT, "--labels", "drug")
    assert r.returncode != 0
    assert "error:" in r.stderr and "'drug'" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": TEXT}) + "\n{not json\n")
    out = tmp_path / "out.jsonl"
    r = cli("ner", "-i", str(bad), "-o", str(out))
    assert r.returncode != 0 and "bad.jsonl:2" in r.stderr and not out.exists()
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café\n".encode("latin-1"))
    r = cli("ner", "-i", str(latin))
    assert r.returncode != 0 and "UTF-8" in r.stderr and "Traceback" not in r.stderr
    r = cli("ner", TEXT, "--max-length", "truncate")
    assert r.returncode != 0 and "chunk" in r.stderr
    r = cli("ner", "Barack Obama visited Paris. " * 4000, "--max-length", "error")
    assert r.returncode != 0 and "error:" in r.stderr and "--max-length chunk" in r.stderr
