"""The encoder side of a remote model: ``/embeddings`` and ``/rerank`` on an OpenAI-compatible server.

:class:`RemoteEncoding` is mixed into :class:`~localmodels.runtimes.remote.RemoteModel`, which
brings ``post``, ``name``, ``model_id`` and ``endpoint``; together they implement
:class:`~localmodels.runtimes.base.Encoder`. ``/embeddings`` is OpenAI's; ``/rerank`` is the
Cohere/Jina shape that ``localmodels serve``, llama-server, infinity, TEI and vLLM answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import RuntimeFailure, UsageError
from .base import Embeddings, Kind, PairScores


def share_tokens(total: int, texts: Sequence[str]) -> list[int]:
    """An endpoint reports one token total per request: share it out by text length (sums to total)."""
    if not texts:
        return []
    weights = [max(len(t), 1) for t in texts]
    scale = total / sum(weights)
    out = [int(w * scale) for w in weights]
    for i in range(total - sum(out)):
        out[i % len(out)] += 1
    return out


class RemoteEncoding:
    """Embeddings and pair scores from the endpoint; no local files, no tokenizer."""

    name: str
    model_id: str
    endpoint: Any  # RemoteEndpoint

    @property
    def cross_encoder(self) -> bool:
        return True  # the server decides how it scores pairs

    @property
    def config(self) -> dict[str, Any]:
        return {}

    @property
    def fingerprint(self) -> str:
        return f"remote|{self.endpoint.display_url}|{self.model_id}"

    def _json(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        resp = self.post(path, {"model": self.model_id, **payload})  # type: ignore[attr-defined]
        try:
            data = resp.json()
        except ValueError:
            raise RuntimeFailure(f"{self.endpoint.display_url}/{path} returned a response that is not JSON") from None
        if not isinstance(data, dict):
            raise RuntimeFailure(f"{self.endpoint.display_url}/{path} returned {type(data).__name__}, not an object")
        return data

    def embed_batch(self, texts: Sequence[str], *, kind: Kind | None = None, normalize: bool | None = True,
                    pooling: str | None = None, batch_size: int = 32) -> Embeddings:
        """Vectors from ``POST /embeddings`` (``kind`` is sent only when given: localmodels serve reads it)."""
        if pooling is not None:
            raise UsageError("pooling is chosen by the remote endpoint", hint="leave pooling out for remote: models")
        items = list(texts)
        if not items:
            return Embeddings(np.zeros((0, 0), dtype=np.float32), [])
        rows: list[np.ndarray] = []
        tokens: list[int] = []
        for start in range(0, len(items), max(1, batch_size)):
            chunk = items[start : start + max(1, batch_size)]
            payload: dict[str, Any] = {"input": chunk, "encoding_format": "float"}
            if kind is not None:
                payload["kind"] = kind
            data = self._json("embeddings", payload)
            got = sorted(data.get("data") or [], key=lambda d: int(d.get("index", 0)))
            if len(got) != len(chunk):
                raise RuntimeFailure(f"{self.endpoint.display_url} returned {len(got)} embeddings "
                                     f"for {len(chunk)} inputs")
            rows.extend(np.asarray(d["embedding"], dtype=np.float32) for d in got)
            usage = data.get("usage") or {}
            tokens += share_tokens(int(usage.get("prompt_tokens") or usage.get("total_tokens") or 0), chunk)
        vecs = np.stack(rows)
        if normalize:
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs = vecs / np.where(norms > 0, norms, 1.0)
        return Embeddings(vecs.astype(np.float32, copy=False), tokens)

    def score_pairs(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 32) -> PairScores:
        """Scores from ``POST /rerank``, one request per distinct query."""
        pairs = list(pairs)
        scores = np.zeros(len(pairs), dtype=np.float32)
        groups: dict[str, list[int]] = {}
        for i, (q, _) in enumerate(pairs):
            groups.setdefault(q, []).append(i)
        tokens = [0] * len(pairs)
        for query, idxs in groups.items():
            data = self._json("rerank", {"query": query, "documents": [pairs[i][1] for i in idxs],
                                         "return_documents": False})
            results = data.get("results") or []
            if len(results) != len(idxs):
                raise RuntimeFailure(f"{self.endpoint.display_url} reranked {len(results)} of {len(idxs)} documents")
            for r in results:
                scores[idxs[int(r["index"])]] = float(r["relevance_score"])
            total = int((data.get("usage") or {}).get("total_tokens") or 0)
            for i, n in zip(idxs, share_tokens(total, [query + pairs[i][1] for i in idxs])):
                tokens[i] = n
        return PairScores(scores, tokens)

    def classify_batch(self, inputs: Sequence[str | tuple[str, str]], *, batch_size: int = 32) -> np.ndarray:
        raise UsageError(f"{self.name}: an OpenAI-compatible endpoint exposes no classification head",
                         hint="use method='embedding' or method='llm' with a remote: model")

    def dims(self) -> int:
        return int(self.embed_batch(["dimension probe"]).vectors.shape[1])
