"""What the dashboard shows, gathered from the store's public API (``list_models``, and ``list_all`` for
other tools' stores, as ``localmodels list --all``), the loaded models (``tasks.loaded``) and metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ... import store
from ...errors import LocalModelsError
from ...tasks.loaded import available_memory
from ..ollama import catalog as ollama_catalog
from ..ollama.keepalive import KeepAlive
from ..state import ServerState

# Which list a model's row goes in: what the store serves (recorded, or used in place from an installed
# package), and what other tools left on this machine that we have not verified.
STORE_GROUPS = {"ok": "store", "incomplete": "store", "installed": "store", "cached": "hf-cache"}
GROUP_TITLES = {"hf-cache": "Hugging Face cache: downloaded by other tools, not verified by us yet",
                "stores": "Other tools' stores (Ollama, LM Studio, llama.cpp, GPT4All, Jan, loose files, pip "
                          "packages): used where they lie, not verified by us"}
PLAYGROUND_TASKS = {"embed": ("embedding",), "ner": ("ner", "token-classification", "span-ner"),
                    "classify": ("embedding", "zero-shot", "nli", "classification"),
                    "chat": ("generation", "chat")}


@dataclass
class ModelRow:
    name: str
    source: str
    size: int
    license: str
    status: str
    last_used: str
    task: str
    group: str
    served_by: str = ""
    modified: str = ""  # other tools' files: when they changed (those tools record no last use)


@dataclass
class Snapshot:
    version: str
    uptime_s: float
    rows: list[ModelRow]
    disk: dict[str, Any]
    loaded: list[dict[str, Any]]
    rss: int
    available: int
    requests: list[dict[str, Any]]
    playground: dict[str, list[str]] = field(default_factory=dict)
    auth: bool = False


def _task(entry_task: str | None, path: str) -> str:
    if entry_task:
        return entry_task
    return "generation" if path.endswith(".gguf") else ""


def model_rows() -> list[ModelRow]:
    from ...registry import find_entry

    rows = []
    statuses = store.list_models()
    for st in statuses:
        entry = None
        for candidate in (st.ref, st.name, *(st.aliases or [])):
            if candidate:
                entry = find_entry(candidate)
                if entry:
                    break
        name = st.ref or (st.aliases[0] if st.aliases else st.name)
        rows.append(ModelRow(
            name=name, source=st.source, size=int(st.size or 0), license=st.license or (entry.license if entry else "")
            or "", status=st.status, last_used=st.last_used or st.pulled_at or "", task=_task(
                entry.task if entry else None, st.path), group=STORE_GROUPS.get(st.status, "store"),
            served_by=st.served_by))
    rows += other_store_rows({st.path for st in statuses})
    rows.sort(key=lambda r: (r.group, r.name))
    return rows


def other_store_rows(known_paths: set[str]) -> list[ModelRow]:
    """What ``list --all`` finds beyond the rows the store lists (``known_paths``): Ollama, LM Studio,
    llama.cpp's cache, GPT4All, Jan, loose files, pip carriers. No hashing (a page load must be quick)."""
    from datetime import UTC, datetime

    from ...store.all_stores import list_all

    try:
        found, _notes = list_all(digests=False)
    except (LocalModelsError, OSError):  # an unreadable store must not take the page down
        return []
    rows = []
    for r in found:
        if r.path in known_paths:
            continue
        licence = next(iter((r.license or "").strip().splitlines()), "")[:60]  # its first line
        when = datetime.fromtimestamp(r.modified, UTC).isoformat(timespec="seconds") if r.modified else ""
        rows.append(ModelRow(name=r.ref, source=r.store, size=int(r.size), license=licence,
                             status="problem" if r.problem else "found", last_used="", modified=when,
                             task="", group="stores",  # unknown without reading the file
                             served_by=r.problem or r.path))
    return rows


def request_metrics(state: ServerState) -> list[dict[str, Any]]:
    """Per endpoint: requests, errors, mean latency (from the server's Prometheus counters)."""
    m = state.metrics
    with m._lock:  # noqa: SLF001 - a consistent copy of the counters
        counts = dict(m.requests)
        latency = {ep: (h.total, h.n) for ep, h in m.latency.items()}
    per: dict[str, dict[str, Any]] = {}
    for (ep, _method, status), n in counts.items():
        row = per.setdefault(ep, {"endpoint": ep, "requests": 0, "errors": 0})
        row["requests"] += n
        if status >= 400:
            row["errors"] += n
    for ep, row in per.items():
        total, n = latency.get(ep, (0.0, 0))
        row["mean_ms"] = 1000 * total / n if n else 0.0
    return sorted(per.values(), key=lambda r: -r["requests"])


def loaded(state: ServerState, keep: KeepAlive) -> list[dict[str, Any]]:
    """The loaded-model cache as /api/ps names it: model, estimated bytes, when it unloads."""
    return [{"name": m["name"], "bytes": int(m["size"]), "expires_at": m["expires_at"]}
            for m in ollama_catalog.loaded(state.directory.served, keep)]


def playground_models(state: ServerState, rows: list[ModelRow]) -> dict[str, list[str]]:
    """Model names per playground: the served names, or the store's models by their catalog task."""
    served = state.directory.served
    if served:
        from ...registry import find_entry

        pairs = []
        for name, ref in served.items():
            entry = find_entry(ref)
            pairs.append((name, _task(entry.task if entry else None, ref)))
    else:
        pairs = [(r.name, r.task) for r in rows if r.status != "incomplete" and r.group != "stores"]
    out: dict[str, list[str]] = {}
    for pg, tasks in PLAYGROUND_TASKS.items():
        out[pg] = sorted({name for name, task in pairs if task in tasks})
    return out


def snapshot(state: ServerState, version: str, keep: KeepAlive) -> Snapshot:
    import psutil

    rows = model_rows()
    return Snapshot(
        version=version, uptime_s=time.time() - state.started, rows=rows, disk=store.disk_usage(),
        loaded=loaded(state, keep),
        rss=int(psutil.Process().memory_info().rss), available=available_memory(),
        requests=request_metrics(state), playground=playground_models(state, rows),
        auth=bool(state.settings.api_key))
