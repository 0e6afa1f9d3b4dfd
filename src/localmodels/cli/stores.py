"""Every store on the machine: ``scan DIR...``, ``dedup`` (``list --all`` / ``du --all`` render in
:mod:`.listing`, which needs no typer)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import human_size
from .listing import _notes, du_all, list_all

__all__ = ["dedup", "du_all", "list_all", "register", "scan"]


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
