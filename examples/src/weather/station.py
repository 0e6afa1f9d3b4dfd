"""Stations and their readings: parsing, validation and polling."""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)

LIMITS = {"temperature_c": (-60.0, 60.0), "humidity_pct": (0.0, 100.0), "pressure_hpa": (850.0, 1100.0)}


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    url: str
    latitude: float
    longitude: float
    altitude_m: float = 0.0


@dataclass(frozen=True)
class Reading:
    station: str
    time: datetime
    temperature_c: float
    humidity_pct: float | None
    pressure_hpa: float

    def sea_level_pressure(self, altitude_m: float) -> float:
        """Reduce station pressure to sea level with the barometric formula."""
        return self.pressure_hpa * (1 - 0.0065 * altitude_m / (self.temperature_c + 0.0065 * altitude_m + 273.15)) ** -5.257


class InvalidReading(ValueError):
    pass


def load_stations(path: str | Path) -> list[Station]:
    with open(path, encoding="utf-8") as fh:
        return [Station(**entry) for entry in json.load(fh)["stations"]]


def parse_reading(station: Station, payload: dict) -> Reading:
    """Turn a station's JSON payload into a validated :class:`Reading`."""
    values = {}
    for key, (low, high) in LIMITS.items():
        value = payload.get(key)
        if value is None and key == "humidity_pct":
            values[key] = None
            continue
        if value is None or not low <= float(value) <= high:
            raise InvalidReading(f"{station.id}: {key}={value!r} outside {low}..{high}")
        values[key] = float(value)
    when = datetime.fromisoformat(payload["time"]).astimezone(timezone.utc)
    return Reading(station=station.id, time=when, **values)


def poll(station: Station, timeout: float = 5.0) -> Reading | None:
    """Fetch one reading; network and validation problems are logged, not raised."""
    try:
        with urllib.request.urlopen(station.url, timeout=timeout) as resp:
            payload = json.load(resp)
        return parse_reading(station, payload)
    except (OSError, InvalidReading, KeyError, ValueError) as exc:
        log.warning("station %s: %s", station.id, exc)
        return None
