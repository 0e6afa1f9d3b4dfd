"""Lock, sync and check a project's models (``localmodels lock | sync | check``).

- :func:`lock_manifest` resolves every manifest entry (pulling what is missing) and records the
  source, commit and every file's size and sha256.
- :func:`sync` fetches what a lock (or a manifest) names, with a bounded pool of worker threads
  calling :func:`localmodels.store.pull`, retrying with exponential backoff and jitter; in offline
  mode it makes no network request and only checks.
- :func:`check` hashes every locked file and compares it with the lock (never touches the network).

Exit codes (``Report.exit_code``): 0 all required models good, 1 a required model missing or not
fetchable, 2 a required model corrupt (a file whose size or sha256 differs from the lock).
Problems with optional models (``required = false``) are warnings and never change the exit code.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, TypeVar

from .. import config
from ..errors import (
    AccessError, IntegrityError, InvalidReferenceError, LocalModelsError, ModelNotFoundError,
    NotInStoreError, OfflineError, UnsafeFileError, UsageError,
)
from ..sources._files import sha256_file
from ..sources._hflayout import escape_pattern, matches, snapshot_folder
from .lockfile import Lock, LockedFile, LockedModel
from .manifest import Manifest, ModelSpec, is_folder_ref, ref_name, ref_revision

Status = Literal["ok", "fetched", "missing", "corrupt", "failed"]
T = TypeVar("T")
DEFAULT_WORKERS = 4
DEFAULT_ATTEMPTS = 3

# Errors that another attempt cannot fix.
_PERMANENT = (AccessError, ModelNotFoundError, UsageError, UnsafeFileError, OfflineError)


@dataclass
class FileProblem:
    path: str
    problem: str  # "missing" | "size ..." | "sha256 ..."


@dataclass
class ModelStatus:
    name: str
    ref: str
    required: bool
    status: Status
    source: str = ""
    detail: str = ""
    files: int = 0
    size: int = 0
    seconds: float = 0.0
    attempts: int = 0
    path: str | None = None
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def good(self) -> bool:
        return self.status in ("ok", "fetched")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        return d


@dataclass
class Report:
    results: list[ModelStatus]
    offline: bool = False

    @property
    def exit_code(self) -> int:
        required = [r for r in self.results if r.required]
        if any(r.status == "corrupt" for r in required):
            return 2
        if any(not r.good for r in required):
            return 1
        return 0

    @property
    def warnings(self) -> list[ModelStatus]:
        return [r for r in self.results if not r.required and not r.good]

    def as_dict(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "offline": self.offline,
                "models": [r.as_dict() for r in self.results]}


# ---- store adapter ------------------------------------------------------------------------------

def _store_pull(ref: str, **kwargs: Any):
    from . import pull

    return pull(ref, **kwargs)


def _store_resolve(ref: str):
    from . import resolve

    return resolve(ref, offline=True)


def spec_ref(spec: ModelSpec | LockedModel, root: Path) -> str:
    """The reference to hand to the store (folder references are relative to the manifest)."""
    ref = spec.ref
    if is_folder_ref(ref):
        p = Path(ref).expanduser()
        return str(p if p.is_absolute() else (root / p).resolve())
    return ref_name(ref)


def pinned_spec_ref(spec: ModelSpec, root: Path) -> str:
    """:func:`spec_ref` with the manifest's pinned revision (``name@rev``), for a lookup in the store."""
    ref = spec_ref(spec, root)
    return f"{ref}@{spec.pinned_revision}" if spec.pinned_revision else ref


def locked_ref(model: LockedModel, root: Path) -> str:
    """The reference that names exactly what the lock entry pinned: ``org/name@COMMIT`` for a Hub
    model, ``pypi:PACKAGE`` for a carrier, the folder for a local model."""
    if model.source == "hub" and model.repo_id and model.commit:
        return f"{model.repo_id}@{model.commit}"
    if model.source == "pypi" and model.package:
        return f"pypi:{model.package}"
    return spec_ref(model, root)


# ---- retry ----------------------------------------------------------------------------------------

def with_retries(fn: Callable[[], T], *, attempts: int = DEFAULT_ATTEMPTS, backoff: float = 1.0,
                 max_delay: float = 30.0, on_retry: Callable[[int, BaseException], None] | None = None
                 ) -> tuple[T, int]:
    """Call ``fn`` until it succeeds; exponential backoff (x2 each time, 50-100% jitter) between attempts.

    Errors that another attempt cannot fix (access, not found, bad input, offline) are raised at
    once. Returns (result, attempts used).
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(), attempt
        except _PERMANENT:
            raise
        except (LocalModelsError, OSError, ConnectionError, TimeoutError) as e:
            if attempt >= attempts:
                raise
            if on_retry:
                on_retry(attempt, e)
            delay = min(max_delay, backoff * (2 ** (attempt - 1)))
            time.sleep(delay * (0.5 + random.random() / 2))


def _parallel(items: list[Any], fn: Callable[[Any], T], workers: int) -> list[T]:
    workers = max(1, min(workers, len(items) or 1))
    if workers == 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="localmodels-sync") as pool:
        return list(pool.map(fn, items))


# ---- check ----------------------------------------------------------------------------------------

def locate(model: LockedModel, root: Path) -> Path | None:
    """The folder holding a locked model's files on this machine (no network), or None."""
    if model.source == "hub" and model.repo_id and model.commit:
        folder = snapshot_folder(model.repo_id, model.commit)
        return folder if folder.is_dir() else None
    if model.source == "local":
        folder = Path(spec_ref(model, root))
        return folder if folder.is_dir() else None
    try:
        return Path(_store_resolve(locked_ref(model, root)).path)
    except (NotInStoreError, ModelNotFoundError, InvalidReferenceError, IntegrityError):
        return None


def compare_files(folder: Path, files: Iterable[LockedFile], known: dict[str, str] | None = None
                  ) -> list[FileProblem]:
    """Each locked file's size and sha256 against the file in ``folder``; ``known`` maps paths to
    digests the store computed from those very files moments ago (so they are not hashed again)."""
    problems = []
    for f in files:
        p = folder / f.path
        try:
            size = p.stat().st_size
        except OSError:
            problems.append(FileProblem(f.path, "missing"))
            continue
        if size != f.size:
            problems.append(FileProblem(f.path, f"size {size}, lock says {f.size}"))
            continue
        digest = (known or {}).get(f.path) or sha256_file(p)
        if digest != f.sha256:
            problems.append(FileProblem(f.path, f"sha256 {digest[:12]}..., lock says {f.sha256[:12]}..."))
    return problems


def check_model(model: LockedModel, root: Path, *, pulled: Any = None) -> ModelStatus:
    """The locked model on this machine against the lock. ``pulled``: the LocalModel a pull just
    returned; its files' sha256, computed by the pull's own check, are used instead of hashing again."""
    start = time.monotonic()
    st = ModelStatus(model.name, model.ref, model.required, "ok", source=model.resolved,
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
        if any(p.problem != "missing" for p in st.problems):
            st.status = "corrupt"
            st.detail = "; ".join(f"{p.path}: {p.problem}" for p in st.problems[:3])
        elif st.problems:
            st.status = "missing"
            st.detail = f"{len(st.problems)} file(s) missing: " + ", ".join(p.path for p in st.problems[:3])
    st.seconds = time.monotonic() - start
    return st


def check(lock: Lock, root: Path, *, workers: int = DEFAULT_WORKERS) -> Report:
    """Every locked model present, every file's size and sha256 equal to the lock. No network."""
    results = _parallel(sorted(lock.model, key=lambda m: m.name), lambda m: check_model(m, root), workers)
    return Report(results, offline=config.offline())


# ---- sync -----------------------------------------------------------------------------------------

def _pull_locked(model: LockedModel, root: Path, *, force: bool) -> Any:
    ref = spec_ref(model, root)
    if model.source == "hub":
        return _store_pull(ref, revision=model.commit, allow_patterns=[escape_pattern(f.path) for f in model.file],
                           allow_pickle=bool(model.allow_pickle), force=force)
    if model.source == "pypi":
        return _store_pull(locked_ref(model, root), install=True, force=force)
    return _store_pull(ref, force=force)


def _point_ref(model: LockedModel) -> None:
    """Let ``refs/<revision>`` (``main`` by default) name the locked commit when the cache has no
    other snapshot for it, so tools that load ``org/name`` offline (transformers,
    sentence-transformers, ``HF_HUB_OFFLINE=1``) find the locked files."""
    if model.source != "hub" or not model.repo_id or not model.commit:
        return
    from .bundle import write_ref

    try:
        write_ref(model.repo_id, model.revision or ref_revision(model.ref) or "main", model.commit)
    except OSError:
        pass


def sync_model(model: LockedModel, root: Path, *, offline: bool, attempts: int, backoff: float) -> ModelStatus:
    start = time.monotonic()
    before = check_model(model, root)
    if before.good or offline:
        if offline and not before.good:
            before.detail = (before.detail + "; " if before.detail else "") + "offline: not fetched"
        if before.good and not offline:
            _point_ref(model)
        return before
    try:
        pulled, used = with_retries(lambda: _pull_locked(model, root, force=before.status == "corrupt"),
                                    attempts=attempts, backoff=backoff)
    except LocalModelsError as e:
        st = ModelStatus(model.name, model.ref, model.required, "failed", source=model.resolved,
                         detail=e.message, files=len(model.file), size=model.size,
                         attempts=attempts if not isinstance(e, _PERMANENT) else 1)
        st.seconds = time.monotonic() - start
        return st
    except Exception as e:  # noqa: BLE001 - a worker must report, not crash the pool
        st = ModelStatus(model.name, model.ref, model.required, "failed", source=model.resolved,
                         detail=f"{type(e).__name__}: {e}", files=len(model.file), size=model.size,
                         attempts=attempts)
        st.seconds = time.monotonic() - start
        return st
    after = check_model(model, root, pulled=pulled if hasattr(pulled, "files") else None)
    after.attempts = used
    if after.good:
        after.status = "fetched"
        _point_ref(model)
    elif after.status == "corrupt":
        after.detail = "fetched files differ from the lock: " + after.detail
    after.seconds = time.monotonic() - start
    return after


def sync_spec(spec: ModelSpec, root: Path, *, offline: bool, attempts: int, backoff: float) -> ModelStatus:
    """Manifest-only sync (no lock): pull the entry as written, or check presence offline."""
    start = time.monotonic()
    st = ModelStatus(spec.name, spec.ref, spec.required, "ok")
    try:
        if offline:
            lm = _store_resolve(pinned_spec_ref(spec, root))
            st.attempts = 0
        else:
            lm, st.attempts = with_retries(lambda: _pull_spec(spec, root), attempts=attempts, backoff=backoff)
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


def _hub_repo(spec: ModelSpec) -> str | None:
    """The Hub repo a manifest entry pulls from (its first Hub source for a catalog alias)."""
    from ..refs import parse_ref
    from ..registry import find_entry

    if is_folder_ref(spec.ref) or spec.ref.startswith("pypi:"):
        return None
    r = parse_ref(spec.ref)
    if r.kind == "hub":
        entry = find_entry(r.name)
        if entry is None or entry.id.lower() != r.name.lower():
            return r.name
    elif r.kind != "alias":
        return None
    entry = find_entry(r.name)
    if entry is None:
        return None
    if not spec.pinned_revision and entry.sources and entry.sources[0].type != "hub":
        return None  # the catalog prefers another source: let pull pick
    return next((s.repo_id for s in entry.sources if s.type == "hub" and s.repo_id), None)


def _remote_commit(spec: ModelSpec) -> str | None:
    """The commit the entry's revision names on the Hub now (one request), so a lock never pins
    an older copy that happens to be in the cache. None for non-Hub entries."""
    repo = _hub_repo(spec)
    if repo is None:
        return None
    from ..sources.hub import remote_commit

    try:
        return remote_commit(repo, spec.pinned_revision or None)
    except (LocalModelsError, OSError):
        if _is_alias(spec):
            return None  # the catalog has other sources: let pull try them in order
        raise


def _is_alias(spec: ModelSpec) -> bool:
    from ..refs import parse_ref

    return parse_ref(spec.ref).kind == "alias"


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
    if spec.ref.startswith("pypi:"):
        kwargs["install"] = True
    return _store_pull(spec_ref(spec, root), **kwargs)


def sync(target: Lock | Manifest, root: Path, *, workers: int = DEFAULT_WORKERS, offline: bool | None = None,
         attempts: int = DEFAULT_ATTEMPTS, backoff: float = 1.0) -> Report:
    """Fetch every model of a lock (pinned commits, digests checked) or of a manifest."""
    if workers < 1:
        raise UsageError(f"--workers must be at least 1 (got {workers})")
    offline = config.offline() if offline is None else offline
    if isinstance(target, Lock):
        items: list[Any] = sorted(target.model, key=lambda m: m.name)
        results = _parallel(items, lambda m: sync_model(m, root, offline=offline, attempts=attempts,
                                                        backoff=backoff), workers)
    else:
        items = sorted(target.models, key=lambda m: m.name)
        results = _parallel(items, lambda s: sync_spec(s, root, offline=offline, attempts=attempts,
                                                       backoff=backoff), workers)
    return Report(results, offline=offline)


# ---- lock -----------------------------------------------------------------------------------------

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

        paths = list_files(folder)
        records = [type("F", (), {"path": p, "size": (folder / p).stat().st_size, "sha256": None})()
                   for p in paths]
    files = []
    for f in records:
        digest = getattr(f, "sha256", None) or sha256_file(folder / f.path)
        files.append(LockedFile(path=f.path, size=int(f.size), sha256=digest))
    files.sort(key=lambda f: f.path)
    if spec.include or spec.exclude:  # the store applies patterns to Hub pulls; folders are taken whole
        files = [f for f in files if matches(f.path, spec.include or None, spec.exclude or None)]
    source = lm.source if lm.source in ("hub", "pypi", "local") else "local"
    meta = dict(getattr(lm, "metadata", None) or {})
    entry: dict[str, Any] = {
        "name": spec.name, "ref": spec.ref, "revision": spec.revision, "include": spec.include,
        "exclude": spec.exclude, "quant": spec.quant, "allow_pickle": spec.allow_pickle or None,
        "required": spec.required, "source": source, "file": files,
    }
    if source == "hub":
        repo_id = meta.get("repo_id") or lm.name
        if not lm.commit:
            raise IntegrityError(f"{spec.name}: the store did not report a commit for {repo_id}")
        entry.update(repo_id=repo_id, commit=lm.commit, resolved=f"hub:{repo_id}@{lm.commit}")
    elif source == "pypi":
        package = meta.get("package") or lm.name
        version = meta.get("version")
        entry.update(package=package, package_version=version,
                     resolved=f"pypi:{package}" + (f"=={version}" if version else ""))
    else:
        entry["resolved"] = f"local:{spec.ref}"
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
                lm = _store_resolve(pinned_spec_ref(spec, root))
            else:
                lm, _ = with_retries(lambda: _pull_spec(spec, root, commit=_remote_commit(spec)),
                                     attempts=attempts, backoff=backoff)
            return spec, locked_from(spec, lm, root), None
        except Exception as e:  # noqa: BLE001 - reported below
            return spec, None, e

    skipped: list[tuple[str, str]] = []
    for spec, entry, error in _parallel(todo, resolve_one, workers):
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
    lock = Lock(model=[entries[n] for n in sorted(entries)])
    return LockOutcome(lock, sorted(s.name for s in todo if s.name in entries), sorted(reused), skipped)


def stale_entries(manifest: Manifest, lock: Lock) -> list[str]:
    """Names whose manifest table differs from the lock (or that only one of them has)."""
    names = {s.name for s in manifest.models} | {m.name for m in lock.model}
    out = []
    for n in sorted(names):
        s, m = manifest.get(n), lock.get(n)
        if s is None or m is None or s.spec_key() != m.spec_key():
            out.append(n)
    return out

