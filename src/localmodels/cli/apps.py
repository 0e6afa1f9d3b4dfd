"""Application commands: ``classify`` (files and folders) and ``bench`` (quality, speed, memory)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def classify(
    more: list[Path] | None = typer.Argument(
        None, help="More files or folders (so `-i a b c` works).", show_default=False),
    inputs: list[Path] | None = typer.Option(None, "--input", "-i", help="Files or folders to classify (repeatable)."),
    output: Path = typer.Option(
        Path("results.json"), "--output", "-o", help="Results file: .json (default), .jsonl or .csv."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model reference (alias, org/name, ./folder, remote:name). Default per "
        "method: minilm (embedding, cascade), the catalog's NLI model (nli), smollm2-135m-instruct (llm)."),
    method: str | None = typer.Option(
        None, "--method", show_default=False, help="cascade | embedding | nli | llm. Default: cascade (static "
        "embeddings + the shipped head) when derived:minilm-static is in the store or can be distilled once "
        "(torch installed), else embedding with a notice."),
    escalate_to: str | None = typer.Option(
        None, "--escalate-to", help="cascade: model for unsure files (minilm, nli:MODEL, llm:MODEL)."),
    threshold: float | None = typer.Option(None, "--threshold", help="cascade: escalate below this top-two margin."),
    filetype: str = typer.Option("auto", "--filetype", help="cascade: Magika file type as evidence: auto|always|off."),
    categories: str | None = typer.Option(
        None, "--categories", help="Comma-separated categories (name or name=description)."),
    categories_file: Path | None = typer.Option(None, "--categories-file", help="JSON or 'name: description' lines."),
    include: list[str] | None = typer.Option(None, "--include", help="Only files matching this glob (repeatable)."),
    exclude: list[str] | None = typer.Option(None, "--exclude", help="Skip files matching this glob (repeatable)."),
    no_gitignore: bool = typer.Option(False, "--no-gitignore", help="Also classify files .gitignore excludes."),
    max_size: int = typer.Option(1_000_000, "--max-size", help="Skip files larger than this many bytes."),
    resume: bool = typer.Option(False, "--resume", help="Keep files already in the output (same path and content)."),
    quantize: str | None = typer.Option(None, "--quantize", help="int8: run the encoder quantized."),
    prior_weight: float = typer.Option(1.0, "--prior-weight", help="Weight of the file-name evidence (0 = off)."),
    max_chunks: int | None = typer.Option(None, "--max-chunks", help="Chunks read per long file."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON instead of a table."),
    engine: str = typer.Option("local", "--engine", help="local (this process) or ray (a Ray cluster)."),
    address: str | None = typer.Option(None, "--address", help="--engine ray: cluster address (host:port, auto)."),
    workers: int = typer.Option(1, "--workers", help="--engine ray: model workers (actors)."),
    stage_from: str | None = typer.Option(
        None, "--stage-from", help="--engine ray: lock file or bundle to stage (default: this store's files)."),
) -> None:
    """Classify files and folders (code, documentation, configuration, data, test, build, other)."""
    from ..apps import _output
    from ..apps.classify import classify_paths, parse_categories
    from .output import err_console, print_json, quiet

    fmt = _output.format_of(output)  # bad extension: fail before any work
    if method is None and (escalate_to or threshold is not None):
        method = "cascade"  # the cascade's own options ask for it
    given_model = model
    if model is None:
        from ..tasks.zero_shot import default_model

        model = default_model(method or "embedding")
    cats = parse_categories(categories, categories_file)
    from ..apps._journal import Journal, save_partial

    journal = Journal(output)
    # --resume: the finished output's records, and those an interrupted run left in its journal
    previous = {**_output.read_previous(output), **journal.records()} if resume else None
    paths = [*(inputs or []), *(more or [])]
    if not paths:
        from ..errors import UsageError

        raise UsageError("no input given", hint="localmodels classify -i PATH [PATH...] -o results.json")
    for p in paths:
        if not p.exists() and not p.is_symlink():
            from ..errors import UsageError

            raise UsageError(f"input not found: {p}", hint="check the path given with -i")

    from .ray_cmds import check_engine, classify_engine

    if check_engine(engine) == "ray":
        method = method or "embedding"  # the default on a cluster: its workers stage MiniLM, not a static twin
        return classify_engine(
            paths, output, address=address, workers=workers, stage_from=stage_from, json_out=json_out,
            resume=resume, model=model, method=method, categories=cats, include=include or (),
            exclude=exclude or (), gitignore=not no_gitignore, max_bytes=max_size, quantize=quantize,
            prior_weight=prior_weight, max_chunks=max_chunks, print_summary=_print_summary, journal=journal,
            previous=previous)
    journal.start(keep=resume)  # before any work: an output path that cannot be written fails here
    if method is None:  # after the checks above: choosing may distill the static twin (minutes, once)
        from ..apps.cascade import choose_method

        method = choose_method(given_model, notify=lambda line: err_console().print(
            line, highlight=False, markup=False, soft_wrap=True))
    bar = None
    progress_cb: Callable[[int, int], None] | None = None
    if not quiet() and not json_out:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(TextColumn("classifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       TextColumn("ETA"), TimeRemainingColumn(), console=err_console(), transient=True)
        task_id = bar.add_task("classify", total=None)

        progress_cb = _bar_updater(bar, task_id)

        bar.start()
    try:
        report = classify_paths(
            [str(p) for p in paths], model=model, method=method, categories=cats, include=include or (),
            exclude=exclude or (), gitignore=not no_gitignore, max_bytes=max_size, previous=previous,
            progress=progress_cb, quantize=quantize, prior_weight=prior_weight, max_chunks=max_chunks,
            on_results=journal.add,
            **({"escalate_to": escalate_to, "threshold": threshold, "filetype": filetype}
               if method == "cascade" else {}),
        )
    except KeyboardInterrupt:  # Ctrl-C: what is done goes to the output now; --resume does the rest
        if bar is not None:
            bar.stop()
            bar = None
        saved = save_partial(previous, journal, output, model=model, method=method, categories=cats or [])
        err_console().print(f"interrupted: {saved} finished files are in {output}; run the "
                            "same command with --resume to classify the rest", highlight=False)
        raise
    finally:
        if bar is not None:
            bar.stop()
    data = report.to_dict()
    _output.write(data, output)
    journal.remove()
    summary = data["summary"]
    if json_out:
        print_json({"output": str(output), "format": fmt, **summary})
        return
    _print_summary(report, summary, output)


def _bar_updater(bar, task_id) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        bar.update(task_id, completed=done, total=total)

    return update


def _print_summary(report, summary: dict, output: Path) -> None:
    from rich.table import Table

    from .output import console

    c = console()
    table = Table(title=f"{summary['files']} files · {summary['model']} · {summary['method']}", title_justify="left")
    table.add_column("Category")
    table.add_column("Files", justify="right")
    table.add_column("Share", justify="right")
    table.add_column("Mean confidence", justify="right")
    table.add_column("Examples", overflow="fold")
    records = report.records()
    total = max(summary["files"], 1)
    for name, count in summary["counts"].items():
        examples = [r["path"].rsplit("/", 1)[-1] for r in records if r["category"] == name][:3]
        conf = summary["mean_confidence"].get(name)
        table.add_row(name, str(count), f"{100 * count / total:.0f}%", f"{conf:.2f}" if conf is not None else "-",
                      ", ".join(examples))
    c.print(table)
    if report.skipped:
        why = ", ".join(f"{k}: {v}" for k, v in summary["skipped_by_reason"].items())
        c.print(f"[yellow]skipped {len(report.skipped)}[/] ({why})", highlight=False)
    rate = summary.get("files_per_second")
    extra = f", {summary['resumed']} kept from the last run" if summary["resumed"] else ""
    if summary.get("escalated") is not None:  # the cascade: how many unsure files the expensive model decided
        extra += f", {summary['escalated']} escalated"
    c.print(f"classified {summary['classified_now']} files in {summary['seconds']:.1f} s"
            + (f" ({rate:.1f} files/s)" if rate else "") + extra + f" -> [bold]{output}[/]", highlight=False)


def bench(
    models: str = typer.Option("minilm", "--models", help="Comma-separated model references."),
    dataset: str = typer.Option("files", "--dataset", help="files (classify), or a folder with MANIFEST.json."),
    methods: str = typer.Option("embedding", "--methods", help="Comma-separated: embedding, nli, llm."),
    task: str = typer.Option("classify", "--task", help="classify | ner | retrieval"),
    limit: int | None = typer.Option(None, "--limit", help="Use only the first N items (stratified for files)."),
    quantize: str = typer.Option("none", "--quantize", help="Comma-separated: none, int8 (encoder methods)."),
    latency_sample: int = typer.Option(30, "--latency-sample", help="Files timed one at a time for p50/p95."),
    price: float | None = typer.Option(
        None, "--price-per-mtok", help="USD per million tokens for remote: models (else LOCALMODELS_PRICE_PER_MTOK)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the full report as JSON."),
    chart: Path | None = typer.Option(None, "--chart", help="Write a PNG chart (accuracy vs latency)."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Benchmark models: quality, latency, throughput, peak memory, size and cost, side by side."""
    from .output import console, print_json

    model_list = _split(models)
    if not model_list:
        from ..errors import UsageError

        raise UsageError("no models given", hint="e.g. --models minilm")
    if task == "classify":
        from ..apps.bench import markdown_details, markdown_table, run_bench

        report = run_bench(model_list, dataset=dataset, methods=_split(methods), limit=limit,
                           quantize=[None if q == "none" else q for q in _split(quantize)],
                           latency_sample=latency_sample, price_per_mtok=price)
        table = markdown_table(report) + "\n" + markdown_details(report)
    elif task == "retrieval":
        from ..apps.retrieval_bench import markdown_table as rtable
        from ..apps.retrieval_bench import run_retrieval_bench

        report = run_retrieval_bench(model_list, dataset=None if dataset == "files" else dataset,
                                     quantize=[None if q == "none" else q for q in _split(quantize)], limit=limit)
        table = rtable(report)
    elif task == "ner":
        from ..apps import ner_bench

        report = ner_bench.run_ner_bench(model_list, dataset=None if dataset == "files" else Path(dataset))
        fmt = getattr(ner_bench, "format_ner_bench", None) or getattr(ner_bench, "markdown_table", None)
        table = fmt(report) if fmt else ""
    else:
        from ..errors import UsageError

        raise UsageError(f"unknown task {task!r}", hint="use --task classify, ner or retrieval")
    if output:
        import json

        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    if chart:
        from ..apps.bench import write_chart

        if task != "classify":
            from ..errors import UsageError

            raise UsageError("--chart is drawn for --task classify only")
        write_chart(report, chart)
    if json_out:
        print_json(report)
        return
    sys.stdout.write(table + "\n")
    if output:
        console().print(f"report -> {output}", highlight=False)
    if chart:
        console().print(f"chart -> {chart}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
    app.command("bench")(bench)
