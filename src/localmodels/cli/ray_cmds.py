"""``localmodels stage`` and the ``--engine ray`` paths of ``classify`` and ``embed -i``.

    localmodels stage --lock models.lock --address head:6379        # per-node: present / fetched / failed
    localmodels classify -i /shared/src -o out.jsonl --engine ray --address head:6379 --workers 8
    localmodels embed -i corpus.jsonl -o vectors.parquet --engine ray --workers 8
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from ..errors import UsageError

ENGINES = ("local", "ray")


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint="use --engine local or --engine ray")
    return engine


def _bar(what: str, total: int | None):
    """A rich progress bar on stderr (None when quiet), and the callback that moves it."""
    from .output import err_console, quiet

    if quiet():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err_console(), transient=True)
    task = bar.add_task(what, total=total)

    def update(done: int, total: int | None = None) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


def _print_stage(report: Any) -> None:
    from .output import print_table

    rows = []
    for n in report.nodes:
        models = ", ".join(f"{m['name']} {m['status']}" for m in n.models) or "-"
        rows.append((n.node, n.status, models, n.reason or "", n.home, f"{n.seconds:.1f}"))
    print_table(["node", "status", "models", "reason", "store", "seconds"], rows,
                title=f"staging from {report.source} on {len(report.nodes)} node(s)")


def stage_cmd(
    lock: Path | None = typer.Option(None, "--lock", "-l", help="Lock file (from `localmodels lock`) to stage."),
    bundle: str | None = typer.Option(None, "--bundle", help="A bundle every node can read at this path."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (host:port, or auto)."),
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="Hub or mirror URL the nodes fetch from (default: HF_ENDPOINT here)."),
    as_json: bool = typer.Option(False, "--json", help="Print the per-node report as JSON."),
) -> None:
    """Stage models on every node of a Ray cluster once (a node lock each); no worker downloads later."""
    from ..apps.ray.staging import stage
    from ..store.lockfile import read_lock
    from .output import print_json

    if (lock is None) == (bundle is None):
        raise UsageError("give --lock or --bundle", hint="localmodels stage --lock models.lock --address ADDR")
    report = stage(lock=read_lock(lock) if lock else None, bundle=bundle, address=address,
                   root=lock.parent if lock else None, endpoint=endpoint)
    if as_json:
        print_json(report.as_dict())
    else:
        _print_stage(report)
    if not report.ok:
        raise typer.Exit(1)


def classify_engine(paths: list[Path], output: Path, *, address: str | None, workers: int,
                    stage_from: str | None, json_out: bool, resume: bool,
                    print_summary: Callable[[Any, dict, Path], None], journal: Any,
                    previous: dict[str, dict[str, Any]] | None, **kwargs: Any) -> None:
    """``classify --engine ray``: the same report and output file as the local engine
    (``print_summary``: the ``classify`` command's own table), with its journal and ``--resume``:
    finished files go to the output's side journal as they come back from Ray; Ctrl-C writes the
    output with what was done; ``--resume`` keeps the records of the output and of the journal
    whose file is unchanged and classifies only the rest on Ray (``journal``, ``previous``: the
    command's, already read)."""
    from ..apps import _output
    from ..apps._journal import save_partial
    from ..apps.ray.jobs import classify_on_ray
    from .output import err_console, print_json

    journal.start(keep=resume)  # before any work: an output path that cannot be written fails here
    bar, update = _bar("classifying", None) if not json_out else (None, None)
    if bar is not None:
        bar.start()
    try:
        report, staging = classify_on_ray([str(p) for p in paths], address=address, workers=workers,
                                          stage_from=stage_from, progress=update, previous=previous,
                                          on_results=journal.add, **kwargs)
    except KeyboardInterrupt:  # Ctrl-C: what is done goes to the output now; --resume does the rest
        if bar is not None:
            bar.stop()
            bar = None
        saved = save_partial(previous, journal, output, model=kwargs["model"], method=kwargs["method"],
                             categories=kwargs.get("categories") or [])
        err_console().print(f"interrupted: {saved} finished files are in {output}; run the "
                            "same command with --resume to classify the rest", highlight=False)
        raise
    except BaseException:
        if not resume and journal.written == 0:
            journal.remove()  # nothing done (e.g. staging failed): leave no empty journal behind
        raise
    finally:
        journal.close()
        if bar is not None:
            bar.stop()
    data = report.to_dict()
    _output.write(data, output)
    journal.remove()
    summary = {**data["summary"], "engine": "ray", "workers": workers,
               "nodes": {n.node: n.status for n in staging.nodes}}
    if json_out:
        print_json({"output": str(output), "format": _output.format_of(output), **summary})
        return
    print_summary(report, data["summary"], output)
    _note(f"ray: {workers} worker(s); staged on {len(staging.nodes)} node(s): "
          + ", ".join(f"{n.node} {n.status}" for n in staging.nodes))


def _note(text: str) -> None:
    from .output import console

    console().print(text, highlight=False)


def embed_corpus(input_path: Path, output: Path | None, *, engine: str, address: str | None, workers: int,
                 stage_from: str | None, text_field: str, model: str, kind: str | None, quantize: str | None,
                 batch_size: int, as_json: bool) -> None:
    """``embed -i corpus -o vectors.parquet`` on the local engine or on Ray."""
    from ..apps.ray.corpus import embed_corpus_local
    from .output import print_json

    if output is None:
        raise UsageError("embed -i needs -o vectors.parquet", hint="localmodels embed -i corpus.txt -o vectors.parquet")
    bar, update = _bar("embedding", None) if not as_json else (None, None)
    cb: Callable[..., None] | None = update
    if bar is not None:
        bar.start()
    try:
        if check_engine(engine) == "ray":
            from ..apps.ray.jobs import embed_on_ray

            summary, staging = embed_on_ray(input_path, output, model=model, text_field=text_field,
                                            batch_size=batch_size, kind=kind, quantize=quantize, address=address,
                                            workers=workers, stage_from=stage_from, progress=cb)
            nodes = {n.node: n.status for n in staging.nodes}
        else:
            summary = embed_corpus_local(input_path, output, model=model, text_field=text_field,
                                         batch_size=batch_size, kind=kind, quantize=quantize,
                                         progress=(lambda done: cb(done)) if cb else None)
            nodes = {}
    finally:
        if bar is not None:
            bar.stop()
    data = {**summary.as_dict(), "model": model, **({"nodes": nodes} if nodes else {})}
    if as_json:
        print_json(data)
        return
    rate = data["rows_per_second"]
    _note(f"embedded {data['rows']} rows ({data['dims']} dims) in {data['seconds']:.1f} s"
          + (f" ({rate:.1f} rows/s)" if rate else "") + f" on the {engine} engine"
          + (f", {workers} worker(s), {len(nodes)} node(s)" if engine == "ray" else "")
          + f" -> {output}")
    if data["errors"]:
        _note(f"{data['errors']} row(s) with an error, e.g. {data['error_examples'][0]}")


def register(app: typer.Typer) -> None:
    app.command("stage")(stage_cmd)
