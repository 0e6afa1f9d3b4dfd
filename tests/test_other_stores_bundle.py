"""Models of other tools' stores (Ollama, LM Studio, llama.cpp, loose files) carried to an air-gapped
machine: ``pull`` -> ``export`` -> ``import`` into a fresh LOCALMODELS_HOME / HF_HOME with no Ollama
-> ``verify`` -> ``generate`` from the same reference. Real GGUFs in the tools' real layouts; the CLI
as a subprocess. Also: ``pull`` across filesystems keeps a reference instead of a hard link.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from conftest import run_cli
from other_stores import (
    SMOLLM2_FILE,
    env_for,
    llamacpp_cache,
    lmstudio_store,
    ollama_store,
    put,
    sha256,
    smollm2_gguf,
)

LMS_REF = f"lmstudio:bartowski/SmolLM2-135M-Instruct-GGUF/{SMOLLM2_FILE}"
LCPP_NAME = f"bartowski_SmolLM2-135M-Instruct-GGUF_{SMOLLM2_FILE}"
THREADS = {"LOCALMODELS_THREADS": "1"}


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine: Ollama, LM Studio, llama.cpp's cache and a loose file, all the SmolLM2 GGUF."""
    base = tmp_path / "machine"
    s = smollm2_gguf()
    ollama_store(base / "ollama", {"smollm2:135m": s}, template="{{ .Prompt }}", license="Apache 2.0")
    lmstudio_store(base / "lmstudio", {LMS_REF.split(":", 1)[1]: s})
    llamacpp_cache(base / "llamacpp", {LCPP_NAME: s})
    put(s, base / "loose" / "smol.gguf")
    for k, v in env_for(base).items():
        monkeypatch.setenv(k, v)
    return base


def air_gapped(tmp_path: Path) -> dict[str, str]:
    """Another machine: a fresh store and HF cache, no Ollama / LM Studio / llama.cpp folders at all."""
    other = tmp_path / "airgap"
    return {"LOCALMODELS_HOME": str(other / "localmodels"), "HF_HOME": str(other / "hf"),
            "HF_HUB_CACHE": str(other / "hf" / "hub"), "HF_HUB_OFFLINE": "1", "LOCALMODELS_OFFLINE": "1",
            **env_for(other / "no-tools")}


def ok(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    r = run_cli(*args, env=env)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    return r


def test_export_import_other_stores_to_an_air_gapped_store(machine: Path, tmp_path: Path) -> None:
    loose = f"file:{machine / 'loose' / 'smol.gguf'}"
    refs = ["ollama:smollm2:135m", LMS_REF, f"llamacpp:{LCPP_NAME}", loose]
    ok("pull", "ollama:smollm2:135m")  # hard-linked into our layout; the others are exported from in place
    bundle = tmp_path / "models.tar"
    out = json.loads(ok("export", "-o", str(bundle), *refs, "--json").stdout)
    assert out["files"] == 4
    with tarfile.open(bundle) as tar:
        index = json.loads(tar.extractfile("localmodels-bundle.json").read())  # type: ignore[union-attr]
        assert index["version"] == 2
        assert {m["source"] for m in index["models"]} == {"ollama", "lmstudio", "llamacpp", "file"}
        assert all(f["sha256"] == sha256(smollm2_gguf()) for m in index["models"] for f in m["files"])
    # the bundle checks with sha256sum alone, no localmodels needed
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(bundle, unpacked)
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True).returncode == 0

    gap = air_gapped(tmp_path)
    gone = run_cli("where", "ollama:smollm2:135m", env=gap)
    assert gone.returncode != 0  # nothing there before the import
    imported = json.loads(ok("import", str(bundle), "--json", env=gap).stdout)
    assert sorted(imported["models"]) == sorted(refs)
    checks = json.loads(ok("verify", "--json", env=gap).stdout)
    assert len(checks) == 4 and all(c["ok"] for c in checks)
    assert {c["source"] for c in checks} >= {"ollama", "lmstudio", "llamacpp", "file"}
    for ref in refs:
        where = ok("where", ref, env=gap).stdout.strip()
        assert Path(where).is_relative_to(Path(gap["LOCALMODELS_HOME"]) / "stores"), where
        files = list(Path(where).iterdir())
        assert len(files) == 1 and sha256(files[0]) == sha256(smollm2_gguf())
    gen = ok("generate", "-m", "ollama:smollm2:135m", "-n", "3", "--n-ctx", "256", "--json",
             "The capital of France is", env={**gap, **THREADS})
    assert json.loads(gen.stdout)["completion_tokens"] >= 1
    gen = ok("generate", "-m", LMS_REF, "-n", "2", "--n-ctx", "256", "--json", "Hello", env={**gap, **THREADS})
    assert json.loads(gen.stdout)["text"]
    rows = json.loads(ok("list", "--all", "--json", env=gap).stdout)
    mine = {r["ref"]: r for r in rows if r["store"] == "localmodels"}
    assert set(refs) <= set(mine) and mine["ollama:smollm2:135m"]["format"] == "gguf"
    info = json.loads(ok("info", "ollama:smollm2:135m", "--json", env=gap).stdout)
    assert info["source"] == "ollama" and info["files"][0]["sha256"] == sha256(smollm2_gguf())
    assert info["details"]["template"] == "{{ .Prompt }}"  # Ollama's layers travel with it
    assert info["details"]["chat template"].startswith("in the GGUF")
    # a second import of the same bundle changes nothing and still verifies
    ok("import", str(bundle), env=gap)
    assert all(c["ok"] for c in json.loads(ok("verify", "--json", env=gap).stdout))
    # rm there deletes the imported bytes (ours): the model is gone
    ok("rm", "-y", "ollama:smollm2:135m", env=gap)
    assert run_cli("where", "ollama:smollm2:135m", env=gap).returncode != 0
    # an LRU prune may evict imported copies: they hold their own bytes there
    pruned = json.loads(ok("prune", "--keep", "0", "--json", env=gap).stdout)
    lru = [x for x in pruned["removed"] if x.get("reason") == "lru"]
    assert {x["kind"] for x in lru} >= {"copy"} and sum(x["bytes"] for x in lru) >= 3 * smollm2_gguf().stat().st_size
    assert run_cli("where", LMS_REF, env=gap).returncode != 0


def test_prune_drops_our_hard_link_only(machine: Path) -> None:
    """On the machine with Ollama, our hard link costs no bytes of its own; prune removes it, never the blob."""
    blob = machine / "ollama" / "blobs" / f"sha256-{sha256(smollm2_gguf())}"
    pulled = json.loads(ok("pull", "ollama:smollm2:135m", "--json").stdout)
    assert os.stat(Path(pulled["path"]) / pulled["files"][0]["path"]).st_ino == os.stat(blob).st_ino
    pruned = json.loads(ok("prune", "--keep", "0", "--json").stdout)
    mine = [x for x in pruned["removed"] if x.get("kind") == "copy"]
    assert mine and all(x["bytes"] == 0 for x in mine)  # Ollama still links the bytes: nothing freed
    assert blob.is_file() and sha256(blob) == sha256(smollm2_gguf())
    assert not Path(pulled["path"]).exists()
    assert ok("where", "ollama:smollm2:135m").stdout.strip()  # in place again


def _rewrite(bundle: Path, out: Path, edit) -> None:  # noqa: ANN001 - edit(name, bytes) -> bytes
    with tarfile.open(bundle) as src, tarfile.open(out, "w") as dst:
        for m in src.getmembers():
            data = edit(m.name, src.extractfile(m).read())  # type: ignore[union-attr]
            info = tarfile.TarInfo(m.name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))


def test_a_damaged_or_misnamed_bundle_is_refused_and_nothing_placed(machine: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "one.tar"
    ok("export", "-o", str(bundle), "ollama:smollm2:135m")
    gap = air_gapped(tmp_path)

    def flip(name: str, data: bytes) -> bytes:
        if name.endswith(".gguf"):
            return data[:5000] + bytes([data[5000] ^ 1]) + data[5001:]
        return data

    damaged = tmp_path / "damaged.tar"
    _rewrite(bundle, damaged, flip)
    r = run_cli("import", str(damaged), env=gap)
    assert r.returncode == 2 and "fails its digest check" in r.stderr and "Traceback" not in r.stderr
    stores = Path(gap["LOCALMODELS_HOME"]) / "stores"
    assert not stores.exists() or not any(p.name.startswith("models--") for p in stores.iterdir())

    def rename(name: str, data: bytes) -> bytes:  # the index claims the files are another model's
        if name == "localmodels-bundle.json":
            return data.replace(b'"ollama:smollm2:135m"', b'"ollama:gemma3:270m"')
        return data

    misnamed = tmp_path / "misnamed.tar"
    _rewrite(bundle, misnamed, rename)
    r = run_cli("import", str(misnamed), env=gap)
    assert r.returncode != 0 and "does not name" in r.stderr and "Traceback" not in r.stderr
    assert run_cli("where", "ollama:gemma3:270m", env=gap).returncode != 0


def test_export_lock_carries_other_stores_models(machine: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    put(smollm2_gguf(), proj / "mine" / "model.gguf")  # a folder of the user's: locked, not bundled
    (proj / "localmodels.toml").write_text(f'[models.smol]\nref = "ollama:smollm2:135m"\n\n'
                                           f'[models.lms]\nref = "{LMS_REF}"\n\n'
                                           '[models.mine]\nref = "./mine"\n', encoding="utf-8")
    locked = run_cli("lock", cwd=proj)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    r = run_cli("export", "-o", str(tmp_path / "locked.tar"), "--lock", "--json", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["files"] == 2 and "mine" in json.dumps(out.get("skipped")), out
    gap = air_gapped(tmp_path)
    ok("import", str(tmp_path / "locked.tar"), "--write-lock", str(tmp_path / "gap.lock"), env=gap)
    gen = ok("generate", "-m", "ollama:smollm2:135m", "-n", "2", "--n-ctx", "256", "Hi", env={**gap, **THREADS})
    assert gen.stdout.strip()


@pytest.mark.skipif(not os.access("/dev/shm", os.W_OK), reason="needs a second filesystem (tmpfs /dev/shm)")
def test_pull_across_filesystems_keeps_a_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An Ollama store on another filesystem (tmpfs) cannot be hard-linked: pull records a reference
    (a symlink under LOCALMODELS_HOME/links), verified by sha256, and the model runs."""
    shm = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="lm-test-"))
    try:
        ollama_store(shm / "ollama", {"smollm2:135m": smollm2_gguf()}, copy=True)
        for k, v in env_for(tmp_path / "none").items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("LOCALMODELS_OLLAMA_MODELS", str(shm / "ollama"))
        blob = shm / "ollama" / "blobs" / f"sha256-{sha256(smollm2_gguf())}"
        pulled = json.loads(ok("pull", "ollama:smollm2:135m", "--json").stdout)
        link = Path(pulled["path"]) / pulled["files"][0]["path"]
        assert link.is_symlink() and os.path.samefile(link, blob) and os.stat(blob).st_nlink == 1
        assert pulled["files"][0]["sha256"] == sha256(smollm2_gguf())
        assert "copy" not in pulled.get("metadata", {})
        assert json.loads(ok("verify", "ollama:smollm2:135m", "--json").stdout)[0]["ok"]
        bundle = tmp_path / "x.tar"
        ok("export", "-o", str(bundle), "ollama:smollm2:135m")  # a reference exports too
        gap = air_gapped(tmp_path)
        ok("import", str(bundle), env=gap)
        assert json.loads(ok("verify", "ollama:smollm2:135m", "--json", env=gap).stdout)[0]["ok"]
    finally:
        shutil.rmtree(shm, ignore_errors=True)
