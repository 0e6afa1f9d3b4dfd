"""One plain function per task; each picks the runtime for the model it is given."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "embed": "embed",
    "search": "search",
    "rerank": "rerank",
    "ner": "ner",
    "zero_shot": "zero_shot",
    "generate": "generate",
    "chat": "generate",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(name)
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value
