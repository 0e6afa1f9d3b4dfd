"""Readings on disk: one CSV file per station and day, written atomically."""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .station import Reading

ROOT = Path(os.environ.get("WEATHER_STORAGE_PATH", "data"))
FIELDS = ["station", "time", "temperature_c", "humidity_pct", "pressure_hpa"]


def _file(station: str, day: datetime) -> Path:
    return ROOT / station / f"{day:%Y-%m-%d}.csv"


def append(reading: Reading) -> None:
    """Add a reading to its day file (rewritten through a temporary file, then renamed)."""
    path = _file(reading.station, reading.time)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = _read(path)
    rows.append(reading)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        for r in rows:
            writer.writerow([r.station, r.time.isoformat(), r.temperature_c, r.humidity_pct, r.pressure_hpa])
    os.replace(tmp, path)


def _read(path: Path) -> list[Reading]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [
            Reading(row["station"], datetime.fromisoformat(row["time"]), float(row["temperature_c"]),
                    float(row["humidity_pct"]) if row["humidity_pct"] else None, float(row["pressure_hpa"]))
            for row in csv.DictReader(fh)
        ]


def load_recent(station: str, hours: int = 24) -> list[Reading]:
    now = datetime.now(timezone.utc)
    days = {now - timedelta(days=d) for d in (0, 1)}
    rows = [r for day in sorted(days) for r in _read(_file(station, day))]
    return [r for r in rows if r.time >= now - timedelta(hours=hours)]


def load_history(station: str, days: int = 7) -> list[Reading]:
    now = datetime.now(timezone.utc)
    return [r for d in range(days) for r in _read(_file(station, now - timedelta(days=d)))]
