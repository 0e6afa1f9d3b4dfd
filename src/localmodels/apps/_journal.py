"""The side journal of a classify run: finished work survives Ctrl-C, a crash or a kill.

Every file result is appended to ``.<output name>.journal.jsonl`` beside the output as soon as its
batch is scored (one JSON line each, flushed and fsynced), whatever the output's format. A run
that finishes writes its output and removes the journal. An interrupted one leaves the journal,
and the CLI writes the output with what was done; ``--resume`` reads both back, and files whose
path, sha256, model and method match a record are not classified again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError


def journal_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(f".{output.name}.journal.jsonl")


class Journal:
    """Append-only record of finished files for one output path."""

    def __init__(self, output: str | Path) -> None:
        self.output = Path(output)
        self.path = journal_path(output)
        self._fh: Any = None
        self.written = 0

    def records(self) -> dict[str, dict[str, Any]]:
        """path -> record of every file in the journal (a torn last line is ignored)."""
        out: dict[str, dict[str, Any]] = {}
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # the line being written when the process died
            if isinstance(rec, dict) and rec.pop("type", None) == "file" and isinstance(rec.get("path"), str):
                out[rec["path"]] = rec
        return out

    def start(self, *, keep: bool) -> None:
        """Open for appending (``keep``: a resumed run adds to it; else it starts empty).

        Opening it here also proves the output's folder is writable before any work is done.
        """
        self.output.parent.mkdir(parents=True, exist_ok=True)
        if self.output.is_dir():
            raise UsageError(f"the output {self.output} is a folder", hint="give a file name: -o results.json")
        self._fh = open(self.path, "a" if keep else "w", encoding="utf-8")

    def add(self, results: Iterable[Any]) -> None:
        """Append finished :class:`~._report.FileResult` objects (or their dicts) and make them durable."""
        if self._fh is None:
            return
        lines = [json.dumps({"type": "file", **(r if isinstance(r, dict) else r.to_dict())}, ensure_ascii=False)
                 for r in results]
        if not lines:
            return
        self._fh.write("\n".join(lines) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.written += len(lines)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def remove(self) -> None:
        """The output is complete: the journal is no longer needed."""
        self.close()
        self.path.unlink(missing_ok=True)


def partial_report(previous: dict[str, dict[str, Any]] | None, journal: Journal, *, model: str, method: str,
                   categories: Sequence[Any]) -> dict[str, Any]:
    """The output of an interrupted run: earlier records (``--resume``) and those in the journal."""
    records = {**(previous or {}), **journal.records()}
    return {
        "summary": {"interrupted": True, "model": model, "method": method, "files": len(records),
                    "categories": {c.name: c.description for c in categories}},
        "files": list(records.values()),
        "skipped": [],
    }


def save_partial(previous: dict[str, dict[str, Any]] | None, journal: Journal, output: str | Path, *, model: str,
                 method: str, categories: Sequence[Any]) -> int:
    """Ctrl-C: close the journal and write the output with what was done; returns how many files it holds."""
    from . import _output

    journal.close()
    partial = partial_report(previous, journal, model=model, method=method, categories=categories)
    _output.write(partial, output)
    return len(partial["files"])
