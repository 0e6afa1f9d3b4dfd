"""The lock file ``localmodels.lock``: exactly which files a project's models are made of.

Its format (TOML, deterministic, validated) lives in :mod:`.lock_format` and is re-exported here;
:func:`upgrade_pins` re-resolves chosen entries (``lock --upgrade NAME``) with :mod:`.sync_plan`.
"""

from __future__ import annotations

from typing import Any

from .lock_format import (
    LOCK_NAME,
    LOCK_VERSION,
    Lock,
    LockedFile,
    LockedModel,
    cache_key_of,
    default_lock_path,
    parse_lock,
    read_lock,
    write_lock,
)

__all__ = ["LOCK_NAME", "LOCK_VERSION", "Lock", "LockedFile", "LockedModel", "cache_key_of", "default_lock_path",
           "parse_lock", "read_lock", "upgrade_pins", "write_lock"]


def upgrade_pins(manifest: Any, previous: Lock | None, names: list[str], **kwargs: Any
                 ) -> tuple[Any, list[tuple[str, str | None, str | None]]]:
    """``lock --upgrade NAME``: re-resolve only the named models; every other entry keeps its pin.

    Returns the lock outcome (see ``sync.lock_manifest``) and ``(name, old pin, new pin)`` for each
    named model; a pin is the commit (PyPI: the package version; local: the resolved source).
    """
    from ..errors import UsageError
    from .sync_plan import lock_manifest

    unknown = [n for n in names if manifest.get(n) is None]
    if unknown:
        raise UsageError(f"{unknown[0]!r} is not a model of {manifest.path}",
                         hint="name a [models.NAME] table: " + ", ".join(s.name for s in manifest.models))
    kept = Lock(model=[m for m in previous.model if m.name not in names]) if previous else None
    outcome = lock_manifest(manifest, previous=kept, upgrade=False, **kwargs)

    def pin(m: LockedModel | None) -> str | None:
        return None if m is None else (m.commit or m.package_version or m.resolved)

    moves = [(n, pin(previous.get(n) if previous else None), pin(outcome.lock.get(n))) for n in names]
    return outcome, moves
