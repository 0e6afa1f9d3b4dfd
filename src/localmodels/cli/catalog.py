"""``localmodels catalog``: the models localmodels knows, with task, size and licence."""

from __future__ import annotations

import typer

from ..errors import UsageError, human_size


def catalog_cmd(
    task: str | None = typer.Option(None, "--task", "-t", help="Only this task (embedding, ner, rerank, ...)."),
    commercial: bool = typer.Option(False, "--commercial", help="Only licences that allow commercial use."),
    runnable: bool = typer.Option(False, "--runnable", help="Only models a localmodels runtime can run."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List the catalog of known models (aliases, task, size, licence)."""
    from ..registry import catalog

    cat = catalog()
    tasks = sorted({e.task for e in cat.entries})
    if task and task not in tasks:
        raise UsageError(f"unknown task {task!r}", hint=f"choose one of: {', '.join(tasks)}")
    entries = cat.filter(task=task, commercial_ok=True if commercial else None)
    if runnable:
        entries = [e for e in entries if e.runtime != "none"]
    if as_json:
        from .output import print_json

        print_json([e.model_dump(exclude_defaults=True) for e in entries])
        return
    from .output import print_table

    def licence(e) -> str:
        flags = [e.license]
        if e.license_restricts_commercial:
            flags.append("restricted")
        if e.gated:
            flags.append("gated")
        return ", ".join(flags)

    print_table(
        ["Model", "Aliases", "Task", "Size", "Licence", "Runtime"],
        [
            (e.id, ", ".join(e.aliases), e.task + (" (base model: not for chat)" if e.base_model else ""),
             human_size(e.size_bytes) if e.size_bytes else "?", licence(e), e.runtime)
            for e in entries
        ],
        title=f"{len(entries)} models",
    )


def register(app: typer.Typer) -> None:
    app.command("catalog")(catalog_cmd)
