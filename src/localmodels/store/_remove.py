"""``remove``: each source deletes what the store owns of its model.

Hub: the snapshot (all of the repo's snapshots without ``@rev``), refs to it and the blobs no
other snapshot uses. Local folder / PyPI carrier: only our record (and a GGUF we assembled).
"""

from __future__ import annotations

from typing import Any

from ..errors import NotInStoreError
from ..sources.registry import source_for
from ._resolve import parse_spec, specs_of


def remove(ref: str, *, dry_run: bool = False) -> list[dict[str, Any]]:
    """Remove a model from the store; returns what was (or, with ``dry_run``, would be) removed.

    Hub: the snapshot (all of the repo's snapshots without ``@rev``), refs to it and the blobs no
    other snapshot uses. Local folder / PyPI carrier: only our record (and a GGUF we assembled).
    """
    removed: list[dict[str, Any]] = []
    for spec in specs_of(parse_spec(ref)):
        removed += source_for(spec).remove(spec, dry_run=dry_run)
    if not removed:
        raise NotInStoreError(ref)
    return removed
