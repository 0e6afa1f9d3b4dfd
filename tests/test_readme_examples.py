"""Every ```python block of README.md runs as written (a fresh interpreter each, offline), so the examples
cannot drift from the API again. A block that needs what a test machine lacks (a cluster, a network)
says so on its first line, ``# not run: <why>``, and is only compiled."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_readme_has_python_examples():
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert any("lm.generate(" in b for b in blocks)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index, tmp_path):
    code = python_blocks()[index]
    if code.startswith("# not run:"):
        compile(code, f"README.md python block {index}", "exec")
        return
    env = {**os.environ, "LOCALMODELS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "LOCALMODELS_THREADS": "1",
           "LOCALMODELS_N_CTX": "512"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=600)
    assert r.returncode == 0, f"README example {index} failed:\n{code}\n{r.stderr[-3000:]}"
