"""The store's metadata records (kept in :mod:`localmodels.sources._records`, which writes them)."""

from __future__ import annotations

from ..sources._records import *  # noqa: F401,F403
from ..sources._records import (  # noqa: F401  (names with a leading underscore or used by tests)
    Record,
    all_records,
    delete,
    hub_key,
    hub_lock_key,
    load,
    load_file,
    local_key,
    lock,
    now_iso,
    parse_iso,
    pypi_key,
)
