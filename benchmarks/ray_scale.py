"""Corpus classification: the local engine vs Ray Data at 1 and 2 workers, same files, same model.

    .venv/bin/python benchmarks/ray_scale.py [--model minilm] [--corpus DIR ...] [--batch-files N] [--json]

The corpus is this repository's own ``src/`` and ``tests/`` text files by default (real code, docs,
config). Ray runs on a local one-node cluster started here (127.0.0.1, ``--num-cpus`` CPUs) that
shares this machine's store, so staging finds the model present (its cost is printed apart). The
local engine is timed with its model already loaded. Each Ray job starts its own actor pool, so each
Ray figure includes starting ``workers`` actors and loading the model in each (the first run, also
Ray's own worker start, is printed as the cold figure). Prints files/s, the ratios, and Ray's cost
per batch with a block that does nothing (which, on a small corpus, is mostly that actor start
spread over the batches).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray on 127.0.0.1 only
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# No idle workers at start: a node's agents must register within Ray's fixed timeouts on a busy machine.
os.environ.setdefault("RAY_enable_worker_prestart", "0")
os.environ.setdefault("RAY_prestart_worker_first_driver", "0")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]


class Nothing:
    """A block that returns its batch: what Ray costs per batch, without a model."""

    def __call__(self, batch):
        return batch


def _overhead_per_batch(ray, items: list[dict], batch_files: int, workers: int) -> float:
    ds = ray.data.from_items(items, override_num_blocks=min(len(items), 4 * workers))
    ds = ds.map_batches(Nothing, compute=ray.data.ActorPoolStrategy(size=workers), batch_size=batch_files,
                        num_cpus=1)
    list(ds.iter_batches(batch_size=None))  # actors up
    ds = ray.data.from_items(items, override_num_blocks=min(len(items), 4 * workers))
    ds = ds.map_batches(Nothing, compute=ray.data.ActorPoolStrategy(size=workers), batch_size=batch_files,
                        num_cpus=1)
    t0 = time.perf_counter()
    batches = sum(1 for _ in ds.iter_batches(batch_size=None))
    return (time.perf_counter() - t0) / max(1, -(-len(items) // batch_files)) if batches else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--corpus", type=Path, nargs="*", default=[ROOT / "src", ROOT / "tests"])
    ap.add_argument("--num-cpus", type=int, default=2)
    ap.add_argument("--batch-files", type=int, default=16)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import ray

    from localmodels.apps._walk import walk
    from localmodels.apps.classify import classify_paths
    from localmodels.apps.ray import classify_on_ray

    paths = [str(p) for p in args.corpus]
    found, _ = walk(paths)
    out: dict = {"model": args.model, "files": len(found), "num_cpus": args.num_cpus, "batch_files": args.batch_files}

    # Ray first: its node must register within 30 s, easier before the model loads here.
    for attempt in range(6):  # Ray gives a node 30 s to register: a busy shared machine can miss that
        try:
            ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            break
        except Exception as e:  # noqa: BLE001
            if attempt == 5:
                raise
            print(f"ray did not start ({e}); again", file=sys.stderr)
            ray.shutdown()
            time.sleep(10)
    classify_paths([str(found[0].path)], model=args.model)  # warm: the model loaded in this process
    t0 = time.perf_counter()
    local = classify_paths(paths, model=args.model)
    out["local_s"] = time.perf_counter() - t0
    print(f"local engine: {len(local.files)} files in {out['local_s']:.2f} s", file=sys.stderr)
    n = len(local.files)

    try:
        for workers in (1, 2):
            t0 = time.perf_counter()
            report, staging = classify_on_ray(paths, model=args.model, workers=workers, batch_files=args.batch_files)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            report, staging = classify_on_ray(paths, model=args.model, workers=workers, batch_files=args.batch_files)
            out[f"ray{workers}_s"] = time.perf_counter() - t0
            out[f"ray{workers}_cold_s"] = cold
            out["staging_s"] = max(x.seconds for x in staging.nodes)
            same = sum(1 for a, b in zip(sorted(local.files, key=lambda r: r.path),
                                         sorted(report.files, key=lambda r: r.path)) if a.category == b.category)
            out[f"ray{workers}_same_category"] = f"{same}/{n}"
        items = [{"path": str(f.path)} for f in found]
        out["overhead_per_batch_ms"] = 1000 * _overhead_per_batch(ray, items, args.batch_files, 2)
    finally:
        ray.shutdown()
    for k in ("local", "ray1", "ray2"):
        out[f"{k}_files_per_s"] = n / out[f"{k}_s"]
    out["ray1_vs_local"] = out["local_s"] / out["ray1_s"]
    out["ray2_vs_ray1"] = out["ray1_s"] / out["ray2_s"]
    out["ray2_vs_local"] = out["local_s"] / out["ray2_s"]
    out["batches"] = -(-n // args.batch_files)
    if args.json:
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}, indent=2))
        return 0
    print(f"{n} files, model {args.model}, {args.num_cpus} CPUs, {out['batches']} batches of {args.batch_files}")
    print("| engine | seconds | files/s | vs local | cold run (s) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| local | {out['local_s']:.2f} | {out['local_files_per_s']:.1f} | 1.00 | - |")
    for w in (1, 2):
        print(f"| ray, {w} worker(s) | {out[f'ray{w}_s']:.2f} | {out[f'ray{w}_files_per_s']:.1f} | "
              f"{out['local_s'] / out[f'ray{w}_s']:.2f} | {out[f'ray{w}_cold_s']:.1f} |")
    print(f"ray 2 workers vs 1: {out['ray2_vs_ray1']:.2f}x; Ray overhead per batch: "
          f"{out['overhead_per_batch_ms']:.1f} ms; staging (model present): {out['staging_s']:.2f} s; "
          f"same category as local: {out['ray2_same_category']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
