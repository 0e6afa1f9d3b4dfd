"""A deliberately simple forecast: a recent linear trend blended with an hourly seasonal mean."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from statistics import mean

from .station import Reading

MIN_READINGS = 12


@dataclass(frozen=True)
class Forecast:
    hour: int
    temperature_c: float
    low: float
    high: float


def _trend(readings: list[Reading]) -> tuple[float, float]:
    """Least-squares slope (°C per hour) and intercept over the readings."""
    t0 = readings[0].time
    xs = [(r.time - t0) / timedelta(hours=1) for r in readings]
    ys = [r.temperature_c for r in readings]
    mx, my = mean(xs), mean(ys)
    var = sum((x - mx) ** 2 for x in xs) or 1.0
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var
    return slope, my - slope * mx + slope * xs[-1]


def _seasonal(history: list[Reading], hour: int) -> float | None:
    same_hour = [r.temperature_c for r in history if r.time.hour == hour]
    return mean(same_hour) if same_hour else None


def forecast(recent: list[Reading], history: list[Reading], hours: int = 6) -> list[Forecast]:
    """Forecast the next ``hours`` hours; raises ValueError with too few readings."""
    if len(recent) < MIN_READINGS:
        raise ValueError(f"need at least {MIN_READINGS} recent readings, got {len(recent)}")
    slope, last = _trend(recent)
    out = []
    for h in range(1, hours + 1):
        trend_value = last + slope * h
        when = recent[-1].time + timedelta(hours=h)
        seasonal = _seasonal(history, when.hour)
        weight = max(0.0, 1.0 - h / (hours + 1))
        value = trend_value if seasonal is None else weight * trend_value + (1 - weight) * seasonal
        spread = 0.5 + 0.4 * h
        out.append(Forecast(h, round(value, 1), round(value - spread, 1), round(value + spread, 1)))
    return out
