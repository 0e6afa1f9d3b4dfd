"""Write classification results as JSON, JSONL or CSV (by the file's extension), and read them back.

- ``.json``: ``{"summary": {...}, "files": [...], "skipped": [...]}``
- ``.jsonl``: one ``{"type": "file", ...}`` line per file, one ``{"type": "skipped", ...}`` per
  skipped file, and a last ``{"type": "summary", ...}`` line
- ``.csv``: one row per file (``score_<category>`` columns) and per skipped file (``skipped`` column)

Files are written to a temporary name and renamed, so an interrupted run never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import UsageError

FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_CSV_FIELDS = ["path", "category", "confidence", "model", "method", "seconds", "bytes", "chunks", "encoding",
               "sha256", "evidence", "skipped"]


def format_of(path: str | Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UsageError(f"cannot tell the output format of {str(path)!r}",
                         hint="name the output file .json, .jsonl or .csv")
    return fmt


def render(report: dict[str, Any], fmt: str) -> str:
    """The text of a report (``ClassifyReport.to_dict()``) in ``fmt``."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        lines = [json.dumps({"type": "file", **r}, ensure_ascii=False) for r in report["files"]]
        lines += [json.dumps({"type": "skipped", **s}, ensure_ascii=False) for s in report["skipped"]]
        lines.append(json.dumps({"type": "summary", **report["summary"]}, ensure_ascii=False))
        return "\n".join(lines) + "\n"
    cats = list(report["summary"].get("categories") or {})
    for r in report["files"]:
        cats += [c for c in r.get("scores", {}) if c not in cats]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_CSV_FIELDS + [f"score_{c}" for c in cats], lineterminator="\n")
    w.writeheader()
    for r in report["files"]:
        row = {k: r.get(k, "") for k in _CSV_FIELDS if k not in ("evidence", "skipped")}
        row["evidence"] = "; ".join(r.get("evidence") or [])
        row.update({f"score_{c}": r.get("scores", {}).get(c, "") for c in cats})
        w.writerow(row)
    for s in report["skipped"]:
        w.writerow({"path": s["path"], "skipped": s["reason"]})
    return buf.getvalue()


def write(report: dict[str, Any], path: str | Path) -> Path:
    """Write atomically (temp file + rename) in the format the extension names."""
    path = Path(path)
    text = render(report, format_of(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_previous(path: str | Path) -> dict[str, dict[str, Any]]:
    """Records of an earlier output (for ``--resume``): path -> record. Missing file: empty."""
    path = Path(path)
    if not path.is_file():
        return {}
    fmt = format_of(path)
    text = path.read_text(encoding="utf-8")
    records: list[dict[str, Any]] = []
    try:
        if fmt == "json":
            records = list(json.loads(text).get("files", []))
        elif fmt == "jsonl":
            for line in text.splitlines():
                if line.strip():
                    rec = json.loads(line)
                    if rec.get("type", "file") == "file":
                        rec.pop("type", None)
                        records.append(rec)
        else:
            for row in csv.DictReader(io.StringIO(text)):
                if row.get("skipped") or not row.get("category"):
                    continue
                scores = {k[6:]: float(v) for k, v in row.items() if k.startswith("score_") and v not in ("", None)}
                records.append({
                    "path": row["path"], "category": row["category"], "confidence": float(row["confidence"]),
                    "scores": scores, "model": row.get("model", ""), "method": row.get("method", ""),
                    "seconds": float(row.get("seconds") or 0), "bytes": int(row.get("bytes") or 0),
                    "chunks": int(row.get("chunks") or 0), "encoding": row.get("encoding", ""),
                    "sha256": row.get("sha256", ""),
                    "evidence": [e for e in (row.get("evidence") or "").split("; ") if e],
                })
    except (ValueError, KeyError, AttributeError) as e:
        raise UsageError(f"cannot resume from {path}: it is not a classify output ({e})",
                         hint="remove the file or pick another -o") from e
    return {r["path"]: r for r in records if isinstance(r, dict) and "path" in r}
