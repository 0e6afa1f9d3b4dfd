"""Request counts, and the status document ``localmodels mirror status`` prints.

The server keeps its counters in memory and writes the document to
``LOCALMODELS_HOME/mirror/status-<port>.json`` every few seconds (and serves it at
``/api/mirror/status``); without a running server, ``mirror status`` describes what would be served.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import config

if TYPE_CHECKING:
    from .inventory import Inventory
    from .verify import Verifier


def state_dir() -> Path:
    return config.home() / "mirror"


def status_file(port: int) -> Path:
    """One file per port: several mirrors of one store (say, one with a lock) do not overwrite each other."""
    return state_dir() / f"status-{port}.json"


def latest_status_file() -> Path | None:
    files = sorted(state_dir().glob("status-*.json"), key=lambda p: p.stat().st_mtime) if state_dir().is_dir() else []
    return files[-1] if files else None


class Stats:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self.started = time.time()
        self.by_status: Counter[int] = Counter()
        self.by_route: Counter[str] = Counter()
        self.repos: dict[str, Counter[str]] = {}
        self.dirty = True

    def count(self, route: str, status: int, repo_id: str | None = None, *, served_bytes: int = 0) -> None:
        with self._guard:
            self.by_status[status] += 1
            self.by_route[route] += 1
            if repo_id:
                c = self.repos.setdefault(repo_id, Counter())
                c["requests"] += 1
                if route == "file" and status in (200, 206) and served_bytes:
                    c["downloads"] += 1
                    c["bytes"] += served_bytes
                if status >= 400:
                    c["errors"] += 1
            self.dirty = True

    def as_dict(self) -> dict[str, Any]:
        with self._guard:
            return {
                "requests": sum(self.by_status.values()),
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "by_route": dict(sorted(self.by_route.items())),
                "repos": {r: dict(c) for r, c in sorted(self.repos.items())},
            }


def document(inventory: Inventory, verifier: Verifier, *, stats: Stats | None = None,
             settings: dict[str, Any] | None = None, pull: dict[str, Any] | None = None) -> dict[str, Any]:
    """What is served (repos, revisions, sizes, verified state), and, from a server, its counts."""
    repos = []
    corrupt = verifier.corrupt_list()
    bad = {(c["repo_id"].lower(), c["path"]) for c in corrupt}
    for repo in inventory.all():
        snaps = []
        for snap in repo.snapshots.values():
            files = list(snap.files.values())
            snaps.append({
                "commit": snap.commit, "synthetic": snap.synthetic, "files": len(files), "size": snap.size,
                "refs": sorted(n for n, c in repo.refs.items() if c == snap.commit),
                "verified": sum(1 for f in files if verifier.is_verified(f)),
                "corrupt": sorted(f.path for f in files if (repo.repo_id.lower(), f.path) in bad),
            })
        repos.append({"repo_id": repo.repo_id, "gated": repo.gated, "snapshots": snaps,
                      "size": sum(s["size"] for s in snaps)})
    doc: dict[str, Any] = {
        "written_at": time.time(),
        "repos": repos,
        "corrupt": corrupt,
        "not_served": [{"name": p.name, "problem": p.message} for p in inventory.problems],
    }
    if settings is not None:
        doc["server"] = settings
    if stats is not None:
        doc["started_at"] = stats.started
        doc["stats"] = stats.as_dict()
    if pull is not None:
        doc["pull_through"] = pull
    return doc


def write(doc: dict[str, Any], path: Path) -> None:
    from ...sources._files import write_atomic

    write_atomic(path, json.dumps(doc, indent=1).encode())


def read(path: Path | None = None) -> dict[str, Any] | None:
    """A status document (default: the one a mirror of this store wrote last)."""
    path = path or latest_status_file()
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
