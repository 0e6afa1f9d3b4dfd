"""weather-station: collect readings from home weather stations and forecast the next hours."""

from .forecast import Forecast, forecast
from .station import Reading, Station, load_stations

__all__ = ["Forecast", "Reading", "Station", "forecast", "load_stations"]
__version__ = "0.4.0"
