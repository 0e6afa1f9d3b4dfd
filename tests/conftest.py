"""Shared test set-up: every test gets its own empty store and HF cache; nothing reaches the network.

huggingface_hub reads its environment at import, so tests that download run the CLI or a helper
script in a subprocess with the environment from :func:`hub_env`, or set the env before import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# No test may reach the real Hub: point the default endpoint at a closed loopback port.
os.environ.setdefault("HF_ENDPOINT", "http://127.0.0.1:9")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """A fresh LOCALMODELS_HOME and HF_HOME per test."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("LOCALMODELS_HOME", str(base / "localmodels"))
    monkeypatch.setenv("HF_HOME", str(base / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("LOCALMODELS_OFFLINE", raising=False)
    yield base


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None,
            timeout: float = 300, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """Run ``localmodels ARGS`` as a user would: a subprocess with the current test environment."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "localmodels", *args],
        capture_output=True, text=True, env=full_env, input=input, timeout=timeout, cwd=cwd,
    )


@pytest.fixture
def cli():
    return run_cli
