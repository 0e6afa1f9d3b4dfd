"""``dedup``: replace duplicate copies of a model file with links to one copy.

    actions = plan(include={"ollama"})        # dry run: what would be linked, and what is skipped
    apply(actions)                             # hash both copies now, link, rename; bytes saved

Only copies on the same filesystem are linked (hard links; ``method="reflink"`` clones where the
filesystem can). A copy is replaced only after hashing both and finding them equal; the link is
made under a temp name beside it and renamed over it, so a reader sees the old file or the link.
A copy that changed after it was hashed, a read-only or busy (open, mapped) file is left alone
with a reason. Files in another tool's store are never touched unless ``include`` names it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..sources import hashcache
from .all_stores import OURS, Entry, entries, list_all

MIN_SIZE = 1 << 20  # smaller files are not worth a link
FICLONE = 0x40049409  # Linux ioctl: share extents with another file (btrfs, XFS, bcachefs...)


@dataclass
class Action:
    digest: str
    size: int
    keep: str  # the copy the others will link to
    keep_store: str
    replace: str  # the copy to replace
    store: str
    refs: list[str]
    inode: str = ""  # "dev:ino" of the copy to replace
    status: str = "planned"  # planned | linked | skipped
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _stamp(path: str) -> list[int]:
    return hashcache.stamp(os.stat(path))


def _pick_keeper(copies: list[Entry], allowed: Callable[[str], bool]) -> Entry:
    """The copy to keep: one that may not be replaced (another tool's), else the most linked/oldest."""
    def rank(e: Entry) -> tuple[int, int, int]:
        try:
            nlink = os.stat(e.path).st_nlink
        except OSError:
            nlink = 0
        return (0 if not allowed(e.store) else 1, -nlink, e.mtime_ns)

    return min(copies, key=rank)


def plan(include: Iterable[str] = (), *, min_size: int = MIN_SIZE) -> list[Action]:
    """Every duplicate copy, and whether it would be replaced (``planned``) or why not (``skipped``)."""
    wanted = {s.lower() for s in include}
    allowed = (lambda store: True) if "all" in wanted else (lambda store: store in OURS or store in wanted)
    rows, _ = list_all()
    by_inode: dict[tuple[int, int], list[Entry]] = {}
    for e in entries(rows):
        by_inode.setdefault((e.dev, e.ino), []).append(e)
    groups: dict[str, list[list[Entry]]] = {}
    for same in by_inode.values():
        if same[0].digest and same[0].size >= min_size:
            groups.setdefault(same[0].digest, []).append(same)
    actions: list[Action] = []
    for digest, inodes in groups.items():
        if len(inodes) < 2:
            continue
        firsts = [same[0] for same in inodes]
        keep = _pick_keeper(firsts, allowed)
        for same in inodes:
            if same[0].ino == keep.ino and same[0].dev == keep.dev:
                continue
            for e in {x.path: x for x in same}.values():
                a = Action(digest, e.size, keep.path, keep.store, e.path, e.store, sorted({x.ref for x in same}),
                           f"{e.dev}:{e.ino}")
                if e.dev != keep.dev:
                    a.status, a.reason = "skipped", "on another filesystem than the copy kept"
                elif not allowed(e.store):
                    a.status, a.reason = "skipped", f"in {e.store}'s store (pass --include {e.store})"
                actions.append(a)
    return actions


def busy(path: str) -> str | None:
    """Which process has ``path`` open or mapped (Linux /proc), else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    me = os.getpid()
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit() or int(pid_dir.name) == me:
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                try:
                    target = os.stat(fd)
                except OSError:
                    continue
                if (target.st_dev, target.st_ino) == (st.st_dev, st.st_ino):
                    return _who(pid_dir)
            with open(pid_dir / "maps", encoding="utf-8", errors="replace") as maps:
                if any(line.rstrip().endswith(path) for line in maps):
                    return _who(pid_dir)
        except OSError:
            continue
    return None


def _who(pid_dir: Path) -> str:
    try:
        name = (pid_dir / "comm").read_text().strip()
    except OSError:
        name = "?"
    return f"process {pid_dir.name} ({name})"


def _make_link(keep: str, tmp: str, method: str) -> None:
    if method == "reflink":
        import fcntl

        with open(keep, "rb") as src, open(tmp, "xb") as dst:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
        os.utime(tmp, ns=(os.stat(keep).st_atime_ns, os.stat(keep).st_mtime_ns))
    else:
        os.link(keep, tmp)


def _apply_one(a: Action, method: str, after_hash: Callable[[Action], None] | None) -> None:
    target_dir = os.path.dirname(a.replace)
    mode = os.stat(a.replace).st_mode
    if not mode & 0o200 or not os.access(a.replace, os.W_OK) or not os.access(target_dir, os.W_OK | os.X_OK):
        a.status, a.reason = "skipped", "read-only (the file or its folder cannot be written)"
        return
    who = busy(a.replace)
    if who:
        a.status, a.reason = "skipped", f"busy: open in {who}"
        return
    before_keep, before = _stamp(a.keep), _stamp(a.replace)
    if _fresh_hash(a.keep, before_keep) != a.digest or hashcache.hash_file(a.replace) != a.digest:
        a.status, a.reason = "skipped", "the copies differ now (hashed again before linking)"
        return
    if after_hash is not None:
        after_hash(a)
    tmp = os.path.join(target_dir, f".{os.path.basename(a.replace)}.dedup-{os.getpid()}.tmp")
    try:
        _make_link(a.keep, tmp, method)
    except OSError as e:
        a.status = "skipped"
        a.reason = ("the filesystem cannot clone (reflink)" if e.errno in (errno.EOPNOTSUPP, errno.ENOTTY,
                    errno.EINVAL, errno.EXDEV) and method == "reflink" else f"cannot link: {e.strerror}")
        _unlink(tmp)
        return
    try:
        if _stamp(a.replace) != before or _stamp(a.keep) != before_keep:
            a.status, a.reason = "skipped", "changed after it was hashed: left alone"
            _unlink(tmp)
            return
        os.replace(tmp, a.replace)
    except OSError as e:
        _unlink(tmp)
        a.status, a.reason = "skipped", f"cannot replace: {e.strerror}"
        return
    a.status = "linked"
    hashcache.remember(a.replace, os.stat(a.replace), a.digest)


_hashed_now: dict[str, tuple[list[int], str]] = {}  # kept copies hashed during this apply


def _fresh_hash(path: str, stamp: list[int]) -> str:
    hit = _hashed_now.get(path)
    if hit and hit[0] == stamp:
        return hit[1]
    digest = hashcache.hash_file(path)
    _hashed_now[path] = (stamp, digest)
    return digest


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def apply(actions: list[Action], *, method: str = "hardlink",
          after_hash: Callable[[Action], None] | None = None) -> list[Action]:
    """Carry out the planned actions (``after_hash``: called between hashing and linking, for tests)."""
    _hashed_now.clear()
    for a in actions:
        if a.status == "planned":
            _apply_one(a, method, after_hash)
    _hashed_now.clear()
    hashcache.flush()
    return actions


def saved_bytes(actions: list[Action], *, planned: bool = False) -> int:
    """Bytes freed: each replaced file (inode) once (``planned``: what a dry run would free)."""
    want = "planned" if planned else "linked"
    return sum({a.inode: a.size for a in actions if a.status == want}.values())
