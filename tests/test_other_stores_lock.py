"""A model another tool keeps (Ollama, LM Studio) pinned by ``lock`` and checked by ``sync --check``
in place: the manifest accepts the store's reference, the lock records the store's kind and every
file's sha256, and nothing is copied or written into the other tool's folders. CLI as a subprocess.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli
from other_stores import env_for, lmstudio_store, ollama_store, sha256, smollm2_gguf

LMS = "bartowski/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q4_1.gguf"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = tmp_path / "machine"
    s = smollm2_gguf()
    ollama_store(base / "ollama", {"smollm2:135m": s})
    lmstudio_store(base / "lmstudio", {LMS: s})
    for k, v in env_for(base).items():
        monkeypatch.setenv(k, v)
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.toml").write_text(
        '[models.smol]\nref = "ollama:smollm2:135m"\n\n'
        f'[models.lms]\nref = "lmstudio:{LMS}"\n', encoding="utf-8")
    return proj


def test_lock_pins_other_stores_refs_in_place(project: Path) -> None:
    blob = next((project.parent / "machine" / "ollama" / "blobs").iterdir())
    links = os.stat(blob).st_nlink
    r = run_cli("lock", "--json", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    text = (project / "localmodels.lock").read_text(encoding="utf-8")
    assert 'source = "ollama"' in text and 'source = "lmstudio"' in text
    assert sha256(smollm2_gguf()) in text
    assert os.stat(blob).st_nlink == links  # nothing linked or copied into Ollama's folder
    check = run_cli("check", "--json", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    synced = run_cli("sync", "--json", cwd=project)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert os.stat(blob).st_nlink == links
    again = run_cli("lock", "--check", cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_changed_blob_fails_the_lock_check(project: Path) -> None:
    assert run_cli("lock", cwd=project).returncode == 0
    lms = project.parent / "machine" / "lmstudio" / LMS
    lms.unlink()
    lms.write_bytes(b"GGUF" + b"\0" * 64)  # LM Studio's file replaced: the lock's sha256 no longer holds
    r = run_cli("check", "--json", cwd=project)
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stdout + r.stderr


def test_manifest_refuses_a_bad_store_name_with_the_stores_reason(project: Path) -> None:
    (project / "localmodels.toml").write_text('[models.x]\nref = "ollama:gemma3:"\n', encoding="utf-8")
    r = run_cli("lock", cwd=project)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert "localmodels.toml" in r.stderr


def test_verify_json_names_the_store(project: Path) -> None:
    r = run_cli("verify", "ollama:smollm2:135m", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)[0]["source"] == "ollama"
