"""``localmodels materialize``: named model folders from the store (link, hardlink, copy), their
SHA256SUMS checked by the real ``sha256sum``, a re-run after a lock change, ``verify --dir``.

Hub models come from our local Hub (tests/hub_server.py); the CLI runs as a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from hub_server import hub, hub_session, weight_bytes  # noqa: F401  (fixtures)
from localmodels.sources.hfcache import RepoFolder

MODES = ("link", "hardlink", "copy")


def _ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def _files(seed: bytes = b"w") -> dict[str, bytes]:
    return {
        "config.json": b'{"model_type": "bert", "hidden_size": 8}',
        "tokenizer.json": b'{"version": "1.0"}',
        "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
        "model.safetensors": weight_bytes(150_000, seed),
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256sum_c(folder: Path) -> str:
    r = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _tree(folder: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in ("SHA256SUMS", ".localmodels.json"):
            out[rel] = p.read_bytes()
    return out


def _materialize(*args: str) -> list[dict]:
    return json.loads(_ok(run_cli("materialize", *args, "--json")).stdout)


@pytest.mark.parametrize("mode", MODES)
def test_hub_model_laid_out(hub, tmp_path, mode):
    files = _files()
    commit = hub.add_repo("acme/tiny-embedder", files)
    _ok(run_cli("pull", "acme/tiny-embedder"))
    hub.clear_log()
    out = _materialize("acme/tiny-embedder", "--dir", str(tmp_path / "models"), "--mode", mode)
    assert hub.requests() == []  # never a download
    folder = tmp_path / "models" / "tiny-embedder"
    assert out[0]["folder"] == str(folder) and out[0]["commit"] == commit and out[0]["files"] == 4
    assert _tree(folder) == files
    checked = _sha256sum_c(folder)
    assert "model.safetensors: OK" in checked and "1_Pooling/config.json: OK" in checked
    sums = (folder / "SHA256SUMS").read_text()
    assert f"{_sha(files['model.safetensors'])}  model.safetensors\n" in sums
    weights = folder / "model.safetensors"
    repo = RepoFolder("acme/tiny-embedder")
    blob = repo.blob(_sha(files["model.safetensors"]))
    if mode == "link":
        assert weights.is_symlink() and Path(os.readlink(weights)) == repo.snapshot(commit) / "model.safetensors"
    elif mode == "hardlink":
        assert not weights.is_symlink() and os.path.samefile(weights, blob) and weights.stat().st_nlink >= 2
    else:
        assert not weights.is_symlink() and not os.path.samefile(weights, blob)
    # a second run changes nothing
    again = _materialize("acme/tiny-embedder", "--dir", str(tmp_path / "models"), "--mode", mode)
    assert again[0]["placed"] == [] and len(again[0]["kept"]) == 4
    _ok(run_cli("verify", "--dir", str(folder)))


@pytest.mark.parametrize("mode", MODES)
def test_local_folder_model_laid_out(tmp_path, mode):
    src = tmp_path / "my-finetune"
    (src / "sub").mkdir(parents=True)
    (src / "config.json").write_text("{}")
    (src / "model.onnx").write_bytes(b"onnx" * 5000)
    (src / "sub" / "vocab.txt").write_text("a\nb\n")
    os.chmod(src / "model.onnx", 0o644)
    _ok(run_cli("pull", str(src)))
    out = _materialize(str(src), "--dir", str(tmp_path / "models"), "--mode", mode, "--name", "finetune-v1")
    folder = tmp_path / "models" / "finetune-v1"
    assert out[0]["folder"] == str(folder)
    assert _tree(folder) == _tree(src)
    _sha256sum_c(folder)
    assert (folder / "model.onnx").is_symlink() == (mode == "link")
    assert os.path.samefile(folder / "model.onnx", src / "model.onnx") == (mode != "copy")
    assert (src / "model.onnx").stat().st_mode & 0o777 == 0o644  # the user's file is left as it is


def test_never_downloads_and_refuses_a_foreign_folder(hub, tmp_path):
    hub.add_repo("acme/tiny", _files())
    r = run_cli("materialize", "acme/tiny", "--dir", str(tmp_path / "models"))
    assert r.returncode == 1 and "not in the store" in r.stderr and "localmodels pull acme/tiny" in r.stderr
    assert hub.requests() == []
    _ok(run_cli("pull", "acme/tiny"))
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    (tmp_path / "models" / "tiny" / "notes.txt").write_text("mine")
    r = run_cli("materialize", "acme/tiny", "--dir", str(tmp_path / "models"))
    assert r.returncode == 2 and "not made by localmodels materialize" in r.stderr
    assert (tmp_path / "models" / "tiny" / "notes.txt").read_text() == "mine"
    r = run_cli("materialize", "acme/tiny", "--dir", str(tmp_path / "m2"), "--mode", "symlink")
    assert r.returncode == 2 and "link, hardlink or copy" in r.stderr


def test_lock_change_updates_the_folder(hub, tmp_path):
    first = {**_files(b"v1"), "old-notes.txt": b"gone in v2"}
    c1 = hub.add_repo("acme/tiny", first)
    project = tmp_path / "project"
    project.mkdir()
    (project / "localmodels.toml").write_text('[models.embedder]\nref = "acme/tiny"\n')
    local = tmp_path / "mine"
    local.mkdir()
    (local / "config.json").write_text('{"a": 1}')
    with open(project / "localmodels.toml", "a") as f:
        f.write(f'\n[models.mine]\nref = "{local}"\n')
    lock = project / "localmodels.lock"
    models = tmp_path / "models"

    # not synced yet: a clear error, nothing fetched
    _ok(run_cli("lock", "--manifest", str(project / "localmodels.toml")))
    _ok(run_cli("rm", "acme/tiny", "-y"))
    hub.clear_log()
    r = run_cli("materialize", "--lock", str(lock), "--dir", str(models))
    assert r.returncode == 1 and "localmodels sync" in r.stderr and hub.requests("GET", "resolve") == []

    _ok(run_cli("sync", "--lock-file", str(lock)))
    out = {x["name"]: x for x in _materialize("--lock", str(lock), "--dir", str(models), "--mode", "copy")}
    assert out["embedder"]["commit"] == c1 and _tree(models / "embedder") == first
    assert _tree(models / "mine") == {"config.json": b'{"a": 1}'}

    second = _files(b"v2")
    second["config.json"] = b'{"model_type": "bert", "hidden_size": 16}'
    c2 = hub.add_repo("acme/tiny", second)
    _ok(run_cli("lock", "--manifest", str(project / "localmodels.toml"), "--upgrade"))
    _ok(run_cli("sync", "--lock-file", str(lock)))
    out = {x["name"]: x for x in _materialize("--lock", str(lock), "--dir", str(models), "--mode", "copy")}
    emb = out["embedder"]
    assert emb["commit"] == c2 and emb["removed"] == ["old-notes.txt"]
    assert sorted(emb["placed"]) == ["config.json", "model.safetensors"]
    assert sorted(emb["kept"]) == ["1_Pooling/config.json", "tokenizer.json"]
    assert _tree(models / "embedder") == second and not (models / "embedder" / "old-notes.txt").exists()
    assert "old-notes.txt" not in (models / "embedder" / "SHA256SUMS").read_text()
    _sha256sum_c(models / "embedder")
    marker = json.loads((models / "embedder" / ".localmodels.json").read_text())
    assert marker["commit"] == c2 and marker["lock"] == str(lock)
    assert out["mine"]["placed"] == [] and out["mine"]["kept"] == ["config.json"]


def test_verify_dir_finds_and_repairs_a_changed_copy(hub, tmp_path):
    files = _files()
    hub.add_repo("acme/tiny", files)
    _ok(run_cli("pull", "acme/tiny"))
    _materialize("acme/tiny", "--dir", str(tmp_path), "--mode", "copy")
    folder = tmp_path / "tiny"
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    (folder / "modeling_evil.py").write_text("import os\n")
    r = run_cli("verify", "--dir", str(folder))
    assert r.returncode == 2
    assert "corrupt" in r.stderr and "model.safetensors" in r.stderr and "modeling_evil.py" in r.stderr
    assert "--repair" in r.stderr
    bad = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert bad.returncode != 0 and "model.safetensors: FAILED" in bad.stdout
    _ok(run_cli("verify", "--dir", str(folder), "--repair"))
    assert weights.read_bytes() == files["model.safetensors"] and not (folder / "modeling_evil.py").exists()
    _ok(run_cli("verify", "--dir", str(folder)))
    r = run_cli("verify", "--dir", str(tmp_path))
    assert r.returncode == 2 and "not a folder made by localmodels materialize" in r.stderr


def test_sentence_transformers_loads_the_materialized_minilm(tmp_path):
    pytest.importorskip("sentence_transformers")
    _ok(run_cli("pull", "minilm"))
    out = _materialize("minilm", "--dir", str(tmp_path / "models"))
    folder = Path(out[0]["folder"])
    assert folder.name == "all-MiniLM-L6-v2" and (folder / "model.safetensors").is_symlink()
    _sha256sum_c(folder)
    from sentence_transformers import SentenceTransformer

    from localmodels import store

    texts = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell."]
    ours = SentenceTransformer(str(folder), device="cpu").encode(texts, normalize_embeddings=True)
    original = SentenceTransformer(str(store.resolve("minilm").path), device="cpu")
    theirs = original.encode(texts, normalize_embeddings=True)
    assert ours.shape == (3, 384)
    assert (ours * theirs).sum(axis=1).min() > 0.99999
    assert float(ours[0] @ ours[1]) > float(ours[0] @ ours[2])


def test_export_writes_sha256sums_that_sha256sum_checks(hub, tmp_path):
    import tarfile

    files = _files()
    commit = hub.add_repo("acme/tiny", files)
    _ok(run_cli("pull", "acme/tiny"))
    bundle = tmp_path / "models.tar"
    _ok(run_cli("export", "acme/tiny", "-o", str(bundle)))
    out = tmp_path / "unpacked"
    with tarfile.open(bundle) as tar:
        tar.extractall(out, filter="data")
    checked = _sha256sum_c(out)
    assert f"hub/models--acme--tiny/snapshots/{commit}/model.safetensors: OK" in checked
    assert checked.count(": OK") == len(files)
    _ok(run_cli("rm", "acme/tiny", "-y"))
    _ok(run_cli("import", str(bundle)))  # the extra member does not upset import
    assert _tree(Path(_materialize("acme/tiny", "--dir", str(tmp_path / "m"))[0]["folder"])) == files


def test_a_tampered_marker_cannot_reach_outside_the_folder(tmp_path):
    src = tmp_path / "m"
    src.mkdir()
    (src / "config.json").write_text("{}")
    _ok(run_cli("pull", str(src)))
    _materialize(str(src), "--dir", str(tmp_path / "models"))
    victim = tmp_path / "models" / "victim.txt"
    victim.write_text("keep me")
    marker_path = tmp_path / "models" / "m" / ".localmodels.json"
    marker = json.loads(marker_path.read_text())
    marker["files"].append({"path": "../victim.txt", "size": 7, "sha256": "0" * 64})
    marker_path.write_text(json.dumps(marker))
    r = run_cli("verify", "--dir", str(tmp_path / "models" / "m"), "--repair")
    assert "Traceback" not in r.stderr
    out = _materialize(str(src), "--dir", str(tmp_path / "models"))
    assert out[0]["removed"] == [] and victim.read_text() == "keep me"
