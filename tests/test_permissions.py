"""Modes of model files and folders: restrictive defaults, settings, ``--group`` with setgid, and
world-writable files reported by ``verify`` and fixed by ``verify --repair``."""

from __future__ import annotations

import grp
import hashlib
import os
import stat
import subprocess
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
