"""Issue 20, defects 2, 3 and 10: tampered records and hostile cache trees never break a verb or make
one delete outside the store. The CLI runs as a subprocess, as users meet it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli
from hub_server import hub, hub_session, sha256_hex, weight_bytes  # noqa: F401  (fixtures)
from localmodels import store
from localmodels.sources._records import pypi_key

FAST = {"LOCALMODELS_RETRY_ATTEMPTS": "1", "LOCALMODELS_RETRY_BASE": "0.01"}


def _home() -> Path:
    return Path(os.environ["LOCALMODELS_HOME"])


def _cache() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


def _no_traceback(p) -> None:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr[-3000:]


def _folder_model(tmp_path: Path) -> tuple[str, Path]:
    folder = tmp_path / "mymodel"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.onnx").write_bytes(b"onnx" * 100)
    m = store.pull(str(folder))
    return str(folder), _home() / "records" / f"{m.key}.json"


# ---- defect 2: a record of the wrong shape ------------------------------------------------------
def _shapes(good: dict) -> dict[str, object]:
    return {
        "a-list": [1, 2, 3],
        "files-a-string": {**good, "files": "abc"},
        "files-empty-object": {**good, "files": [{}]},
        "size-a-word": {**good, "size": "big"},
        "path-null": {**good, "path": None},
        "last-used-a-number": {**good, "last_used": 12345},
        "file-escapes": {**good, "files": [{"path": "../../etc/passwd", "size": 1, "sha256": None}]},
        "key-not-its-name": {**good, "key": "../../victim"},
    }


@pytest.mark.parametrize("shape", list(_shapes({})))
def test_a_record_of_the_wrong_shape_is_reported_and_treated_as_absent(tmp_path, shape):
    ref, record = _folder_model(tmp_path)
    bad = _shapes(json.loads(record.read_text()))[shape]
    for verb in (["list"], ["info", ref], ["verify"], ["verify", ref], ["where", ref], ["pull", ref]):
        record.write_text(json.dumps(bad))
        p = run_cli(*verb)
        _no_traceback(p)
        assert p.returncode == 0, (verb, p.stderr)
        if verb in (["list"], ["verify"]):  # reported by name
            assert record.name in p.stderr and "damaged record" in p.stderr, (verb, p.stderr)
    # the last verb, pull, repaired it
    assert json.loads(record.read_text())["files"][0]["path"] == "config.json"
    listed = json.loads(run_cli("list", "--json").stdout)
    assert [m["path"] for m in listed if m["source"] == "local"] == [ref]


def test_a_damaged_hub_record_does_not_break_the_hub_verbs(hub):
    hub.add_repo("acme/tiny", {"config.json": b"{}", "model.safetensors": weight_bytes(5000)})
    m = store.pull("acme/tiny")
    record = _home() / "records" / f"{m.key}.json"
    good = json.loads(record.read_text())
    for bad in ({**good, "commit": 5}, {**good, "repo_id": "../../x"}, {**good, "files": [{"path": "a", "size": "x"}]}):
        for verb in (["list"], ["where", "acme/tiny"], ["info", "acme/tiny"], ["verify"], ["pull", "acme/tiny"]):
            record.write_text(json.dumps(bad))
            p = run_cli(*verb)
            _no_traceback(p)
            assert p.returncode == 0, (verb, bad, p.stderr)
    assert json.loads(record.read_text())["commit"] == m.commit  # re-pulled: repaired


# ---- defect 3: no verb deletes outside the store, whatever a record says ------------------------
def _victim(base: Path) -> Path:
    victim = base / "victim"
    victim.mkdir(exist_ok=True)
    (victim / "precious.txt").write_text("keep me")
    (victim / "sub").mkdir(exist_ok=True)
    (victim / "sub" / "more.txt").write_text("keep me too")
    return victim


def _intact(victim: Path) -> bool:
    return (victim / "precious.txt").is_file() and (victim / "sub" / "more.txt").is_file()


def _pypi_record(path: str, key: str = "evil") -> None:
    rec = {"key": pypi_key(key), "ref": f"pypi:{key}", "name": key, "source": "pypi", "path": path,
           "files": [{"path": "precious.txt", "size": 999, "sha256": "0" * 64}], "served_by": f"pypi:{key}",
           "package": key, "size": 999, "last_used": "2020-01-01T00:00:00+00:00"}
    d = _home() / "records"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{pypi_key(key)}.json").write_text(json.dumps(rec))


@pytest.mark.parametrize("how", ["dotdot", "symlink"])
def test_no_verb_deletes_outside_the_store_whatever_a_record_says(how):
    home = _home()
    base = home.parent
    models = home / "models" / "pypi"
    models.mkdir(parents=True, exist_ok=True)
    if how == "dotdot":  # $HOME/models/../../victim
        path = f"{home}/models/../../victim"
    else:  # a link inside the store that leaves it
        (models / "evil").symlink_to(base / "victim", target_is_directory=True)
        path = str(models / "evil")
    for verb in (["rm", "pypi:evil", "-y"], ["prune", "--keep", "0"], ["prune", "--max-size", "0"],
                 ["verify", "--repair"], ["verify", "pypi:evil", "--repair"]):
        victim = _victim(base)
        _pypi_record(path)
        p = run_cli(*verb, env=FAST)
        _no_traceback(p)
        assert _intact(victim), (verb, p.stdout, p.stderr)


def test_verify_repair_never_deletes_what_a_snapshot_link_points_to_outside_the_store():
    """A Hub snapshot entry linking out of the cache: repair removes the link, never its target."""
    victim = _victim(_home().parent)
    commit = "c" * 40
    repo = _cache() / "models--acme--tiny"
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / "model.safetensors").symlink_to(victim / "precious.txt")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    (repo / "trees").mkdir()
    tree = {"format_version": 1, "files": {"model.safetensors": {
        "size": 7, "blob_id": "b" * 40, "lfs_sha256": "a" * 64, "lfs_size": 7}}}
    (repo / "trees" / f"{commit}.json").write_text(json.dumps(tree))
    rec = {"key": "hub--acme--tiny--main", "ref": "acme/tiny", "name": "acme/tiny", "source": "hub",
           "path": str(snap), "files": [{"path": "model.safetensors", "size": 7, "sha256": "a" * 64}],
           "served_by": "hub:acme/tiny", "repo_id": "acme/tiny", "revision": "main", "commit": commit}
    (_home() / "records").mkdir(parents=True)
    (_home() / "records" / "hub--acme--tiny--main.json").write_text(json.dumps(rec))
    for verb in (["verify", "--repair"], ["rm", "acme/tiny", "-y"], ["prune", "--keep", "0"]):
        p = run_cli(*verb, env=FAST)
        _no_traceback(p)
        assert _intact(victim), (verb, p.stderr)


# ---- defect 10: prune deletes only blob hashes, and never through a linked repo folder ----------
def test_prune_deletes_only_blob_hashes_and_never_follows_a_linked_repo_folder(hub, tmp_path):
    hub.add_repo("acme/tiny", {"config.json": b"{}", "model.safetensors": weight_bytes(5000)})
    store.pull("acme/tiny")
    blobs = _cache() / "models--acme--tiny" / "blobs"
    (blobs / "mine.txt").write_text("a user's note")
    orphan = blobs / ("e" * 64)
    orphan.write_bytes(b"an unreferenced blob")
    # a repo folder that is a link to a user's folder, shaped like a cache repo
    user = tmp_path / "user-repo"
    (user / "blobs").mkdir(parents=True)
    (user / "snapshots").mkdir()
    (user / "blobs" / "mine.txt").write_text("mine")
    (user / "blobs" / ("f" * 64)).write_text("mine too")
    (_cache() / "models--acme--linked").symlink_to(user, target_is_directory=True)
    p = run_cli("prune")
    _no_traceback(p)
    assert p.returncode == 0, p.stderr
    assert (blobs / "mine.txt").read_text() == "a user's note"
    assert not orphan.exists()  # a real orphan blob still goes
    assert (user / "blobs" / "mine.txt").is_file() and (user / "blobs" / ("f" * 64)).is_file()
    p = run_cli("prune", "--keep", "0")
    _no_traceback(p)
    assert (user / "blobs" / "mine.txt").is_file() and (user / "blobs" / ("f" * 64)).is_file()
    assert (blobs / "mine.txt").read_text() == "a user's note"
