"""The catalog of models localmodels knows: typed records loaded from ``catalog.json``."""

from __future__ import annotations

from ._catalog import Catalog, ModelEntry, Source, catalog, find_entry

__all__ = ["Catalog", "ModelEntry", "Source", "catalog", "find_entry"]
