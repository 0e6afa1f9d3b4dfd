"""The settings record: every LOCALMODELS_* variable the code names, typed, read per call, and the
README's environment table generated from it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from localmodels import config
from localmodels.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "localmodels"


def test_readme_environment_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert config.TABLE_START in readme and config.TABLE_END in readme
    current = readme.split(config.TABLE_START, 1)[1].split(config.TABLE_END, 1)[0].strip()
    assert current == config.markdown_table(), "run: python -m localmodels.config --write README.md"


def test_check_command_agrees_with_the_readme() -> None:
    r = subprocess.run([sys.executable, "-m", "localmodels.config", "--check", str(ROOT / "README.md")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "up to date" in r.stdout


def test_every_variable_the_code_names_is_a_setting() -> None:
    named = set()
    for path in SRC.rglob("*.py"):
        named |= set(re.findall(r"LOCALMODELS_[A-Z][A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    declared = {name for name, *_ in config.variables()}
    assert named - declared == set(), "declare these in localmodels.config.Settings"


def test_every_setting_has_a_type_default_and_meaning() -> None:
    for name, kind, default, doc in config.variables():
        assert name.startswith("LOCALMODELS_")
        assert kind in {"bool", "int", "float", "str", "path"}
        assert default and doc and "|" not in doc, name


def test_settings_are_read_per_call_and_typed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, *_ in config.variables():
        monkeypatch.delenv(name, raising=False)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    assert config.settings() == config.Settings()
    assert config.settings().max_models == 4 and config.num_threads() is None and not config.offline()
    monkeypatch.setenv("LOCALMODELS_HOME", str(tmp_path))
    monkeypatch.setenv("LOCALMODELS_THREADS", "3")
    monkeypatch.setenv("LOCALMODELS_MAX_MEMORY", "2e9")
    monkeypatch.setenv("LOCALMODELS_REMOTE_TIMEOUT", "7.5")
    monkeypatch.setenv("LOCALMODELS_OFFLINE", "yes")
    monkeypatch.setenv("LOCALMODELS_ONNX_FUSE", "0")
    s = config.settings()
    assert (s.home, s.threads, s.max_memory, s.remote_timeout) == (tmp_path, 3, 2_000_000_000, 7.5)
    assert s.offline and not s.onnx_fuse
    assert config.home() == tmp_path and config.num_threads() == 3 and config.offline()


@pytest.mark.parametrize(("name", "value"), [("LOCALMODELS_THREADS", "many"), ("LOCALMODELS_OFFLINE", "maybe"),
                                             ("LOCALMODELS_REMOTE_TIMEOUT", "soon")])
def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError) as e:
        config.settings()
    assert name in e.value.message and e.value.hint


def test_set_offline_is_process_state_not_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOCALMODELS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    try:
        config.set_offline(True)
        assert config.offline()
        assert "LOCALMODELS_OFFLINE" not in os.environ
        assert config.child_env()["LOCALMODELS_OFFLINE"] == "1"  # a child process of ours inherits it
    finally:
        config.set_offline(False)
    assert not config.offline()
