"""What file classification produces: documents in, per-file results and a report out; chunking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._categories import Category
from ._walk import Skipped


@dataclass
class Document:
    """A text to classify and the name it goes by."""

    path: str
    text: str
    bytes: int = 0
    encoding: str = "utf-8"
    sha256: str = ""
    read_seconds: float = 0.0
    name: str = ""  # the path the model and the name rules see (relative, without the user's prefix)
    disk: str = ""  # the file on disk, where there is one (Magika reads its head and tail itself)

    @property
    def shown_name(self) -> str:
        return self.name or self.path


@dataclass
class FileResult:
    path: str
    category: str
    confidence: float
    scores: dict[str, float]
    model: str
    method: str
    seconds: float
    bytes: int = 0
    chunks: int = 0
    encoding: str = "utf-8"
    sha256: str = ""
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "category": self.category, "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()}, "model": self.model,
            "method": self.method, "seconds": round(self.seconds, 4), "bytes": self.bytes,
            "chunks": self.chunks, "encoding": self.encoding, "sha256": self.sha256,
            "evidence": self.evidence,
        }


@dataclass
class ClassifyReport:
    files: list[FileResult]
    skipped: list[Skipped]
    model: str
    method: str
    categories: list[Category]
    seconds: float = 0.0
    resumed: list[dict[str, Any]] = field(default_factory=list)  # records kept from an earlier run

    def records(self) -> list[dict[str, Any]]:
        """Every classified file (kept from the earlier run first), as JSON-ready records."""
        own = [f.to_dict() for f in self.files]
        kept = {r["path"] for r in own}
        return [r for r in self.resumed if r.get("path") not in kept] + own

    def summary(self, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Counts, mean confidences, timing (``records``: :meth:`records`, when the caller has them)."""
        records = self.records() if records is None else records
        counts = {c.name: 0 for c in self.categories}
        conf: dict[str, list[float]] = {c.name: [] for c in self.categories}
        for r in records:
            counts[r["category"]] = counts.get(r["category"], 0) + 1
            conf.setdefault(r["category"], []).append(float(r.get("confidence", 0.0)))
        reasons: dict[str, int] = {}
        for s in self.skipped:
            key = s.reason.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
        return {
            "model": self.model, "method": self.method, "files": len(records),
            "classified_now": len(self.files), "resumed": len(records) - len(self.files),
            "skipped": len(self.skipped), "skipped_by_reason": reasons,
            "counts": counts,
            "mean_confidence": {k: round(sum(v) / len(v), 4) for k, v in conf.items() if v},
            "seconds": round(self.seconds, 3),
            "files_per_second": round(len(self.files) / self.seconds, 2) if self.seconds > 0 else None,
            "categories": {c.name: c.description for c in self.categories},
            **({"escalated": sum(1 for r in records if str(r.get("method", "")).startswith("cascade>"))}
               if self.method == "cascade" else {}),
        }

    def to_dict(self) -> dict[str, Any]:
        records = self.records()
        return {"summary": self.summary(records), "files": records, "skipped": [s.to_dict() for s in self.skipped]}


def chunk_text(text: str, chunk_chars: int, max_chunks: int) -> list[str]:
    """Cut ``text`` into chunks of about ``chunk_chars`` characters on line boundaries.

    When there are more than ``max_chunks``, keep ``max_chunks`` of them spread evenly (the first
    and the last included), so a long file is judged on its whole length, not only its head.
    """
    if not text.strip():
        return []
    chunks: list[str] = []
    cur: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        while len(line) > chunk_chars:  # one very long line (minified code, a CSV blob)
            if cur:
                chunks.append("".join(cur))
                cur, size = [], 0
            chunks.append(line[:chunk_chars])
            line = line[chunk_chars:]
        if size + len(line) > chunk_chars and cur:
            chunks.append("".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line)
    if cur:
        chunks.append("".join(cur))
    chunks = [c for c in chunks if c.strip()]
    if len(chunks) > max_chunks:
        if max_chunks == 1:
            return chunks[:1]
        step = (len(chunks) - 1) / (max_chunks - 1)
        chunks = [chunks[round(i * step)] for i in range(max_chunks)]
    return chunks

