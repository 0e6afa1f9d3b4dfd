"""The store's managing verbs, one module each: :mod:`._list` (list, info), :mod:`._remove`,
:mod:`._verify` (verify, repair), :mod:`._prune` (disk usage, prune). Re-exported here."""

from __future__ import annotations

from ..sources.base import FileProblem, ModelStatus
from ._list import info, list_models
from ._prune import PruneReport, disk_usage, parse_size, prune
from ._remove import remove
from ._verify import ModelCheck, resolve_for_verify, verify

__all__ = ["FileProblem", "ModelCheck", "ModelStatus", "PruneReport", "disk_usage", "info", "list_models",
           "parse_size", "prune", "remove", "resolve_for_verify", "verify"]
