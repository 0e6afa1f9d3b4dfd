"""Stage models on every node of a Ray cluster once, before any model worker starts.

    report = stage(lock=read_lock("models.lock"), address="head:6379")   # or bundle="/shared/models.tar"
    report.raise_for_failures()          # StagingError naming each node that failed, and why

One task per alive node, pinned there (node affinity, never elsewhere), takes a node-level file
lock under that node's ``LOCALMODELS_HOME`` and makes sure the models are in that node's store:

- from a lock (the head's lock file): :func:`localmodels.store.sync.sync`, which fetches only what
  is missing or corrupt from ``HF_ENDPOINT`` (the Hub or a site mirror), with the lock's digests;
- from a bundle every node can read: :func:`localmodels.store.bundle_import.import_bundle`.

A second task on the same node (another job, a retry) waits on the lock and then finds the files
present: one fetch per node per file, no thundering herd. Each task runs in its own worker process
(``max_calls=1``), which exits afterwards: the process that had the network never runs a model.
"""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ...errors import LocalModelsError, UsageError
from ._cluster import alive_nodes, connect, forwarded_env, on_node

NodeStatus = Literal["present", "fetched", "failed"]
LOCK_NAME = "ray-stage.lock"


class StagingError(LocalModelsError):
    """A node could not stage the models: the job does not start (workers never download)."""


@dataclass
class NodeStage:
    """What staging did on one node."""

    node: str  # address (node id prefix)
    node_id: str
    status: NodeStatus
    reason: str = ""
    home: str = ""
    hub_cache: str = ""
    models: list[dict[str, str]] = field(default_factory=list)  # name, status, detail
    seconds: float = 0.0
    waited: float = 0.0  # seconds spent waiting for another staging task on the same node

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds"], d["waited"] = round(self.seconds, 3), round(self.waited, 3)
        return d


@dataclass
class StageReport:
    nodes: list[NodeStage]
    source: str  # "lock" | "bundle:PATH"

    @property
    def failed(self) -> list[NodeStage]:
        return [n for n in self.nodes if n.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_for_failures(self) -> None:
        if self.failed:
            named = "; ".join(f"{n.node}" + (f" (store {n.home})" if n.home else "") + f": {n.reason}"
                              for n in self.failed)
            raise StagingError(f"staging failed on {len(self.failed)} of {len(self.nodes)} node(s): {named}",
                               hint="fix those nodes (disk, network to the mirror, bundle path), then run: "
                                    "localmodels stage --lock LOCK --address ADDR")

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "source": self.source, "nodes": [n.as_dict() for n in self.nodes]}


# --------------------------------------------------------------------------- on each node
def stage_here(plan: dict[str, Any]) -> dict[str, Any]:
    """The staging task body, run on one node: lock the node, then sync the lock or import the bundle."""
    from filelock import FileLock

    from ... import config

    t0 = time.monotonic()
    out: dict[str, Any] = {"host": socket.gethostname(), "home": str(config.home()),
                           "hub_cache": str(config.hub_cache()), "models": []}
    try:
        locks = config.home() / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with FileLock(str(locks / LOCK_NAME)):
            out["waited"] = time.monotonic() - t0
            if plan.get("bundle"):
                _import_bundle(plan["bundle"], out)
            else:
                _sync_lock(plan["lock"], Path(plan.get("root") or "."), out)
    except LocalModelsError as e:
        out["status"], out["reason"] = "failed", e.message
    except Exception as e:  # noqa: BLE001 - a node reports its failure; the driver decides
        out["status"], out["reason"] = "failed", f"{type(e).__name__}: {e}"
    out["seconds"] = time.monotonic() - t0
    return out


def _sync_lock(lock_text: str, root: Path, out: dict[str, Any]) -> None:
    from ...store.lockfile import parse_lock
    from ...store.sync import sync

    report = sync(parse_lock(lock_text), root, offline=False)
    named = {"ok": "present", "fetched": "fetched"}
    for r in report.results:
        out["models"].append({"name": r.name, "status": named.get(r.status, "failed"),
                              "detail": r.detail if not r.good else ""})
    bad = [r for r in report.results if r.required and not r.good]
    if bad:
        out["status"] = "failed"
        out["reason"] = "; ".join(f"{r.name}: {r.status}" + (f" ({r.detail})" if r.detail else "") for r in bad)
    else:
        out["status"] = "fetched" if any(r.status == "fetched" for r in report.results) else "present"


def _import_bundle(path: str, out: dict[str, Any]) -> None:
    from ...store.bundle_import import import_bundle

    if not Path(path).is_file():
        raise UsageError(f"bundle {path} is not readable on this node",
                         hint="put the bundle on storage every node mounts at the same path")
    result = import_bundle(path)
    status = "fetched" if result.placed_blobs else "present"
    out["models"] = [{"name": m, "status": status, "detail": ""} for m in result.models]
    out["status"] = status


# --------------------------------------------------------------------------- on the driver
def stage(*, lock: Any = None, bundle: str | Path | None = None, address: str | None = None,
          root: str | Path | None = None, endpoint: str | None = None, timeout: float = 3600.0) -> StageReport:
    """Stage a lock (:class:`~localmodels.store.lockfile.Lock`) or a bundle path on every alive node.

    ``root``: the folder local-folder entries of the lock are relative to (the lock file's folder).
    ``endpoint``: the Hub or mirror URL nodes fetch from (default: this process's ``HF_ENDPOINT``).
    """
    if (lock is None) == (bundle is None):
        raise UsageError("stage needs a lock or a bundle (one of them)",
                         hint="localmodels stage --lock models.lock (or --bundle /shared/models.tar)")
    ray = connect(address)
    plan: dict[str, Any] = {"root": str(Path(root or ".").resolve())}
    if bundle is not None:
        plan["bundle"] = str(Path(bundle).resolve())
    else:
        plan["lock"] = lock.dumps()
    env = {**forwarded_env(endpoint), "LOCALMODELS_STAGE_RUN": uuid.uuid4().hex}
    task = ray.remote(num_cpus=0, max_calls=1, max_retries=0)(stage_here)
    nodes = alive_nodes(ray)
    refs = {n.node_id: task.options(scheduling_strategy=on_node(n.node_id), runtime_env={"env_vars": env}).remote(plan)
            for n in nodes}
    ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout)
    results = []
    for n in nodes:
        ref = refs[n.node_id]
        if ref not in ready:
            ray.cancel(ref, force=True)
            results.append(NodeStage(n.label, n.node_id, "failed", reason=f"no answer within {timeout:g} s"))
            continue
        try:
            got = ray.get(ref)
        except Exception as e:  # noqa: BLE001 - the node died or Ray could not run the task there
            results.append(NodeStage(n.label, n.node_id, "failed", reason=f"{type(e).__name__}: {e}"))
            continue
        results.append(NodeStage(n.label, n.node_id, got.get("status", "failed"), reason=got.get("reason", ""),
                                 home=got.get("home", ""), hub_cache=got.get("hub_cache", ""),
                                 models=got.get("models", []), seconds=got.get("seconds", 0.0),
                                 waited=got.get("waited", 0.0)))
    return StageReport(results, source=f"bundle:{plan['bundle']}" if bundle is not None else "lock")


def lock_for(models: list[str], root: str | Path | None = None) -> Any:
    """A lock of ``models`` as they are in this machine's (the head's) store: every node then gets
    exactly these files. A model not here is a usage error that says how to get it."""
    from ...store import resolve
    from ...store.lockfile import Lock
    from ...store.manifest import ModelSpec
    from ...store.sync import locked_from

    entries = []
    for ref in models:
        lm = resolve(ref)
        entries.append(locked_from(ModelSpec(name=ref, ref=ref), lm, Path(root or ".")))
    return Lock(model=entries)


def plan_source(models: list[str], stage_from: str | Path | None) -> dict[str, Any]:
    """What a job stages: ``stage_from`` is a lock file or a bundle (.tar, .tar.gz, .tgz); None: a
    lock of ``models`` made from the head's store. Returns keyword arguments for :func:`stage`."""
    from ...store.lockfile import read_lock

    if stage_from is None:
        return {"lock": lock_for(models)}
    path = Path(stage_from)
    if path.name.endswith((".tar", ".tar.gz", ".tgz")):
        return {"bundle": path}
    lock = read_lock(path)
    for ref in models:
        if not any(ref in (m.name, m.ref, m.repo_id) for m in lock.model):
            raise UsageError(f"{ref!r} is not in the lock {path}",
                             hint="add it to the manifest and run: localmodels lock (or drop --stage-from)")
    return {"lock": lock, "root": path.parent}


def ensure_staged(models: list[str], *, stage_from: str | Path | None = None, address: str | None = None,
                  endpoint: str | None = None) -> StageReport:
    """Stage ``models`` on every node, or raise :class:`StagingError` naming the nodes that failed."""
    report = stage(address=address, endpoint=endpoint, **plan_source(models, stage_from))
    report.raise_for_failures()
    return report
