"""``list --all`` and ``du --all``: one view of every store, rendered without typer.

:func:`fast_command` lets :func:`.main.main` run exactly ``[--offline|--quiet|-q ...] list|du --all
[--json]`` without building the typer app: typer 0.29 builds pydantic adapters for every parameter
of the invoked command, which costs more than the listing itself (``benchmarks/list_all.py``). Any
other spelling (``--help``, a typo, a repeated flag) goes through typer as usual.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from ..errors import human_size

_GLOBAL = {"--offline": "offline", "--quiet": "quiet", "-q": "quiet"}
_OPTIONS = ("--all", "--json")


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


@contextmanager
def _no_pydantic_plugins() -> Iterator[None]:
    """``PYDANTIC_DISABLE_PLUGINS`` while our modules build their pydantic schemas (pydantic otherwise
    scans every installed distribution's entry points on the first one); restored afterwards."""
    previous = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        else:
            os.environ["PYDANTIC_DISABLE_PLUGINS"] = previous


def fast_command(args: Sequence[str]) -> Callable[[], None] | None:
    """The run of ``args`` when they are exactly ``[global flags] list|du --all [--json]``, else None."""
    flags: dict[str, bool] = {"offline": False, "quiet": False}
    i = 0
    while i < len(args) and args[i] in _GLOBAL:
        flags[_GLOBAL[args[i]]] = True
        i += 1
    if i >= len(args) or args[i] not in ("list", "du"):
        return None
    command, rest = args[i], list(args[i + 1:])
    if "--all" not in rest or len(set(rest)) != len(rest) or any(a not in _OPTIONS for a in rest):
        return None

    def run() -> None:
        from ..config import prepare_hf_env, set_offline
        from .output import set_quiet

        with _no_pydantic_plugins():  # as typer does for its adapters: no entry-point scan for our record schema
            import localmodels.store.all_stores  # noqa: F401
        prepare_hf_env()  # what the typer app's callback does for every command
        set_offline(flags["offline"])
        set_quiet(flags["quiet"])
        (list_all if command == "list" else du_all)("--json" in rest)

    return run
