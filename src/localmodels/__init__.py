"""localmodels: pull, verify, cache, manage and run Hugging Face models locally.

    import localmodels as lm
    lm.pull("minilm")
    vecs = lm.embed(["hello", "world"], model="minilm")
    ents = lm.ner("Barack Obama visited Paris.", model="spacy-en-sm")

Names are loaded lazily so that ``import localmodels`` (and the CLI's start) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # store
    "pull": "localmodels.store",
    "resolve": "localmodels.store",
    "LocalModel": "localmodels.store",
    # registry
    "catalog": "localmodels.registry",
    # tasks
    "embed": "localmodels.tasks",
    "search": "localmodels.tasks",
    "rerank": "localmodels.tasks",
    "ner": "localmodels.tasks",
    "zero_shot": "localmodels.tasks",
    "generate": "localmodels.tasks",
    # errors
    "errors": "localmodels.errors",
}

__all__ = sorted([*_LAZY, "__version__"])

if TYPE_CHECKING:  # static view for IDEs and type checkers
    from . import errors
    from .registry import catalog
    from .store import LocalModel, pull, resolve
    from .tasks import embed, generate, ner, rerank, search, zero_shot


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'localmodels' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if name == "errors" else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
