"""The catalog of models localmodels knows: typed records loaded from ``catalog.json``."""

from __future__ import annotations

from ._catalog import MATRYOSHKA_IDS, Catalog, ModelEntry, Source, catalog, find_entry, is_matryoshka

__all__ = ["MATRYOSHKA_IDS", "Catalog", "ModelEntry", "Source", "catalog", "find_entry", "is_matryoshka"]
