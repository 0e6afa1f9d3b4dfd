"""What the store hands to every layer above it: a verified model on local disk.

The classes live in :mod:`localmodels.sources.base` (sources build them); the store re-exports them.
"""

from __future__ import annotations

from ..sources.base import FileRecord, LocalModel

__all__ = ["FileRecord", "LocalModel"]
