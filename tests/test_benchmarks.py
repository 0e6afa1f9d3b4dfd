"""The benchmark scripts keep working: the roofline's arithmetic, and a small serve_load run as a user starts it.

Speed itself is never asserted here (benchmarks print ratios; timed unit tests would be noise).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import _roofline as roof  # noqa: E402

MINILM = roof.Dims(hidden=384, intermediate=1536, layers=6)


def test_batches_are_sorted_by_length_and_padded_to_their_longest():
    assert roof.batch_shapes([3, 9, 5, 7, 1], batch=2) == [(2, 9), (2, 5), (1, 1)]


def test_encoder_flops_count_the_dense_layers_and_attention():
    dense, attention = roof.encoder_flops([(2, 10)], MINILM)
    per_token_per_layer = 2 * (4 * 384 * 384 + 2 * 384 * 1536)
    assert dense == 20 * per_token_per_layer * 6
    assert attention == 2 * 2 * 2 * 10 * 10 * 384 * 6


def test_ceiling_is_sentences_over_the_gemm_time():
    r = roof.Roofline(dense_gflop=100.0, attention_gflop=0.0, peak_fp32=50.0, peak_int8=100.0)
    assert r.ceiling(200, int8=False) == pytest.approx(100.0)  # 2 s of GEMMs
    assert r.ceiling(200, int8=True) == pytest.approx(200.0)
    assert roof.Roofline(100.0, 10.0, 50.0, 100.0).ceiling(200, int8=True) < 200.0  # attention stays fp32


def test_gemm_peak_is_measured_with_onnxruntime():
    pytest.importorskip("onnx")
    small = roof.Dims(hidden=32, intermediate=64, layers=1)
    assert roof.gemm_peak(16, small, int8=False, threads=1, reps=2) > 0
    assert roof.gemm_peak(16, small, int8=True, threads=1, reps=2) > 0


def run_benchmark(script: str, out, *args: str) -> subprocess.CompletedProcess:
    """Run ``benchmarks/<script>`` as a user does, offline, writing its figures to ``out``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args, "--json", str(out)],
                       capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def test_serve_load_runs_and_reports_the_ratio_and_its_cap(tmp_path):
    out = tmp_path / "serve.json"
    r = run_benchmark("serve_load.py", out, "--clients", "4", "--requests", "32", "--rounds", "1")
    assert "throughput ratio (micro-batching / no-batching)" in r.stdout
    assert "the model alone (this process, no HTTP)" in r.stdout
    figures = json.loads(out.read_text())
    assert figures["results"]["no-batching"]["requests"] == 32
    assert figures["results"]["micro-batching"]["requests"] == 32
    assert figures["ratio_cap"] > 0 and set(figures["model_alone"]) >= {"b1"}


def test_embed_throughput_runs_and_prints_its_roofline(tmp_path):
    pytest.importorskip("sentence_transformers")
    out = tmp_path / "embed.json"
    r = run_benchmark("embed_throughput.py", out, "--limit", "40", "--limit-b1", "4", "--rounds", "1")
    assert "roofline at batch 32" in r.stdout and "ceiling fp32" in r.stdout
    figures = json.loads(out.read_text())
    assert figures["quality"]["fp32"]["min"] >= 0.9999
    assert figures["roofline"]["peak_fp32"] > 0 and figures["roofline"]["ceiling_sent_s"]["int8"] > 0
