"""A small persistent embedding index: a corpus is embedded once per (corpus, model) and kept on disk.

Layout of an index folder: ``embeddings.npy`` (float32, L2-normalised rows), ``texts.json`` and
``meta.json`` (the key: sha256 of the corpus + the model's fingerprint, model name, dims, count).
Files are written to a temporary name and renamed, so a killed build leaves no half-written index.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import home

if TYPE_CHECKING:
    from ..store import LocalModel

FORMAT = 1


def corpus_digest(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        b = t.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


@dataclass
class EmbeddingIndex:
    texts: list[str]
    vectors: np.ndarray
    key: str
    model: str
    path: Path | None = None
    reused: bool = False

    def __len__(self) -> int:
        return len(self.texts)


def index_key(texts: Sequence[str], fingerprint: str) -> str:
    """``fingerprint``: the encoder's (weights, recipe and passage prefix)."""
    return hashlib.sha256(f"v{FORMAT}|{corpus_digest(texts)}|{fingerprint}".encode()).hexdigest()[:32]


def default_index_dir(key: str) -> Path:
    return home() / "indexes" / key


def load_index(folder: Path, key: str) -> EmbeddingIndex | None:
    """The index in ``folder`` when it was built for ``key``, else None."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("key") != key or meta.get("format") != FORMAT:
            return None
        vectors = np.load(folder / "embeddings.npy", allow_pickle=False)
        texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if vectors.shape[0] != len(texts):
        return None
    return EmbeddingIndex(texts, vectors, key, meta.get("model", ""), folder, reused=True)


def save_index(folder: Path, index: EmbeddingIndex) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = f".{os.getpid()}.tmp"
    with open(folder / f"embeddings.npy{suffix}", "wb") as f:
        np.save(f, index.vectors.astype(np.float32), allow_pickle=False)
    (folder / f"texts.json{suffix}").write_text(json.dumps(index.texts, ensure_ascii=False), encoding="utf-8")
    meta = {"format": FORMAT, "key": index.key, "model": index.model, "count": len(index.texts),
            "dims": int(index.vectors.shape[1]) if index.vectors.ndim == 2 else 0}
    (folder / f"meta.json{suffix}").write_text(json.dumps(meta, indent=1))
    for name in ("embeddings.npy", "texts.json", "meta.json"):  # meta last: it is what marks the index valid
        os.replace(folder / f"{name}{suffix}", folder / name)
    index.path = folder


def build_index(corpus: Sequence[str], *, model: str | LocalModel = "minilm", path: str | Path | None = None,
                persist: bool = True, batch_size: int = 32, quantize: str | None = None) -> EmbeddingIndex:
    """Embed ``corpus`` as passages once; reuse the saved index when corpus and model are unchanged."""
    from ..runtimes.registry import runtime_for

    enc = runtime_for(model, "encoder", quantize=quantize, task="search")
    texts = list(corpus)
    key = index_key(texts, enc.fingerprint)
    folder = Path(path) if path is not None else default_index_dir(key)
    if persist:
        found = load_index(folder, key)
        if found is not None:
            return found
    vectors = enc.embed_batch(texts, kind="passage", batch_size=batch_size).vectors
    index = EmbeddingIndex(texts, vectors, key, enc.name)
    if persist:
        save_index(folder, index)
    return index
