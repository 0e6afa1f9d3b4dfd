"""Shared console helpers for the CLI: JSON or rich tables, quiet mode, TTY detection."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def console():
    from rich.console import Console

    return Console()


@lru_cache(maxsize=1)
def err_console():
    from rich.console import Console

    return Console(stderr=True)


def print_error(message: str, hint: str | None = None) -> None:
    """``error: MESSAGE`` and ``hint: HINT`` on stderr; the texts are printed as written (a ref or
    ``pip install 'localmodels[static]'`` holds brackets that rich would read as markup)."""
    from rich.markup import escape

    err_console().print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err_console().print(f"[yellow]hint:[/] {escape(hint)}", highlight=False, soft_wrap=True)


# Set by the global ``--quiet`` option for this run of the CLI.
_quiet = False


def set_quiet(value: bool = True) -> None:
    global _quiet
    _quiet = value


def quiet() -> bool:
    """No progress bars: ``--quiet`` was given, or stderr is not a terminal."""
    return _quiet or not sys.stderr.isatty()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*["" if v is None else str(v) for v in r])
    console().print(table)
