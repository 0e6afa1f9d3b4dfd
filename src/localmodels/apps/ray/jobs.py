"""Corpus jobs on Ray Data: classify files, embed a corpus file. Staged first, then run.

    report, staging = classify_on_ray(["src/"], model="minilm", address="head:6379", workers=8)
    summary, staging = embed_on_ray("corpus.jsonl", "vectors.parquet", model="minilm", workers=8)

1. Staging (:mod:`.staging`): every alive node gets the model into its own store once; a node that
   fails is named and the job does not start.
2. Ray Data runs the blocks (:mod:`.blocks`) on an actor pool of ``workers`` actors, each with
   ``HF_HUB_OFFLINE=1``; an actor that dies is restarted and its batch retried (no lost or doubled
   rows: a failed task's output is never delivered).
3. The driver streams the results back in input order and writes them as the local engine does, so
   both engines give the same files, categories and scores.

``--resume`` (``previous``: path -> record of an earlier output or journal) follows the local
engine's rule: the driver hashes the files that have a record, keeps the records whose sha256,
model and method still match, and sends only the rest to Ray; ``on_results`` gets each batch of
files as it comes back (the CLI's journal, so an interrupted Ray run can be resumed too).

Input files are read by the workers: on a multi-node cluster they must be on storage every node
mounts at the same path (the driver passes absolute paths).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import RuntimeFailure, UsageError
from ._cluster import OFFLINE_ENV, connect
from .staging import StageReport, ensure_staged

Progress = Callable[[int, int | None], None]


def _split_resumed(found: list[Any], previous: dict[str, dict[str, Any]] | None, clf: Any,
                   max_bytes: int) -> tuple[list[Any], list[dict[str, Any]]]:
    """(files to classify on Ray, records kept): files with a record are read here to hash them,
    STREAM_FILES at a time (a file that is now unreadable goes to Ray, which reports it)."""
    from ..classify import STREAM_FILES, read_documents, record_still_valid

    if not previous:
        return list(found), []
    known = [f for f in found if f.rel in previous]
    resumed: list[dict[str, Any]] = []
    for start in range(0, len(known), STREAM_FILES):
        docs, _unreadable = read_documents(known[start:start + STREAM_FILES], max_bytes=max_bytes)
        resumed += [previous[d.path] for d in docs if record_still_valid(previous[d.path], d.sha256, clf)]
    kept = {r["path"] for r in resumed}
    return [f for f in found if f.rel not in kept], resumed


def _map(ds: Any, block: type, kwargs: dict[str, Any], *, workers: int, batch_size: int, num_cpus: float) -> Any:
    if workers < 1:
        raise UsageError(f"--workers must be at least 1 (got {workers})")
    return ds.map_batches(block, fn_constructor_kwargs=kwargs, concurrency=workers, batch_size=batch_size,
                          num_cpus=num_cpus, runtime_env={"env_vars": OFFLINE_ENV},
                          max_restarts=-1, max_task_retries=-1)


@contextmanager
def _data_context(ray: Any, *, ordered: bool):
    """Ray Data settings for one job (restored after): results in input order, no Ray progress bars
    (the CLI draws its own from the results as they arrive)."""
    ctx = ray.data.DataContext.get_current()
    saved = (ctx.execution_options.preserve_order, ctx.enable_progress_bars)
    ctx.execution_options.preserve_order = ordered
    ctx.enable_progress_bars = False
    try:
        yield ctx
    finally:
        ctx.execution_options.preserve_order, ctx.enable_progress_bars = saved


def classify_on_ray(paths: Sequence[str | Path], *, model: str = "minilm", method: str = "embedding",
                    categories: Any = None, include: Sequence[str] = (), exclude: Sequence[str] = (),
                    gitignore: bool = True, max_bytes: int | None = None, address: str | None = None,
                    workers: int = 1, stage_from: str | Path | None = None, endpoint: str | None = None,
                    batch_files: int = 16, num_cpus: float = 1.0, progress: Progress | None = None,
                    previous: dict[str, dict[str, Any]] | None = None,
                    on_results: Callable[[list[Any]], None] | None = None,
                    **options: Any) -> tuple[Any, StageReport]:
    """:func:`localmodels.apps.classify_paths` on a Ray cluster; returns the same report, and staging's.

    ``previous`` and ``on_results`` as for the local engine (see the module docstring); ``options``:
    quantize, prior_weight, max_chunks, batch_size (as for the local engine).
    """
    from .._report import ClassifyReport, FileResult
    from .._walk import DEFAULT_MAX_BYTES, Skipped, walk
    from ..classify import FileClassifier
    from .blocks import Classifier

    if not paths:
        raise UsageError("no input paths", hint="pass files or folders with -i PATH")
    t0 = time.perf_counter()
    max_bytes = max_bytes or DEFAULT_MAX_BYTES
    clf = FileClassifier(model=model, method=method, categories=categories, **options)  # checks the options
    found, skipped = walk(paths, include=include, exclude=exclude, gitignore=gitignore, max_bytes=max_bytes)
    found, resumed = _split_resumed(found, previous, clf, max_bytes)
    ray = connect(address)
    staging = ensure_staged([model], stage_from=stage_from, address=address, endpoint=endpoint)
    items = [{"index": i, "path": str(Path(f.path).resolve()), "rel": f.rel, "size": f.size, "name": f.name}
             for i, f in enumerate(found)]
    results: dict[int, Any] = {}
    if items:
        kwargs = {"model": model, "method": method, "categories": clf.categories, "max_bytes": max_bytes,
                  **options}
        with _data_context(ray, ordered=False):
            ds = ray.data.from_items(items, override_num_blocks=min(len(items), max(1, 4 * workers)))
            ds = _map(ds, Classifier, kwargs, workers=workers, batch_size=batch_files, num_cpus=num_cpus)
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                done = []
                for i in range(len(batch["index"])):
                    idx, rel, err = int(batch["index"][i]), str(batch["rel"][i]), str(batch["error"][i])
                    if idx in results:  # never expected (a failed task's output is not delivered)
                        continue
                    results[idx] = Skipped(rel, err) if err else FileResult(**json.loads(str(batch["record"][i])))
                    done += [results[idx]] if not err else []
                if on_results is not None and done:
                    on_results(done)
                if progress:
                    progress(len(results), len(items))
    missing = [it["rel"] for it in items if it["index"] not in results]
    if missing:  # Ray delivered every batch or raised; this guards the accounting itself
        raise RuntimeFailure(f"{len(missing)} file(s) came back without a result, e.g. {missing[0]}",
                             hint="run the job again; please report this")
    ordered = [results[i] for i in range(len(items))]
    files = [r for r in ordered if isinstance(r, FileResult)]
    skipped += [r for r in ordered if isinstance(r, Skipped)]
    skipped.sort(key=lambda s: s.path)
    report = ClassifyReport(files, skipped, clf.model_label, method, clf.categories,
                            seconds=time.perf_counter() - t0, resumed=resumed)
    return report, staging


def embed_on_ray(path: str | Path, output: str | Path, *, model: str = "minilm", text_field: str = "text",
                 batch_size: int = 32, kind: str | None = None, quantize: str | None = None,
                 address: str | None = None, workers: int = 1, stage_from: str | Path | None = None,
                 endpoint: str | None = None, batch_rows: int = 256, num_cpus: float = 1.0,
                 progress: Progress | None = None) -> tuple[Any, StageReport]:
    """Embed a corpus file (see :mod:`.corpus`) on a Ray cluster into ``output`` (Parquet)."""
    from .blocks import Embedder
    from .corpus import VectorWriter, check_output, corpus_format, embedder_options

    src, out = Path(path).resolve(), check_output(output)
    fmt = corpus_format(src)
    if not src.is_file():
        raise UsageError(f"no such corpus file: {src}")
    t0 = time.perf_counter()
    ray = connect(address)
    staging = ensure_staged([model], stage_from=stage_from, address=address, endpoint=endpoint)
    writer = VectorWriter(out)
    kwargs = {"model": model, "kind": kind, "quantize": quantize, "batch_size": batch_size,
              **embedder_options(fmt, text_field)}
    with _data_context(ray, ordered=True):
        if fmt == "parquet":
            ds = ray.data.read_parquet(str(src), columns=[text_field])
        else:
            ds = ray.data.read_text(str(src), encoding="utf-8", drop_empty_lines=True)
        ds = _map(ds, Embedder, kwargs, workers=workers, batch_size=batch_rows, num_cpus=num_cpus)
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            writer.write([str(t) for t in batch["text"]], batch["vector"], [str(e) for e in batch["error"]])
            if progress:
                progress(writer.summary.rows, None)
    summary = writer.close()
    summary.seconds, summary.engine, summary.workers = time.perf_counter() - t0, "ray", workers
    return summary, staging
