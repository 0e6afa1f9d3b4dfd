"""The pytest plugin's ``local_model`` fixture, run as a real pytest subprocess on a generated project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub_server import Hub

TESTS = '''
import os

def test_missing(local_model):
    local_model("acme/not-here")
    raise AssertionError("not reached: the fixture skips or fails first")

def test_folder_by_manifest_name(local_model):
    m = local_model("tiny")
    assert m.source == "local" and (m.path / "config.json").is_file()

def test_locked_hub_model(local_model):
    if not os.environ.get("EXPECT_COMMIT"):
        return
    m = local_model("hubby")
    assert m.commit == os.environ["EXPECT_COMMIT"], m.commit
    assert (m.path / "config.json").read_text() == '{"v": 1}'
'''


def _project(tmp_path: Path, hub_repo: str = "acme/plugin-hubby") -> Path:
    proj = tmp_path / "proj"
    (proj / "models" / "tiny").mkdir(parents=True)
    (proj / "models" / "tiny" / "config.json").write_text("{}")
    (proj / "pytest.ini").write_text("[pytest]\n")
    (proj / "test_models.py").write_text(TESTS)
    (proj / "localmodels.toml").write_text(
        f'[models.tiny]\nref = "./models/tiny"\n\n[models.hubby]\nref = "{hub_repo}"\n')
    return proj


def _pytest(proj: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "HF_HUB_OFFLINE": "1", **env}
    full.pop("PYTEST_ADDOPTS", None)
    if "LOCALMODELS_STRICT" not in env:
        full.pop("LOCALMODELS_STRICT", None)
    # Our plugin loads through its pytest11 entry point, as in a user's project; two heavy plugins of
    # this venv (hypothesis, schemathesis) are left out only to keep the subprocess quick.
    quick = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:schemathesis"]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rsf", *quick, *args],
                          cwd=proj, env=full, capture_output=True, text=True, timeout=120)


def test_missing_model_skips_with_the_pull_command(tmp_path):
    r = _pytest(_project(tmp_path))
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "2 passed, 1 skipped" in out
    assert "model 'acme/not-here' is not in the localmodels store" in out
    assert "fetch it with: localmodels pull acme/not-here" in out
    assert "localmodels: tests skipped for missing models" in out


@pytest.mark.parametrize("how", ["flag", "env"])
def test_strict_mode_fails_instead_of_skipping(tmp_path, how):
    proj = _project(tmp_path)
    r = _pytest(proj, "--localmodels-strict") if how == "flag" else _pytest(proj, LOCALMODELS_STRICT="1")
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    assert "1 failed, 2 passed" in out
    assert "localmodels pull acme/not-here" in out and "strict" in out
    assert "skipped" not in out.split("short test summary")[-1]


def test_fixture_uses_the_locked_commit(tmp_path, monkeypatch):
    """lock + sync a Hub model, let main move on in the cache, and the fixture still gives the locked commit."""
    with Hub() as hub:
        for k, v in hub.env(LOCALMODELS_RETRY_BASE="0.01").items():
            monkeypatch.setenv(k, v)
        locked = hub.add_repo("acme/plugin-hubby", {"config.json": '{"v": 1}'})
        proj = _project(tmp_path)
        from localmodels.store import pull
        from localmodels.store.lockfile import write_lock
        from localmodels.store.manifest import load_manifest
        from localmodels.store.sync import lock_manifest

        write_lock(lock_manifest(load_manifest(proj / "localmodels.toml")).lock, proj / "localmodels.lock")
        newer = hub.add_repo("acme/plugin-hubby", {"config.json": '{"v": 2}'})
        assert pull("acme/plugin-hubby", force=True).commit == newer  # the cache's main is now newer
    r = _pytest(proj, "--localmodels-strict", "-k", "hub", EXPECT_COMMIT=locked)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout


def test_plugin_module_is_import_light():
    code = ("import sys, localmodels.pytest_plugin; "
            "heavy = [m for m in ('huggingface_hub', 'pydantic', 'localmodels.store', 'typer', 'rich', 'numpy') "
            "if m in sys.modules]; print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
