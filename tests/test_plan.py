"""``localmodels plan``: bytes to download per model (present files zero, shared blobs once), the
total, the free space and the margin; exit 1 when it would not fit. ``pull`` and ``sync`` stop
before downloading on the same numbers. Free space is faked with ``LOCALMODELS_FREE_SPACE``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import run_cli
from hub_server import hub, hub_session, weight_bytes  # noqa: F401  (fixtures)

BIG = str(10**12)


def _ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def _plan(*args: str, free: str = BIG, code: int = 0) -> dict:
    r = run_cli("plan", *args, "--json", env={"LOCALMODELS_FREE_SPACE": free})
    assert r.returncode == code, r.stdout + r.stderr
    return json.loads(r.stdout)


def _by_name(plan: dict) -> dict[str, dict]:
    return {m["name"]: m for m in plan["models"]}


def _two_commits(hub) -> tuple[str, str, dict[str, bytes], dict[str, bytes]]:
    """acme/tiny at two commits that share their 300 kB weights; acme/other with its own weights."""
    shared = weight_bytes(300_000, b"shared")
    old = {"config.json": b'{"v": 1}', "model.safetensors": shared, "extra.onnx": weight_bytes(40_000, b"x")}
    new = {"config.json": b'{"v": 2}', "model.safetensors": shared}
    c1 = hub.add_repo("acme/tiny", old)
    c2 = hub.add_repo("acme/tiny", new)
    hub.add_repo("acme/other", {"config.json": b"{}", "model.safetensors": weight_bytes(70_000, b"o")})
    return c1, c2, old, new


def _manifest(tmp_path: Path, c1: str) -> Path:
    m = tmp_path / "localmodels.toml"
    m.write_text(f'[models.tiny-old]\nref = "acme/tiny@{c1}"\n\n[models.tiny]\nref = "acme/tiny"\n\n'
                 '[models.other]\nref = "acme/other"\n\n[models.weights-only]\nref = "acme/tiny"\n'
                 'include = ["*.safetensors"]\n')
    return m


def test_shared_blobs_counted_once_and_present_files_zero(hub, tmp_path):
    c1, _c2, old, new = _two_commits(hub)
    manifest = _manifest(tmp_path, c1)
    p = _plan("--manifest", str(manifest))
    by = _by_name(p)
    size = {k: len(v) for k, v in old.items()}
    # sorted by name: other, tiny, tiny-old, weights-only; the shared weights are counted under "tiny"
    assert by["other"]["download"] == 70_002 and by["other"]["basis"] == "hub"
    assert by["tiny"]["download"] == len(new["config.json"]) + size["model.safetensors"]
    assert by["tiny-old"]["download"] == size["config.json"] + size["extra.onnx"]
    assert by["tiny-old"]["shared"] == size["model.safetensors"]
    assert by["weights-only"]["download"] == 0 and by["weights-only"]["shared"] == size["model.safetensors"]
    assert by["weights-only"]["size"] == size["model.safetensors"]
    total = 70_002 + 8 + 300_000 + 8 + 40_000
    assert p["total"] == total and p["free"] == 10**12 and p["margin"] == 10**12 - total and p["fits"]

    _ok(run_cli("pull", "acme/tiny"))  # what is here counts zero
    by = _by_name(_plan("--manifest", str(manifest)))
    assert by["tiny"]["download"] == 0 and by["tiny"]["basis"] == "present"
    assert by["tiny-old"]["download"] == size["config.json"] + size["extra.onnx"]  # the weights blob is here
    assert by["weights-only"]["download"] == 0


def test_plan_from_the_lock_and_from_refs(hub, tmp_path):
    c1, _c2, old, _new = _two_commits(hub)
    manifest = _manifest(tmp_path, c1)
    _ok(run_cli("lock", "--manifest", str(manifest)))
    _ok(run_cli("rm", "acme/tiny", "-y"))
    _ok(run_cli("rm", "acme/other", "-y"))
    hub.clear_log()
    p = _plan("--manifest", str(manifest))
    assert hub.requests() == []  # every entry is pinned by the lock: no request
    by = _by_name(p)
    assert {m["basis"] for m in p["models"]} == {"lock"}
    assert p["total"] == 70_002 + 8 + 300_000 + 8 + 40_000 and by["weights-only"]["shared"] == 300_000
    r = _plan("acme/other", f"acme/tiny@{c1}")
    assert [m["download"] for m in r["models"]] == [70_002, sum(len(v) for v in old.values())]


def test_short_free_space_fails_cleanly(hub, tmp_path):
    c1, _c2, _old, _new = _two_commits(hub)
    manifest = _manifest(tmp_path, c1)
    r = run_cli("plan", "--manifest", str(manifest), env={"LOCALMODELS_FREE_SPACE": "100000"})
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "not enough disk space: needs 410.0 kB, 100.0 kB available" in r.stderr and "hint:" in r.stderr
    assert "margin -310.0 kB" in " ".join(r.stdout.split())
    p = _plan("--manifest", str(manifest), "--reserve", "1M", free="1000000", code=1)
    assert p["fits"] is False and p["reserve"] == 1 << 20


def test_pull_and_sync_stop_before_downloading(hub, tmp_path):
    c1, _c2, _old, _new = _two_commits(hub)
    manifest = _manifest(tmp_path, c1)
    _ok(run_cli("lock", "--manifest", str(manifest)))
    _ok(run_cli("rm", "acme/tiny", "-y"))
    _ok(run_cli("rm", "acme/other", "-y"))
    hub.clear_log()
    short = {"LOCALMODELS_FREE_SPACE": "350000"}
    r = run_cli("sync", "--lock-file", str(tmp_path / "localmodels.lock"), env=short)
    assert r.returncode == 1 and "not enough disk space: needs 410.0 kB, 350.0 kB available" in r.stderr
    assert hub.requests("GET", r"/resolve/") == []
    r = run_cli("pull", "acme/other", env={"LOCALMODELS_FREE_SPACE": "50000"})
    assert r.returncode == 1 and "not enough disk space: needs 70.0 kB" in r.stderr
    assert hub.requests("GET", r"/resolve/") == []
    _ok(run_cli("sync", "--lock-file", str(tmp_path / "localmodels.lock"), env={"LOCALMODELS_FREE_SPACE": "410018"}))


def test_catalog_size_when_the_hub_cannot_be_asked_and_folders_in_place(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"x" * 1234)
    r = run_cli("plan", "bge-small", str(folder), "--json",
                env={"LOCALMODELS_OFFLINE": "1", "LOCALMODELS_FREE_SPACE": BIG})
    p = json.loads(_ok(r).stdout)
    by = _by_name(p)
    assert by["bge-small"]["basis"] == "catalog" and by["bge-small"]["download"] == 133_000_000
    assert by[str(folder)]["basis"] == "in place" and by[str(folder)]["download"] == 0
    assert by[str(folder)]["size"] == 1234
    assert p["total"] == 133_000_000 and any("no Hub listing" in w for w in p["warnings"])
