"""Every store on the machine: ``scan DIR...``, ``dedup``, and ``list --all`` / ``du --all``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from ..errors import human_size


def _notes(notes: list[str]) -> None:
    from .output import err_console

    for n in notes:
        err_console().print(f"[yellow]note:[/] {n}", highlight=False, soft_wrap=True)


def list_all(json_out: bool) -> None:
    """``list --all``: one row per model in every store."""
    from ..store.all_stores import list_all as rows_of
    from .output import console, print_json, print_table

    rows, notes = rows_of()
    if json_out:
        print_json([r.to_dict() for r in rows])
        _notes(notes)
        return
    if not rows:
        console().print("no models found in any store; try: localmodels pull minilm", highlight=False)
    else:
        print_table(["STORE", "REF", "FORMAT", "SIZE", "DIGEST", "LICENCE", "MODIFIED"],
                    [(r.store, r.ref, r.format, human_size(r.size), (r.digest or "")[:12], r.license or "",
                      datetime.fromtimestamp(r.modified, UTC).strftime("%Y-%m-%d %H:%M") if r.modified else "")
                     for r in rows])
        for r in rows:
            if r.problem:
                _notes([f"{r.ref}: {r.problem}"])
    _notes(notes)


def du_all(json_out: bool) -> None:
    """``du --all``: bytes per store; each file once; what duplicates waste."""
    from ..store.all_stores import du_all as usage
    from .output import console, print_json, print_table

    data = usage()
    if json_out:
        print_json(data)
        return
    print_table(["STORE", "MODELS", "ON DISK"],
                [(name, s["models"], human_size(s["bytes"])) for name, s in sorted(data["stores"].items())])
    for d in data["duplicates"]:
        where = ", ".join(f"{p['store']}:{p['path']}" for p in d["paths"])
        console().print(f"  {d['copies']} copies of {d['digest'][:12]} ({human_size(d['size'])}): {where}",
                        highlight=False, soft_wrap=True)
    console().print(f"{data['models']} models, {human_size(data['on_disk_bytes'])} on disk, "
                    f"{human_size(data['unique_bytes'])} unique: duplicates waste "
                    f"{human_size(data['wasted_bytes'])}", highlight=False)
    if data["wasted_bytes"]:
        console().print("hint: localmodels dedup   (dry run; --apply links the copies)", highlight=False)
    _notes(data["notes"])


def scan(
    dirs: list[Path] = typer.Argument(None, help="Folders of model files (.gguf, .onnx, .safetensors)."),
    forget: bool = typer.Option(False, "--forget", help="Stop looking in these folders."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Remember folders of loose model files (shown by list --all, run as file:PATH)."""
    from ..sources.loose import LooseFileSource, remember, remembered_dirs
    from .output import console, print_json

    current = remember(list(dirs or []), forget=forget) if dirs else remembered_dirs()
    found = LooseFileSource().discover()
    if json_out:
        print_json({"dirs": [str(d) for d in current],
                    "found": [{"ref": f.ref, "format": f.format, "size": f.size} for f in found.found]})
        return
    for d in current:
        console().print(f"scanning {d}", highlight=False, soft_wrap=True)
    for f in found.found:
        console().print(f"  {f.ref} ({f.format}, {human_size(f.size)})", highlight=False, soft_wrap=True)
    console().print(f"{len(found.found)} model file(s) in {len(current)} folder(s)", highlight=False)
    _notes(found.notes)


def dedup(
    apply: bool = typer.Option(False, "--apply", help="Replace the copies (default: only show what would be)."),
    include: list[str] = typer.Option(None, "--include", help="Also replace copies in this tool's store "
                                      "(ollama, lmstudio, llamacpp, gpt4all, jan, file, pypi, all); repeatable."),
    reflink: bool = typer.Option(False, "--reflink", help="Clone (reflink) instead of hard linking, where "
                                 "the filesystem supports it."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Find model files stored more than once and link the copies to one (dry run by default)."""
    from ..store import dedup as dd
    from .output import console, print_json

    actions = dd.plan(include or [])
    if apply:
        dd.apply(actions, method="reflink" if reflink else "hardlink")
    saved = dd.saved_bytes(actions, planned=not apply)
    if json_out:
        print_json({"applied": apply, "saved_bytes": saved, "actions": [a.to_dict() for a in actions]})
        return
    verb = {"planned": "would link", "linked": "linked", "skipped": "skipped"}
    for a in actions:
        why = f": {a.reason}" if a.reason else ""
        console().print(f"  {verb[a.status]} {a.store}:{a.replace} -> {a.keep_store}:{a.keep} "
                        f"({human_size(a.size)}){why}", highlight=False, soft_wrap=True)
    if not actions:
        console().print("no duplicate model files", highlight=False)
    word = "saved" if apply else "would save"
    console().print(f"{word} {human_size(saved)} ({saved} bytes)", highlight=False)
    if not apply and saved:
        console().print("hint: localmodels dedup --apply", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("dedup")(dedup)
