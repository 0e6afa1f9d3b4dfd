"""Bundles: export from one store, import into an empty one, refuse tampered archives, roll back."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub_server import Hub
from localmodels.errors import IntegrityError, UnsafeFileError, UsageError

FAST_RETRY = {"LOCALMODELS_RETRY_BASE": "0.01", "LOCALMODELS_RETRY_MAX_WAIT": "0.05"}


@dataclass
class Source:
    hub: Hub
    root: Path  # the source machine: proj/, lm/, hf/
    proj: Path
    env: dict[str, str]
    x: str
    cx: str
    y: str
    cy: str
    bundle: Path  # both models, exported with --lock
    bundle_x: Path  # model x only


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A machine that synced two Hub models, and bundles exported from it (built once)."""
    root = tmp_path_factory.mktemp("source-machine")
    with Hub() as hub, pytest.MonkeyPatch.context() as mp:
        shared = os.urandom(700)
        cx = hub.add_repo("acme/bundle-x", {
            "config.json": '{"hidden_size": 8}', "model.safetensors": os.urandom(6000),
            "tokenizer/vocab.txt": "a\nb\nc\n", "copy-of-vocab.txt": "a\nb\nc\n",  # one blob, two paths
        })
        cy = hub.add_repo("acme/bundle-y", {"config.json": '{"y": 1}', "model.onnx": shared})
        env = {**hub.env(**FAST_RETRY), "LOCALMODELS_HOME": str(root / "lm"), "HF_HOME": str(root / "hf")}
        for k, v in env.items():
            mp.setenv(k, v)
        proj = root / "proj"
        proj.mkdir()
        (proj / "localmodels.toml").write_text(
            '[models.x]\nref = "acme/bundle-x"\n\n[models.y]\nref = "acme/bundle-y"\nrevision = "main"\n')
        from localmodels.store.bundle import bundle_models_from_lock, export_bundle
        from localmodels.store.lockfile import write_lock
        from localmodels.store.manifest import load_manifest
        from localmodels.store.sync import lock_manifest

        outcome = lock_manifest(load_manifest(proj / "localmodels.toml"), attempts=2, backoff=0.01)
        write_lock(outcome.lock, proj / "localmodels.lock")
        models, skipped = bundle_models_from_lock(outcome.lock)
        assert not skipped
        bundle = root / "models.tar"
        export_bundle(bundle, models, lock_text=(proj / "localmodels.lock").read_text())
        bundle_x = root / "x.tar"
        export_bundle(bundle_x, [m for m in models if m.repo_id == "acme/bundle-x"])
        yield Source(hub, root, proj, env, "acme/bundle-x", cx, "acme/bundle-y", cy, bundle, bundle_x)


def _store_state(base: Path) -> dict[str, str]:
    """Every path under ``base`` with what it is: file digest, link target, or dir."""
    out: dict[str, str] = {}
    if not base.exists():
        return out
    for root, dirs, files in os.walk(base):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(base))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _nothing_written(home: Path) -> None:
    hf = Path(os.environ["HF_HOME"])
    assert not any(hf.rglob("models--*")), list(hf.rglob("*"))
    assert not list((Path(os.environ["LOCALMODELS_HOME"]) / "records").glob("*.json"))
    assert not list(home.rglob(".localmodels-import-*"))


def test_export_import_round_trip_then_check_offline(cli, source, tmp_path):
    # export through the CLI on the source machine
    out = tmp_path / "cli.tar"
    r = cli("export", "-o", str(out), "--lock", "--json", cwd=source.proj, env=source.env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["files"] == 6
    with tarfile.open(out) as tar:
        names = tar.getnames()
    assert f"hub/models--acme--bundle-x/snapshots/{source.cx}/tokenizer/vocab.txt" in names
    assert "localmodels-bundle.json" in names and all(not n.startswith("/") for n in names)

    # import on an empty machine (fresh HF_HOME + LOCALMODELS_HOME), offline, no Hub at all
    proj = tmp_path / "airgapped"
    proj.mkdir()
    shutil.copy(source.proj / "localmodels.toml", proj)
    source.hub.clear_log()
    offline = {"HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}
    r = cli("import", str(out), "--write-lock", str(proj / "localmodels.lock"), cwd=proj, env=offline)
    assert r.returncode == 0, r.stderr
    assert (proj / "localmodels.lock").read_text() == (source.proj / "localmodels.lock").read_text()
    r = cli("check", "--offline", "--json", cwd=proj, env=offline)
    assert r.returncode == 0, r.stdout + r.stderr
    assert {m["name"]: m["status"] for m in json.loads(r.stdout)["models"]} == {"x": "ok", "y": "ok"}
    assert source.hub.requests() == []

    # the HF cache layout is the standard one: blobs named by digest, relative links, refs/main
    repo = Path(os.environ["HF_HOME"]) / "hub" / "models--acme--bundle-x"
    assert (repo / "refs" / "main").read_text() == source.cx
    link = repo / "snapshots" / source.cx / "tokenizer" / "vocab.txt"
    assert link.is_symlink() and not os.readlink(link).startswith("/")
    assert os.path.realpath(link) == os.path.realpath(repo / "snapshots" / source.cx / "copy-of-vocab.txt")
    weights = source.hub.file(source.x, "model.safetensors")
    assert (repo / "blobs" / weights.sha256).is_file()  # LFS file: blob named by its sha256
    assert (repo / "blobs" / source.hub.file(source.x, "config.json").blob_id).is_file()  # git sha1

    # and the store resolves them offline, by name and by commit
    from localmodels.store import resolve

    m = resolve("acme/bundle-x", offline=True)
    assert m.commit == source.cx and (m.path / "model.safetensors").read_bytes() == weights.data
    assert resolve(f"acme/bundle-y@{source.cy}").commit == source.cy


def test_import_twice_changes_nothing(source):
    from localmodels.store.bundle import import_bundle

    import_bundle(source.bundle)
    hf = Path(os.environ["HF_HOME"])
    before = _store_state(hf)
    result = import_bundle(source.bundle)
    assert result.placed_blobs == 0 and _store_state(hf) == before


def test_export_by_reference_and_refusals(source, tmp_path, monkeypatch):
    from localmodels.store.bundle import bundle_models_from_refs, export_bundle, import_bundle

    for k, v in source.env.items():
        monkeypatch.setenv(k, v)
    models = bundle_models_from_refs([f"acme/bundle-y@{source.cy}"])
    out = export_bundle(tmp_path / "y.tar.gz", models)
    assert out.files == 2 and tarfile.is_tarfile(out.path)

    # a recorded digest that does not match the file: refused, no bundle left behind
    bad = [models[0].model_copy(update={"files": [f.model_copy(update={"sha256": "0" * 64})
                                                  for f in models[0].files]})]
    with pytest.raises(IntegrityError, match="does not match"):
        export_bundle(tmp_path / "bad.tar", bad)
    assert not list(tmp_path.glob("bad.tar*")) and not list(tmp_path.glob(".bad.tar*"))

    folder = tmp_path / "folder-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(UsageError, match="bundles carry Hub models"):
        bundle_models_from_refs([str(folder)])

    monkeypatch.setenv("HF_HOME", str(tmp_path / "fresh-hf"))
    monkeypatch.setenv("LOCALMODELS_HOME", str(tmp_path / "fresh-lm"))
    assert import_bundle(out.path).models == [f"acme/bundle-y@{source.cy}"]


# ---- tampered bundles -----------------------------------------------------------------------------

def _rewrite(src: Path, dst: Path, edit) -> Path:
    """Copy a tar member by member; ``edit(info, data)`` returns a list of (info, data) to write."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for info in tin.getmembers():
            data = tin.extractfile(info).read() if info.isfile() else b""
            for new_info, new_data in edit(info, data):
                if new_info.isfile():
                    new_info.size = len(new_data)
                    tout.addfile(new_info, io.BytesIO(new_data))
                else:
                    tout.addfile(new_info)
    return dst


def _flip(info, data):
    if info.name.endswith("model.safetensors"):
        data = bytearray(data)
        data[100] ^= 0x01
        data = bytes(data)
    return [(info, data)]


def _extra(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = ""):
    def edit(info, data):
        out = [(info, data)]
        if info.name == "localmodels-bundle.json":
            t = tarfile.TarInfo(name)
            t.type, t.linkname = kind, linkname
            out.insert(0, (t, b"pwned"))
        return out
    return edit


def _index(mutate):
    def edit(info, data):
        if info.name == "localmodels-bundle.json":
            index = json.loads(data)
            mutate(index)
            data = json.dumps(index).encode()
        return [(info, data)]
    return edit


def _drop_first_model_file(info, data):
    return [] if info.name.endswith("/config.json") and "bundle-y" in info.name else [(info, data)]


def test_flipped_byte_is_refused_with_nothing_written(cli, source, tmp_path, isolated_home):
    bad = _rewrite(source.bundle, tmp_path / "flipped.tar", _flip)
    r = cli("import", str(bad))
    assert r.returncode == 2, r.stderr
    assert "fails its digest check" in r.stderr and "nothing was imported" in r.stderr
    assert "Traceback" not in r.stderr
    _nothing_written(isolated_home)


@pytest.mark.parametrize("edit, error, words", [
    (_extra("../../x"), UnsafeFileError, "climbs out"),
    (_extra("hub/../../x"), UnsafeFileError, "climbs out"),
    (_extra("/tmp/abs-x"), UnsafeFileError, "absolute"),
    (_extra("hub/link", tarfile.SYMTYPE, "/etc/passwd"), UnsafeFileError, "symbolic link"),
    (_extra("hub/models--acme--bundle-x/snapshots/x", tarfile.SYMTYPE, "../../../../x"), UnsafeFileError, "link"),
    (_extra("hub/hard", tarfile.LNKTYPE, "localmodels-bundle.json"), UnsafeFileError, "hard link"),
    (_extra("hub/dev", tarfile.CHRTYPE), UnsafeFileError, "device"),
    (_extra("hub/fifo", tarfile.FIFOTYPE), UnsafeFileError, "device or FIFO"),
    (_extra("hub/unlisted.bin"), UnsafeFileError, "not in localmodels-bundle.json"),
    (_drop_first_model_file, IntegrityError, "lacks"),
    (_index(lambda i: i["models"][0].update(repo_id="../evil")), UsageError, "bad repo id"),
    (_index(lambda i: i["models"][0]["files"][0].update(path="../../evil")), UsageError, "unsafe file path"),
    (_index(lambda i: i["models"][0]["files"][0].update(size=1)), IntegrityError, "size"),
    (_index(lambda i: i.update(format="other")), UsageError, "not a localmodels bundle"),
])
def test_tampered_archives_are_refused_before_anything_is_written(source, tmp_path, isolated_home, edit, error, words):
    from localmodels.store.bundle import import_bundle

    bad = _rewrite(source.bundle, tmp_path / "bad.tar", edit)
    with pytest.raises(error, match=words):
        import_bundle(bad)
    _nothing_written(isolated_home)
    assert not (tmp_path.parent / "x").exists() and not Path("/tmp/abs-x").exists()


def test_not_a_tar_or_missing(tmp_path):
    from localmodels.store.bundle import import_bundle

    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(UsageError, match="not a readable tar"):
        import_bundle(tmp_path / "junk.tar")
    with pytest.raises(UsageError, match="no such bundle"):
        import_bundle(tmp_path / "missing.tar")


# ---- atomicity ------------------------------------------------------------------------------------

def test_interrupted_import_leaves_the_store_as_it_was(source, isolated_home):
    from localmodels.store.bundle import import_bundle

    hf = Path(os.environ["HF_HOME"])
    with pytest.raises(OSError, match="injected"):
        import_bundle(source.bundle, _fail_after_placing=1)  # into an empty store
    assert not hf.exists() or _store_state(hf) == {}

    import_bundle(source.bundle_x)  # now x is there; y is not
    (hf / "hub" / "models--acme--bundle-y" / "refs").mkdir(parents=True)  # a repo folder that exists
    (hf / "hub" / "models--acme--bundle-y" / "refs" / "dev").write_text("f" * 40)
    before = _store_state(hf)
    with pytest.raises(OSError, match="injected"):
        import_bundle(source.bundle, _fail_after_placing=2)  # fails after placing y's blobs and links
    assert _store_state(hf) == before
    assert not list(hf.rglob(".localmodels-import-*"))

    import_bundle(source.bundle)  # and a complete import works afterwards
    from localmodels.store.lockfile import read_lock
    from localmodels.store.sync import check

    assert check(read_lock(source.proj / "localmodels.lock"), source.proj).exit_code == 0


def test_import_over_a_corrupt_blob_repairs_it(source):
    from localmodels.store.bundle import import_bundle

    import_bundle(source.bundle_x)
    hf = Path(os.environ["HF_HOME"])
    blob = hf / "hub" / "models--acme--bundle-x" / "blobs" / source.hub.file(source.x, "model.safetensors").sha256
    data = bytearray(blob.read_bytes())
    data[0] ^= 0xFF
    blob.write_bytes(bytes(data))
    result = import_bundle(source.bundle_x)
    assert result.placed_blobs == 1
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name


def _big_bundle(path: Path, size: int) -> tuple[str, str]:
    """A one-model bundle written directly (no Hub needed): a big file gives a kill a window."""
    from localmodels.store.bundle import BundleFile, BundleIndex, BundleModel

    data = os.urandom(size)
    sha = hashlib.sha256(data).hexdigest()
    commit = "c" * 40
    model = BundleModel(name="big", ref="acme/big", repo_id="acme/big", commit=commit,
                        files=[BundleFile(path="model.safetensors", size=size, sha256=sha, blob=sha)])
    index = json.dumps(BundleIndex(models=[model]).model_dump(exclude_none=True)).encode()
    with tarfile.open(path, "w") as tar:
        for name, blob in ((model.member(model.files[0]), data), ("localmodels-bundle.json", index)):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return commit, sha


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_killed_import_leaves_nothing_or_everything(tmp_path, sig):
    import signal
    import subprocess
    import sys
    import time

    from localmodels.store.bundle import import_bundle

    bundle = tmp_path / "big.tar"
    commit, sha = _big_bundle(bundle, 48 << 20)
    hub_cache = Path(os.environ["HF_HOME"]) / "hub"
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from localmodels.store.bundle import import_bundle; "
                             "import_bundle(sys.argv[1])", str(bundle)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if list(hub_cache.glob(".localmodels-import-*/x")):
            break
        time.sleep(0.002)
    proc.send_signal(getattr(signal, sig))
    proc.wait(timeout=60)
    repo = hub_cache / "models--acme--big"
    snapshot = repo / "snapshots" / commit / "model.safetensors"
    if repo.exists():  # the kill came after the one rename that places a new repo: complete
        assert snapshot.is_file() and hashlib.sha256(snapshot.read_bytes()).hexdigest() == sha
    else:
        assert proc.returncode != 0
        assert not list(hub_cache.glob("models--*"))
        if sig == "SIGTERM":  # caught: the temp folder is cleaned up at once
            assert not list(hub_cache.glob(".localmodels-import-*"))
    import_bundle(bundle)  # the next import completes and removes a killed import's temp folder
    assert hashlib.sha256(snapshot.read_bytes()).hexdigest() == sha
    assert not list(hub_cache.glob(".localmodels-import-*"))
