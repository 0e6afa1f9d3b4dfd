"""``localmodels ner``: named entities from a text, stdin, or a file of texts (JSONL or plain lines)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from ..errors import UsageError

CHUNK = 32  # texts per call in batch mode (the progress bar advances per chunk)


def ner_cmd(
    text: str | None = typer.Argument(None, help="Text to analyse ('-' or nothing: read stdin)."),
    input_file: Path | None = typer.Option(
        None, "--input", "-i", help="Texts to analyse: JSONL with a \"text\" field per line, or plain text lines."
    ),
    output_file: Path | None = typer.Option(
        None, "--output", "-o", help="Write one JSON line per input text (with its entities) here."
    ),
    model: str = typer.Option("spacy-en-sm", "--model", "-m", help="Alias, Hub id, folder or pypi: package."),
    labels: str | None = typer.Option(
        None, "--labels", "-l", help="Comma-separated entity types (filter for fixed-label models, types for GLiNER)."
    ),
    threshold: float = typer.Option(0.5, "--threshold", help="Minimum score (GLiNER, token classification)."),
    max_length: str = typer.Option(
        "chunk", "--max-length", help="Long texts: 'chunk' (overlapping windows) or 'error'."),
    aggregation: str = typer.Option(
        "first", "--aggregation", help="Sub-word aggregation: first, average, max, simple."),
    nested: bool = typer.Option(False, "--nested", help="GLiNER: also keep entities nested in others."),
    multi_label: bool = typer.Option(False, "--multi-label", help="GLiNER: a span may carry several types."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Windows per model call."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Find named entities (people, organisations, places, dates ...) with spaCy, GLiNER or BERT NER."""
    if max_length not in ("chunk", "error"):
        raise UsageError(f"--max-length must be 'chunk' or 'error', not {max_length!r}")
    if input_file is not None and text is not None:
        raise UsageError("give either a TEXT argument or --input, not both")
    options: dict[str, Any] = dict(model=model, labels=labels, threshold=threshold, max_length=max_length,
                                   aggregation=aggregation, flat=not nested, multi_label=multi_label,
                                   batch_size=batch_size)
    if input_file is not None:
        _batch(input_file, output_file, options, as_json)
        return
    if text is None or text == "-":
        if sys.stdin.isatty():
            raise UsageError("no text given", hint='localmodels ner "Barack Obama visited Paris." (or -i texts.jsonl)')
        text = sys.stdin.read()
    from ..tasks.ner import ner

    entities = ner(text, **options)
    if output_file is not None:
        _write_jsonl(output_file, [{"line": 1, "text": text, "entities": [e.to_dict() for e in entities]}])
        return
    if as_json:
        from .output import print_json

        print_json([e.to_dict() for e in entities])
        return
    _print_entities(entities, title=f"{len(entities)} entities ({model})")


def _batch(input_file: Path, output_file: Path | None, options: dict[str, Any], as_json: bool) -> None:
    from ..tasks.ner import ner
    from .output import quiet

    records = read_texts(input_file)
    rows: list[dict[str, Any]] = []
    progress = None
    if not quiet() and len(records) > 1:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from .output import err_console

        progress = Progress(TextColumn("ner"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=err_console(), transient=True)
    try:
        task = progress.add_task("ner", total=len(records)) if progress else None
        if progress:
            progress.start()
        for i in range(0, len(records), CHUNK):
            chunk = records[i : i + CHUNK]
            found = ner([r["text"] for r in chunk], **options)
            for rec, ents in zip(chunk, found):
                rows.append({**rec, "entities": [e.to_dict() for e in ents]})
            if progress:
                progress.advance(task, len(chunk))
    finally:
        if progress:
            progress.stop()
    if output_file is not None:
        _write_jsonl(output_file, rows)
        if not quiet():
            n = sum(len(r["entities"]) for r in rows)
            from .output import err_console

            err_console().print(f"{n} entities in {len(rows)} texts -> {output_file}", highlight=False)
        return
    if as_json:
        from .output import print_json

        print_json(rows)
        return
    for r in rows:
        from ..results import Entity

        _print_entities([Entity(**e) for e in r["entities"]], title=f"line {r['line']}: {len(r['entities'])} entities")


def read_texts(path: Path) -> list[dict[str, Any]]:
    """Records ``{"line": n, "text": ..., (+ the other JSONL fields)}`` from a JSONL or plain-text file."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not valid UTF-8 (byte {e.start})", hint="convert the file to UTF-8") from e
    lines = content.splitlines()
    jsonl = str(path).endswith((".jsonl", ".ndjson", ".json")) or (
        bool(lines) and lines[0].lstrip().startswith("{")
    )
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if not jsonl:
            records.append({"line": n, "text": line})
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise UsageError(f"{path}:{n}: not valid JSON ({e.msg})",
                             hint="one JSON object per line, or use a .txt file") from e
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise UsageError(f"{path}:{n}: each JSON line needs a string field \"text\"")
        records.append({"line": n, **obj})
    return records


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write atomically: a reader never sees a half-written file."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise UsageError(f"the folder of {path} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _print_entities(entities, *, title: str) -> None:
    from .output import print_table

    print_table(
        ["Text", "Label", "Start", "End", "Score", "Source label"],
        [(e.text, e.label, e.start, e.end, f"{e.score:.3f}", e.source_label or "") for e in entities],
        title=title,
    )


def register(app: typer.Typer) -> None:
    app.command("ner")(ner_cmd)
