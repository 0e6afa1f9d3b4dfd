from datetime import timezone

import pytest

from weather.station import InvalidReading, Station, parse_reading

STATION = Station(id="backyard", name="Backyard", url="http://127.0.0.1:9/", latitude=52.5, longitude=13.4,
                  altitude_m=34.0)


def payload(**overrides):
    base = {"time": "2026-10-01T12:00:00+02:00", "temperature_c": 18.5, "humidity_pct": 61, "pressure_hpa": 1012.3}
    base.update(overrides)
    return base


def test_parse_converts_time_to_utc():
    reading = parse_reading(STATION, payload())
    assert reading.time.tzinfo == timezone.utc
    assert reading.time.hour == 10


def test_missing_humidity_is_allowed():
    assert parse_reading(STATION, payload(humidity_pct=None)).humidity_pct is None


@pytest.mark.parametrize("field,value", [("temperature_c", 75), ("pressure_hpa", 700), ("humidity_pct", 140)])
def test_out_of_range_values_are_rejected(field, value):
    with pytest.raises(InvalidReading):
        parse_reading(STATION, payload(**{field: value}))


def test_sea_level_pressure_is_higher_above_sea_level():
    reading = parse_reading(STATION, payload())
    assert reading.sea_level_pressure(500) > reading.pressure_hpa
