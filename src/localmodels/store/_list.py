"""``list_models`` and ``info``: what the store knows, from the records and from each source."""

from __future__ import annotations

from typing import Any

from ..sources import _records as rec
from ..sources.base import ModelStatus
from ..sources.registry import source_for, sources
from ._resolve import find_entry, resolve


def _aliases(entry_id: str | None) -> list[str]:
    if not entry_id:
        return []
    e = find_entry(entry_id)
    return list(e.aliases) if e else []


def list_models() -> list[ModelStatus]:
    """Every model the store knows: our records, then what each source finds on disk without a
    record (Hub snapshots other tools downloaded, installed PyPI carriers of catalog models...)."""
    out: list[ModelStatus] = []
    for r in rec.all_records():
        out.append(ModelStatus(
            name=r.name, source=r.source, path=r.path, size=r.size,
            status="incomplete" if r.missing_or_changed() else "ok", served_by=r.served_by,
            aliases=_aliases(r.entry_id), commit=r.commit, revision=r.revision, license=r.license,
            pulled_at=r.pulled_at or None, last_used=r.last_used or None, key=r.key, ref=r.ref,
        ))
    for src in sources():
        out += src.unrecorded(out)
    return _one_row_per_model(out)


def _one_row_per_model(rows: list[ModelStatus]) -> list[ModelStatus]:
    """Copies of one model from different sources (a Hub snapshot and an installed carrier of the
    same catalog entry) make one row: the first, naming the others in ``also_served_by``. Two
    revisions from one source stay two rows."""
    first: dict[str, int] = {}
    out: list[ModelStatus] = []
    for row in rows:
        at = first.get(row.name)
        if at is not None and out[at].source != row.source:
            kept, other = out[at], row
            if row.commit and not kept.commit:  # a row pinned to a commit is the better one to show
                kept, other = row, out[at]
                kept.also_served_by = [*other.also_served_by]
                out[at] = kept
            label = other.served_by or other.source
            if label not in kept.also_served_by:
                kept.also_served_by.append(label)
            continue
        first.setdefault(row.name, len(out))
        out.append(row)
    return out


def info(ref: str) -> dict[str, Any]:
    """Everything about a present model (record + catalog entry); NotInStoreError otherwise."""
    m = resolve(ref)
    data = source_for(m).describe(m)
    data["key"] = m.key
    data["present"] = True
    if m.entry is not None:
        e = m.entry
        data["catalog"] = {
            "id": e.id, "aliases": e.aliases, "task": e.task, "architecture": e.architecture,
            "formats": e.formats, "runtime": e.runtime, "license": e.license,
            "license_restricts_commercial": e.license_restricts_commercial, "gated": e.gated,
            "dims": e.dims, "languages": e.languages, "sources": [s.describe() for s in e.sources],
            "notes": e.notes, "base_model": e.base_model,
        }
    return data
