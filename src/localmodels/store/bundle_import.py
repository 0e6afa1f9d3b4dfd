"""``localmodels import``: verify a bundle completely, then place its models in the HF cache.

Import checks every entry's name and type first (see :func:`~.bundle_index.read_index`), extracts
into a temp folder inside the Hugging Face cache (same filesystem), verifies every size and sha256
(and that each blob name is the file's sha256 or git blob sha1), and only then moves the files into
place (see :mod:`.bundle_place`), rolled back on any error. Until that point nothing in the store
has changed. A bundle that would change a file of a commit the store already holds is refused
before extraction (:mod:`.bundle_trust`); a damaged or truncated archive is one clear error.
"""

from __future__ import annotations

import gzip
import lzma
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..errors import (
    InsufficientResourcesError,
    IntegrityError,
    InvalidReferenceError,
    UnsafeFileError,
    UsageError,
)
from ..sources import _records as rec
from ..sources import hashcache
from ..sources._files import sha256_file
from ..sources._hflayout import HEX40 as _HEX40
from ..sources._hflayout import HEX64 as _HEX64
from ..sources.base import FileProblem, FileRecord
from ..sources.hfcache import RepoFolder
from ..sources.registry import source_for
from ..sources.verify import check_files
from .bundle_index import BUNDLE_MANIFEST, BundleIndex, BundleModel, read_index
from .bundle_place import Placer, place, stage_repo, write_ref
from .bundle_trust import check_against_store

_TMP_PREFIX = ".localmodels-import-"


@dataclass
class ImportResult:
    models: list[str]  # "org/name@commit", or another store's ref ("ollama:gemma3:270m")
    files: int
    size: int
    placed_blobs: int
    lock: str | None = None
    unvouched: list[str] = field(default_factory=list)  # models checked against the bundle's digests only


def _verify_extracted(root: Path, index: BundleIndex) -> None:
    """Every extracted file a regular file with the size and sha256 of the index (the one verify
    flow), and its blob name its sha256 or git blob sha1."""
    for model in index.models:
        for f in model.files:
            p = root / model.member(f)
            if p.is_symlink() or not p.is_file():
                raise UnsafeFileError(f"refusing the bundle: {f.path} did not extract as a regular file")
        expected = [FileRecord(model.member(f), f.size, f.sha256) for f in model.files]
        git_sha1 = {model.member(f): f.blob for f in model.files if _HEX40.match(f.blob)}
        result = check_files(root, expected, git_sha1=git_sha1)
        by_member = {model.member(f): f for f in model.files}
        for problem in result.problems:
            f = by_member[problem.path]
            if problem.what == "git-sha1":
                digest = sha256_file(root / problem.path)  # which is wrong: the content, or the blob name?
                if digest == f.sha256:
                    raise IntegrityError(f"{f.path}: blob name {f.blob[:12]}... is not its git blob sha1",
                                         path=f.path)
                problem = FileProblem(problem.path, "corrupt", f.sha256, digest)
            got = f"{problem.what} {str(problem.actual)[:12]}..., expected {str(problem.expected)[:12]}..."
            raise IntegrityError(
                f"{model.repo_id}@{model.commit[:10]}: {f.path} fails its digest check ({got}); nothing was imported",
                path=f.path, expected=problem.expected, actual=problem.actual,
                hint="the bundle is damaged; export it again")
        for f in model.files:
            if _HEX64.match(f.blob) and f.blob != f.sha256:
                raise IntegrityError(f"{f.path}: blob name {f.blob[:12]}... is not its sha256", path=f.path)


def _clean_stale_temps(cache: Path) -> None:
    """Temp folders of imports whose process is gone (killed mid-import)."""
    if not cache.is_dir():
        return
    for d in cache.glob(_TMP_PREFIX + "*"):
        pid = d.name[len(_TMP_PREFIX):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


_DAMAGED = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError)


@contextmanager
def _damaged_archive(path: Path) -> Iterator[None]:
    """A tar or compressed stream that ends early or is garbled becomes one clear error (tarfile
    raises ReadError, gzip EOFError or zlib.error, wherever the damage is met while reading)."""
    try:
        yield
    except _DAMAGED as e:
        why = str(e) or type(e).__name__
        raise IntegrityError(f"the bundle {path} is damaged or truncated ({why}); nothing was imported",
                             hint="copy it again from where it was exported (compare its size and sha256), "
                                  "or export it again") from None


@contextmanager
def _terminate_raises() -> Iterator[None]:
    """SIGTERM becomes KeyboardInterrupt while importing, so the rollback runs (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt("terminated")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def import_bundle(path: str | Path, *, _fail_after_placing: int | None = None) -> ImportResult:
    """Verify a bundle completely, then place its models in the HF cache (see the module docstring).

    ``_fail_after_placing`` is a test hook: raise after that many models were placed, to prove the
    rollback.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no such bundle: {path}", hint="create one with: localmodels export -o models.tar --lock")
    cache = config.hub_cache()
    cache_existed = cache.exists()
    roots: dict[int, Path] = {}  # id(model) -> where it goes (the HF cache, or our copies of another store's)
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, *_DAMAGED) as e:
        raise UsageError(f"not a readable tar archive: {path} ({e})",
                         hint="a bundle is a .tar, .tar.gz or .tgz written by: localmodels export") from None
    with tar, _terminate_raises(), _damaged_archive(path):
        index, _members = read_index(tar)
        for m in index.models:
            roots[id(m)] = cache if m.source is None else _copies_root(m)
        unvouched = check_against_store(index, lambda m: roots[id(m)])
        need = sum(f.size for m in index.models for f in m.files)
        cache.mkdir(parents=True, exist_ok=True)
        try:
            _clean_stale_temps(cache)
            free = shutil.disk_usage(cache).free
            if need * 1.05 + (16 << 20) > free:
                raise InsufficientResourcesError("disk space for the import", needed=need, available=free,
                                                 hint=f"free space under {cache}")
            tmp = Path(tempfile.mkdtemp(dir=cache, prefix=f"{_TMP_PREFIX}{os.getpid()}-"))
        except BaseException:
            if not cache_existed:
                _rmdir_if_empty(cache)
            raise
        placer = Placer(tmp / "backup")
        try:
            (tmp / "backup").mkdir()
            files = [m for m in tar.getmembers() if m.isfile() and m.name != BUNDLE_MANIFEST]
            tar.extractall(tmp / "x", members=files, filter="data")
            _verify_extracted(tmp / "x", index)
            placed = 0
            for model in index.models:
                root = roots[id(model)]
                staged = tmp / "staged" if root == cache else _staging(root)
                repo = stage_repo(tmp / "x", model, staged)
                place(repo, model, root, placer)
                write_ref(model.repo_id, model.revision or "main", model.commit, placer=placer, cache=root,
                          force=model.source is not None)
                if model.source is not None:
                    _remember(model, root)
                placed += 1
                if _fail_after_placing is not None and placed >= _fail_after_placing:
                    raise OSError("injected failure after placing (test hook)")
        except BaseException:
            placer.rollback()
            _remove_temps(tmp, roots.values(), cache)
            if not cache_existed:
                _rmdir_if_empty(cache)
            raise
        _remove_temps(tmp, roots.values(), cache)
    _adopt(index)
    return ImportResult([m.label for m in index.models],
                        sum(len(m.files) for m in index.models), need, placer.blobs, index.lock, unvouched)


def _adopt(index: BundleIndex) -> None:
    """Let the store record the imported models now (it verifies them against the blob names); a
    model of another tool's store is recorded by its source (``adopt``), under the bundle's ref."""
    from . import resolve

    for m in index.models:
        try:
            if m.source is None:
                resolve(f"{m.repo_id}@{m.commit}", offline=True)
                continue
            src = source_for(m.source)
            spec = src.parse(m.ref)
            key = src.adopt(spec) if spec is not None else None
            r = rec.load(key) if key and m.details else None
            if r is not None:  # what info shows of it there (Ollama's template, params...)
                r.extra["details"] = m.details
                r.try_save()
        except Exception:  # noqa: BLE001 - the files are in place; the store adopts them on first use anyway
            pass


def _copies_root(model: BundleModel) -> Path:
    """Where a model of another tool's store goes: the layout its source keeps our copies in. Refused
    when no registered source takes such models, or when the model's ref does not name its repo
    (a bundle must not place files under another model's name)."""
    try:
        src = source_for(model.source)
    except InvalidReferenceError:
        raise UsageError(f"the bundle holds a {model.source} model ({model.ref}), which this localmodels cannot "
                         "record (no such source)", hint="import it with the localmodels that exported it") from None
    place_of = getattr(src, "copy_repo", None)
    repo = place_of(model.ref) if callable(place_of) else None
    if repo is None or repo.repo_id != model.repo_id:
        raise UnsafeFileError(f"refusing the bundle: {model.ref} does not name {model.repo_id}",
                              hint="the bundle was tampered with; export it again")
    return Path(repo.cache)


def _staging(root: Path) -> Path:
    """A staging folder next to ``root`` (same filesystem: the final move is a rename)."""
    root.mkdir(parents=True, exist_ok=True)
    _clean_stale_temps(root)
    return Path(tempfile.mkdtemp(dir=root, prefix=f"{_TMP_PREFIX}{os.getpid()}-"))


def _remove_temps(tmp: Path, roots: Iterable[Path], cache: Path) -> None:
    for root in {r for r in roots if r != cache}:
        for d in root.glob(f"{_TMP_PREFIX}{os.getpid()}-*"):
            shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)


def _remember(model: BundleModel, root: Path) -> None:
    """The placed blobs' sha256 (just verified), so recording them hashes nothing again."""
    repo = RepoFolder(model.repo_id, root)
    for f in model.files:
        blob = repo.blob(f.blob)
        try:
            hashcache.remember(blob, blob.stat(), f.sha256)
        except OSError:
            pass
    hashcache.flush()
