"""Embedding retrieval benchmark: recall@k and MRR on ``datasets/retrieval`` (or another folder).

Passages are embedded with ``kind="passage"``, queries with ``kind="query"`` (e5-style models get
their prefixes), passages are ranked by cosine similarity (embeddings are L2-normalised), and the
ranking is scored with :func:`.metrics.recall_at_k` and :func:`.metrics.mean_reciprocal_rank`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .bench import dataset_roots
from .metrics import mean_reciprocal_rank, recall_at_k

KS = (1, 5, 10)


def _dataset_dir(path: str | None) -> Path:
    if path:
        p = Path(path).expanduser()
        if (p / "queries.jsonl").is_file():
            return p
        name = path
    else:
        name = "retrieval"
    for root in dataset_roots():
        if (root / name / "queries.jsonl").is_file():
            return root / name
    raise UsageError(f"retrieval dataset {name!r} not found (queries.jsonl + passages.jsonl)",
                     hint="run from the repository root or pass --dataset FOLDER")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_retrieval(path: str | None = None, limit: int | None = None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    root = _dataset_dir(path)
    passages = _jsonl(root / "passages.jsonl")
    queries = _jsonl(root / "queries.jsonl")
    ids = {p["id"] for p in passages}
    for q in queries:
        missing = [r for r in q["relevant"] if r not in ids]
        if missing:
            raise UsageError(f"{root}: query {q['id']} names unknown passages {missing}")
    return passages, queries[:limit] if limit else queries


def evaluate(model: str, passages: list[dict[str, Any]], queries: list[dict[str, Any]],
             quantize: str | None = None) -> dict[str, Any]:
    import numpy as np

    from ..tasks.embed import embed

    embed(["warm up"], model=model, quantize=quantize)  # load outside the timings
    t0 = time.perf_counter()
    P = np.asarray(embed([p["text"] for p in passages], model=model, kind="passage", quantize=quantize))
    t1 = time.perf_counter()
    Q = np.asarray(embed([q["query"] for q in queries], model=model, kind="query", quantize=quantize))
    t2 = time.perf_counter()
    order = np.argsort(-(Q @ P.T), axis=1)
    ranked = [[passages[j]["id"] for j in row] for row in order]
    relevant = [q["relevant"] for q in queries]
    out: dict[str, Any] = {"model": model, "quantize": quantize,
                           "label": f"{model} ({quantize})" if quantize else model,
                           "queries": len(queries), "passages": len(passages)}
    for k in KS:
        out[f"recall@{k}"] = recall_at_k(ranked, relevant, k)
    out["mrr"] = mean_reciprocal_rank(ranked, relevant)
    out["passages_per_s"] = len(passages) / (t1 - t0) if t1 > t0 else None
    out["query_ms"] = 1000 * (t2 - t1) / max(len(queries), 1)
    out["misses"] = [{"query": q["query"], "top": r[0], "relevant": q["relevant"]}
                     for q, r in zip(queries, ranked) if r[0] not in q["relevant"]]
    return out


def run_retrieval_bench(models: Sequence[str], *, dataset: str | None = None,
                        quantize: Sequence[str | None] = (None,), limit: int | None = None) -> dict[str, Any]:
    passages, queries = load_retrieval(dataset, limit)
    runs = [evaluate(m, passages, queries, q) for m in models for q in quantize]
    return {"task": "retrieval", "dataset": dataset or "retrieval", "runs": runs}


def markdown_table(report: dict[str, Any]) -> str:
    rows = ["| Model | Recall@1 | Recall@5 | Recall@10 | MRR | Passages/s | Query ms |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for r in report["runs"]:
        pps = r["passages_per_s"]
        rows.append(f"| {r['label']} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | {r['recall@10']:.3f} | "
                    f"{r['mrr']:.3f} | {'n/a' if pps is None else f'{pps:.0f}'} | {r['query_ms']:.1f} |")
    return "\n".join(rows)
