"""Deployment commands: ``materialize`` (named model folders) and ``plan`` (disk planning).

Also the helpers ``verify`` uses for a materialized folder (``verify --dir``) and for modes
(world-writable warnings, ``--repair``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..errors import human_size


def materialize(
    refs: list[str] | None = typer.Argument(None, help="Models in the store (alias, org/name[@rev], ./dir, pypi:pkg)."),
    dest: Path = typer.Option(..., "--dir", "-d", help="The parent folder: each model gets DIR/NAME."),
    name: str | None = typer.Option(None, "--name", help="Folder name (one model; default: its name)."),
    mode: str = typer.Option("link", "--mode", help="link (symlinks into the store), hardlink, or copy."),
    lock: Path | None = typer.Option(None, "--lock", help="Lay out every model of this lock file (locked commits)."),
    group: str | None = typer.Option(None, "--group", help="Give files and folders this group (folders setgid)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Lay models out as one plain folder each (no second download), with a SHA256SUMS file."""
    from ..errors import UsageError
    from ..store import materialize as mat
    from .output import console, print_json

    if bool(refs) == (lock is not None):
        raise UsageError("name the models to lay out, or pass --lock (not both)",
                         hint="localmodels materialize --lock localmodels.lock --dir models/")
    if name and (lock is not None or len(refs or []) != 1):
        raise UsageError("--name names one folder: give exactly one model", hint="drop --name to use the models' names")
    wanted = mat.wanted_from_lock(lock) if lock is not None else [mat.wanted_from_ref(r, name) for r in refs or []]
    results = [mat.materialize(w, dest, mode=mode, group=group) for w in wanted]
    if json_out:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        what = f"{len(r.placed)} placed, {len(r.kept)} kept" + (f", {len(r.removed)} removed" if r.removed else "")
        at = f" @ {r.commit[:10]}" if r.commit else ""
        console().print(f"[green]{r.mode}[/] {r.folder}{at} ({human_size(r.size)}; {what})", highlight=False,
                        soft_wrap=True)


def plan(
    refs: list[str] | None = typer.Argument(None, help="Models to plan for (default: the manifest's)."),
    manifest: Path | None = typer.Option(None, "--manifest", "-m", help="Default: localmodels.toml here or above."),
    lock_file: Path | None = typer.Option(None, "--lock-file", "-l", help="The lock (default: next to the manifest)."),
    target: Path | None = typer.Option(None, "--target", help="The disk to check (default: the Hugging Face cache)."),
    reserve: str = typer.Option("0", "--reserve", help="Space to keep free on top, e.g. 5G."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Bytes each model needs (present files zero, shared blobs once), free space, margin; exit 1 if short."""
    from ..store import plan as planning
    from ..store._manage import parse_size
    from .output import console, err_console, print_error, print_json, print_table

    keep = parse_size(reserve)
    if refs:
        p = planning.plan_refs(refs, target=target, reserve=keep)
    else:
        p = _plan_project(manifest, lock_file, target, keep)
    if json_out:
        print_json(p.to_dict())
    else:
        print_table(["MODEL", "SOURCE", "FROM", "FILES", "SIZE", "TO DOWNLOAD", "NOTE"],
                    [(i.name, i.source, i.basis, i.files, human_size(i.size), human_size(i.download),
                      (f"{human_size(i.shared)} shared with another model" if i.shared else i.detail))
                     for i in p.items])
        for w in p.warnings:
            err_console().print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
        console().print(f"total to download {human_size(p.total)}; free on {p.target}: {human_size(p.free)}"
                        + (f" (keeping {human_size(p.reserve)})" if p.reserve else "")
                        + f"; margin {'-' if p.margin < 0 else ''}{human_size(abs(p.margin))}",
                        highlight=False, soft_wrap=True)
    if not p.fits:
        if not json_out:
            err = p.error()
            print_error(err.message, err.hint)
        raise typer.Exit(1)


def _plan_project(manifest: Path | None, lock_file: Path | None, target: Path | None, reserve: int) -> Any:
    from ..errors import ManifestError
    from ..store import plan as planning
    from ..store.lockfile import default_lock_path, read_lock
    from ..store.manifest import MANIFEST_NAME, find_manifest, load_manifest

    mpath = manifest or find_manifest()
    if mpath is None:
        if lock_file is not None:
            return planning.plan_lock(read_lock(lock_file), lock_file.parent.resolve(), target=target, reserve=reserve)
        raise ManifestError(f"no {MANIFEST_NAME} in this folder or above", path=MANIFEST_NAME,
                            hint="pass --manifest PATH, --lock-file PATH, or model references")
    m = load_manifest(mpath)
    lpath = lock_file or default_lock_path(mpath)
    lk = read_lock(lpath) if lpath.is_file() else None
    return planning.plan_specs(m.models, m.root, lock=lk, target=target, reserve=reserve)


# ---- helpers for `verify` -------------------------------------------------------------------------

def verify_dir(folder: Path, *, repair: bool, json_out: bool) -> None:
    """``verify --dir FOLDER``: a materialized folder against its record; exit 2 when it fails."""
    from ..store import folder_check
    from .output import console, err_console, print_json

    check = folder_check.repair_folder(folder) if repair else folder_check.check_folder(folder)
    if json_out:
        print_json([check.to_dict()])
    elif check.repaired:
        console().print(f"[yellow]repaired[/] {check.folder}: " + ", ".join(f"{p.path} ({p.problem})" for p in
                        check.problems + check.warnings), highlight=False, soft_wrap=True)
    else:
        for p in check.warnings:
            err_console().print(f"[yellow]warning:[/] world-writable: {p.path} ({p.detail})", highlight=False,
                                soft_wrap=True)
        for p in check.problems:
            err_console().print(f"[red]{p.problem}[/] {check.folder}: {p.path} {p.detail}", highlight=False,
                                soft_wrap=True)
        if not check.problems:
            console().print(f"[green]ok[/] {check.folder} ({check.files} files)", highlight=False, soft_wrap=True)
        if check.warnings and not check.problems:
            err_console().print(f"[yellow]hint:[/] run: localmodels verify --dir {folder} --repair", highlight=False)
    if not check.ok:
        if not json_out:
            err_console().print(f"[yellow]hint:[/] run: localmodels verify --dir {folder} --repair", highlight=False)
        raise typer.Exit(2)


def check_modes(paths: list[str], *, repair: bool, quiet: bool = False) -> list[str]:
    """Warn about world-writable model files and folders under ``paths``; fix them with ``repair``.

    Returns the paths found (``verify`` adds them to its JSON)."""
    from ..store import permissions
    from .output import err_console

    found = permissions.world_writable(paths)
    if repair and found:
        permissions.fix(found)
    if not quiet:
        for p in found:
            what = "fixed mode of" if repair else "warning: world-writable (anyone here can swap it):"
            err_console().print(f"[yellow]{what}[/] {p}", highlight=False, soft_wrap=True)
        if found and not repair:
            err_console().print("[yellow]hint:[/] run: localmodels verify --repair", highlight=False)
    return [str(p) for p in found]


def register(app: typer.Typer) -> None:
    app.command("materialize")(materialize)
    app.command("plan")(plan)
