"""Corpus jobs on a Ray cluster (the ``ray`` extra): building blocks, staging and job runners.

    import ray
    from localmodels.apps.ray import Classifier, OFFLINE_ENV, stage
    stage(lock=read_lock("models.lock"), address="head:6379").raise_for_failures()
    ds = ray.data.from_items([{"path": "/shared/src/a.py"}])
    ds = ds.map_batches(Classifier, fn_constructor_kwargs={"model": "minilm"},
                        compute=ray.data.ActorPoolStrategy(size=4), runtime_env={"env_vars": OFFLINE_ENV})

Ray is imported only when a job runs or a block is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import attach

_LAZY = {
    "Embedder": "blocks",
    "Classifier": "blocks",
    "NER": "blocks",
    "ZeroShot": "blocks",
    "OFFLINE_ENV": "_cluster",
    "stage": "staging",
    "ensure_staged": "staging",
    "lock_for": "staging",
    "StageReport": "staging",
    "StagingError": "staging",
    "classify_on_ray": "jobs",
    "embed_on_ray": "jobs",
    "embed_corpus_local": "corpus",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

if TYPE_CHECKING:  # the names of _LAZY for IDEs and type checkers
    from ._cluster import OFFLINE_ENV as OFFLINE_ENV
    from .blocks import NER as NER
    from .blocks import Classifier as Classifier
    from .blocks import Embedder as Embedder
    from .blocks import ZeroShot as ZeroShot
    from .corpus import embed_corpus_local as embed_corpus_local
    from .jobs import classify_on_ray as classify_on_ray
    from .jobs import embed_on_ray as embed_on_ray
    from .staging import StageReport as StageReport
    from .staging import StagingError as StagingError
    from .staging import ensure_staged as ensure_staged
    from .staging import lock_for as lock_for
    from .staging import stage as stage
