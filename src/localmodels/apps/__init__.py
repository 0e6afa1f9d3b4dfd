"""Applications built on the tasks: file classification and benchmarks.

    from localmodels.apps import classify_paths, run_bench
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

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

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

if TYPE_CHECKING:  # the same names, spelled out for IDEs and type checkers
    from .bench import load_dataset as load_dataset
    from .bench import run_bench as run_bench
    from .classify import DEFAULT_CATEGORIES as DEFAULT_CATEGORIES
    from .classify import ClassifyReport as ClassifyReport
    from .classify import FileClassifier as FileClassifier
    from .classify import classify_paths as classify_paths
    from .classify import parse_categories as parse_categories
    from .retrieval_bench import run_retrieval_bench as run_retrieval_bench
