"""Applications built on the tasks: file classification and benchmarks.

    from localmodels.apps import classify_paths, run_bench
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "classify_paths": "classify",
    "FileClassifier": "classify",
    "ClassifyReport": "classify",
    "parse_categories": "classify",
    "DEFAULT_CATEGORIES": "classify",
    "run_bench": "bench",
    "load_dataset": "bench",
    "run_retrieval_bench": "retrieval_bench",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(name)
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value
