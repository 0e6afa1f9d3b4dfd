"""Applications built on the tasks: file classification and benchmarks.

    from localmodels.apps import classify_paths, run_bench
"""

from __future__ import annotations

from .._lazy import lazy_getattr

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

__getattr__ = lazy_getattr(__name__, _LAZY)
