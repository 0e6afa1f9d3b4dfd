"""Fetch what a lock (or a manifest) names: ``localmodels sync``.

:func:`sync` runs :func:`sync_model` (a lock entry: pinned commit, digests compared with the lock)
or :func:`sync_spec` (a manifest entry as written) for every model on a bounded pool of threads.
A model already good is not fetched; in offline mode nothing is fetched and only the check runs.
Nothing here retries: ``attempts`` and ``backoff`` become the policy of the one retry layer
(:func:`~localmodels.sources._retry.retry_policy`) for the Hub calls a pull makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .. import config
from ..errors import IntegrityError, LocalModelsError, NotInStoreError, UsageError
from ..sources._retry import retry_policy
from .lock_format import Lock, LockedModel
from .manifest import Manifest, ModelSpec
from .pins import pinning_for, ref_kind, spec_ref, store_resolve
from .sync_compare import DEFAULT_WORKERS, check_model, parallel, pinned_spec_ref
from .sync_report import Report, SyncStatus

T = TypeVar("T")
DEFAULT_ATTEMPTS = 3


def _store_pull(ref: str, **kwargs: Any) -> Any:
    from . import pull

    return pull(ref, **kwargs)


def with_retry_policy(fn: Callable[[], T], *, attempts: int = DEFAULT_ATTEMPTS, backoff: float = 1.0) -> tuple[T, int]:
    """Call ``fn`` once, its Hub calls retried by the one retry layer (:mod:`..sources._retry`) with
    ``attempts`` tries and a first backoff of ``backoff`` seconds. Returns (result, most attempts
    one call needed)."""
    with retry_policy(attempts, backoff) as policy:
        result = fn()
    return result, max(1, policy.used)


def _pull_locked(model: LockedModel, root: Path, *, force: bool) -> Any:
    ref, kwargs = pinning_for(model).pull_args(model, root)
    return _store_pull(ref, force=force, **kwargs)


def sync_model(model: LockedModel, root: Path, *, offline: bool, attempts: int, backoff: float) -> SyncStatus:
    start = time.monotonic()
    before = check_model(model, root)
    if before.good or offline:
        if offline and not before.good:
            before.detail = (before.detail + "; " if before.detail else "") + "offline: not fetched"
        if before.good and not offline:
            pinning_for(model).point_ref(model)
        return before
    with retry_policy(attempts, backoff) as policy:
        try:
            pulled = _pull_locked(model, root, force=before.status == "corrupt")
        except Exception as e:  # noqa: BLE001 - a worker must report, not crash the pool
            detail = e.message if isinstance(e, LocalModelsError) else f"{type(e).__name__}: {e}"
            st = SyncStatus(model.name, model.ref, model.required, "failed", source=model.resolved,
                            detail=detail, files=len(model.file), size=model.size, attempts=max(1, policy.used))
            st.seconds = time.monotonic() - start
            return st
    after = check_model(model, root, pulled=pulled if hasattr(pulled, "files") else None)
    after.attempts = max(1, policy.used)
    if after.good:
        after.status = "fetched"
        pinning_for(model).point_ref(model)
    elif after.status == "corrupt":
        after.detail = "fetched files differ from the lock: " + after.detail
    after.seconds = time.monotonic() - start
    return after


def sync_spec(spec: ModelSpec, root: Path, *, offline: bool, attempts: int, backoff: float) -> SyncStatus:
    """Manifest-only sync (no lock): pull the entry as written, or check presence offline."""
    start = time.monotonic()
    st = SyncStatus(spec.name, spec.ref, spec.required, "ok")
    try:
        if offline:
            lm = store_resolve(pinned_spec_ref(spec, root))
            st.attempts = 0
        else:
            lm, st.attempts = with_retry_policy(lambda: _pull_spec(spec, root), attempts=attempts, backoff=backoff)
            st.status = "fetched"
        st.source, st.path = lm.source, str(lm.path)
        st.files, st.size = len(lm.files), sum(f.size for f in lm.files)
    except NotInStoreError as e:
        st.status, st.detail = "missing", e.message
    except IntegrityError as e:
        st.status, st.detail = "corrupt", e.message
    except Exception as e:  # noqa: BLE001
        st.status = "failed"
        st.detail = e.message if isinstance(e, LocalModelsError) else f"{type(e).__name__}: {e}"
    st.seconds = time.monotonic() - start
    return st


def _pull_spec(spec: ModelSpec, root: Path, *, commit: str | None = None):
    kwargs: dict[str, Any] = {}
    if commit or spec.pinned_revision:
        kwargs["revision"] = commit or spec.pinned_revision
    if spec.include:
        kwargs["allow_patterns"] = list(spec.include)
    if spec.exclude:
        kwargs["ignore_patterns"] = list(spec.exclude)
    if spec.quant:
        kwargs["quant"] = spec.quant
    if spec.allow_pickle:
        kwargs["allow_pickle"] = True
    kwargs.update(pinning_for(ref_kind(spec.ref)).pull_options)
    return _store_pull(spec_ref(spec, root), **kwargs)


def sync(target: Lock | Manifest, root: Path, *, workers: int = DEFAULT_WORKERS, offline: bool | None = None,
         attempts: int = DEFAULT_ATTEMPTS, backoff: float = 1.0) -> Report:
    """Fetch every model of a lock (pinned commits, digests checked) or of a manifest."""
    if workers < 1:
        raise UsageError(f"--workers must be at least 1 (got {workers})")
    offline = config.offline() if offline is None else offline
    if isinstance(target, Lock):
        if not offline:  # the whole lock must fit before any download starts
            from .plan import check_fits, plan_lock

            check_fits(plan_lock(target, root))
        items: list[Any] = sorted(target.model, key=lambda m: m.name)
        results = parallel(items, lambda m: sync_model(m, root, offline=offline, attempts=attempts,
                                                        backoff=backoff), workers)
    else:
        items = sorted(target.models, key=lambda m: m.name)
        results = parallel(items, lambda s: sync_spec(s, root, offline=offline, attempts=attempts,
                                                       backoff=backoff), workers)
    return Report(results, offline=offline)
