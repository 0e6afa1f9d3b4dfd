"""10,000 real files classified end to end with the default method (issue 14's last goal: <= 60 s, <= 1 GB).

    .venv/bin/python benchmarks/classify_10k.py [--files 10000] [--source DIR] [--keep DIR] [--profile OUT.prof]

1. Copies the first ``--files`` text files (sorted paths; no binaries, no ``.gitignore`` files, none over
   the size limit) of ``--source`` (default: this venv's site-packages) into a temporary folder, keeping
   their relative paths: real Python packages, their docs, data and metadata.
2. Runs ``localmodels classify -i TREE -o results.json`` as a user does (a child process, no
   ``--method``: the default), and times it from the command's start to its exit.
3. Prints wall seconds, files/s, the share escalated to the transformer, the child's CPU seconds and peak
   RSS, the load average of the machine during the run (other users of a shared machine slow it) and the
   ratios to the goals (60 s, 1 GB). ``--profile`` runs the child under cProfile (slower) and prints the
   top functions. Extra classify arguments go after ``--`` (e.g. ``-- --method embedding``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 60.0
GOAL_MB = 1024.0
MAX_BYTES = 1_000_000


def _is_text(path: Path) -> bool:
    """What classify will read as text (its own binary sniff of the first 8 KB)."""
    from localmodels.apps._walk import SNIFF_BYTES, looks_binary

    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    return not looks_binary(head)


def pick(source: Path, n: int) -> list[Path]:
    """The first ``n`` text files under ``source`` in sorted order (relative paths)."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", ".git"))
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if name == ".gitignore" or p.is_symlink() or not p.is_file():
                continue
            if p.stat().st_size > MAX_BYTES or not _is_text(p):
                continue
            out.append(p.relative_to(source))
            if len(out) == n:
                return out
    return out


def build_tree(source: Path, n: int, dest: Path) -> int:
    files = pick(source, n)
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, target)
    return len(files)


def run_cli(tree: Path, out: Path, profile: Path | None, extra: list[str]) -> dict:
    exe = Path(sys.executable).with_name("localmodels")
    cmd = [str(exe)] if profile is None else [sys.executable, "-m", "cProfile", "-o", str(profile),
                                                str(exe)]
    cmd += ["classify", "-i", str(tree), "-o", str(out), "--json", *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LOCALMODELS_OFFLINE": "1"}
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"classify failed with exit code {proc.returncode}")
    summary = json.loads(proc.stdout[proc.stdout.index("{"):])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # of the one child (the CLI)
    return {"wall_s": wall, "summary": summary, "peak_rss_mb": usage.ru_maxrss / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime, "stderr": proc.stderr.strip(),
            "loadavg_before": load0, "loadavg_after": load1}


def escalated(results: Path) -> tuple[int, int, str]:
    data = json.loads(results.read_text(encoding="utf-8"))
    files = data["files"]
    esc = sum(1 for f in files if str(f.get("method", "")).startswith("cascade>"))
    methods = sorted({str(f.get("method", "")).split(">")[0] for f in files})
    return esc, len(files), ",".join(methods)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--source", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    ap.add_argument("--keep", type=Path, help="build the tree here and keep it (reused when it exists)")
    ap.add_argument("--profile", type=Path, help="run the child under cProfile, write the stats here")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("cli_args", nargs="*", help="extra classify arguments after --, e.g. -- --method embedding")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="classify10k-"))
    try:
        tree = a.keep or work / "tree"
        if not (tree.is_dir() and any(tree.iterdir())):
            tree.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            n = build_tree(a.source, a.files, tree)
            print(f"copied {n} text files of {a.source} into {tree} in {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr)
        out = work / "results.json"
        got = run_cli(tree, out, a.profile, a.cli_args)
        esc, classified, methods = escalated(out)
        s = got["summary"]
        fig = {
            "files_classified": classified, "skipped": s.get("skipped", 0), "method": s.get("method"),
            "model": s.get("model"), "record_methods": methods, "wall_s": round(got["wall_s"], 2),
            "classify_s": round(float(s.get("seconds", 0.0)), 2), "cpu_s": round(got["cpu_s"], 2),
            "files_per_s": round(classified / got["wall_s"], 1), "escalated": esc,
            "escalated_share": round(esc / max(classified, 1), 4), "peak_rss_mb": round(got["peak_rss_mb"], 1),
            "ratio_to_60s_goal": round(got["wall_s"] / GOAL_SECONDS, 3),
            "ratio_to_1gb_goal": round(got["peak_rss_mb"] / GOAL_MB, 3),
            "loadavg_1m_before_after": [round(got["loadavg_before"][0], 2), round(got["loadavg_after"][0], 2)],
            "cpus": os.cpu_count(), "notice": got["stderr"][-300:],
        }
        print(json.dumps(fig, indent=1))
        print(f"{classified} files in {fig['wall_s']} s = {fig['files_per_s']} files/s "
              f"({fig['ratio_to_60s_goal']:.2f}x the 60 s goal; CPU {fig['cpu_s']} s), "
              f"escalated {100 * fig['escalated_share']:.1f} %, "
              f"peak RSS {fig['peak_rss_mb']:.0f} MB, load average {fig['loadavg_1m_before_after']} "
              f"on {fig['cpus']} CPUs")
        if a.json:
            a.json.write_text(json.dumps(fig, indent=1) + "\n", encoding="utf-8")
        if a.profile:
            import pstats

            pstats.Stats(str(a.profile)).sort_stats("cumulative").print_stats(40)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
