"""File modes for model files: restrictive by default, a group for a team's shared store.

Files get ``LOCALMODELS_FILE_MODE`` (default 0640; 0600 for one user only), folders
``LOCALMODELS_DIR_MODE`` (default 0750; 0700). With a group (``--group`` or ``LOCALMODELS_GROUP``)
files and folders are given that group and folders the setgid bit, so files created later stay
group-owned. A world-writable model file or folder lets anyone on the machine swap the weights:
:func:`world_writable` finds them and :func:`fix` gives them the configured modes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .. import config
from ..errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class Modes:
    file: int = 0o640
    dir: int = 0o750
    gid: int | None = None
    group: str | None = None

    @property
    def dir_bits(self) -> int:
        """The folder mode, with setgid when a group is set."""
        return self.dir | (stat.S_ISGID if self.gid is not None else 0)

    def describe(self) -> str:
        return f"files {self.file:04o}, folders {self.dir_bits:04o}" + (f", group {self.group}" if self.group else "")


def parse_mode(text: str, *, what: str) -> int:
    """``"0640"``, ``"640"`` or ``"0o640"`` -> 0o640; a world-writable or non-octal mode is refused."""
    raw = str(text).strip().lower().removeprefix("0o")
    try:
        mode = int(raw, 8)
    except ValueError:
        raise UsageError(f"{what} {text!r} is not an octal mode", hint="e.g. 0640 (files), 0750 (folders)") from None
    if mode > 0o777:
        raise UsageError(f"{what} {text!r}: only permission bits (at most 0777)", hint="e.g. 0640 or 0750")
    if mode & stat.S_IWOTH:
        raise UsageError(f"{what} {text!r} lets anyone write model files", hint="drop the others' write bit, e.g. 0640")
    return mode


def group_id(name: str) -> int:
    """The id of a group name (or of a numeric id); UsageError when the system has no such group."""
    import grp

    try:
        return int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
    except KeyError:
        raise UsageError(f"no group named {name!r} on this machine", hint="create it (groupadd) or pass an existing "
                         "group: localmodels ... --group GROUP") from None


def modes(group: str | None = None) -> Modes:
    """The configured modes; ``group`` (the CLI's ``--group``) wins over ``LOCALMODELS_GROUP``."""
    s = config.settings()
    name = group or s.group
    return Modes(file=parse_mode(s.file_mode, what="LOCALMODELS_FILE_MODE"),
                 dir=parse_mode(s.dir_mode, what="LOCALMODELS_DIR_MODE"),
                 gid=group_id(name) if name else None, group=name or None)


def apply(path: str | Path, m: Modes, *, is_dir: bool | None = None) -> None:
    """Give one file or folder (not a symlink itself: its target) the group and mode of ``m``."""
    p = Path(path)
    if is_dir is None:
        is_dir = p.is_dir()
    if m.gid is not None:
        os.chown(p, -1, m.gid)  # before chmod: chown may clear setgid
    os.chmod(p, m.dir_bits if is_dir else m.file)


def owned_by_store(path: str | Path) -> bool:
    """True for a path inside the Hugging Face cache or ``LOCALMODELS_HOME`` (ours to chmod);
    a local folder or a package's files belong to their owner and are left as they are."""
    real = Path(os.path.realpath(path))
    roots = (config.hub_cache(), config.home())
    return any(real.is_relative_to(Path(os.path.realpath(r))) for r in roots)


def secure_tree(root: str | Path, m: Modes, *, skip_foreign: bool = False) -> int:
    """Apply ``m`` to ``root``, every folder and file under it (symlinks: their targets inside the
    store only); returns how many entries changed. ``skip_foreign``: leave what we may not change."""
    changed = 0
    for p, is_dir in _walk(Path(root)):
        if p.is_symlink():
            if not owned_by_store(p) or not p.exists():
                continue
            p, is_dir = Path(os.path.realpath(p)), False
        if _needs(p, m, is_dir):
            try:
                apply(p, m, is_dir=is_dir)
            except PermissionError:
                if not skip_foreign:
                    raise
                continue
            changed += 1
    return changed


def secure_model(model: T) -> T:
    """After a pull: give a Hub model's repo folder in the cache (blobs, snapshots, refs) the
    configured modes, and return the model. Entries another user owns (a shared cache) are
    skipped, never an error; local folders and packages are their owners' and left alone."""
    from ..sources.hfcache import RepoFolder

    repo_id = (getattr(model, "metadata", None) or {}).get("repo_id") or getattr(model, "name", "")
    if getattr(model, "source", "") == "hub" and repo_id:
        try:
            secure_repo_folder(RepoFolder(repo_id).path)
        except OSError:
            pass
    return model


def secure_repo_folder(path: str | Path, m: Modes | None = None) -> int:
    """Give a Hugging Face cache repo folder (blobs, snapshots, refs) the configured modes, as a
    pull does; entries another user owns are skipped. ``import`` calls it on the repo folder it
    staged, before moving it into the cache, so imported files never sit there with the archive's
    modes. Returns how many entries changed."""
    return secure_tree(path, m or modes(), skip_foreign=True)


def _walk(root: Path) -> Iterable[tuple[Path, bool]]:
    yield root, True
    for base, dirs, files in os.walk(root):
        for d in dirs:
            yield Path(base) / d, not os.path.islink(os.path.join(base, d))
        for f in files:
            yield Path(base) / f, False


def _needs(p: Path, m: Modes, is_dir: bool) -> bool:
    st = p.stat()
    want = m.dir_bits if is_dir else m.file
    return stat.S_IMODE(st.st_mode) != want or (m.gid is not None and st.st_gid != m.gid)


def world_writable(roots: Iterable[str | Path]) -> list[Path]:
    """Files and folders under ``roots`` (and the targets of symlinks there) that anyone may write."""
    out: list[Path] = []
    seen: set[str] = set()
    for root in roots:
        root = Path(root)
        if not root.exists():
            continue
        entries = _walk(root) if root.is_dir() else [(root, False)]
        for p, _is_dir in entries:
            q = Path(os.path.realpath(p)) if p.is_symlink() else p
            if str(q) in seen:
                continue
            seen.add(str(q))
            try:
                st = q.stat()
            except OSError:
                continue
            if st.st_mode & stat.S_IWOTH:
                out.append(q)
    return out


def fix(paths: Iterable[str | Path], m: Modes | None = None) -> list[Path]:
    """Give each path the configured mode (and group); returns the paths changed."""
    m = m or modes()
    done = []
    for p in paths:
        p = Path(p)
        apply(p, m, is_dir=p.is_dir())
        done.append(p)
    return done
