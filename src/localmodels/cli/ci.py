"""CI and air-gap commands: ``lock``, ``sync``, ``check``, ``cache-key``, ``export``, ``import``.

Thin wrappers over :mod:`localmodels.store.sync`, :mod:`~localmodels.store.lockfile` and
:mod:`~localmodels.store.bundle`. Exit codes of ``sync`` and ``check``: 0 all required models
good, 1 one missing (or not fetchable), 2 one corrupt.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from ..errors import human_size

_MANIFEST_OPT = typer.Option(None, "--manifest", "-m", help="The manifest (default: localmodels.toml here or above).")
_LOCK_OPT = typer.Option(
    None, "--lock-file", "-l", help="The lock file (default: localmodels.lock next to the manifest).")
_RETRIES_OPT = typer.Option(3, "--retries", min=1, help="Attempts per model (exponential backoff between).")
_BACKOFF_OPT = typer.Option(1.0, "--backoff", min=0.0, help="First backoff delay in seconds (doubles, with jitter).")
_JSON_OPT = typer.Option(False, "--json", help="JSON output.")


def _manifest_path(given: Path | None, *, required: bool = True) -> Path | None:
    from ..errors import ManifestError
    from ..store.manifest import MANIFEST_NAME, find_manifest

    if given is not None:
        return given
    found = find_manifest()
    if found is None and required:
        raise ManifestError(f"no {MANIFEST_NAME} in this folder or above", path=MANIFEST_NAME,
                            hint=f"create {MANIFEST_NAME} (see docs/ci.md) or pass --manifest PATH")
    return found


def _lock_path(given: Path | None, manifest: Path | None) -> Path:
    from ..store.lockfile import default_lock_path

    return given if given is not None else default_lock_path(manifest)


def _lock_paths(manifest: Path | None, lock_file: Path | None) -> tuple[Path | None, Path]:
    """(manifest or None, lock file) for commands that only need the lock: an explicit
    ``--lock-file`` is used as given; otherwise the lock sits next to the manifest found here."""
    mpath = _manifest_path(manifest, required=False) if lock_file is None else manifest
    return mpath, _lock_path(lock_file, mpath)


_STYLE = {"ok": "green", "fetched": "green", "missing": "yellow", "corrupt": "red", "failed": "red"}


def _print_report(report: Any, *, as_json: bool, title: str) -> None:
    from .output import console, err_console, print_json

    if as_json:
        print_json(report.as_dict())
        return
    from rich.table import Table

    table = Table(title=title)
    for c in ("model", "status", "source", "files", "size", "time"):
        table.add_column(c, no_wrap=c != "source", overflow="fold")
    table.add_column("detail", overflow="fold", ratio=1)
    for r in report.results:
        status = r.status + ("" if r.required else " (optional)")
        source = re.sub(r"@([0-9a-f]{10})[0-9a-f]{30}$", r"@\1", r.source)
        table.add_row(r.name, f"[{_STYLE.get(r.status, 'white')}]{status}[/]", source, str(r.files),
                      human_size(r.size), f"{r.seconds:.1f}s", r.detail)
    console().print(table)
    for w in report.warnings:
        err_console().print(f"[yellow]warning:[/] optional model {w.name!r} is {w.status}: {w.detail}",
                            highlight=False, soft_wrap=True)
    code = report.exit_code
    if code == 2:
        err_console().print("[red]corrupt[/]: a required model's files differ from the lock; "
                            "hint: run: localmodels sync (it fetches them again)", highlight=False, soft_wrap=True)
    elif code == 1:
        missing = [r.name for r in report.results if r.required and not r.good]
        hint = "localmodels sync" if not report.offline else "localmodels sync (online), or localmodels import BUNDLE"
        err_console().print(f"[yellow]missing[/]: {', '.join(missing)}; hint: run: {hint}", highlight=False,
                            soft_wrap=True)


def lock(
    names: list[str] | None = typer.Argument(None, help="With --upgrade: move only these models' pins."),
    manifest: Path | None = _MANIFEST_OPT,
    lock_file: Path | None = _LOCK_OPT,
    upgrade: bool = typer.Option(
        False, "--upgrade", "-U", help="Re-resolve every model (branches move to their newest commit)."),
    check_only: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 when the lock is missing or out of date."),
    workers: int = typer.Option(4, "--workers", "-j", min=1, help="Models resolved at once."),
    retries: int = _RETRIES_OPT,
    backoff: float = _BACKOFF_OPT,
    as_json: bool = _JSON_OPT,
) -> None:
    """Write localmodels.lock: each model's source, commit and every file's size and sha256."""
    from ..store.lockfile import read_lock, write_lock
    from ..store.manifest import load_manifest
    from ..store.sync import lock_manifest, stale_entries
    from .output import console, err_console, print_json

    mpath = _manifest_path(manifest)
    assert mpath is not None
    m = load_manifest(mpath)
    lpath = _lock_path(lock_file, mpath)
    previous = read_lock(lpath) if lpath.is_file() else None
    if check_only:
        stale = ["(no lock file)"] if previous is None else stale_entries(m, previous)
        left_out = sorted(x.name for x in previous.skipped) if previous is not None else []
        if as_json:
            print_json({"lock": str(lpath), "up_to_date": not stale, "stale": stale, "left_out": left_out})
        elif stale:
            err_console().print(f"lock out of date: {', '.join(stale)}; hint: run: localmodels lock", highlight=False,
                                soft_wrap=True)
        else:
            note = f" (optional, left out when locking: {', '.join(left_out)})" if left_out else ""
            console().print(f"{lpath} is up to date{note}", highlight=False, soft_wrap=True)
        raise typer.Exit(1 if stale else 0)
    moves = None
    if names:
        from ..errors import UsageError
        from ..store.lockfile import upgrade_pins

        if not upgrade:
            raise UsageError("naming models only makes sense with --upgrade",
                             hint=f"localmodels lock --upgrade {names[0]}")
        outcome, moves = upgrade_pins(m, previous, names, workers=workers, attempts=retries, backoff=backoff)
    else:
        outcome = lock_manifest(m, previous=previous, upgrade=upgrade, workers=workers, attempts=retries,
                                backoff=backoff)
    changed = write_lock(outcome.lock, lpath)
    if moves is not None:
        from .provenance import print_upgrade

        print_upgrade(moves, as_json=as_json)
    for name, why in outcome.skipped:
        err_console().print(f"[yellow]warning:[/] optional model {name!r} left out of the lock: {why}",
                            highlight=False, soft_wrap=True)
    if as_json:
        print_json({"lock": str(lpath), "changed": changed, "resolved": outcome.resolved, "reused": outcome.reused,
                    "skipped": [{"name": n, "reason": r} for n, r in outcome.skipped],
                    "models": [{"name": x.name, "resolved": x.resolved, "files": len(x.file), "size": x.size}
                               for x in outcome.lock.model],
                    "cache_key": outcome.lock.cache_key(),
                    **({"upgraded": [{"name": n, "old": o, "new": w} for n, o, w in moves]} if moves else {})})
        return
    console().print(
        f"{'wrote' if changed else 'unchanged'} {lpath}: {len(outcome.lock.model)} model(s) "
        f"({len(outcome.resolved)} resolved, {len(outcome.reused)} kept from the lock)", highlight=False)
    for x in outcome.lock.model:
        console().print(f"  {x.name}: {x.resolved} ({len(x.file)} files, {human_size(x.size)})", highlight=False)


def sync(
    manifest: Path | None = _MANIFEST_OPT,
    lock_file: Path | None = _LOCK_OPT,
    workers: int = typer.Option(4, "--workers", "-j", min=1, help="Models fetched at once."),
    retries: int = _RETRIES_OPT,
    backoff: float = _BACKOFF_OPT,
    offline: bool = typer.Option(False, "--offline", help="No network request: only check what is here."),
    as_json: bool = _JSON_OPT,
) -> None:
    """Fetch every model of the lock (pinned commits, digests checked) or, without a lock, of the manifest."""
    from .. import config
    from ..store.lockfile import read_lock
    from ..store.manifest import load_manifest
    from ..store.sync import stale_entries
    from ..store.sync import sync as do_sync
    from .output import err_console

    if offline:
        config.set_offline(True)
    mpath = _manifest_path(manifest, required=lock_file is None)
    lpath = _lock_path(lock_file, mpath)
    if lpath.is_file():
        target: Any = read_lock(lpath)
        root = mpath.parent if mpath else lpath.parent
        if mpath is not None:
            stale = stale_entries(load_manifest(mpath), target)
            if stale:
                err_console().print(f"[yellow]warning:[/] the lock is out of date for {', '.join(stale)}; "
                                    "syncing the lock as it is (hint: run: localmodels lock)", highlight=False,
                                    soft_wrap=True)
    else:
        assert mpath is not None
        target = load_manifest(mpath)
        root = mpath.parent
        err_console().print(f"[yellow]note:[/] no {lpath.name}: syncing the manifest without pins "
                            "(run: localmodels lock)", highlight=False, soft_wrap=True)
    report = do_sync(target, root, workers=workers, attempts=retries, backoff=backoff)
    title = "localmodels sync" + (" (offline: check only)" if report.offline else "")
    _print_report(report, as_json=as_json, title=title)
    raise typer.Exit(report.exit_code)


def check(
    manifest: Path | None = _MANIFEST_OPT,
    lock_file: Path | None = _LOCK_OPT,
    offline: bool = typer.Option(False, "--offline", help="Make sure nothing touches the network (check never does)."),
    workers: int = typer.Option(4, "--workers", "-j", min=1, help="Models hashed at once."),
    as_json: bool = _JSON_OPT,
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on any model without a commit pin (manifest, code)."),
    scan: list[Path] | None = typer.Option(None, "--scan", help="With --strict: also scan this code folder for "
                                           "unpinned from_pretrained/hf_hub_download/lm.*(model=...) calls."),
) -> None:
    """Every locked model present and every file's sha256 equal to the lock (exit 0 good, 1 missing, 2 corrupt)."""
    from .. import config
    from ..store.lockfile import read_lock
    from ..store.sync import check as do_check

    if offline:
        config.set_offline(True)
    if strict or scan:
        from .provenance import strict_pins

        found, has_lock = strict_pins(manifest, lock_file, scan, as_json=as_json)
        if found or (scan and not has_lock):
            raise typer.Exit(1 if found else 0)  # code only: no lock here to check against
    mpath, lpath = _lock_paths(manifest, lock_file)
    lk = read_lock(lpath)
    report = do_check(lk, mpath.parent if mpath else lpath.parent, workers=workers)
    _print_report(report, as_json=as_json, title="localmodels check")
    raise typer.Exit(report.exit_code)


def cache_key(
    manifest: Path | None = _MANIFEST_OPT,
    lock_file: Path | None = _LOCK_OPT,
    length: int = typer.Option(16, "--length", min=8, max=64, help="Hex digits."),
) -> None:
    """A short stable hash of the lock file, for CI cache keys."""
    from ..store.lockfile import cache_key_of

    typer.echo(cache_key_of(_lock_paths(manifest, lock_file)[1], length))


def export(
    refs: list[str] | None = typer.Argument(None, help="Models to export (Hub models in the store)."),
    output: Path = typer.Option(..., "--output", "-o", help="The bundle to write (.tar, .tar.gz or .tgz)."),
    use_lock: bool = typer.Option(False, "--lock", help="Export every Hub model of the lock file (and the lock)."),
    manifest: Path | None = _MANIFEST_OPT,
    lock_file: Path | None = _LOCK_OPT,
    as_json: bool = _JSON_OPT,
) -> None:
    """Write a bundle (the models' files + a manifest of digests) for an air-gapped machine."""
    from ..errors import UsageError
    from ..store.bundle import bundle_models_from_lock, bundle_models_from_refs, export_bundle
    from ..store.lockfile import read_lock
    from .output import console, err_console, print_json

    if bool(refs) == use_lock:
        raise UsageError("name the models to export, or pass --lock (not both)",
                         hint="localmodels export -o models.tar --lock")
    skipped: list[tuple[str, str]] = []
    lock_text = None
    if use_lock:
        _, lpath = _lock_paths(manifest, lock_file)
        lk = read_lock(lpath)
        models, skipped = bundle_models_from_lock(lk)
        lock_text = lpath.read_text(encoding="utf-8")
    else:
        models = bundle_models_from_refs(refs or [])
    result = export_bundle(output, models, lock_text=lock_text, skipped=skipped)
    for name, why in result.skipped:
        err_console().print(f"[yellow]warning:[/] {name}: {why}", highlight=False, soft_wrap=True)
    if as_json:
        print_json({"bundle": str(result.path), "models": result.models, "files": result.files, "size": result.size,
                    "skipped": [{"name": n, "reason": r} for n, r in result.skipped]})
        return
    console().print(f"wrote {result.path}: {len(result.models)} model(s), {result.files} files, "
                    f"{human_size(result.size)}", highlight=False)


def import_(
    bundle: Path = typer.Argument(..., help="A bundle written by `localmodels export`."),
    write_lock: Path | None = typer.Option(None, "--write-lock", help="Also write the bundle's lock file here."),
    as_json: bool = _JSON_OPT,
) -> None:
    """Verify every digest of a bundle, then place its models in the store (atomically)."""
    from ..errors import UsageError
    from ..store.bundle import import_bundle
    from ..store.bundle_trust import TRUST_NOTE
    from .output import console, print_json

    result = import_bundle(bundle)
    if write_lock is not None:
        if result.lock is None:
            raise UsageError("this bundle carries no lock file (it was not exported with --lock)")
        from ..sources._files import write_atomic

        write_atomic(write_lock, result.lock.encode("utf-8"))
    if as_json:
        print_json({"models": result.models, "files": result.files, "size": result.size,
                    "lock_written": str(write_lock) if write_lock else None, "unvouched": result.unvouched,
                    **({"note": TRUST_NOTE} if result.unvouched else {})})
        return
    console().print(f"imported {len(result.models)} model(s), {result.files} files, {human_size(result.size)}",
                    highlight=False)
    for m in result.models:
        console().print(f"  {m}", highlight=False)
    if result.unvouched:
        console().print(f"note: {', '.join(result.unvouched)}: {TRUST_NOTE}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("lock")(lock)
    app.command("sync")(sync)
    app.command("check")(check)
    app.command("cache-key")(cache_key)
    app.command("export")(export)
    app.command("import")(import_)
