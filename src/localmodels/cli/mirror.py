"""``localmodels mirror``: serve the verified store as a Hugging Face-compatible endpoint."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import typer

mirror_app = typer.Typer(help="Serve the verified store to other machines as a Hugging Face-compatible endpoint.",
                         no_args_is_help=True)


@mirror_app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind. Anything but loopback needs --token-file."),
    port: int = typer.Option(8090, "--port", "-p", min=0, max=65535, help="Port."),
    lock: Path | None = typer.Option(None, "--lock", help="Serve only the models, commits and files of this "
                                                             "lock file (localmodels.lock)."),
    upstream: str | None = typer.Option(None, "--upstream", help="Pull what the store lacks from this endpoint "
                                                                    "(another mirror, or https://huggingface.co)."),
    token_file: Path | None = typer.Option(None, "--token-file", help="Bearer tokens, one per line, each "
                                                                         "optionally followed by the gated repos "
                                                                         "it may read."),
    gated: list[str] = typer.Option([], "--gated", help="Treat repos matching this pattern as gated (repeatable)."),
    no_preverify: bool = typer.Option(False, "--no-preverify", help="Hash files when first asked for, not at start."),
    tree_page_size: int = typer.Option(1000, "--tree-page-size", min=1, hidden=True,
                                       help="Entries per page of a tree listing (the Hub's: 1000)."),
    log_level: str = typer.Option("info", "--log-level", help="critical, error, warning, info, debug."),
) -> None:
    """Serve the store at HF_ENDPOINT-compatible routes; only files whose sha256 matches are sent."""
    import logging

    from ..errors import UsageError
    from ..server.mirror import MirrorSettings, serve
    from .output import err_console

    if lock is not None and not lock.is_file():
        raise UsageError(f"lock file not found: {lock}", hint="make one: localmodels lock")
    if upstream is not None and not upstream.startswith(("http://", "https://")):
        raise UsageError(f"--upstream must be an http(s) URL, not {upstream!r}", hint="e.g. https://huggingface.co")
    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(levelname)s:     %(name)s: %(message)s")
    settings = MirrorSettings(host=host, port=port, lock=lock, upstream=upstream, token_file=token_file,
                              gated=tuple(gated), preverify=not no_preverify, tree_page_size=tree_page_size)
    if host not in ("127.0.0.1", "localhost", "::1") and token_file is None:
        err_console().print(f"[yellow]warning:[/] binding {host} without --token-file: anyone who can reach this "
                            "port can download every model served", highlight=False)
    err_console().print(f"mirror on {settings.url}; clients: HF_ENDPOINT={settings.url}", highlight=False)
    serve(settings, log_level=log_level.lower())


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _fetch(url: str, token: str | None) -> dict[str, Any]:
    from ..errors import NetworkError

    req = urllib.request.Request(url.rstrip("/") + "/api/mirror/status")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError) as e:
        raise NetworkError(f"could not read the status of the mirror at {url}: {e}",
                           hint="is it running? start it: localmodels mirror serve") from None


@mirror_app.command("status")
def status_cmd(
    url: str | None = typer.Option(None, "--url", help="Ask this running mirror (default: the status file "
                                                          "the last mirror of this store wrote)."),
    token: str | None = typer.Option(None, "--token", envvar="HF_TOKEN", help="Token for a protected mirror."),
    lock: Path | None = typer.Option(None, "--lock", help="Without a server: what this lock would serve."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """What a mirror serves: repos, revisions, sizes, verified state, corrupt files, request counts."""
    from ..server.mirror import status as mirror_status
    from .output import console, print_json, print_table

    doc = _fetch(url, token) if url else None
    where = url or ""
    if doc is None and lock is None:
        latest = mirror_status.latest_status_file()
        doc = mirror_status.read(latest) if latest else None
        if doc is not None:
            age = time.time() - doc.get("written_at", 0)
            where = f"{latest} (the mirror on port {doc.get('server', {}).get('port')}, written {age:.0f} s ago)"
    if doc is None:
        from ..server.mirror import MirrorSettings, build

        mirror = build(MirrorSettings(lock=lock, preverify=False))
        mirror.inventory.refresh()
        doc = mirror_status.document(mirror.inventory, mirror.verifier)
        where = "the store (no mirror running)"
    if as_json:
        print_json(doc)
        return
    rows = []
    for repo in doc.get("repos", []):
        for snap in repo["snapshots"]:
            state = "CORRUPT: " + ", ".join(snap["corrupt"]) if snap["corrupt"] else \
                f"{snap['verified']}/{snap['files']}"
            reqs = doc.get("stats", {}).get("repos", {}).get(repo["repo_id"], {})
            rows.append([repo["repo_id"] + (" (gated)" if repo["gated"] else ""), ",".join(snap["refs"]) or "-",
                         snap["commit"][:8] + ("*" if snap["synthetic"] else ""), _human(snap["size"]), state,
                         reqs.get("requests", 0), f"{_human(reqs.get('bytes', 0))} ({reqs.get('downloads', 0)})"])
    print_table(["repo", "refs", "commit", "size", "verified", "requests", "sent (downloads)"], rows,
                title=f"localmodels mirror: {where}")
    stats = doc.get("stats")
    if stats:
        up = time.time() - doc.get("started_at", time.time())
        console().print(f"{stats['requests']} request(s) in {up:.0f} s; by status: {stats['by_status']}",
                        highlight=False)
    if doc.get("pull_through"):
        p = doc["pull_through"]
        console().print(f"pull-through from {p['upstream']}: {p['fetches']} fetch(es), {p['failures']} failed",
                        highlight=False)
    for c in doc.get("corrupt", []):
        console().print(f"[red]corrupt:[/] {c['repo_id']}/{c['path']}: {c['detail']} (not served; repair: "
                        f"localmodels verify {c['repo_id']} --repair)", highlight=False)
    for p in doc.get("not_served", []):
        console().print(f"[yellow]not served:[/] {p['name']}: {p['problem']}", highlight=False)
    if any(s["synthetic"] for r in doc.get("repos", []) for s in r["snapshots"]):
        console().print("* commit made from the files' digests (the model did not come from the Hub)",
                        highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(mirror_app, name="mirror")
