from datetime import datetime, timedelta, timezone

import pytest

from weather.forecast import MIN_READINGS, forecast
from weather.station import Reading

START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def readings(n, slope=0.5, base=10.0):
    return [Reading("s", START + timedelta(hours=i), base + slope * i, 50.0, 1010.0) for i in range(n)]


def test_needs_enough_readings():
    with pytest.raises(ValueError, match="at least"):
        forecast(readings(MIN_READINGS - 1), [])


def test_follows_a_rising_trend_without_history():
    rows = forecast(readings(24), [], hours=3)
    assert [r.hour for r in rows] == [1, 2, 3]
    assert rows[0].temperature_c < rows[1].temperature_c < rows[2].temperature_c


def test_band_widens_with_horizon():
    rows = forecast(readings(24), readings(24 * 7, slope=0.0), hours=6)
    widths = [r.high - r.low for r in rows]
    assert widths == sorted(widths)
