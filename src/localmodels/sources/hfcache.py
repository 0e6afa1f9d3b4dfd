"""The one owner of the standard Hugging Face cache layout (offline; no ``huggingface_hub`` import).

    <hub cache>/                               config.hub_cache()
      models--ORG--NAME/                       RepoFolder(repo_id).path
        refs/REVISION                          a commit sha (text); REVISION may hold '/'
        blobs/DIGEST                           file contents: LFS sha256, else the git blob sha1
        blobs/DIGEST.incomplete                a download in progress (or killed)
        snapshots/COMMIT/PATH                  relative link to ../../blobs/DIGEST (or a plain copy)
        trees/COMMIT.json                      the file listing at COMMIT (huggingface_hub's format)
      .locks/models--ORG--NAME/DIGEST.lock     huggingface_hub's per-blob download lock

Everything that reads or writes this layout (the Hub source, ``list``, ``rm``, ``du``, ``prune``,
``sync``, bundles) goes through :class:`RepoFolder`; no other module spells these folder names.
Like ``huggingface_hub``'s ``_cache_manager``, it lists cached repos and removes revisions.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import config
from ..refs import _REPO_ID, _REVISION  # the reference grammar's own rules for org/name and @revision
from ._confine import inside, remove_path
from ._files import atomic_writer, write_atomic

log = logging.getLogger("localmodels.sources.hub")
TREE_FORMAT_VERSION = 1
_PREFIX = "models--"


HEX40 = re.compile(r"^[0-9a-f]{40}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


# ---- names ---------------------------------------------------------------------------------------
def is_commit(revision: str | None) -> bool:
    return bool(revision and HEX40.match(revision))


def is_blob_name(name: str) -> bool:
    """A name ``huggingface_hub`` gives a blob: an LFS sha256 or a git blob sha1 (nothing else is ours)."""
    return bool(HEX64.match(name) or HEX40.match(name))


def valid_repo_id(repo_id: object) -> bool:
    return isinstance(repo_id, str) and bool(_REPO_ID.match(repo_id)) and ".." not in repo_id and "--" not in repo_id


def valid_revision(revision: object) -> bool:
    """A branch, tag or commit: no path tricks (it names a ref file)."""
    return isinstance(revision, str) and bool(_REVISION.match(revision)) and not any(
        part in ("", ".", "..") for part in revision.split("/"))


def repo_folder_name(repo_id: str) -> str:
    """``org/name`` -> ``models--org--name``."""
    return _PREFIX + repo_id.replace("/", "--")


def folder_files(folder: Path) -> list[str]:
    """Relative '/'-separated paths of every file (links included, dangling ones too), sorted."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            out.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(out)


def dir_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (links not followed, so blobs count once)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if not os.path.islink(full):
                total += st.st_size
    return total


class RepoFolder:
    """One repo in the Hugging Face cache (it may not exist yet)."""

    def __init__(self, repo_id: str, cache: Path | None = None) -> None:
        self.repo_id = repo_id
        self.cache = Path(cache) if cache is not None else config.hub_cache()
        self.path = self.cache / repo_folder_name(repo_id)

    def __repr__(self) -> str:
        return f"RepoFolder({self.repo_id!r}, {str(self.cache)!r})"

    @classmethod
    def from_path(cls, folder: Path) -> RepoFolder | None:
        """The repo of a ``models--org--name`` folder (None for anything else)."""
        if not folder.name.startswith(_PREFIX):
            return None
        return cls(folder.name[len(_PREFIX):].replace("--", "/", 1), folder.parent)

    # ---- places -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.path.name

    def exists(self) -> bool:
        return self.path.is_dir()

    @property
    def linked(self) -> bool:
        """Is the repo folder a link (to a user's folder, maybe)? Then nothing in it is ours to delete."""
        return self.path.is_symlink() or (
            self.path.exists() and os.path.realpath(self.path) != os.path.join(os.path.realpath(self.cache), self.name))

    def snapshot(self, commit: str) -> Path:
        """``snapshots/<commit>`` (it may not exist)."""
        return self.path / "snapshots" / commit

    def member(self, commit: str, rel: str = "") -> str:
        """``models--org--name/snapshots/<commit>/<rel>``: a snapshot file's path relative to the cache."""
        return f"{self.name}/snapshots/{commit}" + (f"/{rel}" if rel else "")

    def blob(self, digest: str) -> Path:
        return self.path / "blobs" / digest

    def blob_link(self, digest: str) -> str:
        """The relative link target from a snapshot's top folder to a blob (add ``../`` per sub folder)."""
        return f"../../blobs/{digest}"

    def ref_path(self, revision: str) -> Path:
        return self.path / "refs" / revision

    def tree_path(self, commit: str) -> Path:
        return self.path / "trees" / f"{commit}.json"

    def lock_path(self, digest: str) -> Path:
        return self.cache / ".locks" / self.name / f"{digest}.lock"

    # ---- refs -----------------------------------------------------------------------------------
    def read_ref(self, revision: str) -> str | None:
        """The commit ``refs/<revision>`` names (None: missing, unreadable, not a commit, bad name)."""
        if not valid_revision(revision):
            return None
        try:
            commit = self.ref_path(revision).read_text().strip()
        except OSError:
            return None
        return commit if HEX40.match(commit) else None

    def resolve(self, revision: str | None) -> str | None:
        """The commit a revision points to here (a commit sha answers for itself when its snapshot is here)."""
        if is_commit(revision):
            assert revision is not None
            return revision if self.snapshot(revision).is_dir() else None
        return self.read_ref(revision or "main")

    def write_ref(self, revision: str, commit: str) -> None:
        """Point ``refs/<revision>`` at ``commit`` (atomic; nothing for a commit sha or an equal ref)."""
        if is_commit(revision) or self.read_ref(revision) == commit:
            return
        write_atomic(self.ref_path(revision), commit.encode())

    def refs(self) -> dict[str, str]:
        """Every ref (``main``, ``refs/pr/1``...) and the commit it names."""
        base = self.path / "refs"
        out: dict[str, str] = {}
        if base.is_dir():
            for p in base.rglob("*"):
                if p.is_file():
                    try:
                        out[p.relative_to(base).as_posix()] = p.read_text().strip()
                    except OSError:
                        pass
        return out

    # ---- snapshots, blobs, trees -----------------------------------------------------------------
    def commits(self) -> list[str]:
        base = self.path / "snapshots"
        return sorted(d.name for d in base.iterdir() if d.is_dir()) if base.is_dir() else []

    def snapshot_files(self, commit: str) -> list[str]:
        """Relative paths in a snapshot folder (links or copies, dangling links too), sorted."""
        return folder_files(self.snapshot(commit))

    def blob_of(self, commit: str, rel: str) -> Path | None:
        """The blob a snapshot entry links to (None when the entry is a plain copy or missing)."""
        p = self.snapshot(commit) / rel
        return Path(os.path.realpath(p)) if p.is_symlink() else None

    def has_file(self, commit: str, rel: str, digest: str) -> bool:
        """Are both the blob and the snapshot entry of a file here?"""
        return self.blob(digest).is_file() and (self.snapshot(commit) / rel).is_file()

    def blobs(self) -> list[Path]:
        """Finished blobs (no ``.incomplete``)."""
        base = self.path / "blobs"
        return sorted(p for p in base.iterdir() if p.is_file() and not p.name.endswith(".incomplete")) \
            if base.is_dir() else []

    def incomplete(self) -> list[Path]:
        base = self.path / "blobs"
        return sorted(base.glob("*.incomplete")) if base.is_dir() else []

    def blobs_in_use(self, *, except_commits: Iterable[str] = ()) -> set[str]:
        skip = set(except_commits)
        used: set[str] = set()
        for commit in self.commits():
            if commit in skip:
                continue
            for rel in self.snapshot_files(commit):
                b = self.blob_of(commit, rel)
                if b is not None:
                    used.add(b.name)
        return used

    def read_tree(self, commit: str) -> dict[str, dict] | None:
        """``trees/<commit>.json`` as ``{path: {size, blob_id, lfs_sha256?, lfs_size?}}`` (None: absent or bad)."""
        try:
            data = json.loads(self.tree_path(commit).read_text(encoding="utf-8"))
            if data.get("format_version") != TREE_FORMAT_VERSION:
                return None
            files = data["files"]
            return {str(p): dict(info) for p, info in files.items()} if isinstance(files, dict) else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def tree_commits(self) -> list[str]:
        """Commits whose listing is cached."""
        base = self.path / "trees"
        return sorted(p.stem for p in base.glob("*.json")) if base.is_dir() else []

    def blob_sizes(self) -> dict[str, int]:
        """Blob name -> size, from every cached listing (what a partial download will grow to)."""
        out: dict[str, int] = {}
        for commit in self.tree_commits():
            for entry in (self.read_tree(commit) or {}).values():
                blob = entry.get("lfs_sha256") or entry.get("blob_id")
                if blob:
                    out[blob] = int(entry.get("lfs_size") or entry.get("size") or 0)
        return out

    def write_tree(self, commit: str, tree: dict[str, dict]) -> None:
        """Write the listing in ``huggingface_hub``'s own format (so ``snapshot_download`` skips the call)."""
        data = {"format_version": TREE_FORMAT_VERSION, "files": {p: tree[p] for p in sorted(tree)}}
        write_atomic(self.tree_path(commit), json.dumps(data, indent=1).encode())

    def place_copy(self, commit: str, rel: str, digest: str | None, seeds: Mapping[str, str]) -> bool:
        """Copy in a local file with sha256 ``digest`` (``seeds``: sha256 -> path) as the blob of ``rel``,
        linked from the snapshot (checked afterwards like a download); False when there is none."""
        source = seeds.get(digest or "")
        if not digest or not HEX64.match(digest) or source is None or self.linked:
            return False
        blob = self.blob(digest)
        try:
            if not blob.is_file():
                with open(source, "rb") as src, atomic_writer(blob, suffix=".incomplete") as out:
                    shutil.copyfileobj(src, out, 8 << 20)
            link = self.snapshot(commit) / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.is_symlink() or link.exists():
                remove_path(link, self.path)
            link.symlink_to(os.path.relpath(blob, link.parent))
        except OSError as e:
            log.info("could not copy %s in as %s (%s); downloading it", source, rel, e)
            return False
        return True

    # ---- sizes ----------------------------------------------------------------------------------
    def size(self) -> int:
        return dir_size(self.path)

    def snapshot_size(self, commit: str) -> int:
        total = 0
        for rel in self.snapshot_files(commit):
            try:
                total += (self.snapshot(commit) / rel).stat().st_size
            except OSError:
                pass
        return total

    def incomplete_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.incomplete())

    # ---- removing -------------------------------------------------------------------------------
    def delete_file(self, commit: str, rel: str) -> None:
        """Remove a snapshot entry and the blob behind it (so nothing bad counts as present)."""
        p = self.snapshot(commit) / rel
        real = Path(os.path.realpath(p))
        blob = real != p and is_blob_name(real.name) and inside(real, self.path / "blobs")
        for target in (p, real) if blob else (p,):  # a link out of the cache: only the link goes
            try:
                if not self.linked and (target.is_symlink() or target.is_file()):
                    remove_path(target, self.path)
            except OSError:
                pass

    def clean_incomplete(self) -> list[Path]:
        """Delete orphan ``blobs/*.incomplete`` files; one whose blob lock is held is a live download."""
        from filelock import FileLock, Timeout

        removed: list[Path] = []
        if self.linked:
            return removed
        for part in self.incomplete():
            if not is_blob_name(part.name.split(".")[0]):
                continue
            lock_path = self.lock_path(part.name.split(".")[0])
            try:
                lock_path.parent.mkdir(parents=True, exist_ok=True)
                with FileLock(str(lock_path), timeout=0):
                    remove_path(part, self.path)
                    removed.append(part)
            except (Timeout, OSError):
                continue
        if removed:
            log.info("removed %d orphan partial download(s) of %s", len(removed), self.repo_id)
        return removed

    def remove_revisions(self, commits: list[str] | None, *, dry_run: bool) -> list[dict[str, Any]]:
        """Delete snapshots (every one when ``commits`` is None), the refs naming them and the blobs
        no other snapshot uses; returns ``{"kind", "path", "bytes", "name"?}`` for each thing removed."""
        removed: list[dict[str, Any]] = []
        if not self.exists():
            return removed
        if self.linked:
            from ._confine import refuse

            raise refuse(self.path, self.cache)
        all_commits = self.commits()
        targets = all_commits if commits is None else [c for c in commits if c in all_commits]
        if commits is None or set(targets) == set(all_commits):
            removed.append({"kind": "hub repo", "path": str(self.path), "bytes": self.size(), "name": self.repo_id})
            if not dry_run:
                self._remove_all()
            return removed
        keep = self.blobs_in_use(except_commits=targets)
        drop: set[str] = set()
        for c in targets:
            for rel in self.snapshot_files(c):
                b = self.blob_of(c, rel)
                if b is not None and b.name not in keep:
                    drop.add(b.name)
        for c in targets:
            snap = self.snapshot(c)
            removed.append({"kind": "snapshot", "path": str(snap), "bytes": 0, "name": f"{self.repo_id}@{c[:10]}"})
            if not dry_run:
                remove_path(snap, self.path)
                remove_path(self.tree_path(c), self.path)
        for name, c in self.refs().items():
            if c in targets:
                removed.append({"kind": "ref", "path": str(self.ref_path(name)), "bytes": 0, "name": name})
                if not dry_run:
                    remove_path(self.ref_path(name), self.path)
        for b in sorted(n for n in drop if is_blob_name(n)):
            p = self.blob(b)
            removed.append({"kind": "blob", "path": str(p), "bytes": p.stat().st_size if p.exists() else 0})
            if not dry_run:
                remove_path(p, self.path)
        return removed

    def _remove_all(self) -> None:
        """Delete what the cache layout puts in the repo folder (a stranger's file stays, and the folder)."""
        for part in ("snapshots", "refs", "trees", ".no_exist"):
            remove_path(self.path / part, self.path)
        blobs = self.path / "blobs"
        if blobs.is_dir() and not blobs.is_symlink():
            for p in blobs.iterdir():
                if is_blob_name(p.name.split(".")[0]) and (p.name.count(".") == 0 or p.name.endswith(".incomplete")):
                    remove_path(p, self.path)
        for d in (blobs, self.path):
            try:
                d.rmdir()
            except OSError:
                pass


def cached_repos(cache: Path | None = None) -> list[RepoFolder]:
    """Every model repo in the cache, sorted by folder name."""
    base = Path(cache) if cache is not None else config.hub_cache()
    if not base.is_dir():
        return []
    out = []
    for d in sorted(base.iterdir()):
        repo = RepoFolder.from_path(d)
        if repo is not None and d.is_dir():
            out.append(repo)
    return out
