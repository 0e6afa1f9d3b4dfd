"""Plan what a project's models are made of: ``localmodels lock``.

:func:`lock_manifest` resolves every manifest entry (pulling what is missing, at the commit the
entry's revision names on the Hub now) and records the source, commit and every file's size and
sha256; entries whose manifest table did not change are kept; optional models that cannot be
resolved are recorded as left out. :func:`stale_entries` says which entries a lock no longer matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import config
from ..errors import LocalModelsError
from ..sources._files import sha256_file
from ..sources._hflayout import matches
from ..sources.base import FileRecord
from .lock_format import Lock, LockedFile, LockedModel, SkippedModel
from .manifest import Manifest, ModelSpec
from .pins import Pinning, pinning_for, ref_kind, store_resolve
from .sync_apply import DEFAULT_ATTEMPTS, _pull_spec, with_retry_policy
from .sync_compare import DEFAULT_WORKERS, parallel, pinned_spec_ref


@dataclass
class LockOutcome:
    lock: Lock
    resolved: list[str]  # names resolved now
    reused: list[str]  # names kept from the previous lock
    skipped: list[tuple[str, str]]  # optional names that could not be resolved, with the reason


def locked_from(spec: ModelSpec, lm: Any, root: Path) -> LockedModel:
    """Turn a resolved :class:`LocalModel` into a lock entry (hashing files the store did not)."""
    folder = Path(lm.path)
    records = list(getattr(lm, "files", None) or [])
    if not records:
        from ..sources.local import list_files

        records = [FileRecord(p, (folder / p).stat().st_size) for p in list_files(folder)]
    files = []
    for f in records:
        digest = getattr(f, "sha256", None) or sha256_file(folder / f.path)
        files.append(LockedFile(path=f.path, size=int(f.size), sha256=digest))
    files.sort(key=lambda f: f.path)
    if spec.include or spec.exclude:  # the store applies patterns to Hub pulls; folders are taken whole
        files = [f for f in files if matches(f.path, spec.include or None, spec.exclude or None)]
    entry: dict[str, Any] = {
        **manifest_fields(spec), "required": spec.required, "file": files, **pinning_for(lm).lock_fields(spec, lm),
    }
    return LockedModel.model_validate(entry)


def lock_manifest(manifest: Manifest, *, previous: Lock | None = None, upgrade: bool = False,
                  workers: int = DEFAULT_WORKERS, offline: bool | None = None,
                  attempts: int = DEFAULT_ATTEMPTS, backoff: float = 1.0) -> LockOutcome:
    """Resolve every manifest entry to a lock entry; entries whose table did not change are reused.

    Models not in the store are pulled (in offline mode only the store is read). A required model
    that cannot be resolved raises; an optional one is left out of the lock with a warning.
    """
    offline = config.offline() if offline is None else offline
    root = manifest.root
    reused: list[str] = []
    todo: list[ModelSpec] = []
    entries: dict[str, LockedModel] = {}
    for spec in manifest.models:
        old = previous.get(spec.name) if previous else None
        if old is not None and not upgrade and old.spec_key() == spec.spec_key():
            entries[spec.name] = old.model_copy(update={"required": spec.required})
            reused.append(spec.name)
        else:
            todo.append(spec)

    def resolve_one(spec: ModelSpec) -> tuple[ModelSpec, LockedModel | None, BaseException | None]:
        try:
            if offline:
                lm = store_resolve(pinned_spec_ref(spec, root))
            else:
                lm, _ = with_retry_policy(lambda: _pull_spec(spec, root, commit=_remote_commit(spec)),
                                     attempts=attempts, backoff=backoff)
            return spec, locked_from(spec, lm, root), None
        except Exception as e:  # noqa: BLE001 - reported below
            return spec, None, e

    skipped: list[tuple[str, str]] = []
    for spec, entry, error in parallel(todo, resolve_one, workers):
        if entry is not None:
            entries[spec.name] = entry
            continue
        assert error is not None
        if spec.required:
            if isinstance(error, LocalModelsError):
                error.message = f"cannot lock {spec.name!r}: {error.message}"
                error.args = (error.message,)
            raise error
        skipped.append((spec.name, getattr(error, "message", str(error))))
    left_out = [SkippedModel(**manifest_fields(manifest.get(n))) for n, _ in sorted(skipped)]
    lock = Lock(model=[entries[n] for n in sorted(entries)], skipped=left_out)
    return LockOutcome(lock, sorted(s.name for s in todo if s.name in entries), sorted(reused), skipped)


def manifest_fields(spec: ModelSpec | None) -> dict[str, Any]:
    """The manifest table's fields a lock entry keeps (``allow_pickle`` only when true)."""
    assert spec is not None
    return {"name": spec.name, "ref": spec.ref, "revision": spec.revision, "include": spec.include,
            "exclude": spec.exclude, "quant": spec.quant, "allow_pickle": spec.allow_pickle or None}


def stale_entries(manifest: Manifest, lock: Lock) -> list[str]:
    """Names whose manifest table differs from the lock (or that only one of them has). An optional
    model the lock records as left out (``[[skipped]]``) counts as locked while its table is unchanged."""
    names = {s.name for s in manifest.models} | {m.name for m in lock.model} | {m.name for m in lock.skipped}
    out = []
    for n in sorted(names):
        s = manifest.get(n)
        m = lock.get(n) or (lock.get_skipped(n) if s is not None and not s.required else None)
        if s is None or m is None or s.spec_key() != m.spec_key():
            out.append(n)
    return out


def _pin_target(spec: ModelSpec) -> tuple[Pinning, str] | None:
    """The pinning and name a manifest entry is fetched with when its source has commits (for a
    catalog alias: its first such source), else None."""
    from ..refs import parse_ref
    from ..registry import find_entry

    kind = ref_kind(spec.ref)
    if kind != "alias" and not pinning_for(kind).pins_commits:
        return None  # a folder, a carrier, another tool's store (ollama:, lmstudio: ...): no commit to pin
    r = parse_ref(spec.ref)
    entry = find_entry(r.name)
    if r.kind != "alias" and (entry is None or entry.id.lower() != r.name.lower()):
        pin = pinning_for(r.kind)
        return (pin, r.name) if pin.pins_commits else None
    if entry is None:
        return None
    if not spec.pinned_revision and entry.sources and not pinning_for(entry.sources[0]).pins_commits:
        return None  # the catalog prefers another source: let pull pick
    s = next((s for s in entry.sources if pinning_for(s).pins_commits and s.repo_id), None)
    return (pinning_for(s), s.repo_id) if s is not None else None


def _remote_commit(spec: ModelSpec) -> str | None:
    """The commit the entry's revision names at its source now (one request), so a lock never pins
    an older copy that happens to be in the cache. None for sources without commits."""
    target = _pin_target(spec)
    if target is None:
        return None
    pin, name = target
    try:
        return pin.remote_commit(name, spec.pinned_revision or None)
    except (LocalModelsError, OSError):
        if _is_alias(spec):
            return None  # the catalog has other sources: let pull try them in order
        raise


def _is_alias(spec: ModelSpec) -> bool:
    return ref_kind(spec.ref) == "alias"
