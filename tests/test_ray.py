"""Corpus jobs on a real two-node Ray cluster on 127.0.0.1 (issue 15).

``ray.cluster_utils.Cluster`` starts a head and a second node as real Ray processes; each node is
started with its own ``LOCALMODELS_HOME`` and ``HF_HOME`` (its workers inherit them), so each has
its own store. Models come from our local Hub (``hub_server.py``), which counts every download:
staging must fetch each file once per node, and no model worker may fetch anything.
"""

from __future__ import annotations

import json
import os
import signal

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray binds to 127.0.0.1 only (read at import)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# No idle workers at start: a node's agents must register within Ray's fixed timeouts on a busy machine.
os.environ.setdefault("RAY_enable_worker_prestart", "0")
os.environ.setdefault("RAY_prestart_worker_first_driver", "0")

from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq
import pytest
import ray
from ray.cluster_utils import Cluster

from conftest import run_cli
from hub_server import Hub
from tiny_models import build

pytestmark = pytest.mark.timeout(600)

REPO = "acme/tiny-embed"
BROKEN = "acme/broken-stage"
NODE_ENV_DROP = ("HF_ENDPOINT", "HF_HUB_OFFLINE", "LOCALMODELS_OFFLINE", "HF_HUB_CACHE")


def _tiny_embedder(root: Path) -> dict[str, bytes]:
    """A tiny BERT sentence encoder with its ONNX export shipped (workers need no torch)."""
    from localmodels.runtimes.onnx.export import export_onnx

    folder = build(root, "bert", "base")
    onnx = export_onnx(folder, root / "tiny.onnx", head="base",
                       config=json.loads((folder / "config.json").read_text()))
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
             if p.is_file() and p.suffix != ".safetensors" and not p.name.startswith(".")}
    files["onnx/model.onnx"] = onnx.read_bytes()
    return files


def _start_cluster(homes: list[Path]) -> Cluster:
    """A head and a second node, each started with its own store in its environment (its workers
    inherit it). Ray gives a node 30 s to register: on a busy shared machine, up to three tries."""
    saved = dict(os.environ)
    try:
        for k in NODE_ENV_DROP:
            os.environ.pop(k, None)
        for attempt in range(3):
            cluster = Cluster()
            try:
                for home in homes:
                    os.environ["LOCALMODELS_HOME"], os.environ["HF_HOME"] = str(home / "lm"), str(home / "hf")
                    cluster.add_node(num_cpus=2, include_dashboard=False)
                cluster.wait_for_nodes()
                return cluster
            except Exception:
                cluster.shutdown()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The Hub, a head node and a second node (each with its own store), and the driver's store."""
    base = tmp_path_factory.mktemp("ray-world")
    hub = Hub().start()
    hub.add_repo(REPO, _tiny_embedder(base / "build"))
    hub.add_repo(BROKEN, {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"\0" * 4096})
    homes = [base / "node1", base / "node2"]
    cluster = _start_cluster(homes)
    ray.init(address=cluster.address, log_to_driver=False)
    driver = base / "driver"
    env = {**hub.env(LOCALMODELS_RETRY_BASE="0.01"), "LOCALMODELS_HOME": str(driver / "lm"),
           "HF_HOME": str(driver / "hf"), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    manifest = base / "models.toml"
    manifest.write_text(f'[models.tiny]\nref = "{REPO}"\n\n[models.broken]\nref = "{BROKEN}"\n')
    done = run_cli("lock", "--manifest", str(manifest), env=env, cwd=base)  # the head's lock (pulls here)
    assert done.returncode == 0, done.stderr
    done = run_cli("pull", REPO, env=env)  # the head's own store (the local engine runs from it)
    assert done.returncode == 0, done.stderr
    yield {"hub": hub, "cluster": cluster, "homes": homes, "env": env, "base": base,
           "lock": base / "localmodels.lock", "address": cluster.address}
    ray.shutdown()
    cluster.shutdown()
    hub.stop()


def _lock_of(world, name: str) -> Path:
    """A lock file holding only ``name``'s entry of the head's lock."""
    from localmodels.store.lockfile import Lock, read_lock, write_lock

    lock = read_lock(world["lock"])
    out = world["base"] / f"{name}.lock"
    write_lock(Lock(model=[m for m in lock.model if m.name == name]), out)
    return out


def _stage(world, lock: Path):
    return run_cli("stage", "--lock", str(lock), "--address", world["address"], "--json", env=world["env"])


@pytest.fixture(scope="module")
def staged(world):
    """``localmodels stage`` of the tiny model, once for the module: the per-node report and the Hub's log."""
    world["hub"].clear_log()
    done = _stage(world, _lock_of(world, "tiny"))
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout), list(world["hub"].requests("GET"))


def _files(hub: Hub) -> list[str]:
    return sorted(hub.repos[REPO].resolve("main").files)


def test_staging_fills_each_node_store_once(world, staged):
    report, log = staged
    hub = world["hub"]
    assert [n["status"] for n in report["nodes"]] == ["fetched", "fetched"]
    assert sorted(n["home"] for n in report["nodes"]) == sorted(str(h / "lm") for h in world["homes"])
    for path in _files(hub):  # one download per node per file (LFS files via the CDN redirect)
        blob = hub.file(REPO, path)
        got = [r for r in log if r.path.endswith(f"/resolve/{hub.repos[REPO].refs['main']}/{path}")
               or (blob.lfs and r.path.startswith("/cdn-lfs/") and blob.sha256 in r.path)]
        got = [r for r in got if not r.path.startswith("/cdn-lfs/")] if not blob.lfs else \
            [r for r in got if r.path.startswith("/cdn-lfs/")]
        assert len(got) == 2, (path, [r.line for r in log])
    for home in world["homes"]:  # each node's own store has the files, verified
        snaps = list((home / "hf" / "hub" / "models--acme--tiny-embed" / "snapshots").iterdir())
        assert len(snaps) == 1 and (snaps[0] / "onnx" / "model.onnx").is_file()
    hub.clear_log()
    from localmodels.apps.ray import stage
    from localmodels.store.lockfile import read_lock

    again = stage(lock=read_lock(_lock_of(world, "tiny")), endpoint=hub.url)  # staged already: nothing fetched
    assert again.ok and [n.status for n in again.nodes] == ["present", "present"]
    assert hub.requests("GET", r"/resolve/|/cdn-lfs/") == []


def _corpus_dir(root: Path, n: int) -> Path:
    folder = root / "corpus"
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "docs").mkdir(exist_ok=True)
    for i in range(n):
        (folder / "src" / f"mod{i}.py").write_text(f"def f{i}(x):\n    return x * {i}\n")
        (folder / "docs" / f"guide{i}.md").write_text(f"# Guide {i}\n\nHow to install and use part {i}.\n")
    (folder / "config.yaml").write_text("name: demo\nversion: 3\n")
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 4)  # binary: skipped by both engines
    return folder


def test_classify_on_ray_equals_local(world, staged, tmp_path):
    folder = _corpus_dir(tmp_path, 4)
    env, hub = world["env"], world["hub"]
    local = run_cli("classify", "-i", str(folder), "-o", str(tmp_path / "local.jsonl"), "--model", REPO, env=env)
    assert local.returncode == 0, local.stderr
    hub.clear_log()
    remote = run_cli("classify", "-i", str(folder), "-o", str(tmp_path / "ray.jsonl"), "--model", REPO,
                     "--engine", "ray", "--address", world["address"], "--workers", "2", env=env)
    assert remote.returncode == 0, remote.stderr
    assert "staged on 2 node(s)" in remote.stdout and "present" in remote.stdout
    assert hub.requests("GET", r"/resolve/|/cdn-lfs/") == []  # no worker (and no node) downloaded
    a = [json.loads(x) for x in (tmp_path / "local.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (tmp_path / "ray.jsonl").read_text().splitlines()]
    files_a = {r["path"]: r for r in a if "category" in r}
    files_b = {r["path"]: r for r in b if "category" in r}
    assert sorted(files_a) == sorted(files_b) and len(files_a) == 9
    for path, r in files_a.items():
        assert files_b[path]["category"] == r["category"]
        for name, score in r["scores"].items():  # the files hold 4 decimals
            assert abs(files_b[path]["scores"][name] - score) <= 1e-4 + 1e-9
    assert [r for r in b if r.get("reason") == "binary"] == [r for r in a if r.get("reason") == "binary"]


def test_classify_api_equals_local_to_1e5_and_survives_a_killed_worker(world, staged, tmp_path, monkeypatch):
    from localmodels.apps.classify import classify_paths
    from localmodels.apps.ray import classify_on_ray

    monkeypatch.setenv("LOCALMODELS_HOME", world["env"]["LOCALMODELS_HOME"])
    monkeypatch.setenv("HF_HOME", world["env"]["HF_HOME"])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = _corpus_dir(tmp_path, 12)
    local = classify_paths([str(folder)], model=REPO)
    killed: list[int] = []

    def kill_one_actor(done: int, total: int | None) -> None:
        if killed:
            return
        actors = [p for p in psutil.process_iter(["pid", "cmdline"])
                  if any("Classifier" in part for part in (p.info["cmdline"] or [])[:1])]
        if actors:
            os.kill(actors[0].info["pid"], signal.SIGKILL)
            killed.append(actors[0].info["pid"])

    report, staging = classify_on_ray([str(folder)], model=REPO, workers=2, batch_files=2, progress=kill_one_actor)
    assert killed, "no Classifier actor process was found to kill"
    assert staging.ok and {n.status for n in staging.nodes} == {"present"}
    got = {r.path: r for r in report.files}
    assert len(got) == len(report.files) == len(local.files) == 25  # complete, no row twice
    for r in local.files:
        assert got[r.path].category == r.category
        assert max(abs(got[r.path].scores[k] - v) for k, v in r.scores.items()) <= 1e-5
    assert [s.to_dict() for s in report.skipped] == [s.to_dict() for s in local.skipped]


def test_embed_corpus_on_ray_equals_local(world, staged, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    lines = [json.dumps({"text": f"document number {i} about topic {i % 3}"}) for i in range(40)]
    lines[7] = "{not json"  # a bad row: an error in the output, not a crashed job
    lines.insert(12, "")  # blank lines are skipped by both engines
    corpus.write_text("\n".join(lines) + "\n")
    env = world["env"]
    outs = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.parquet"
        done = run_cli("embed", "-i", str(corpus), "-o", str(out), "--model", REPO, "--engine", engine,
                       "--address", world["address"], "--workers", "2", "--json", env=env)
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["rows"] == 40 and summary["errors"] == 1, summary
        outs[engine] = pq.read_table(out).to_pylist()
    a, b = outs["local"], outs["ray"]
    assert [r["id"] for r in b] == list(range(40)) and [r["text"] for r in a] == [r["text"] for r in b]
    assert a[7]["vector"] is None and b[7]["vector"] is None and "bad input" in b[7]["error"]
    va = np.array([r["vector"] for r in a if r["vector"] is not None])
    vb = np.array([r["vector"] for r in b if r["vector"] is not None])
    assert va.shape == (39, 32) and np.abs(va - vb).max() <= 1e-5


def test_bad_input_file_is_a_row_with_an_error(world, staged, tmp_path):
    from localmodels.apps.ray import OFFLINE_ENV, Classifier

    good = tmp_path / "ok.py"
    good.write_text("print('hello')\n")
    rows = [{"path": str(good)}, {"path": str(tmp_path / "gone.txt")}]
    ds = ray.data.from_items(rows).map_batches(
        Classifier, fn_constructor_kwargs={"model": REPO}, concurrency=1, batch_size=8,
        runtime_env={"env_vars": OFFLINE_ENV})
    out = {Path(r["path"]).name: r for r in ds.take_all()}
    assert out["ok.py"]["category"] and out["ok.py"]["error"] == ""
    assert out["gone.txt"]["category"] == "" and "unreadable" in out["gone.txt"]["error"]


def test_a_node_that_cannot_stage_is_named_and_the_job_does_not_start(world, staged, tmp_path):
    node2 = world["homes"][1]
    blocker = node2 / "hf" / "hub" / "models--acme--broken-stage"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the model folder should go: this node's disk is broken")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.py").write_text("x = 1\n")
    done = run_cli("classify", "-i", str(tmp_path / "in"), "-o", str(tmp_path / "out.jsonl"), "--model", BROKEN,
                   "--engine", "ray", "--address", world["address"], "--stage-from", str(_lock_of(world, "broken")),
                   env=world["env"])
    assert done.returncode == 1
    assert "staging failed on 1 of 2 node(s)" in done.stderr and str(node2 / "lm") in done.stderr, done.stderr
    assert str(world["homes"][0] / "lm") not in done.stderr
    assert not (tmp_path / "out.jsonl").exists()
    assert not (tmp_path / ".out.jsonl.journal.jsonl").exists()  # nothing was done: no journal left behind


def test_a_bundle_no_node_can_read_fails_every_node(world, staged, tmp_path):
    from localmodels.apps.ray import StagingError, stage

    report = stage(bundle=tmp_path / "missing.tar")
    assert [n.status for n in report.nodes] == ["failed", "failed"]
    assert all("not readable on this node" in n.reason for n in report.nodes)
    with pytest.raises(StagingError, match="staging failed on 2 of 2 node"):
        report.raise_for_failures()



def _records(path: Path) -> dict[str, dict]:
    """path -> record of every classified file in a .jsonl output."""
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    return {r["path"]: r for r in rows if "category" in r}


def test_classify_on_ray_resume_classifies_only_new_and_changed_files(world, staged, tmp_path):
    """--resume with --engine ray: an earlier output (here the local engine's) and an interrupted run's
    journal are kept where a file's sha256 is unchanged; only the rest goes to Ray; one combined output."""
    from localmodels.apps._journal import Journal, journal_path

    folder = _corpus_dir(tmp_path, 3)
    env, out = world["env"], tmp_path / "out.jsonl"
    ray_args = ("--model", REPO, "--engine", "ray", "--address", world["address"], "--workers", "2", "--json")
    first = run_cli("classify", "-i", str(folder), "-o", str(out), "--model", REPO, env=env)
    assert first.returncode == 0, first.stderr
    before = _records(out)
    assert len(before) == 7  # 3 .py, 3 .md, config.yaml (blob.bin is skipped)
    (folder / "src" / "mod0.py").write_text("def changed(y):\n    return y - 1\n")  # new sha256
    (folder / "src" / "new.py").write_text("import os\nprint(os.getcwd())\n")
    (folder / "docs" / "new.md").write_text("# New\n\nA new page of the manual.\n")
    (folder / "docs" / "guide2.md").unlink()  # gone: not in the combined output
    done = run_cli("classify", "-i", str(folder), "-o", str(out), "--resume", *ray_args, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["engine"] == "ray" and summary["classified_now"] == 3 and summary["resumed"] == 5, summary
    after = _records(out)
    name = str(folder)  # paths in results are under the folder as given
    changed, new = f"{name}/src/mod0.py", {f"{name}/src/new.py", f"{name}/docs/new.md"}
    assert set(after) == (set(before) - {f"{name}/docs/guide2.md"}) | new
    for path, rec in after.items():  # kept records are the earlier run's, as they were
        if path != changed and path not in new:
            assert rec == before[path], path
    assert after[changed]["sha256"] != before[changed]["sha256"]
    assert not journal_path(out).exists()

    # An interrupted run left only its journal (3 finished files) and no output: --resume goes on from there.
    out.unlink()
    finished = dict(list(after.items())[:3])
    journal = Journal(out)
    journal.start(keep=False)
    journal.add(finished.values())
    journal.close()
    done = run_cli("classify", "-i", str(folder), "-o", str(out), "--resume", *ray_args, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["classified_now"] == len(after) - 3 and summary["resumed"] == 3, summary
    combined = _records(out)
    assert set(combined) == set(after) and all(combined[p] == r for p, r in finished.items())
    for path, rec in combined.items():  # the files classified again agree with the first results
        assert rec["category"] == after[path]["category"]
        assert max(abs(rec["scores"][k] - v) for k, v in after[path]["scores"].items()) <= 1e-4 + 1e-9
    assert not journal_path(out).exists()  # a finished run removes its journal


def test_classify_on_ray_api_resume_and_journal_callback(world, staged, tmp_path, monkeypatch):
    """The API: ``previous`` records are kept without a round trip to Ray when the sha256 matches;
    ``on_results`` gets every file classified on Ray exactly once (the CLI's journal)."""
    from localmodels.apps.ray import classify_on_ray

    monkeypatch.setenv("LOCALMODELS_HOME", world["env"]["LOCALMODELS_HOME"])
    monkeypatch.setenv("HF_HOME", world["env"]["HF_HOME"])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = _corpus_dir(tmp_path, 2)
    first, _ = classify_on_ray([str(folder)], model=REPO, workers=1)
    assert len(first.files) == 5 and first.resumed == []
    previous = {r["path"]: r for r in first.records()}
    stale = next(iter(previous))
    previous[stale] = {**previous[stale], "sha256": "0" * 64}  # its content changed since
    other_model = next(p for p in previous if p != stale)
    previous[other_model] = {**previous[other_model], "model": "another-model"}  # made by another model
    seen: list[str] = []
    report, _ = classify_on_ray([str(folder)], model=REPO, workers=1, previous=previous,
                                on_results=lambda rs: seen.extend(r.path for r in rs))
    assert sorted(r.path for r in report.files) == sorted([stale, other_model]) == sorted(seen)
    assert sorted(r["path"] for r in report.resumed) == sorted(set(previous) - {stale, other_model})
    assert report.summary()["files"] == 5 and report.summary()["classified_now"] == 2


def test_ctrl_c_on_the_ray_engine_keeps_finished_files_and_resume_does_the_rest(world, staged, tmp_path):
    """A real SIGINT to ``classify --engine ray`` once some files are in the journal: exit 130, the
    output holds what was finished, and ``--resume`` sends only the rest to Ray."""
    import subprocess
    import sys
    import time

    from localmodels.apps._journal import journal_path

    folder = _corpus_dir(tmp_path, 100)  # 201 files: 8 blocks of ~25, batches of 16 files on 2 actors
    out = tmp_path / "out.jsonl"
    journal = journal_path(out)
    cmd = [sys.executable, "-m", "localmodels", "classify", "-i", str(folder), "-o", str(out), "--model", REPO,
           "--engine", "ray", "--address", world["address"], "--workers", "2", "--json"]
    env = {**os.environ, **world["env"]}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if journal.is_file() and journal.read_text().count('"type": "file"') >= 1:
            break
        if proc.poll() is not None:
            pytest.fail(f"classify ended before the interrupt: {proc.returncode} {proc.stderr.read()}")
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err, err
    done = _records(out)
    assert 1 <= len(done) < 201, len(done)
    assert set(done) == {json.loads(x)["path"] for x in journal.read_text().splitlines() if x.strip()}
    r = run_cli(*cmd[3:], "--resume", env=world["env"])
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["files"] == 201 and summary["resumed"] == len(done), summary
    assert summary["classified_now"] == 201 - len(done), summary
    assert not journal.exists()
    assert all(_records(out)[p] == rec for p, rec in done.items())
