"""Ray Data building blocks: callable classes for ``Dataset.map_batches(Block, compute=...)``.

    import ray
    from localmodels.apps.ray import Embedder, Classifier, OFFLINE_ENV
    ds = ray.data.read_text("corpus.txt")                                 # a "text" column
    ds = ds.map_batches(Embedder, fn_constructor_kwargs={"model": "minilm"},
                        compute=ray.data.ActorPoolStrategy(size=4),       # (Ray < 2.51: concurrency=4)
                        batch_size=64, runtime_env={"env_vars": OFFLINE_ENV})
    ds.write_parquet("vectors/")                                          # text, vector, error

Each actor loads its model once (through the store and the loaded-model cache) in ``__init__``, so a
model the node's store lacks fails the actor at start, not midway. Batches are dicts of columns
(``batch_format="numpy"``, Ray's default); every input column is passed through and the block adds
its own. A row whose input is bad (an unreadable file, a JSON line that does not parse) gets a
message in ``error`` and empty outputs: the job goes on. Nested outputs (scores, entities) are JSON
strings, so any writer (Parquet, JSON, CSV) takes them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

Batch = dict[str, Any]


def _rows(batch: Batch) -> int:
    return len(next(iter(batch.values()))) if batch else 0


def _message(e: BaseException) -> str:
    return getattr(e, "message", None) or f"{type(e).__name__}: {e}"


def _texts(batch: Batch, column: str, json_field: str | None, path_column: str | None
           ) -> tuple[list[str], list[str]]:
    """The text of every row and its error ("" when fine): from ``column``, a JSON line's field, or
    the file named in ``path_column``."""
    n = _rows(batch)
    texts, errors = [""] * n, [""] * n
    for i in range(n):
        try:
            if path_column:
                texts[i] = Path(str(batch[path_column][i])).read_bytes().decode("utf-8-sig")
            elif json_field:
                value = json.loads(str(batch[column][i]))
                if not isinstance(value, dict) or not isinstance(value.get(json_field), str):
                    raise ValueError(f"no string field {json_field!r} in this JSON line")
                texts[i] = value[json_field]
            else:
                texts[i] = str(batch[column][i])
        except (OSError, ValueError) as e:  # unreadable file, not UTF-8, not JSON, no such field
            errors[i] = f"bad input: {_message(e)}"
    return texts, errors


def _keep(batch: Batch, keep: list[int]) -> Batch:
    return {k: np.asarray(v)[keep] for k, v in batch.items()}


class Embedder:
    """Adds ``vector`` (float32, NaN for a bad row) and ``error`` to each row.

    Input: ``text_column`` (default ``text``); with ``json_field`` that column holds JSON lines and the
    field is embedded; with ``path_column`` each row's file is read. ``skip_blank`` drops rows whose
    text is blank (as ``localmodels embed --file`` does with blank lines).
    """

    def __init__(self, model: str = "minilm", *, kind: str | None = None, quantize: str | None = None,
                 normalize: bool = True, batch_size: int = 32, text_column: str = "text",
                 json_field: str | None = None, path_column: str | None = None, skip_blank: bool = True) -> None:
        from ...tasks.embed import embed

        self._embed = embed
        self.options: dict[str, Any] = {"model": model, "kind": kind, "quantize": quantize,
                                        "normalize": normalize, "batch_size": batch_size}
        self.column, self.json_field, self.path_column = text_column, json_field, path_column
        self.skip_blank = skip_blank
        self.dims = int(np.asarray(embed(["warm up"], **self.options)).shape[1])  # load once, fail early

    def __call__(self, batch: Batch) -> Batch:
        texts, errors = _texts(batch, self.column, self.json_field, self.path_column)
        if self.skip_blank:
            keep = [i for i, (t, e) in enumerate(zip(texts, errors)) if e or t.strip()]
            if len(keep) != len(texts):
                batch, texts, errors = _keep(batch, keep), [texts[i] for i in keep], [errors[i] for i in keep]
        vectors = np.full((len(texts), self.dims), np.nan, dtype=np.float32)
        good = [i for i, e in enumerate(errors) if not e]
        if good:
            vectors[good] = np.asarray(self._embed([texts[i] for i in good], **self.options), dtype=np.float32)
        out = dict(batch)
        if self.json_field or self.path_column or self.column != "text":
            out["text"] = np.asarray(texts, dtype=object)
        out["vector"], out["error"] = vectors, np.asarray(errors, dtype=object)
        return out


class Classifier:
    """File classification (the classify app's categories, scoring and name evidence) per row.

    Input: ``path`` (a file every node can read; ``rel`` optional, the name shown in results, and
    ``name``, the name the model reads) or ``text`` (with ``rel`` or ``id`` as its name). Adds
    ``category``, ``confidence``, ``scores`` (JSON), ``record`` (JSON: the local engine's record) and
    ``error`` (a file that could not be read or scored: the reason).
    """

    def __init__(self, model: str = "minilm", method: str = "embedding", categories: Any = None, *,
                 quantize: str | None = None, prior_weight: float = 1.0, max_chunks: int | None = None,
                 max_bytes: int | None = None, batch_size: int = 32) -> None:
        from ..classify import FileClassifier, parse_categories

        if isinstance(categories, str):
            categories = parse_categories(categories, None)
        self.clf = FileClassifier(model=model, method=method, categories=categories, quantize=quantize,
                                  prior_weight=prior_weight, max_chunks=max_chunks, batch_size=batch_size)
        self.max_bytes = max_bytes
        self.clf.score_texts(["warm up"])  # load the model (and the prototypes) once per actor

    def _documents(self, batch: Batch) -> tuple[list[Any], dict[int, str]]:
        from .._walk import DEFAULT_MAX_BYTES, Found
        from ..classify import Document, read_documents

        n, names = _rows(batch), batch.get("rel", batch.get("id"))
        docs: list[Any] = [None] * n
        errors: dict[int, str] = {}
        if "path" in batch:
            found = []
            for i in range(n):
                p = Path(str(batch["path"][i]))
                rel = str(names[i]) if names is not None else str(p)
                size = int(batch["size"][i]) if "size" in batch else (p.stat().st_size if p.is_file() else 0)
                name = str(batch["name"][i]) if "name" in batch else ""
                found.append(Found(p, rel, size, name))
            got, skipped = read_documents(found, max_bytes=self.max_bytes or DEFAULT_MAX_BYTES, workers=4)
            by_rel = {d.path: d for d in got}
            reasons = {s.path: s.reason for s in skipped}
            for i, f in enumerate(found):
                if f.rel in by_rel:
                    docs[i] = by_rel[f.rel]
                else:
                    errors[i] = reasons.get(f.rel, "not read")
        else:
            for i in range(n):
                text = str(batch["text"][i])
                docs[i] = Document(str(names[i]) if names is not None else f"text-{i}", text, len(text.encode()))
        return docs, errors

    def _classify(self, docs: list[Any]) -> tuple[list[Any], list[str]]:
        try:
            return self.clf.classify(docs), [""] * len(docs)
        except Exception:  # noqa: BLE001 - find the file that breaks the batch; the others still count
            results, errors = [], []
            for d in docs:
                try:
                    results.append(self.clf.classify([d])[0])
                    errors.append("")
                except Exception as e:  # noqa: BLE001
                    results.append(None)
                    errors.append(f"error: {_message(e)}")
            return results, errors

    def __call__(self, batch: Batch) -> Batch:
        from dataclasses import asdict

        n = _rows(batch)
        docs, errors = self._documents(batch)
        todo = [i for i in range(n) if docs[i] is not None]
        results, errs = self._classify([docs[i] for i in todo])
        out_result: list[Any] = [None] * n
        for i, r, e in zip(todo, results, errs):
            out_result[i] = r
            if e:
                errors[i] = e
        out = dict(batch)
        out["category"] = np.asarray([r.category if r else "" for r in out_result], dtype=object)
        out["confidence"] = np.asarray([r.confidence if r else math.nan for r in out_result], dtype=np.float64)
        out["scores"] = np.asarray([json.dumps(r.scores) if r else "" for r in out_result], dtype=object)
        out["record"] = np.asarray([json.dumps(asdict(r)) if r else "" for r in out_result], dtype=object)
        out["error"] = np.asarray([errors.get(i, "") for i in range(n)], dtype=object)
        return out


class NER:
    """Adds ``entities`` (JSON list of {text, label, start, end, score}) and ``error`` per ``text`` row."""

    def __init__(self, model: str = "spacy-en-sm", labels: Sequence[str] | str | None = None, *,
                 threshold: float = 0.5, text_column: str = "text") -> None:
        from ...tasks.ner import ner

        self._ner, self.column = ner, text_column
        self.options: dict[str, Any] = {"model": model, "labels": labels, "threshold": threshold}
        ner(["warm up"], **self.options)

    def __call__(self, batch: Batch) -> Batch:
        texts = [str(t) for t in batch[self.column]]
        ents, errors = [""] * len(texts), [""] * len(texts)
        try:
            found = self._ner(texts, **self.options)
            ents = [json.dumps([e.to_dict() for e in row]) for row in found]
        except Exception:  # noqa: BLE001 - one text at a time, to name the bad one
            for i, t in enumerate(texts):
                try:
                    ents[i] = json.dumps([e.to_dict() for e in self._ner([t], **self.options)[0]])
                except Exception as e:  # noqa: BLE001
                    errors[i] = f"error: {_message(e)}"
        return {**batch, "entities": np.asarray(ents, dtype=object), "error": np.asarray(errors, dtype=object)}


class ZeroShot:
    """Adds ``label``, ``score``, ``scores`` (JSON) and ``error`` per ``text`` row
    (:func:`localmodels.zero_shot`: embedding similarity, NLI entailment or an LLM)."""

    def __init__(self, model: str = "minilm", labels: Sequence[str] = (), *, method: str = "embedding",
                 hypothesis_template: str = "This text is about {}.", multi_label: bool = False,
                 threshold: float = 0.5, quantize: str | None = None, text_column: str = "text") -> None:
        from ...errors import UsageError
        from ...tasks.zero_shot import zero_shot

        if not labels:
            raise UsageError("ZeroShot needs labels", hint="ZeroShot(model=..., labels=['a', 'b'])")
        self._zs, self.column, self.labels = zero_shot, text_column, list(labels)
        self.options: dict[str, Any] = {"model": model, "method": method, "multi_label": multi_label,
                                        "hypothesis_template": hypothesis_template, "threshold": threshold}
        if quantize:
            self.options["quantize"] = quantize
        zero_shot(["warm up"], self.labels, **self.options)

    def __call__(self, batch: Batch) -> Batch:
        texts = [str(t) for t in batch[self.column]]
        n = len(texts)
        label, score, scores, errors = [""] * n, [math.nan] * n, [""] * n, [""] * n
        try:
            rows = list(self._zs(texts, self.labels, **self.options)) if texts else []
            bad: list[int] = []
        except Exception:  # noqa: BLE001
            rows, bad = [], list(range(n))
        for i in bad:
            try:
                rows.append(self._zs([texts[i]], self.labels, **self.options)[0])
            except Exception as e:  # noqa: BLE001
                rows.append(None)
                errors[i] = f"error: {_message(e)}"
        for i, r in enumerate(rows):
            if r is not None:
                label[i], score[i], scores[i] = r.label, float(r.score), json.dumps(r.scores)
        return {**batch, "label": np.asarray(label, dtype=object), "score": np.asarray(score),
                "scores": np.asarray(scores, dtype=object), "error": np.asarray(errors, dtype=object)}
