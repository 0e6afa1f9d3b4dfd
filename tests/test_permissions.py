"""Modes of model files and folders: restrictive defaults, settings, ``--group`` with setgid, and
world-writable files reported by ``verify`` and fixed by ``verify --repair``."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import run_cli
from hub_server import hub, hub_session, weight_bytes  # noqa: F401  (fixtures)
from localmodels.errors import UsageError
from localmodels.sources.hfcache import RepoFolder
from localmodels.store import permissions


def _ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _model(tmp_path: Path) -> Path:
    src = tmp_path / "src-model"
    (src / "1_Pooling").mkdir(parents=True)
    (src / "config.json").write_text("{}")
    (src / "1_Pooling" / "config.json").write_text("{}")
    (src / "model.safetensors").write_bytes(b"\0" * 4096)
    _ok(run_cli("pull", str(src)))
    return src


def _entries(folder: Path) -> tuple[list[Path], list[Path]]:
    dirs = [folder] + [p for p in folder.rglob("*") if p.is_dir()]
    files = [p for p in folder.rglob("*") if p.is_file()]
    return dirs, files


def test_created_files_and_folders_get_restrictive_modes(tmp_path):
    src = _model(tmp_path)
    _ok(run_cli("materialize", str(src), "--dir", str(tmp_path / "models"), "--mode", "copy"))
    dirs, files = _entries(tmp_path / "models" / "src-model")
    assert len(files) == 5 and {_mode(p) for p in files} == {0o640}  # 3 model files, SHA256SUMS, marker
    assert {_mode(d) for d in dirs} == {0o750} and _mode(tmp_path / "models") == 0o750

    env = {"LOCALMODELS_FILE_MODE": "0600", "LOCALMODELS_DIR_MODE": "700"}
    _ok(run_cli("materialize", str(src), "--dir", str(tmp_path / "private"), "--mode", "copy", env=env))
    dirs, files = _entries(tmp_path / "private" / "src-model")
    assert {_mode(p) for p in files} == {0o600} and {_mode(d) for d in dirs} == {0o700}


def test_a_world_writable_mode_setting_is_refused(tmp_path):
    src = _model(tmp_path)
    r = run_cli("materialize", str(src), "--dir", str(tmp_path / "m"), env={"LOCALMODELS_FILE_MODE": "0666"})
    assert r.returncode == 2 and "lets anyone write" in r.stderr and "hint:" in r.stderr
    assert not (tmp_path / "m").exists()
    with pytest.raises(UsageError):
        permissions.parse_mode("rw-r", what="mode")
    assert permissions.parse_mode("0o640", what="mode") == 0o640


def _other_group() -> grp.struct_group:
    """A group we may give files to: any group as root, else one of ours other than the primary."""
    mine = os.getgid()
    pool = grp.getgrall() if os.geteuid() == 0 else [grp.getgrgid(g) for g in os.getgroups()]
    others = [g for g in pool if g.gr_gid != mine]
    if not others:
        pytest.skip("this user belongs to no second group to test --group with")
    return others[0]


def test_group_and_setgid_for_a_shared_folder(tmp_path):
    src = _model(tmp_path)
    group = _other_group()
    _ok(run_cli("materialize", str(src), "--dir", str(tmp_path / "team"), "--mode", "copy", "--group", group.gr_name))
    dirs, files = _entries(tmp_path / "team" / "src-model")
    for d in dirs:
        assert d.stat().st_gid == group.gr_gid and d.stat().st_mode & stat.S_ISGID, d
        assert _mode(d) & 0o777 == 0o750
    for f in files:
        assert f.stat().st_gid == group.gr_gid and _mode(f) == 0o640, f
    r = run_cli("materialize", str(src), "--dir", str(tmp_path / "x"), "--group", "no-such-group-here")
    assert r.returncode == 2 and "no group named 'no-such-group-here'" in r.stderr


def test_world_writable_model_file_reported_and_repaired(hub, tmp_path):
    weights = weight_bytes(50_000)
    hub.add_repo("acme/tiny", {"config.json": b"{}", "model.safetensors": weights})
    _ok(run_cli("pull", "acme/tiny"))
    repo = RepoFolder("acme/tiny")
    dirs = [repo.path] + [p for p in repo.path.rglob("*") if p.is_dir() and not p.is_symlink()]
    files = [p for p in repo.path.rglob("*") if p.is_file() and not p.is_symlink()]
    assert {_mode(d) for d in dirs} == {0o750} and {_mode(f) for f in files} == {0o640}  # the store's own modes
    blob = repo.blob(hashlib.sha256(weights).hexdigest())
    os.chmod(blob, 0o666)
    r = _ok(run_cli("verify", "acme/tiny"))  # a warning, not a failure
    assert "world-writable" in r.stderr and str(blob) in r.stderr and "verify --repair" in r.stderr
    r = _ok(run_cli("verify", "acme/tiny", "--repair"))
    assert _mode(blob) == 0o640
    assert "world-writable" not in _ok(run_cli("verify", "acme/tiny")).stderr


def test_world_writable_in_a_materialized_folder_reported_and_repaired(tmp_path):
    src = _model(tmp_path)
    _ok(run_cli("materialize", str(src), "--dir", str(tmp_path / "models"), "--mode", "copy"))
    folder = tmp_path / "models" / "src-model"
    os.chmod(folder / "model.safetensors", 0o646)
    os.chmod(folder / "1_Pooling", 0o777)
    r = _ok(run_cli("verify", "--dir", str(folder)))
    assert r.stderr.count("world-writable") == 2 and "--repair" in r.stderr
    assert "model.safetensors" in r.stderr and "1_Pooling" in r.stderr
    r = _ok(run_cli("verify", "--dir", str(folder), "--repair"))
    assert "repaired" in r.stdout
    assert _mode(folder / "model.safetensors") == 0o640 and _mode(folder / "1_Pooling") == 0o750
    assert permissions.world_writable([folder]) == []


def test_verify_json_lists_world_writable_files_and_what_repair_fixed(hub, tmp_path):
    weights = weight_bytes(50_000)
    hub.add_repo("acme/tiny", {"config.json": b"{}", "model.safetensors": weights})
    _ok(run_cli("pull", "acme/tiny"))
    repo = RepoFolder("acme/tiny")
    blob = repo.blob(hashlib.sha256(weights).hexdigest())
    [snap] = list((repo.path / "snapshots").iterdir())
    os.chmod(blob, 0o666)
    os.chmod(snap, 0o777)
    r = _ok(run_cli("verify", "acme/tiny", "--json"))  # a warning, not a failure: exit 0
    [check] = json.loads(r.stdout)
    assert check["ok"] and check["problems"] == []
    assert sorted(check["world_writable"]) == sorted([str(blob), str(snap)]) and check["modes_fixed"] is False
    assert _mode(blob) == 0o666  # reported, not changed
    r = _ok(run_cli("verify", "acme/tiny", "--json", "--repair"))
    [check] = json.loads(r.stdout)
    assert sorted(check["world_writable"]) == sorted([str(blob), str(snap)]) and check["modes_fixed"] is True
    assert _mode(blob) == 0o640 and _mode(snap) == 0o750
    [check] = json.loads(_ok(run_cli("verify", "acme/tiny", "--json")).stdout)
    assert check["world_writable"] == [] and check["modes_fixed"] is False


def test_verify_json_names_each_models_own_world_writable_files(hub, tmp_path):
    src = _model(tmp_path)  # a local folder: checked in place, its modes are its owner's to fix
    hub.add_repo("acme/tiny", {"config.json": b"{}", "model.safetensors": weight_bytes(20_000)})
    _ok(run_cli("pull", "acme/tiny"))
    os.chmod(src / "1_Pooling" / "config.json", 0o646)
    checks = {c["name"]: c for c in json.loads(_ok(run_cli("verify", "--json")).stdout)}
    assert len(checks) == 2
    [local] = [c for c in checks.values() if c["source"] == "local"]
    [hubbed] = [c for c in checks.values() if c["source"] == "hub"]
    assert local["world_writable"] == [str(src / "1_Pooling" / "config.json")]
    assert hubbed["world_writable"] == []


def _export(tmp_path: Path) -> Path:
    """A bundle of acme/tiny, exported from the store the test's environment names."""
    bundle = tmp_path / "tiny.tar"
    _ok(run_cli("pull", "acme/tiny"))
    _ok(run_cli("export", "acme/tiny", "-o", str(bundle)))
    return bundle


def _fresh_store(tmp_path: Path, name: str, **extra: str) -> dict[str, str]:
    """Another machine's store: its own LOCALMODELS_HOME and HF_HOME, offline."""
    return {"LOCALMODELS_HOME": str(tmp_path / name / "lm"), "HF_HOME": str(tmp_path / name / "hf"),
            "HF_HUB_OFFLINE": "1", **extra}


def _repo_modes(hf_home: Path, repo_id: str) -> tuple[set[int], set[int]]:
    """The modes of the folders and of the regular files of a repo folder in a cache: the repo
    folder, its blobs and snapshots (the model's files; ``refs/`` holds only a commit id)."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    assert repo.is_dir(), repo
    parts = [repo / "blobs", repo / "snapshots"]
    dirs = {_mode(repo), *(_mode(d) for d in parts)}
    dirs |= {_mode(p) for d in parts for p in d.rglob("*") if p.is_dir() and not p.is_symlink()}
    files = [p for d in parts for p in d.rglob("*") if p.is_file() and not p.is_symlink()]
    assert len(files) == 3  # the blobs of config.json, model.safetensors, sub/vocab.txt
    return dirs, {_mode(p) for p in files}


def test_bundle_import_gives_imported_files_the_stores_modes(hub, tmp_path):
    hub.add_repo("acme/tiny", {"config.json": b"{}", "model.safetensors": weight_bytes(30_000),
                               "sub/vocab.txt": b"a\nb\n"})
    bundle = _export(tmp_path)
    with tarfile.open(bundle) as tar:  # the archive itself carries loose modes (0644 or wider)
        assert any(m.mode & 0o044 for m in tar.getmembers() if m.isfile())
    env = _fresh_store(tmp_path, "airgap")
    _ok(run_cli("import", str(bundle), env=env))
    dirs, files = _repo_modes(tmp_path / "airgap" / "hf", "acme/tiny")
    assert dirs == {0o750} and files == {0o640}, (dirs, files)
    r = _ok(run_cli("verify", "acme/tiny", "--json", env=env))
    assert json.loads(r.stdout)[0]["world_writable"] == []

    env = _fresh_store(tmp_path, "private", LOCALMODELS_FILE_MODE="0600", LOCALMODELS_DIR_MODE="0700")
    _ok(run_cli("import", str(bundle), env=env))
    dirs, files = _repo_modes(tmp_path / "private" / "hf", "acme/tiny")
    assert dirs == {0o700} and files == {0o600}, (dirs, files)


def test_secure_repo_folder_gives_a_repo_folder_the_configured_modes(tmp_path, monkeypatch):
    from localmodels.store.permissions import secure_repo_folder

    repo = tmp_path / "models--acme--x"
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / "c0ffee" / "sub").mkdir(parents=True)
    blob = repo / "blobs" / "abc"
    blob.write_bytes(b"weights")
    os.chmod(blob, 0o666)
    os.chmod(repo / "snapshots", 0o777)
    link = repo / "snapshots" / "c0ffee" / "sub" / "w.bin"
    link.symlink_to(os.path.relpath(blob, link.parent))
    monkeypatch.setenv("LOCALMODELS_FILE_MODE", "0600")
    assert secure_repo_folder(repo) > 0
    assert _mode(blob) == 0o600
    assert {_mode(d) for d in [repo, *(p for p in repo.rglob("*") if p.is_dir() and not p.is_symlink())]} == {0o750}
    assert permissions.world_writable([repo]) == []
