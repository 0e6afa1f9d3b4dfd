"""A corpus file in, a Parquet file of vectors out: reading, the local engine, and the writer.

Formats: ``.txt`` (one text per line; blank lines skipped), ``.jsonl`` / ``.ndjson`` (one JSON object
per line; ``text_field`` is embedded; a line that does not parse is a row with an error) and
``.parquet`` (the ``text_field`` column). Lines are split as Ray Data's ``read_text`` splits them
(``str.splitlines``), so both engines see the same rows in the same order.

The output has one row per input row: ``id`` (0-based, input order), ``text``, ``vector``
(list<float32>, null for a bad row) and ``error`` (null when fine).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import UsageError

FORMATS = {".txt": "txt", ".text": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
Progress = Callable[[int], None]


def corpus_format(path: str | Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UsageError(f"unknown corpus format: {path}", hint="use a .txt, .jsonl or .parquet file")
    return fmt


def check_output(path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() != ".parquet":
        raise UsageError(f"vectors are written as Parquet: {path}", hint="name the output like vectors.parquet")
    return p


def text_lines(path: Path) -> list[str]:
    """The non-blank lines of a UTF-8 file, as Ray Data's ``read_text(drop_empty_lines=True)`` gives them."""
    try:
        return [line for line in path.read_bytes().decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not valid UTF-8 (byte {e.start})",
                         hint="convert it first, e.g. iconv -f latin1 -t utf-8") from None


@dataclass
class CorpusSummary:
    rows: int = 0
    errors: int = 0
    dims: int = 0
    seconds: float = 0.0
    engine: str = "local"
    workers: int = 1
    output: str = ""
    error_examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        rate = self.rows / self.seconds if self.seconds > 0 else None
        return {"engine": self.engine, "workers": self.workers, "rows": self.rows, "errors": self.errors,
                "dims": self.dims, "seconds": round(self.seconds, 3), "output": self.output,
                "rows_per_second": round(rate, 2) if rate else None, "error_examples": self.error_examples}


class VectorWriter:
    """Streams batches of rows into one Parquet file (the schema of the module docstring)."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa

        self.path = path
        self.schema = pa.schema([("id", pa.int64()), ("text", pa.string()), ("vector", pa.list_(pa.float32())),
                                 ("error", pa.string())])
        self._writer: Any = None
        self._tmp = path.with_name(f".{path.name}.partial")
        self.summary = CorpusSummary(output=str(path))

    def write(self, texts: list[str], vectors: np.ndarray, errors: list[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        n = len(texts)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(str(self._tmp), self.schema)
        start = self.summary.rows
        vecs = [None if errors[i] else [float(x) for x in vectors[i]] for i in range(n)]
        table = pa.table({"id": pa.array(range(start, start + n), pa.int64()), "text": pa.array(texts, pa.string()),
                          "vector": pa.array(vecs, pa.list_(pa.float32())),
                          "error": pa.array([e or None for e in errors], pa.string())}, schema=self.schema)
        self._writer.write_table(table)
        self.summary.rows += n
        bad = [e for e in errors if e]
        self.summary.errors += len(bad)
        self.summary.error_examples.extend(bad[: max(0, 5 - len(self.summary.error_examples))])
        if vectors.ndim == 2 and vectors.shape[1]:
            self.summary.dims = int(vectors.shape[1])

    def close(self) -> CorpusSummary:
        if self._writer is None:
            self.write([], np.zeros((0, 0), dtype=np.float32), [])
        self._writer.close()
        self._tmp.replace(self.path)
        return self.summary


def _local_batches(path: Path, fmt: str, text_field: str, batch_rows: int) -> Iterator[dict[str, Any]]:
    """The corpus as batches of the columns Ray Data would give the :class:`Embedder`."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(str(path))
        if text_field not in pf.schema_arrow.names:
            raise UsageError(f"{path} has no column {text_field!r}", hint="name it with --text-field")
        for rb in pf.iter_batches(batch_size=batch_rows, columns=[text_field]):
            yield {text_field: np.asarray(rb.column(0).to_pylist(), dtype=object)}
        return
    lines = text_lines(path)
    for i in range(0, len(lines), batch_rows):
        yield {"text": np.asarray(lines[i:i + batch_rows], dtype=object)}


def embedder_options(fmt: str, text_field: str) -> dict[str, Any]:
    """How the :class:`Embedder` reads a row of this format."""
    if fmt == "jsonl":
        return {"text_column": "text", "json_field": text_field}
    if fmt == "parquet":
        return {"text_column": text_field, "skip_blank": False}
    return {"text_column": "text"}


def embed_corpus_local(path: str | Path, output: str | Path, *, model: str = "minilm", text_field: str = "text",
                       batch_size: int = 32, kind: str | None = None, quantize: str | None = None,
                       progress: Progress | None = None) -> CorpusSummary:
    """Embed a corpus file in this process (the local engine) and write ``output`` (Parquet)."""
    from .blocks import Embedder

    src, out = Path(path), check_output(output)
    fmt = corpus_format(src)
    if not src.is_file():
        raise UsageError(f"no such corpus file: {src}")
    t0 = time.perf_counter()
    block = Embedder(model, kind=kind, quantize=quantize, batch_size=batch_size, **embedder_options(fmt, text_field))
    writer = VectorWriter(out)
    for batch in _local_batches(src, fmt, text_field, max(batch_size, 256)):
        res = block(batch)
        writer.write([str(t) for t in res["text"]], res["vector"], [str(e) for e in res["error"]])
        if progress:
            progress(writer.summary.rows)
    summary = writer.close()
    summary.seconds = time.perf_counter() - t0
    return summary
