"""Named model folders for serving stacks, made from the store without a second download.

    models/all-MiniLM-L6-v2/{config.json, model.safetensors, ..., SHA256SUMS, .localmodels.json}

Each file is a symlink into the store (``link``, the default), a hard link to the store's bytes
(``hardlink``: survives in a container image; same filesystem only) or a copy (``copy``: another
filesystem; every byte is hashed on the way and checked against the record). Nothing is fetched:
a model that is not in the store is an error that says to run ``pull`` or ``sync``.

Re-running is cheap and idempotent: a file already in place is kept, a changed one is replaced
(temp name, then ``rename``: a reader sees the old file or the new one), a file that left the
model is removed, and ``SHA256SUMS`` (from the recorded digests) and the marker
``.localmodels.json`` (what the folder holds and where from; ``verify --dir`` reads it) are
written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import config
from ..errors import IntegrityError, NotInStoreError, UsageError
from ..sources._files import is_safe_relpath, write_atomic
from . import checksums, permissions

Mode = Literal["link", "hardlink", "copy"]
MODES: tuple[str, ...] = ("link", "hardlink", "copy")
MARKER = ".localmodels.json"
MARKER_FORMAT = "localmodels-materialized"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WantedFile:
    path: str
    size: int
    sha256: str


@dataclass
class Wanted:
    """One model to lay out: where its files are in the store and their recorded digests."""

    name: str  # the folder name
    ref: str  # what the user (or the lock) named
    resolve_ref: str  # what resolves to exactly these files again (org/name@COMMIT, a folder, pypi:pkg)
    source: str
    store_path: Path
    commit: str | None
    files: list[WantedFile]
    lock: str | None = None


@dataclass
class Result:
    name: str
    folder: Path
    mode: str
    placed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    size: int = 0
    commit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "folder": str(self.folder), "mode": self.mode, "commit": self.commit,
                "placed": self.placed, "kept": self.kept, "removed": self.removed, "size": self.size,
                "files": len(self.placed) + len(self.kept)}


# ---- what to lay out --------------------------------------------------------------------------

def folder_name(name: str) -> str:
    """The default folder name of a model: the last part of its name (``org/Model-7B`` -> ``Model-7B``)."""
    last = name.rstrip("/").rsplit("/", 1)[-1]
    if not last or last in (".", "..") or not is_safe_relpath(last):
        raise UsageError(f"cannot make a folder name from {name!r}", hint="pass --name NAME")
    return last


def _wanted_files(records: list[Any], ref: str) -> list[WantedFile]:
    out = []
    for f in records:
        if not is_safe_relpath(f.path):
            raise IntegrityError(f"{ref}: unsafe file name {f.path!r} in the record", path=f.path)
        if not f.sha256:
            raise IntegrityError(f"{ref}: {f.path} has no recorded sha256", path=f.path,
                                 hint=f"run: localmodels verify {ref} (it records every file's digest)")
        out.append(WantedFile(f.path, int(f.size), f.sha256))
    return sorted(out, key=lambda w: w.path)


def wanted_from_ref(ref: str, name: str | None = None) -> Wanted:
    """The model as the store has it now (never a download: NotInStoreError says to pull it)."""
    from . import resolve

    m = resolve(ref)
    return Wanted(name=name or folder_name(m.name), ref=ref, resolve_ref=_exact_ref(m, ref), source=m.source,
                  store_path=Path(m.path), commit=m.commit, files=_wanted_files(m.files, ref))


def _exact_ref(m: Any, ref: str) -> str:
    """What resolves to exactly these files again (``org/name@COMMIT``, ``pypi:PKG``, the folder)."""
    from types import SimpleNamespace

    from .pins import pinning_for

    meta = m.metadata or {}
    pinned = SimpleNamespace(ref=ref, source=m.source, repo_id=meta.get("repo_id") or m.name, commit=m.commit,
                             package=meta.get("package"), revision=m.revision, allow_pickle=None, file=[])
    exact = pinning_for(m).locked_ref(pinned, Path.cwd())
    return str(Path(exact).resolve()) if Path(exact).expanduser().is_dir() else exact


def wanted_from_lock(lock_path: str | Path) -> list[Wanted]:
    """Every model of a lock file, at its locked commit and with its locked files and digests."""
    from . import resolve
    from .lockfile import read_lock

    lock_path = Path(lock_path)
    lk = read_lock(lock_path)
    out = []
    for lm in sorted(lk.model, key=lambda x: x.name):
        exact = _locked_ref(lm, lock_path.parent.resolve())
        try:
            m = resolve(exact)
        except NotInStoreError as e:
            e.hint = f"run: localmodels sync --lock-file {lock_path}"
            raise
        recorded = {f.path: f.sha256 for f in m.files if f.sha256}
        for f in lm.file:
            if recorded.get(f.path) not in (None, f.sha256):
                raise IntegrityError(f"{lm.name}: {f.path} in the store differs from the lock", path=f.path,
                                     expected=f.sha256, actual=recorded[f.path],
                                     hint=f"run: localmodels sync --lock-file {lock_path}")
        out.append(Wanted(name=folder_name(lm.name), ref=lm.ref, resolve_ref=exact, source=lm.source,
                          store_path=Path(m.path), commit=lm.commit, lock=str(lock_path),
                          files=[WantedFile(f.path, f.size, f.sha256) for f in sorted(lm.file, key=lambda f: f.path)]))
    names = [w.name for w in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"two locked models would share the folder {dupes[0]!r}",
                         hint="rename one of them in localmodels.toml, then: localmodels lock")
    return out


def _locked_ref(lm: Any, root: Path) -> str:
    """``org/name@COMMIT``, ``pypi:PACKAGE`` or the folder: exactly what the lock entry pinned."""
    from .pins import pinning_for

    return pinning_for(lm).locked_ref(lm, root)


# ---- laying out -------------------------------------------------------------------------------

def read_marker(folder: str | Path) -> dict[str, Any] | None:
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == MARKER_FORMAT else None


def _tmp_name(dest: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    os.unlink(tmp)
    return Path(tmp)


def _in_place(dest: Path, src: Path, w: WantedFile, mode: str, old: dict[str, Any] | None) -> bool:
    """Is ``dest`` already this file, placed the way ``mode`` asks?"""
    try:
        if mode == "link":
            return dest.is_symlink() and os.readlink(dest) == str(src) and dest.stat().st_size == w.size
        st = dest.lstat()
        if dest.is_symlink() or st.st_size != w.size:
            return False
        same_inode = os.path.samestat(st, os.stat(src))
        if mode == "hardlink":
            return same_inode
        return (not same_inode and old is not None and old.get("sha256") == w.sha256
                and old.get("mtime_ns") == st.st_mtime_ns and old.get("ino") == st.st_ino)
    except OSError:
        return False


def _copy_checked(src: Path, tmp: Path, w: WantedFile) -> None:
    h = hashlib.sha256()
    with open(src, "rb") as fin, open(tmp, "xb") as fout:
        while chunk := fin.read(_CHUNK):
            h.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    if h.hexdigest() != w.sha256:
        tmp.unlink(missing_ok=True)
        raise IntegrityError(f"{src} does not match its recorded sha256; not copying it", path=w.path,
                             expected=w.sha256, actual=h.hexdigest(), hint="run: localmodels verify --repair")


def _place(dest: Path, src: Path, w: WantedFile, mode: str, m: permissions.Modes) -> None:
    if not src.is_file():
        raise IntegrityError(f"{w.path} is missing from the store ({src})", path=w.path,
                             hint="run: localmodels verify --repair")
    if os.stat(src).st_size != w.size:
        raise IntegrityError(f"{src} has size {os.stat(src).st_size}, the record says {w.size}", path=w.path,
                             hint="run: localmodels verify --repair")
    _make_dirs(dest.parent, m)
    tmp = _tmp_name(dest)
    try:
        if mode == "link":
            os.symlink(src, tmp)
        elif mode == "hardlink":
            try:
                os.link(os.path.realpath(src), tmp)
            except OSError as e:
                raise UsageError(f"cannot hard-link {w.path} into {dest.parent}: {e.strerror}",
                                 hint="hard links need the same filesystem as the store; use --mode copy") from None
        else:
            _copy_checked(src, tmp, w)
        if mode == "copy" or (mode == "hardlink" and permissions.owned_by_store(src)):
            permissions.apply(tmp, m, is_dir=False)
        elif mode == "link" and permissions.owned_by_store(src):
            permissions.apply(os.path.realpath(src), m, is_dir=False)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def _make_dirs(folder: Path, m: permissions.Modes) -> None:
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        permissions.apply(d, m, is_dir=True)


def _remove_left(folder: Path, gone: list[str]) -> None:
    for rel in gone:
        p = folder / rel
        if os.path.lexists(p) and not p.is_dir():
            p.unlink()
        parent = p.parent
        while parent != folder and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def _lock(folder: Path):
    from filelock import FileLock

    d = config.home() / "locks"
    d.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
    return FileLock(str(d / f"materialize-{key}.lock"))


def materialize(w: Wanted, dest_dir: str | Path, *, mode: str = "link", group: str | None = None) -> Result:
    """Lay ``w`` out as ``dest_dir/<w.name>``; see the module docstring."""
    if mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}", hint="use link, hardlink or copy")
    m = permissions.modes(group)
    dest_dir = Path(dest_dir).expanduser().absolute()
    folder = dest_dir / w.name
    _make_dirs(dest_dir, m)
    result = Result(w.name, folder, mode, commit=w.commit)
    with _lock(folder):
        marker = read_marker(folder)
        if marker is None and folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise UsageError(f"{folder} exists and was not made by localmodels materialize; not writing into it",
                             hint="empty or remove it, or pick another --dir / --name")
        _make_dirs(folder, m)
        permissions.apply(folder, m, is_dir=True)
        old = {f["path"]: f for f in (marker or {}).get("files", []) if isinstance(f, dict) and "path" in f}
        entries = []
        for f in w.files:
            src, dest = w.store_path / f.path, folder / f.path
            if _in_place(dest, src, f, mode, old.get(f.path)):
                result.kept.append(f.path)
            else:
                _place(dest, src, f, mode, m)
                result.placed.append(f.path)
            st = dest.lstat()
            entries.append({"path": f.path, "size": f.size, "sha256": f.sha256, "ino": st.st_ino,
                            "mtime_ns": st.st_mtime_ns})
            result.size += f.size
        wanted = {f.path for f in w.files}
        result.removed = sorted(p for p in old if p not in wanted and p not in (MARKER, checksums.SUMS_NAME)
                                and is_safe_relpath(p))  # a tampered marker cannot reach outside the folder
        _remove_left(folder, result.removed)
        checksums.write(folder, [(f.path, f.sha256) for f in w.files], mode=m.file)
        data = {"format": MARKER_FORMAT, "version": 1, "name": w.name, "ref": w.ref, "resolve": w.resolve_ref,
                "source": w.source, "commit": w.commit, "store_path": str(w.store_path), "mode": mode,
                "lock": w.lock, "files": entries}
        write_atomic(folder / MARKER, json.dumps(data, indent=1, sort_keys=True).encode())
        os.chmod(folder / MARKER, m.file)
    return result
