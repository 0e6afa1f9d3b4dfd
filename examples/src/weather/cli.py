"""The ``weather`` command line tool."""

from __future__ import annotations

import argparse
import sys

from .forecast import forecast
from .station import load_stations, poll


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="weather", description="Home weather stations.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_poll = sub.add_parser("poll", help="poll every station once")
    p_poll.add_argument("--stations", default="data/stations.json")
    p_fc = sub.add_parser("forecast", help="forecast the next hours for a station")
    p_fc.add_argument("station")
    p_fc.add_argument("--hours", type=int, default=6)
    args = parser.parse_args(argv)

    if args.command == "poll":
        for station in load_stations(args.stations):
            reading = poll(station)
            if reading is not None:
                print(f"{station.id:12} {reading.temperature_c:6.1f} °C {reading.pressure_hpa:7.1f} hPa")
        return 0
    if args.command == "forecast":
        from .storage import load_recent, load_history  # imported lazily: reads the data folder

        try:
            rows = forecast(load_recent(args.station), load_history(args.station), hours=args.hours)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for row in rows:
            print(f"+{row.hour}h  {row.temperature_c:5.1f} °C  ({row.low} .. {row.high})")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
