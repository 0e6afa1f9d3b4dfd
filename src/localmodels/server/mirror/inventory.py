"""What the mirror serves: the store's models as Hub repos, commits and files.

Built from the public store API (``store.list_models`` then ``store.resolve``): a Hub snapshot is
served under its repo id and commit, with the digests of the cached listing; a model that came
from elsewhere (a PyPI carrier of a catalog model) is served under its catalog id with a commit
made from its files' digests. With a lock file only the locked models, commits and files are
served.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ... import store
from ...errors import LocalModelsError
from ...sources.hfcache import HEX40, RepoFolder, valid_repo_id

log = logging.getLogger("localmodels.mirror")

# The Hub's default .gitattributes: these go through LFS (so do files over 10 MiB).
LFS_SUFFIXES = (
    ".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gz", ".h5", ".joblib", ".mlmodel", ".model",
    ".msgpack", ".npy", ".npz", ".onnx", ".ot", ".parquet", ".pb", ".pickle", ".pkl", ".pt", ".pth", ".rar",
    ".safetensors", ".tar", ".tflite", ".tgz", ".wasm", ".xz", ".zip", ".zst", ".gguf",
)
LFS_MIN_SIZE = 10 * 1024 * 1024
LFS_SPEC = "version https://git-lfs.github.com/spec/v1\n"


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"{LFS_SPEC}oid sha256:{sha256}\nsize {size}\n".encode()


def pointer_blob_id(sha256: str, size: int) -> str:
    """The git blob sha1 of an LFS file (git stores the pointer, not the bytes)."""
    pointer = lfs_pointer(sha256, size)
    return hashlib.sha1(b"blob %d\0" % len(pointer) + pointer).hexdigest()


@dataclass(frozen=True)
class ServedFile:
    path: str  # '/'-separated, relative to the snapshot
    local: Path  # the file on disk (a snapshot link, or a file used in place)
    size: int
    sha256: str
    lfs: bool
    blob_id: str  # git blob sha1: of the bytes (plain files) or of the LFS pointer

    @property
    def etag(self) -> str:
        """What clients name the blob after: sha256 for LFS files, the git blob sha1 otherwise."""
        return self.sha256 if self.lfs else self.blob_id

    def tree_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "file", "oid": self.blob_id, "size": self.size, "path": self.path}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": self.size,
                            "pointerSize": len(lfs_pointer(self.sha256, self.size))}
        return entry


@dataclass
class Snapshot:
    repo_id: str
    commit: str
    files: dict[str, ServedFile]
    synthetic: bool = False  # the commit was made from the files' digests (the model came from elsewhere)
    created: float = field(default_factory=time.time)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files.values())


@dataclass
class ServedRepo:
    repo_id: str
    gated: bool = False
    refs: dict[str, str] = field(default_factory=dict)  # branch or tag -> commit
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict, repr=False)

    def resolve(self, revision: str) -> Snapshot | None:
        """A branch or tag (recorded, or named in the cache's refs), a commit or a unique prefix of one."""
        if revision in self.refs:
            return self.snapshots.get(self.refs[revision])
        if revision in self.snapshots:
            return self.snapshots[revision]
        commit = RepoFolder(self.repo_id).read_ref(revision)
        if commit and commit in self.snapshots:
            return self.snapshots[commit]
        if 7 <= len(revision) < 40 and all(c in "0123456789abcdef" for c in revision):
            found = [s for c, s in self.snapshots.items() if c.startswith(revision)]
            if len(found) == 1:
                return found[0]
        return None


def is_lfs(path: str, size: int, patterns: list[str] | None) -> bool:
    if size > LFS_MIN_SIZE:
        return True
    name = path.rsplit("/", 1)[-1]
    if patterns is not None:
        return any(fnmatchcase(name, p) or fnmatchcase(path, p) for p in patterns)
    return name.endswith(LFS_SUFFIXES)


def gitattributes_lfs(folder: Path) -> list[str] | None:
    """The ``filter=lfs`` patterns of a model folder's ``.gitattributes`` (None when it has none)."""
    try:
        text = (folder / ".gitattributes").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 1 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            out.append(parts[0].lstrip("/"))
    return out


def synthetic_commit(repo_id: str, files: Iterable[ServedFile]) -> str:
    h = hashlib.sha1(f"localmodels-mirror\0{repo_id}\n".encode())
    for f in sorted(files, key=lambda f: f.path):
        h.update(f"{f.path}\0{f.sha256}\n".encode())
    return h.hexdigest()


# ---- building ---------------------------------------------------------------------------------

BlobIdOf = Callable[[Path, str], str]  # (file, expected sha256) -> git blob sha1 of its bytes


def snapshot_of(model: store.LocalModel, blob_id_of: BlobIdOf) -> Snapshot | None:
    """A store model as a Hub snapshot, or None when it has no Hub-style name."""
    repo_id = str(model.metadata.get("repo_id") or model.name)
    if not valid_repo_id(repo_id):
        return None
    commit = model.commit if model.commit and HEX40.match(model.commit) else None
    tree = RepoFolder(repo_id).read_tree(commit) if commit else None
    patterns = gitattributes_lfs(model.path) if tree is None else None
    files: dict[str, ServedFile] = {}
    for rec in model.files:
        if not rec.sha256:
            continue
        local = model.path / rec.path
        entry = (tree or {}).get(rec.path) or {}
        if entry:
            lfs = bool(entry.get("lfs_sha256"))
            blob_id = str(entry.get("blob_id") or "")
        else:
            lfs = is_lfs(rec.path, rec.size, patterns)
            blob_id = ""
        if not blob_id:
            blob_id = pointer_blob_id(rec.sha256, rec.size) if lfs else blob_id_of(local, rec.sha256)
        files[rec.path] = ServedFile(rec.path, local, rec.size, rec.sha256, lfs, blob_id)
    if not files:
        return None
    try:
        created = max(f.local.stat().st_mtime for f in files.values())
    except OSError:
        created = time.time()
    if commit is None:
        return Snapshot(repo_id, synthetic_commit(repo_id, files.values()), files, synthetic=True, created=created)
    return Snapshot(repo_id, commit, files, created=created)


def _candidate_ref(st: Any) -> str | None:
    """The reference that resolves exactly this ``list_models`` line."""
    if st.commit:
        return f"{st.name}@{st.revision or st.commit}"
    return st.served_by or st.ref or None


@dataclass
class Problem:
    name: str
    message: str


class Inventory:
    """The served repos, rebuilt from the store on demand (after a pull-through, on ``refresh``)."""

    def __init__(self, blob_id_of: BlobIdOf, *, lock: Any = None, gated: Callable[[str], bool] = lambda r: False
                 ) -> None:
        self._blob_id_of = blob_id_of
        self._lock_file = lock
        self._gated = gated
        self._guard = threading.RLock()
        self._refreshing = threading.Lock()
        self.repos: dict[str, ServedRepo] = {}
        self.problems: list[Problem] = []

    def refresh(self) -> None:
        """Read the store again. Serialised: a refresh that started before a pull finished never
        replaces one that started after it."""
        with self._refreshing:
            self._refresh()

    def _refresh(self) -> None:
        repos: dict[str, ServedRepo] = {}
        problems: list[Problem] = []
        for st in store.list_models():
            ref = _candidate_ref(st)
            if ref is None or st.status == "incomplete" or not valid_repo_id(st.name):
                continue  # only what has a Hub name (not a local folder, not another app's model)
            try:
                model = store.resolve(ref)
                snap = snapshot_of(model, self._blob_id_of)
            except (LocalModelsError, OSError) as e:
                problems.append(Problem(st.name, f"{ref}: {e}"))
                log.warning("not served: %s: %s", ref, e)
                continue
            if snap is None:
                continue
            if self._lock_file is not None:
                snap = locked_part(snap, self._lock_file)
                if snap is None:
                    continue
            self._add(repos, snap, model.revision if not snap.synthetic else None)
        for repo in repos.values():
            repo.gated = self._gated(repo.repo_id)
        with self._guard:
            self.repos, self.problems = repos, problems

    @staticmethod
    def _add(repos: dict[str, ServedRepo], snap: Snapshot, revision: str | None) -> None:
        """Add a snapshot; a branch or tag names it (a Hub snapshot without one is ``main``; a
        made-up commit is ``main`` only while no Hub snapshot is)."""
        repo = repos.setdefault(snap.repo_id.lower(), ServedRepo(snap.repo_id))
        held = repo.snapshots.setdefault(snap.commit, snap)
        if held is not snap:  # the same commit recorded twice (pulled with other patterns): serve both sets
            for path, f in snap.files.items():
                held.files.setdefault(path, f)
        pinned = bool(revision and HEX40.match(revision))
        name = revision if revision and not pinned else "main"
        # who names a branch: its own record > a Hub snapshot without a revision > one pulled by
        # commit > a made-up commit
        rank = 0 if snap.synthetic else 1 if pinned else 2 if revision is None else 3
        if rank >= repo.ranks.get(name, -1):
            repo.refs[name], repo.ranks[name] = snap.commit, rank

    def fetchable(self, repo_id: str, revision: str) -> tuple[str, list[str] | None] | None:
        """What a pull-through may fetch for a request: (revision, allow patterns), or None.

        Without a lock: the revision asked for, every file. With one: only a locked repo, at its
        locked commit (a branch name asks for that commit), and only its locked files.
        """
        if self._lock_file is None:
            return revision, None
        from ...sources._hflayout import escape_pattern

        for m in self._lock_file.models:
            if not (m.repo_id and m.commit and m.repo_id.lower() == repo_id.lower()):
                continue
            if revision == m.commit or not HEX40.match(revision):
                return m.commit, [escape_pattern(f.path) for f in m.files]
        return None

    def repo(self, repo_id: str) -> ServedRepo | None:
        with self._guard:
            return self.repos.get(repo_id.lower())

    def all(self) -> list[ServedRepo]:
        with self._guard:
            return sorted(self.repos.values(), key=lambda r: r.repo_id)


def locked_part(snap: Snapshot, lock: Any) -> Snapshot | None:
    """The part of a snapshot a lock allows: a locked Hub commit, or a locked model whose files are
    these very files (same path and sha256); only the locked files. None when nothing is locked."""
    for m in lock.models:
        wanted = {f.path: f.sha256 for f in m.files}
        if m.repo_id and m.commit:
            if m.repo_id.lower() != snap.repo_id.lower() or m.commit != snap.commit:
                continue
        elif not wanted or any(snap.files.get(p) is None or snap.files[p].sha256 != d for p, d in wanted.items()):
            continue
        files = {p: f for p, f in snap.files.items() if wanted.get(p) == f.sha256}
        if files:
            return Snapshot(snap.repo_id, snap.commit, files, synthetic=snap.synthetic, created=snap.created)
    return None
