"""localmodels: pull, verify, cache, manage and run Hugging Face models locally.

    import localmodels as lm
    lm.pull("minilm")
    vecs = lm.embed(["hello", "world"], model="minilm")
    ents = lm.ner("Barack Obama visited Paris.", model="spacy-en-sm")

Names are loaded lazily so that ``import localmodels`` (and the CLI's start) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import attach

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # store
    "pull": "store",
    "resolve": "store",
    "LocalModel": "store",
    # registry
    "catalog": "registry",
    # tasks
    "embed": "tasks",
    "search": "tasks",
    "rerank": "tasks",
    "ner": "tasks",
    "zero_shot": "tasks",
    "generate": "tasks",
    # errors
    "errors": "errors",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, extra=("__version__",))

if TYPE_CHECKING:  # the names of _LAZY for IDEs and type checkers (`X as X`: a re-export, py.typed)
    from . import errors as errors
    from .registry import catalog as catalog
    from .store import LocalModel as LocalModel
    from .store import pull as pull
    from .store import resolve as resolve
    from .tasks import embed as embed
    from .tasks import generate as generate
    from .tasks import ner as ner
    from .tasks import rerank as rerank
    from .tasks import search as search
    from .tasks import zero_shot as zero_shot
