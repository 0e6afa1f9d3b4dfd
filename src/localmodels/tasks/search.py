"""Semantic search over a corpus: cosine top-k, MMR, or Dartboard (relevant information gain).

The corpus is embedded once and kept in a small on-disk index keyed by the corpus and the model
(see :mod:`localmodels.tasks._index`); ``index=`` names the folder (default: under
``LOCALMODELS_HOME/indexes/``), ``index=False`` keeps everything in memory.

- ``cosine``: the k passages most similar to the query.
- ``mmr``: maximal marginal relevance, ``lambda * sim(q, d) - (1 - lambda) * max sim(d, selected)``.
- ``dartboard``: greedy maximisation of relevant information gain (Pickett et al., "Better RAG using
  Relevant Information Gain", 2024): the query defines a Gaussian over the candidates
  (``log N(1 - cos(q, t); sigma)``); each step adds the passage that most increases
  ``logsumexp_t [log P(t | q) + max_{g in selected} log N(1 - cos(t, g); sigma)]``, which rewards
  covering the relevant region and penalises passages redundant with those already picked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..errors import UsageError
from ..results import SearchHit
from ..runtimes.registry import runtime_for
from ._encoders import as_list
from ._index import EmbeddingIndex, build_index

if TYPE_CHECKING:
    from ..store import LocalModel

Method = Literal["cosine", "mmr", "dartboard"]


def search(query: str, corpus: Sequence[str] | EmbeddingIndex, *, k: int = 5, method: Method = "cosine",
           model: str | LocalModel = "minilm", index: str | Path | bool | None = None,
           mmr_lambda: float = 0.5, sigma: float = 0.1, candidates: int | None = None,
           quantize: Literal["int8"] | None = None) -> list[SearchHit]:
    """The ``k`` best passages of ``corpus`` for ``query``, best first (``index`` points into corpus)."""
    as_list(query, "query")
    if method not in ("cosine", "mmr", "dartboard"):
        raise UsageError(f"unknown search method {method!r}", hint="use cosine, mmr or dartboard")
    if k < 1:
        raise UsageError(f"k must be >= 1, got {k}")
    enc = runtime_for(model, "encoder", quantize=quantize, task="search")
    if isinstance(corpus, EmbeddingIndex):
        idx = corpus
    else:
        texts, _ = as_list(corpus, "corpus")
        if not texts:
            return []
        persist = index is not False
        path = index if isinstance(index, (str, Path)) else None
        idx = build_index(texts, model=enc, path=path, persist=persist)
    q = enc.embed_batch([query], kind="query").vectors[0]
    sims = idx.vectors @ q
    k = min(k, len(idx.texts))
    if method == "cosine":
        chosen = list(np.argsort(-sims, kind="stable")[:k])
        scores = sims[chosen]
    else:
        pool = min(len(sims), candidates or max(50, 10 * k))
        cand = np.argsort(-sims, kind="stable")[:pool]
        vecs = idx.vectors[cand]
        if method == "mmr":
            picked = mmr(sims[cand], vecs @ vecs.T, k, mmr_lambda)
        else:
            picked = dartboard(sims[cand], vecs @ vecs.T, k, sigma)
        chosen = [int(cand[i]) for i in picked]
        scores = sims[chosen]
    return [SearchHit(int(i), float(s), idx.texts[int(i)]) for i, s in zip(chosen, scores)]


def mmr(query_sims: np.ndarray, pairwise: np.ndarray, k: int, lam: float = 0.5) -> list[int]:
    """Maximal marginal relevance over candidates (indices into ``query_sims``)."""
    selected: list[int] = [int(np.argmax(query_sims))]
    while len(selected) < min(k, len(query_sims)):
        redundancy = pairwise[:, selected].max(axis=1)
        score = lam * query_sims - (1 - lam) * redundancy
        score[selected] = -np.inf
        selected.append(int(np.argmax(score)))
    return selected


def _log_gauss(dist: np.ndarray, sigma: float) -> np.ndarray:
    return -np.log(sigma) - 0.5 * np.log(2 * np.pi) - dist**2 / (2 * sigma**2)


def dartboard(query_sims: np.ndarray, pairwise: np.ndarray, k: int, sigma: float = 0.1) -> list[int]:
    """Greedy Dartboard selection (cosine distances, Gaussian kernel of width ``sigma``)."""
    from math import inf

    if sigma <= 0:
        raise UsageError(f"sigma must be > 0, got {sigma}")
    log_q = _log_gauss(1.0 - query_sims, sigma)  # log P(target = t | query), unnormalised
    log_q = log_q - np.logaddexp.reduce(log_q)
    log_pair = _log_gauss(1.0 - pairwise, sigma)  # [candidate, target]
    first = int(np.argmax(log_q))
    selected = [first]
    best = log_pair[first].copy()  # per target: max over selected of log N(d(t, g))
    while len(selected) < min(k, len(query_sims)):
        updated = np.maximum(best[None, :], log_pair)  # if candidate c were added
        gain = np.logaddexp.reduce(updated + log_q[None, :], axis=1)
        gain[selected] = -inf
        c = int(np.argmax(gain))
        selected.append(c)
        best = updated[c]
    return selected
