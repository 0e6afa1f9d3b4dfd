"""lock -> sync -> check against our local Hub on 127.0.0.1: pins, exit codes, offline, retries, workers."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from hub_server import Hub

FAST_RETRY = {"LOCALMODELS_RETRY_BASE": "0.01", "LOCALMODELS_RETRY_MAX_WAIT": "0.05"}


@pytest.fixture(scope="module")
def hub():
    with Hub() as h:
        yield h


_COUNTER = iter(range(10_000))


def _repos(hub: Hub) -> tuple[str, str, str, str]:
    """Two fresh repos (unique names per test): a required and an optional one."""
    n = next(_COUNTER)
    a, b = f"acme/tiny-{n}", f"acme/extra-{n}"
    ca = hub.add_repo(a, {"config.json": '{"hidden_size": 8}', "model.safetensors": os.urandom(5000),
                          "README.md": "not included", "sub/vocab.txt": "a\nb\n"})
    cb = hub.add_repo(b, {"config.json": '{"x": 1}', "model.onnx": os.urandom(3000)})
    return a, ca, b, cb


def _project(tmp_path: Path, a: str, b: str) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.toml").write_text(
        f'[models.tiny]\nref = "{a}"\ninclude = ["*.json", "*.safetensors", "sub/*"]\n\n'
        f'[models.extra]\nref = "{b}"\nrequired = false\n'
    )
    return proj


def _fresh_machine(monkeypatch, tmp_path: Path, name: str) -> None:
    monkeypatch.setenv("LOCALMODELS_HOME", str(tmp_path / name / "lm"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / name / "hf"))


def _snapshot(repo: str, commit: str) -> Path:
    return Path(os.environ["HF_HOME"]) / "hub" / ("models--" + repo.replace("/", "--")) / "snapshots" / commit


def test_lock_sync_check_round_trip_pins_the_commit(cli, hub, tmp_path, monkeypatch):
    a, ca, b, cb = _repos(hub)
    proj = _project(tmp_path, a, b)
    env = hub.env(**FAST_RETRY)
    r = cli("lock", cwd=proj, env=env)
    assert r.returncode == 0, r.stderr
    text = (proj / "localmodels.lock").read_text()
    assert f'commit = "{ca}"' in text and f'commit = "{cb}"' in text
    assert '"README.md"' not in text and '"sub/vocab.txt"' in text  # include patterns honoured
    sha = hub.file(a, "model.safetensors").sha256
    assert f'sha256 = "{sha}"' in text

    # the Hub moves on; a fresh machine still gets exactly the locked files
    hub.add_repo(a, {"config.json": '{"hidden_size": 16}', "model.safetensors": os.urandom(5000)})
    _fresh_machine(monkeypatch, tmp_path, "ci")
    hub.clear_log()
    r = cli("sync", "--workers", "2", "--json", cwd=proj, env=env)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert {m["name"]: m["status"] for m in report["models"]} == {"extra": "fetched", "tiny": "fetched"}
    paths = [q.path for q in hub.requests() if "/resolve/" in q.path or "/tree/" in q.path]
    assert paths and all(ca in p or cb in p for p in paths), paths  # only pinned commits asked for
    assert (_snapshot(a, ca) / "config.json").read_text() == '{"hidden_size": 8}'
    refs_main = Path(os.environ["HF_HOME"]) / "hub" / ("models--" + a.replace("/", "--")) / "refs" / "main"
    assert refs_main.read_text().strip() == ca  # offline loaders of "org/name" find the locked commit

    r = cli("check", "--json", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr
    assert all(m["status"] == "ok" for m in json.loads(r.stdout)["models"])

    hub.clear_log()  # a second sync finds everything and asks nothing
    r = cli("sync", cwd=proj, env=env)
    assert r.returncode == 0 and hub.requests() == []
    assert "tiny" in r.stdout and "ok" in r.stdout


def _api_lock(proj: Path):
    """In-process ``localmodels lock`` (the CLI is exercised by the round-trip test)."""
    from localmodels.store.lockfile import write_lock
    from localmodels.store.manifest import load_manifest
    from localmodels.store.sync import lock_manifest

    outcome = lock_manifest(load_manifest(proj / "localmodels.toml"), attempts=2, backoff=0.01)
    write_lock(outcome.lock, proj / "localmodels.lock")
    return outcome


def _api_sync(proj: Path, **kwargs):
    from localmodels.store.lockfile import read_lock
    from localmodels.store.sync import sync

    return {r.name: r for r in sync(read_lock(proj / "localmodels.lock"), proj, **kwargs).results}


@pytest.fixture
def online(hub, monkeypatch):
    """This process talks to the local Hub (huggingface_hub gets the endpoint per call from us)."""
    for k, v in hub.env(**FAST_RETRY).items():
        monkeypatch.setenv(k, v)
    return hub


def test_corrupt_file_exits_2_and_sync_repairs_it(cli, online, tmp_path):
    hub = online
    a, ca, b, cb = _repos(hub)
    proj = _project(tmp_path, a, b)
    _api_lock(proj)
    weights = _snapshot(a, ca) / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[1234] ^= 0x01
    weights.write_bytes(bytes(data))  # through the link: the blob itself is now corrupt

    r = cli("check", "--json", cwd=proj)
    assert r.returncode == 2, r.stdout
    tiny = next(m for m in json.loads(r.stdout)["models"] if m["name"] == "tiny")
    assert tiny["status"] == "corrupt" and tiny["problems"][0]["path"] == "model.safetensors"
    assert "sha256" in tiny["problems"][0]["problem"]

    result = _api_sync(proj, backoff=0.01)
    assert result["tiny"].status == "fetched", result["tiny"].detail
    from localmodels.store.lockfile import read_lock
    from localmodels.store.sync import check

    assert check(read_lock(proj / "localmodels.lock"), proj).exit_code == 0


def test_missing_model_exits_1_optional_only_warns(cli, online, tmp_path):
    a, ca, b, cb = _repos(online)
    proj = _project(tmp_path, a, b)
    _api_lock(proj)

    shutil.rmtree(_snapshot(b, cb))  # the optional model
    r = cli("check", cwd=proj)
    assert r.returncode == 0 and "optional model 'extra' is missing" in r.stderr

    (_snapshot(a, ca) / "sub" / "vocab.txt").unlink()  # one file of the required model
    r = cli("check", "--offline", "--json", cwd=proj)
    assert r.returncode == 1
    tiny = next(m for m in json.loads(r.stdout)["models"] if m["name"] == "tiny")
    assert tiny["status"] == "missing" and "sub/vocab.txt" in tiny["detail"]

    shutil.rmtree(_snapshot(a, ca))
    from localmodels.store.lockfile import read_lock
    from localmodels.store.sync import check

    report = check(read_lock(proj / "localmodels.lock"), proj)
    assert report.exit_code == 1 and {r.name: r.status for r in report.results} == {"extra": "missing",
                                                                                   "tiny": "missing"}


def test_offline_sync_makes_no_request(cli, online, tmp_path, monkeypatch):
    hub = online
    a, ca, b, cb = _repos(hub)
    proj = _project(tmp_path, a, b)
    _api_lock(proj)
    shutil.rmtree(_snapshot(a, ca))
    hub.clear_log()
    for args, extra in ((("sync", "--offline"), {}), (("sync",), {"HF_HUB_OFFLINE": "1"})):
        r = cli(*args, "--json", cwd=proj, env=extra)
        assert r.returncode == 1, (args, r.stderr)
        report = json.loads(r.stdout)
        assert report["offline"] is True
        assert {m["name"]: m["status"] for m in report["models"]} == {"extra": "ok", "tiny": "missing"}
    monkeypatch.setenv("LOCALMODELS_OFFLINE", "1")
    assert _api_sync(proj)["tiny"].status == "missing"
    (proj / "localmodels.lock").unlink()  # the manifest alone, offline
    from localmodels.store.manifest import load_manifest
    from localmodels.store.sync import sync

    report = sync(load_manifest(proj / "localmodels.toml"), proj)
    assert report.exit_code == 1 and report.offline
    assert hub.requests() == []


def test_sync_retries_then_reports_required_and_optional_failures(online, tmp_path, monkeypatch):
    hub = online
    a, ca, b, cb = _repos(hub)
    proj = _project(tmp_path, a, b)
    _api_lock(proj)
    # one retry layer: sync's attempts and backoff are what each Hub call of its pulls gets
    _fresh_machine(monkeypatch, tmp_path, "m2")
    hub.reset()
    hub.fail(rf"GET /{a}/resolve/.*/config.json", "status", status=503, times=1)
    result = _api_sync(proj, backoff=0.01)
    assert result["tiny"].status == "fetched" and result["tiny"].attempts == 2

    _fresh_machine(monkeypatch, tmp_path, "m3")
    hub.reset()
    hub.fail(rf"GET /{b}/resolve/.*/config.json", "status", status=503, times=100)
    from localmodels.store.lockfile import read_lock
    from localmodels.store.sync import sync

    report = sync(read_lock(proj / "localmodels.lock"), proj, attempts=2, backoff=0.01)
    assert report.exit_code == 0 and [w.name for w in report.warnings] == ["extra"]  # optional: a warning
    assert len(hub.requests("GET", rf"^/{b}/resolve/.*/config.json")) == 2  # 2 attempts

    _fresh_machine(monkeypatch, tmp_path, "m4")
    hub.reset()
    hub.fail(rf"GET /{a}/resolve/.*/config.json", "status", status=503, times=100)
    report = sync(read_lock(proj / "localmodels.lock"), proj, attempts=2, backoff=0.01)
    assert report.exit_code == 1
    status = {r.name: r.status for r in report.results}
    assert status == {"tiny": "failed", "extra": "fetched"}
    hub.reset()


def test_lock_reuses_pins_until_upgrade(online, tmp_path):
    from localmodels.store.lockfile import read_lock, write_lock
    from localmodels.store.manifest import load_manifest
    from localmodels.store.sync import lock_manifest

    hub = online
    a, ca, b, cb = _repos(hub)
    proj = _project(tmp_path, a, b)
    _api_lock(proj)
    first = read_lock(proj / "localmodels.lock")
    new = hub.add_repo(a, {"config.json": '{"hidden_size": 32}', "model.safetensors": os.urandom(100)})
    hub.clear_log()
    manifest = load_manifest(proj / "localmodels.toml")
    again = lock_manifest(manifest, previous=first)
    assert again.reused == ["extra", "tiny"] and hub.requests() == []
    assert again.lock.dumps() == first.dumps() and again.lock.cache_key() == first.cache_key()

    upgraded = lock_manifest(manifest, previous=first, upgrade=True)
    assert upgraded.resolved == ["extra", "tiny"]
    assert upgraded.lock.get("tiny").commit == new and upgraded.lock.get("extra").commit == cb
    assert upgraded.lock.cache_key() != first.cache_key()
    write_lock(upgraded.lock, proj / "localmodels.lock")
    assert read_lock(proj / "localmodels.lock").get("tiny").commit == new


def test_manifest_only_sync_pulls_what_it_names(online, tmp_path):
    from localmodels.store.manifest import load_manifest
    from localmodels.store.sync import sync

    a, ca, b, cb = _repos(online)
    proj = _project(tmp_path, a, b)
    report = sync(load_manifest(proj / "localmodels.toml"), proj, backoff=0.01)
    assert report.exit_code == 0
    assert {r.name: r.status for r in report.results} == {"extra": "fetched", "tiny": "fetched"}
    assert (_snapshot(a, ca) / "model.safetensors").is_file()
    assert not (_snapshot(a, ca) / "README.md").exists()


def test_pickle_weights_need_the_manifest_opt_in(online, tmp_path, monkeypatch):
    from localmodels.errors import UnsafeFileError
    from localmodels.store.manifest import load_manifest
    from localmodels.store.sync import lock_manifest

    n = next(_COUNTER)
    repo = f"acme/pickled-{n}"
    hub = online
    commit = hub.add_repo(repo, {"config.json": "{}", "pytorch_model.bin": os.urandom(500)})
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.toml").write_text(f'[models.p]\nref = "{repo}"\n')
    with pytest.raises(UnsafeFileError, match="pickle"):
        lock_manifest(load_manifest(proj / "localmodels.toml"), attempts=1)
    (proj / "localmodels.toml").write_text(f'[models.p]\nref = "{repo}"\nallow_pickle = true\n')
    _api_lock(proj)
    text = (proj / "localmodels.lock").read_text()
    assert "allow_pickle = true" in text and '"pytorch_model.bin"' in text
    _fresh_machine(monkeypatch, tmp_path, "fresh")
    assert _api_sync(proj, backoff=0.01)["p"].status == "fetched"
    assert (_snapshot(repo, commit) / "pytorch_model.bin").is_file()


def test_workers_bound_concurrency(monkeypatch, tmp_path):
    """In-process: at most N pulls run at once, and every model is attempted."""
    from localmodels.errors import NotInStoreError
    from localmodels.store import sync as sync_mod
    from localmodels.store import sync_apply
    from localmodels.store.lockfile import Lock, LockedFile, LockedModel

    running, peak, lock = [0], [0], threading.Lock()
    calls: list[str] = []

    def fake_pull(ref, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            calls.append(ref)
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        raise NotInStoreError(ref)  # nothing lands: every model reports failed

    monkeypatch.setattr(sync_apply, "_store_pull", fake_pull)
    f = [LockedFile(path="a.json", size=1, sha256="0" * 64)]
    models = [LockedModel(name=f"m{i}", ref=f"acme/m{i}", source="hub", resolved="hub:x", repo_id=f"acme/m{i}",
                          commit=f"{i:040d}", file=f) for i in range(7)]
    report = sync_mod.sync(Lock(model=models), tmp_path, workers=3, offline=False, attempts=1, backoff=0)
    assert peak[0] == 3 and sorted(calls) == sorted(m.ref for m in models)
    assert report.exit_code == 1 and all(r.status == "failed" for r in report.results)


def test_sync_retry_options_reach_the_one_retry_layer():
    """sync's attempts/backoff are the policy of the Hub calls inside it (no retry loop around them):
    transient errors back off (doubling, jittered), permanent ones are raised at once."""
    from localmodels.errors import AccessError
    from localmodels.sources._retry import call_with_retry
    from localmodels.store.sync_apply import with_retry_policy

    sleeps: list[float] = []
    outcomes = [ConnectionError("down"), ConnectionError("down"), "ok"]

    def flaky():
        o = outcomes.pop(0)
        if isinstance(o, Exception):
            raise o
        return o

    def pull():
        return call_with_retry(flaky, what="test call", sleep=sleeps.append)

    assert with_retry_policy(pull, attempts=3, backoff=1.0) == ("ok", 3)
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.5 and 1.0 <= sleeps[1] <= 3.0  # doubling, jittered

    calls = []

    def denied():
        calls.append(1)
        raise AccessError("no", repo_id="a/b", status=403)

    with pytest.raises(AccessError):
        with_retry_policy(lambda: call_with_retry(denied, what="test call", sleep=sleeps.append), attempts=5, backoff=0)
    assert len(calls) == 1


def test_sync_of_a_fresh_machine_hashes_each_file_once(online, tmp_path, monkeypatch):
    """The store's pull already checked every file's sha256; sync compares those digests with the
    lock instead of reading every file again (a corrupt file is still caught: see the test above)."""
    from localmodels.sources import _files

    a, ca, b, cb = _repos(online)
    proj = _project(tmp_path, a, b)
    _api_lock(proj)
    _fresh_machine(monkeypatch, tmp_path, "fresh")
    hashed: list[str] = []
    real = _files.sha256_file

    def counting(path):
        hashed.append(os.path.realpath(path))
        return real(path)

    monkeypatch.setattr(_files, "sha256_file", counting)  # the one verify flow hashes here: pull's and sync's
    result = _api_sync(proj, backoff=0.01)
    assert {n: r.status for n, r in result.items()} == {"tiny": "fetched", "extra": "fetched"}
    assert hashed and len(hashed) == len(set(hashed)), hashed  # no file read twice
    assert {Path(p).name for p in hashed} >= {online.file(a, "model.safetensors").sha256,
                                              online.file(b, "model.onnx").sha256}
