"""Issue 20, defects 9 and 11: classify reads big files in bounded memory and keeps finished work.

- 9: a 2 GB sparse file with ``--max-size 3000000000`` is sniffed (8 KB) and skipped as binary; a
  200 MB text file is streamed (sha256 over all of it, a bounded sample of its text kept). The
  CLI's peak RSS is measured by a parent process (``ru_maxrss`` of its one child).
- 11: a real SIGINT to the CLI mid-run leaves the finished files on disk (the side journal, and
  the output written with what was done); ``--resume`` classifies only the rest; a file whose
  content changed is classified again; files left out by ``.gitignore`` are counted as skipped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tiny_models import derived_home, shared_home  # noqa: F401


@pytest.fixture(autouse=True)
def _no_auto_distill(monkeypatch):
    """These tests run MiniLM embeddings as the default's fallback: no 4-minute distillation of the static
    twin in the session's home (the fast default itself is tested in test_fastclassify.py)."""
    monkeypatch.setenv("LOCALMODELS_AUTO_DISTILL", "0")


RSS_PROBE = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(r.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB, of the one child
sys.exit(r.returncode)
"""


def peak_rss_mb(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    r = subprocess.run([sys.executable, "-c", RSS_PROBE, sys.executable, "-m", "localmodels", *args],
                       capture_output=True, text=True, timeout=600, env={**os.environ, "LOCALMODELS_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip().splitlines()[-1]) / 1024, r


def test_big_files_are_sniffed_then_streamed(tmp_path, shared_home):
    small = tmp_path / "small"
    small.mkdir()
    (small / "notes.txt").write_text("a few notes about the project\n")
    base, _ = peak_rss_mb("classify", str(small), "-o", str(tmp_path / "base.json"), "--max-size", "3000000000")

    big = tmp_path / "big"
    big.mkdir()
    with open(big / "disk.img", "wb") as f:  # 2 GB, sparse: takes no disk, reads as zeros
        f.truncate(2 * 10**9)
    line = b"2026-11-30 12:00:00 INFO request served in 12 ms from cache\n"
    with open(big / "server.log", "wb") as f:
        for _ in range(200 * 10**6 // (len(line) * 1000)):
            f.write(line * 1000)
    out = tmp_path / "big.json"
    peak, _ = peak_rss_mb("classify", str(big), "-o", str(out), "--max-size", "3000000000")
    assert peak < base + 150, f"peak RSS {peak:.0f} MB vs {base:.0f} MB for a small tree"
    data = json.loads(out.read_text())
    assert {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in data["skipped"]} == {"disk.img": "binary"}
    [log] = data["files"]
    import hashlib

    digest = hashlib.sha256()
    with open(big / "server.log", "rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    assert log["sha256"] == digest.hexdigest() and log["bytes"] == (big / "server.log").stat().st_size


def test_read_text_keeps_a_bounded_sample_spread_over_the_file(tmp_path):
    from localmodels.apps._walk import Found, read_text

    p = tmp_path / "long.txt"
    p.write_text("".join(f"line {i:07d}\n" for i in range(400_000)))  # 5.2 MB
    got = read_text(Found(p, "long.txt", p.stat().st_size), max_bytes=10**8, keep_bytes=64_000)
    assert not isinstance(got, str)
    assert len(got.text) <= 64_000 and got.encoding == "utf-8"
    lines = got.text.splitlines()
    assert lines[0] == "line 0000000" and all(x.startswith("line ") and len(x) == 12 for x in lines)
    assert int(lines[-1][5:]) > 370_000  # the sample reaches the end of the file


# ------------------------------------------------------------------------------------------ defect 11
def _tree(root: Path, n: int) -> Path:
    src = root / "proj"
    (src / "docs").mkdir(parents=True)
    for i in range(n):
        (src / "docs" / f"note_{i:03d}.md").write_text(f"# Note {i}\n\nThis guide explains step {i} of the setup.\n")
    (src / ".gitignore").write_text("build/\n*.tmp\n")
    (src / "build").mkdir()
    (src / "build" / "out.txt").write_text("generated\n")
    for i in range(5):
        (src / f"scratch{i}.tmp").write_text("scratch\n")
    return src


def _classify_cmd(src: Path, out: Path, *extra: str) -> list[str]:
    # --max-chunks 1 and a slow model are not needed: 400 files take a few seconds on MiniLM.
    return [sys.executable, "-m", "localmodels", "classify", str(src), "-o", str(out), "--json", *extra]


def _journal(out: Path) -> Path:
    return out.with_name(f".{out.name}.journal.jsonl")


@pytest.mark.parametrize("ext", [".json", ".jsonl", ".csv"])
def test_sigint_keeps_finished_work_and_resume_continues(tmp_path, shared_home, ext):
    src = _tree(tmp_path, 400)
    out = tmp_path / f"results{ext}"
    env = {**os.environ, "LOCALMODELS_OFFLINE": "1"}
    proc = subprocess.Popen(_classify_cmd(src, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    journal = _journal(out)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # wait until some files are done, then Ctrl-C
        if journal.is_file() and sum(1 for line in journal.read_text().splitlines() if '"file"' in line) >= 40:
            break
        if proc.poll() is not None:
            pytest.fail(f"classify ended before the interrupt: {proc.returncode} {proc.stderr.read()}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err, err
    done_lines = [json.loads(x) for x in journal.read_text().splitlines() if x.strip()]
    done = {r["path"] for r in done_lines if r.get("type") == "file"}
    assert 40 <= len(done) < 400
    assert out.is_file(), "the output holds the files finished before the interrupt"

    # Change one finished file: it is classified again; the others are not.
    changed = sorted(p for p in done if "note_" in p)[0]
    Path(changed).write_text("# Changed\n\nNew content.\n")
    r = subprocess.run(_classify_cmd(src, out, "--resume"), capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["files"] == 401, json.dumps(summary)[:900]  # the notes and .gitignore
    assert summary["resumed"] == len(done) - 1 and summary["classified_now"] == 401 - len(done) + 1, summary
    assert summary["skipped"] == 6 and summary["skipped_by_reason"] == {"gitignored": 6}  # build/, 5 *.tmp
    assert not journal.exists(), "a finished run removes its journal"


def test_summary_counts_gitignored_files(tmp_path):
    from localmodels.apps._walk import walk

    src = _tree(tmp_path, 2)
    found, skipped = walk([src])
    assert sorted(Path(f.rel).name for f in found) == [".gitignore", "note_000.md", "note_001.md"]
    reasons = {Path(s.path.rstrip("/")).name: s.reason for s in skipped}
    assert reasons == {"build": "gitignored", **{f"scratch{i}.tmp": "gitignored" for i in range(5)}}
