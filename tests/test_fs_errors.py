"""Issue 20, defect 7: filesystem errors are ``error:`` + ``hint:`` lines, never a traceback.

Each case is met through the CLI, as a subprocess: a disk that fills up during a download (a real
tmpfs, mounted in a private mount namespace), a read-only store, LOCALMODELS_HOME / HF_HOME /
HF_HUB_CACHE pointing at a file, cache folders replaced by files, a reference too long for a file
name, unreadable and binary input files, a folder given as a manifest and an output path under a file.

Permissions: tests run as root in CI containers, where ``chmod 000`` stops nobody; the CLI then runs
under ``setpriv`` without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH, so the modes apply as for any user.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hub_server import hub, hub_session, weight_bytes  # noqa: F401

NO_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def lm(*args: str, env: dict[str, str] | None = None, prefix: list[str] | None = None, cwd=None,
       timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*(prefix or []), sys.executable, "-m", "localmodels", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=cwd)


def assert_clean_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    """Failed with ``error:`` and ``hint:`` lines, no traceback; every needle is in stderr (case-insensitive)."""
    err = r.stderr
    assert r.returncode not in (0, None), (r.stdout, err)
    assert "Traceback" not in err and 'File "' not in err, err
    assert "error:" in err and "hint:" in err, err
    for needle in needles:
        assert needle.lower() in err.lower(), (needle, err)
    return err


def unprivileged(paths: list[Path]) -> None:
    """Make ``paths`` (recursively) read-only for everyone."""
    for top in paths:
        for dirpath, _, filenames in os.walk(top):
            for name in filenames:
                p = Path(dirpath, name)
                if not p.is_symlink():
                    p.chmod(p.stat().st_mode & ~0o222)
            Path(dirpath).chmod(Path(dirpath).stat().st_mode & ~0o222)


def restore_writable(paths: list[Path]) -> None:
    for top in paths:
        for dirpath, _, filenames in os.walk(top):
            Path(dirpath).chmod(0o755)
            for name in filenames:
                p = Path(dirpath, name)
                if not p.is_symlink():
                    p.chmod(0o644)


@pytest.fixture
def tiny(hub):
    hub.add_repo("acme/tiny", {"config.json": b"{}", "model.safetensors": weight_bytes(50_000)})
    return hub


def test_disk_full_while_downloading_says_so_and_cleans_up(hub, tmp_path):
    """The free-space check passes (another process fills the disk meanwhile: LOCALMODELS_FREE_SPACE
    stands in for that), then the download meets a real ENOSPC on a 384 kB tmpfs."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode != 0:
        pytest.skip("needs unshare -rm (user + mount namespaces) to mount a small tmpfs")
    hub.add_repo("acme/big", {"config.json": b"{}", "model.safetensors": weight_bytes(1_000_000)})
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (f'mount -t tmpfs -o size=384k tmpfs "{disk}" || exit 99; '
              f'"{sys.executable}" -m localmodels pull acme/big; rc=$?; '
              f'echo "LEFT:"; find "{disk}" -type f \\( -name "*.incomplete" -o -name "*.tmp" \\) >&2; exit $rc')
    env = {**os.environ, "LOCALMODELS_HOME": str(disk / "lm"), "HF_HOME": str(disk / "hf"),
           "LOCALMODELS_FREE_SPACE": str(10**10)}
    r = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode != 99, r.stderr
    err = assert_clean_error(r, "disk is full", "prune")
    assert ".incomplete" not in err and ".tmp" not in err.split("hint:")[-1], err  # partial files removed


def test_read_only_store(tiny, tmp_path, isolated_home):
    assert lm("pull", "acme/tiny").returncode == 0
    home, hf = isolated_home / "localmodels", isolated_home / "hf"
    tiny.add_repo("acme/other", {"config.json": b"{}", "model.safetensors": weight_bytes(20_000, b"o")})
    unprivileged([home, hf])
    try:
        assert_clean_error(lm("rm", "acme/tiny", "--yes", prefix=NO_DAC), "permission denied", "LOCALMODELS_HOME")
        assert_clean_error(lm("pull", "acme/other", prefix=NO_DAC), "permission denied")
    finally:
        restore_writable([home, hf])


@pytest.mark.parametrize("var", ["LOCALMODELS_HOME", "HF_HOME", "HF_HUB_CACHE"])
def test_store_variable_pointing_at_a_file(tiny, tmp_path, var):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    err = assert_clean_error(lm("pull", "acme/tiny", env={var: str(blocker)}), str(blocker), var)
    assert "folder" in err


@pytest.mark.parametrize("replaced", ["locks", "records", "blobs", "hub"])
def test_cache_folder_replaced_by_a_file(tiny, isolated_home, replaced):
    assert lm("pull", "acme/tiny").returncode == 0
    home, hf = isolated_home / "localmodels", isolated_home / "hf"
    target = {"locks": home / "locks", "records": home / "records", "hub": hf / "hub",
              "blobs": hf / "hub" / "models--acme--tiny" / "blobs"}[replaced]
    shutil.rmtree(target)
    target.write_text("in the way")
    r = lm("pull", "acme/tiny", "--force")
    err = assert_clean_error(r, str(target))
    assert "folder" in err


def test_reference_too_long_for_a_file_name():
    for ref in ("b" * 300, "b" * 300 + "/x"):
        err = assert_clean_error(lm("info", ref), "too long")
        assert len(err) < 2000, err
    r = lm("pull", "b" * 300)
    assert_clean_error(r, "too long")
    assert r.returncode == 2


def test_unreadable_input_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("a line\n")
    secret.chmod(0)
    assert_clean_error(lm("embed", "--file", str(secret), prefix=NO_DAC), "permission denied", str(secret))
    assert_clean_error(lm("search", "query", "--corpus", str(secret), prefix=NO_DAC), "permission denied")
    assert_clean_error(lm("embed", "--file", str(tmp_path)), "is a folder")
    assert_clean_error(lm("search", "query", "--corpus", str(tmp_path)), "is a folder")


def test_binary_categories_file(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("hello")
    cats = tmp_path / "cats.txt"
    cats.write_bytes(b"\x00\x01\x02\xff\xfe binary")
    err = assert_clean_error(lm("classify", str(tmp_path / "docs"), "--categories-file", str(cats)), str(cats))
    assert "UTF-8" in err or "text" in err


def test_lock_manifest_given_a_folder(tmp_path):
    (tmp_path / "localmodels.toml").write_text('[models.emb]\nref = "minilm"\n')
    err = assert_clean_error(lm("lock", "--manifest", str(tmp_path)), "folder")
    assert "localmodels.toml" in err.split("hint:")[-1]


def test_classify_output_under_a_file_fails_before_any_work(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("hello")
    (tmp_path / "file.txt").write_text("a file, not a folder")
    r = lm("classify", str(tmp_path / "docs"), "--categories", "a,b", "-o", str(tmp_path / "file.txt" / "r.json"),
           cwd=tmp_path)
    assert_clean_error(r, "file.txt")
    assert (tmp_path / "file.txt").read_text() == "a file, not a folder"
    assert not stat.S_ISDIR((tmp_path / "file.txt").stat().st_mode)
