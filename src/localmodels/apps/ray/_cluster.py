"""Connecting to Ray, the cluster's nodes, and the environment our workers run with.

Ray is imported only here and only when a job runs (the ``ray`` extra). A worker inherits its
node's environment (so each node keeps its own ``LOCALMODELS_HOME`` / ``HF_HOME``); on top of it
model workers get :data:`OFFLINE_ENV`: they never download, whatever the node's settings say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ... import config
from ...errors import MissingDependencyError, UsageError

# What every model worker runs with: the store resolves only what staging put there.
OFFLINE_ENV = config.OFFLINE_ENV


def require_ray() -> Any:
    """The ``ray`` module, or a :class:`MissingDependencyError` that names the extra."""
    try:
        import ray
    except ImportError as e:
        raise MissingDependencyError("ray", "ray", purpose="to run jobs on a Ray cluster") from e
    return ray


def connect(address: str | None = None) -> Any:
    """Connect to the cluster at ``address`` (``auto``: the one ``ray start`` left on this machine;
    None: a Ray already initialised in this process, else a new local one). Returns ``ray``."""
    import logging

    ray = require_ray()
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-dataset INFO lines between our output
    if ray.is_initialized():
        return ray
    try:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False,
                 logging_level="ERROR", include_dashboard=False if address is None else None)
    except ConnectionError as e:
        raise UsageError(f"cannot reach the Ray cluster at {address}: {e}",
                         hint="check the address printed by `ray start --head` (host:port)") from None
    return ray


@dataclass(frozen=True)
class Node:
    """An alive node of the cluster: its id (what node affinity pins to) and address."""

    node_id: str
    address: str

    @property
    def label(self) -> str:
        return f"{self.address} ({self.node_id[:8]})"


def alive_nodes(ray: Any) -> list[Node]:
    """The alive nodes, sorted by address then id (a stable order for reports)."""
    nodes = [Node(n["NodeID"], n.get("NodeManagerAddress", "?")) for n in ray.nodes() if n.get("Alive")]
    if not nodes:
        raise UsageError("the Ray cluster has no alive node", hint="start one: ray start --head")
    return sorted(nodes, key=lambda n: (n.address, n.node_id))


def on_node(node_id: str) -> Any:
    """A scheduling strategy that runs a task on exactly that node (never elsewhere)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)


def forwarded_env(endpoint: str | None = None) -> dict[str, str]:
    """The driver's fetch settings for staging tasks; ``endpoint`` overrides ``HF_ENDPOINT``."""
    return config.fetch_env(endpoint)
