"""Classify files and folders into categories (code, documentation, configuration, ...).

    report = classify_paths(["src/", "README.md"], model="minilm", method="embedding")
    report.files[0].category, report.files[0].confidence, report.summary()

How a file is scored:

1. Its text is cut into chunks (``chunk_chars`` characters, on line boundaries); a long file
   contributes at most ``max_chunks`` chunks spread evenly over it. Every chunk is given to the
   model as ``"File: <path>\\n\\n<chunk>"``, so the name and folders are read with the content.
2. The model turns each chunk into one probability per category:
   - ``embedding``: cosine similarity between the chunk's embedding and each category's
     prototype (the mean embedding of its description and its made-up examples), through a
     softmax with temperature ``temperature`` (0.05, the usual contrastive temperature). All
     files' chunks are embedded together in batches.
   - ``nli`` / ``llm``: :func:`localmodels.tasks.zero_shot` with the category descriptions
     (entailment of "This file is {}." / an LLM constrained to the category names).
3. The chunk probabilities are averaged, weighted by chunk length.
4. The file's name and path add a prior (see :mod:`._categories`): the final scores are
   ``p_model × prior^prior_weight``, normalised. An empty file is classified from its path alone.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ._categories import DEFAULT_CATEGORIES, Category, name_evidence, parse_categories
from ._report import ClassifyReport, Document, FileResult, chunk_text
from ._walk import DEFAULT_MAX_BYTES, Found, Skipped, read_text, walk

__all__ = [
    "Category", "DEFAULT_CATEGORIES", "parse_categories", "Document", "FileResult", "ClassifyReport",
    "FileClassifier", "classify_paths", "chunk_text", "read_documents", "METHODS",
]

METHODS = ("embedding", "nli", "llm")
STREAM_FILES = 512
JOURNAL_FILES = 32  # files scored per call, then handed to on_results (what a Ctrl-C can lose)
STATIC_BATCH = 1024  # chunks per call to a static model (a table lookup: per-call costs dominate small batches)
Progress = Callable[[int, int], None]


def _softmax(row: Sequence[float], temperature: float) -> list[float]:
    m = max(row)
    ex = [math.exp((v - m) / temperature) for v in row]
    s = sum(ex)
    return [e / s for e in ex]


@contextmanager
def _quiet_truncation():
    """Chunks are cut by characters, so one may pass the model's token limit and be truncated:
    intended (the chunk's head is enough), so the runtime's truncation warnings are muted."""
    onnx_log = logging.getLogger("localmodels.onnx")
    level = onnx_log.level
    onnx_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        onnx_log.setLevel(level)


class FileClassifier:
    """Scores documents with one model and method; reusable across calls (prototypes cached)."""

    def __init__(self, *, model: str | None = None, method: str = "embedding",
                 categories: Sequence[Category] | None = None, quantize: str | None = None,
                 prior_weight: float = 1.0, chunk_chars: int | None = None, max_chunks: int | None = None,
                 batch_size: int = 32, temperature: float = 0.05, workers: int = 4,
                 hypothesis_template: str = "This file is {}.") -> None:
        if method not in METHODS:
            raise UsageError(f"unknown method {method!r}", hint=f"use one of: {', '.join(METHODS)}")
        if quantize not in (None, "int8"):
            raise UsageError(f"unknown quantization {quantize!r}", hint="use int8, or leave it out")
        if prior_weight < 0:
            raise UsageError("prior weight must be >= 0")
        if model is None:
            from ..tasks.zero_shot import default_model

            model = default_model(method)
        self.model = model
        self.method = method
        self.categories = list(categories or DEFAULT_CATEGORIES)
        self.names = [c.name for c in self.categories]
        from .fewshot import head_for  # a classifier head (derived:NAME) brings its own categories

        self.head = head_for(model, categories)
        if self.head is not None:
            self.categories, self.names = list(self.head.categories), list(self.head.names)
            batch_size = max(batch_size, STATIC_BATCH)  # a static model embeds big batches in one call
        self.quantize = quantize
        self.prior_weight = prior_weight
        # An LLM reads one window from the head of the file (LOCALMODELS_LLM_CHUNK_CHARS, 400: the
        # prompt's cost grows with it; see benchmarks/llm_classify.py). Encoders read up to three
        # 500-character chunks spread over the file: on the files benchmark (int8 MiniLM)
        # 500-character chunks scored as well as 800-character ones and ran 1.7x faster on this CPU.
        from ..config import settings

        conf = settings()
        self.chunk_chars = chunk_chars or (conf.llm_chunk_chars if method == "llm" else 500)
        self.max_chunks = max_chunks or (1 if method == "llm" else 3)
        self.batch_size = batch_size if method == "embedding" else min(batch_size, 8)
        if method == "llm":  # files scored together in parallel sequences (LOCALMODELS_LLM_BATCH)
            self.batch_size = max(1, conf.llm_batch)
        self.temperature = temperature
        self.workers = max(1, workers)
        self.hypothesis_template = hypothesis_template
        self._prototypes: Any = None

    @property
    def model_label(self) -> str:
        return f"{self.model} ({self.quantize})" if self.quantize else self.model

    # -- model scores -------------------------------------------------------------------------
    def _embed(self, texts: list[str]):
        from ..tasks.embed import embed

        with _quiet_truncation():
            return embed(texts, model=self.model, quantize=self.quantize, batch_size=self.batch_size)

    def _prototype_matrix(self):
        import numpy as np

        if self._prototypes is None:
            texts, owner = [], []
            for i, c in enumerate(self.categories):
                for t in c.prototype_texts():
                    texts.append(t)
                    owner.append(i)
            vecs = np.asarray(self._embed(texts), dtype=np.float32)
            owner_arr = np.asarray(owner)
            protos = np.stack([vecs[owner_arr == i].mean(axis=0) for i in range(len(self.categories))])
            protos /= np.linalg.norm(protos, axis=1, keepdims=True) + 1e-12
            self._prototypes = protos
        return self._prototypes

    def _score_embedding(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        protos = self._prototype_matrix()
        vecs = np.asarray(self._embed(texts), dtype=np.float32)
        sims = vecs @ protos.T
        return [_softmax(row.tolist(), self.temperature) for row in sims]

    def _zero_shot(self, texts: list[str]) -> list[list[float]]:
        from .. import tasks

        kwargs: dict[str, Any] = {"model": self.model, "method": self.method}
        if self.method == "nli":  # an NLI hypothesis is a sentence about the premise
            kwargs["descriptions"] = {c.name: f"This file contains {c.description}." for c in self.categories}
            kwargs["hypothesis_template"] = self.hypothesis_template
            if self.quantize:
                kwargs["quantize"] = self.quantize
        else:
            kwargs["descriptions"] = {c.name: c.description for c in self.categories}
        with _quiet_truncation():
            out = tasks.zero_shot(texts, self.names, **kwargs)
        if not isinstance(out, list):
            out = [out]
        rows = []
        for cls in out:
            row = [max(float(cls.scores.get(n, 0.0)), 0.0) for n in self.names]
            s = sum(row)
            rows.append([v / s for v in row] if s > 0 else [1 / len(row)] * len(row))
        return rows

    def _parallel_ok(self) -> bool:
        # Remote endpoints take concurrent requests; a local llama.cpp model runs one at a time,
        # and encoders parallelise inside ONNX Runtime over a batch.
        from ..runtimes.registry import is_remote

        return self.method == "llm" and is_remote(str(self.model))

    def score_texts(self, texts: list[str]) -> list[list[float]]:
        """One probability row (over ``self.names``) per text."""
        if not texts:
            return []
        if self.head is not None:
            with _quiet_truncation():
                return self.head.predict(texts).tolist()
        if self.method == "embedding":
            return self._score_embedding(texts)
        return self._zero_shot(texts)

    # -- documents ----------------------------------------------------------------------------
    def _prior(self, path: str) -> tuple[list[float], list[str]]:
        ev = name_evidence(path, self.names)
        prior = [ev[n][0] if n in ev else 1.0 for n in self.names]
        why = [f"{n}: {ev[n][1]} (x{ev[n][0]:g})" for n in self.names if n in ev]
        return prior, why

    def classify(self, docs: Sequence[Document], progress: Progress | None = None) -> list[FileResult]:
        """Classify documents; chunks of all documents are scored together in batches."""
        plan: list[tuple[int, str, int]] = []  # (doc index, model input, weight)
        per_doc: list[list[int]] = [[] for _ in docs]
        for i, d in enumerate(docs):
            chunks = chunk_text(d.text, self.chunk_chars, self.max_chunks) or [""]
            for ch in chunks:
                per_doc[i].append(len(plan))
                plan.append((i, f"File: {d.shown_name}\n\n{ch}".rstrip() + "\n", max(len(ch), 1)))
        rows: list[list[float] | None] = [None] * len(plan)
        seconds = [0.0] * len(plan)
        remaining = [len(x) for x in per_doc]
        done_docs = 0
        results: list[FileResult | None] = [None] * len(docs)

        def finish(k: int) -> None:
            nonlocal done_docs
            i = plan[k][0]
            remaining[i] -= 1
            if remaining[i] == 0:
                results[i] = self._combine(docs[i], [plan[j][2] for j in per_doc[i]],
                                           [rows[j] for j in per_doc[i]],  # type: ignore[misc]
                                           sum(seconds[j] for j in per_doc[i]))
                done_docs += 1
                if progress:
                    progress(done_docs, len(docs))

        step = self.batch_size
        if self._parallel_ok() and len(plan) > 1:
            def one(k: int) -> tuple[int, list[float], float]:
                t0 = time.perf_counter()
                row = self.score_texts([plan[k][1]])[0]
                return k, row, time.perf_counter() - t0

            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for k, row, dt in pool.map(one, range(len(plan))):
                    rows[k], seconds[k] = row, dt
                    finish(k)
        else:
            for start in range(0, len(plan), step):
                ks = list(range(start, min(start + step, len(plan))))
                t0 = time.perf_counter()
                batch_rows = self.score_texts([plan[k][1] for k in ks])
                dt = time.perf_counter() - t0
                total_chars = sum(len(plan[k][1]) for k in ks) or 1
                for k, row in zip(ks, batch_rows):
                    rows[k] = row
                    seconds[k] = dt * len(plan[k][1]) / total_chars  # a batch's time, shared by size
                    finish(k)
        return [r for r in results if r is not None]

    def _combine(self, doc: Document, weights: list[int], rows: list[list[float]], model_seconds: float) -> FileResult:
        total = sum(weights)
        p_model = [sum(w * r[j] for w, r in zip(weights, rows)) / total for j in range(len(self.names))]
        prior, why = self._prior(doc.shown_name)
        if self.prior_weight == 0:
            prior, why = [1.0] * len(prior), []
        post = [p * (q ** self.prior_weight) for p, q in zip(p_model, prior)]
        s = sum(post) or 1.0
        post = [v / s for v in post]
        best = max(range(len(post)), key=post.__getitem__)
        if not doc.text.strip():
            why = ["empty file: judged on its path", *why]
        return FileResult(
            path=doc.path, category=self.names[best], confidence=post[best],
            scores=dict(zip(self.names, post)), model=self.model_label, method=self.method,
            seconds=doc.read_seconds + model_seconds, bytes=doc.bytes, chunks=len(rows) if doc.text.strip() else 0,
            encoding=doc.encoding, sha256=doc.sha256, evidence=why,
        )


def record_still_valid(rec: dict[str, Any], sha256: str, clf: Any) -> bool:
    """The ``--resume`` rule (both engines): an earlier record is kept when the file's sha256, the
    category set, the model and the method are unchanged."""
    return (rec.get("sha256") == sha256 and rec.get("category") in clf.names
            and rec.get("model") in (clf.model_label, getattr(clf, "model", None))
            and str(rec.get("method", "")).split(">")[0] == clf.method)


def read_documents(found: Iterable[Found], *, max_bytes: int = DEFAULT_MAX_BYTES, workers: int = 8
                   ) -> tuple[list[Document], list[Skipped]]:
    """Read files in parallel threads (I/O); unreadable and binary files become :class:`Skipped`."""
    found = list(found)

    def one(f: Found) -> Document | Skipped:
        t0 = time.perf_counter()
        got = read_text(f, max_bytes)
        if isinstance(got, str):
            return Skipped(f.rel, got)
        return Document(f.rel, got.text, f.size, got.encoding, got.sha256, time.perf_counter() - t0, f.name,
                        str(f.path))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        out = list(pool.map(one, found))
    return [d for d in out if isinstance(d, Document)], [s for s in out if isinstance(s, Skipped)]


def classify_paths(paths: Sequence[str | Path], *, model: str | None = None, method: str = "embedding",
                   categories: Sequence[Category] | None = None, include: Sequence[str] = (),
                   exclude: Sequence[str] = (), gitignore: bool = True, max_bytes: int = DEFAULT_MAX_BYTES,
                   previous: dict[str, dict[str, Any]] | None = None, progress: Progress | None = None,
                   on_results: Callable[[list[FileResult]], None] | None = None,
                   **options: Any) -> ClassifyReport:
    """Walk ``paths`` and classify every text file.

    ``previous`` (path -> record from an earlier output, for ``--resume``): files whose path,
    sha256, model and method match a record are not classified again and the record is kept.
    ``on_results`` gets each batch of finished files (the CLI's journal: work survives Ctrl-C). ``options`` go to
    :class:`FileClassifier` (quantize, prior_weight, chunk_chars, max_chunks, batch_size, ...).
    """
    if not paths:
        raise UsageError("no input paths", hint="pass files or folders with -i PATH")
    t0 = time.perf_counter()
    from .cascade import make_classifier

    clf = make_classifier(FileClassifier, model=model, method=method, categories=categories, **options)
    found, skipped = walk(paths, include=include, exclude=exclude, gitignore=gitignore, max_bytes=max_bytes)
    resumed: list[dict[str, Any]] = []
    files: list[FileResult] = []
    skipped_before = len(skipped)
    # Files are read and classified STREAM_FILES at a time: memory holds one batch of texts, not the tree.
    for start in range(0, len(found), STREAM_FILES):
        docs, unreadable = read_documents(found[start:start + STREAM_FILES], max_bytes=max_bytes)
        skipped += unreadable
        if previous:
            todo = []
            for d in docs:
                rec = previous.get(d.path)
                if rec is not None and record_still_valid(rec, d.sha256, clf):
                    resumed.append(rec)
                else:
                    todo.append(d)
            docs = todo
        # ... and scored JOURNAL_FILES at a time, each batch handed to ``on_results`` when done.
        # A fast classifier (the cascade) says how many files a call takes (``journal_files``).
        per_call = int(getattr(clf, "journal_files", JOURNAL_FILES))
        for part in range(0, len(docs), per_call):
            done, left = len(files), len(found) - (len(skipped) - skipped_before) - len(resumed)  # to classify
            step = (lambda k, n, done=done, left=left: progress(done + k, left)) if progress else None
            got = clf.classify(docs[part:part + per_call], progress=step)
            files += got
            if on_results is not None:
                on_results(got)
    skipped.sort(key=lambda s: s.path)
    return ClassifyReport(files, skipped, clf.model_label, clf.method, clf.categories,
                          seconds=time.perf_counter() - t0, resumed=resumed)
