"""Static embedding models (model2vec format) as an :class:`~localmodels.runtimes.base.Encoder`.

A static model is a table of token vectors: a text's embedding is the mean of its tokens' rows, so
it needs no transformer pass and runs 100-500x faster on a CPU. The ``model2vec`` library (the
``static`` extra) loads and runs it; this module only adapts it to the Encoder contract.

    enc = runtime_for("derived:minilm-static", "encoder")   # picked when config.json says model2vec
    enc.embed_batch(["some text"]).vectors
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import MissingDependencyError, UsageError
from .base import Embeddings, Kind, PairScores

if TYPE_CHECKING:
    from ..store import LocalModel

_loaded: dict[tuple[str, int, int], Any] = {}
_lock = threading.Lock()


def is_static_folder(folder: Path) -> bool:
    """True for a model2vec folder: ``config.json`` with ``model_type: model2vec`` (or StaticModel)."""
    import json

    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(cfg, dict):
        return False
    return cfg.get("model_type") == "model2vec" or "StaticModel" in (cfg.get("architectures") or [])


def is_static_model(model: LocalModel) -> bool:
    """A model2vec model: by its catalog entry (architecture ``model2vec``) or by its config.json."""
    return getattr(model.entry, "architecture", None) == "model2vec" or is_static_folder(Path(model.path))


def _load(folder: Path) -> Any:
    try:
        from model2vec import StaticModel
    except ImportError as e:
        raise MissingDependencyError("model2vec", "static", purpose="to run static embedding models") from e
    weights = folder / "model.safetensors"
    st = weights.stat()
    key = (str(folder), st.st_size, st.st_mtime_ns)
    with _lock:
        hit = _loaded.get(key)
        if hit is None:
            hit = StaticModel.from_pretrained(str(folder))
            if len(_loaded) > 8:
                _loaded.clear()
            _loaded[key] = hit
        return hit


class _TokenCounts(Sequence[int]):
    """The tokens each text took, counted on first use: a second tokenizer pass costs as much as the
    embedding itself, and only a server's usage report reads it (classify does not)."""

    def __init__(self, static: Any, texts: list[str]) -> None:
        self._static, self._texts, self._counts = static, texts, None

    def _get(self) -> list[int]:
        if self._counts is None:
            max_len = self._static.max_length or 512
            self._counts = [min(len(ids), max_len) for ids in self._static.tokenize(self._texts)]
            self._texts = []
        return self._counts

    def __getitem__(self, i):  # type: ignore[override]
        return self._get()[i]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self):
        return iter(self._get())

    def __eq__(self, other: object) -> bool:
        return list(self._get()) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return repr(self._get())


class StaticRuntime:
    """A model2vec model (implements :class:`~localmodels.runtimes.base.Encoder`; no pairs, no logits)."""

    cross_encoder = False

    def __init__(self, model: LocalModel, *, name: str | None = None) -> None:
        self.model = model
        self.name = name or model.name or model.ref
        self._static: Any = None

    @property
    def static(self) -> Any:
        if self._static is None:
            self._static = _load(Path(self.model.path))
        return self._static

    @property
    def config(self) -> dict[str, Any]:
        return dict(getattr(self.static, "config", {}) or {})

    @property
    def fingerprint(self) -> str:
        digests = sorted(f"{f.path}:{f.sha256}" for f in self.model.files if f.sha256)
        return "static|" + hashlib.sha256("\n".join(digests).encode()).hexdigest()

    def embed_batch(self, texts: Sequence[str], *, kind: Kind | None = None, normalize: bool | None = True,
                    pooling: str | None = None, batch_size: int = 32) -> Embeddings:
        if pooling not in (None, "mean"):
            raise UsageError(f"a static model only mean-pools (asked: {pooling!r})", hint="leave pooling out")
        items = list(texts)
        if not items:
            return Embeddings(np.zeros((0, self.dims()), dtype=np.float32), [])
        m = self.static
        vecs = np.asarray(m.encode(items, batch_size=max(batch_size, 1024), use_multiprocessing=False),
                          dtype=np.float32)
        if normalize:
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-12
        return Embeddings(vecs, _TokenCounts(m, items))

    def score_pairs(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 32) -> PairScores:
        """Cosine similarity of each pair's embeddings (a static model reads no pair jointly)."""
        if not pairs:
            return PairScores(np.zeros(0, dtype=np.float32), [])
        a = self.embed_batch([p[0] for p in pairs])
        b = self.embed_batch([p[1] for p in pairs])
        scores = (a.vectors * b.vectors).sum(axis=1)
        return PairScores(scores, [x + y for x, y in zip(a.tokens, b.tokens)])

    def classify_batch(self, inputs: Sequence[str | tuple[str, str]], *, batch_size: int = 32) -> np.ndarray:
        raise UsageError(f"{self.name} is a static embedding model: it has no classification head",
                         hint="use it for embed, search or classify --method embedding/cascade")

    def dims(self) -> int:
        return int(self.static.dim)
