"""Compare what a lock pins with what is on this machine (``localmodels check``; never the network).

- :func:`locate` finds the folder holding a locked model's files;
- :func:`compare_files` checks each locked file's size and sha256 against it;
- :func:`check` does both for every model of a lock, on a bounded pool of threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .. import config
from ..sources.base import FileProblem, FileRecord
from ..sources.verify import check_files
from .lock_format import Lock, LockedFile, LockedModel
from .manifest import ModelSpec
from .pins import pinning_for, spec_ref
from .sync_report import Report, SyncStatus, lock_problem

T = TypeVar("T")
DEFAULT_WORKERS = 4


def parallel(items: list[Any], fn: Callable[[Any], T], workers: int) -> list[T]:
    """``fn`` over ``items`` on at most ``workers`` threads, results in order."""
    workers = max(1, min(workers, len(items) or 1))
    if workers == 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="localmodels-sync") as pool:
        return list(pool.map(fn, items))


def locked_ref(model: LockedModel, root: Path) -> str:
    """The reference that names exactly what the lock entry pinned: ``org/name@COMMIT`` for a Hub
    model, ``pypi:PACKAGE`` for a carrier, the folder for a local model."""
    return pinning_for(model).locked_ref(model, root)


def pinned_spec_ref(spec: ModelSpec, root: Path) -> str:
    """:func:`spec_ref` with the manifest's pinned revision (``name@rev``), for a lookup in the store."""
    ref = spec_ref(spec, root)
    return f"{ref}@{spec.pinned_revision}" if spec.pinned_revision else ref


def locate(model: LockedModel, root: Path) -> Path | None:
    """The folder holding a locked model's files on this machine (no network), or None."""
    return pinning_for(model).locate(model, root)


def compare_files(folder: Path, files: Iterable[LockedFile], known: dict[str, str] | None = None
                  ) -> list[FileProblem]:
    """Each locked file's size and sha256 against the file in ``folder`` (the one verify flow,
    :func:`~localmodels.sources.verify.check_files`); ``known`` maps paths to digests the store
    computed from those very files moments ago (so they are not hashed again)."""
    expected = [FileRecord(f.path, f.size, f.sha256) for f in files]
    return check_files(folder, expected, known=known).problems


def check_model(model: LockedModel, root: Path, *, pulled: Any = None) -> SyncStatus:
    """The locked model on this machine against the lock. ``pulled``: the LocalModel a pull just
    returned; its files' sha256, computed by the pull's own check, are used instead of hashing again."""
    start = time.monotonic()
    st = SyncStatus(model.name, model.ref, model.required, "ok", source=model.resolved,
                    files=len(model.file), size=model.size)
    folder = locate(model, root)
    if folder is None:
        st.status, st.detail = "missing", "not in the store"
    else:
        st.path = str(folder)
        known = None
        if pulled is not None and Path(pulled.path).resolve() == folder.resolve():
            known = {f.path: f.sha256 for f in pulled.files if f.sha256}
        st.problems = compare_files(folder, model.file, known)
        if any(p.kind != "missing" for p in st.problems):
            st.status = "corrupt"
            st.detail = "; ".join(f"{p.path}: {lock_problem(p)}" for p in st.problems[:3])
        elif st.problems:
            st.status = "missing"
            st.detail = f"{len(st.problems)} file(s) missing: " + ", ".join(p.path for p in st.problems[:3])
    st.seconds = time.monotonic() - start
    return st


def check(lock: Lock, root: Path, *, workers: int = DEFAULT_WORKERS) -> Report:
    """Every locked model present, every file's sha256 equal to the lock. No network."""
    results = parallel(sorted(lock.model, key=lambda m: m.name), lambda m: check_model(m, root), workers)
    return Report(results, offline=config.offline())
