"""Placing verified files into the Hugging Face cache, undoably (the last step of ``import``).

:func:`stage_repo` builds a model's repo folder (a :class:`RepoFolder`) next to the cache;
:func:`place` moves it in: a model new to the cache arrives with one ``rename``; into an existing
repo folder, blobs then snapshot links are placed. :class:`Placer` remembers every step so that
:meth:`Placer.rollback` leaves the cache as it was. :func:`write_ref` points a branch at a commit.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path

from ..sources._files import sha256_file
from ..sources._hflayout import is_commit, valid_revision
from ..sources.hfcache import RepoFolder
from .bundle_index import BundleModel
from .permissions import secure_repo_folder


class Placer:
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


def _move(src: Path, dst: Path) -> None:
    """``rename``, or a copy then unlink when ``dst`` is on another filesystem (our copies' root)."""
    try:
        os.rename(src, dst)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        shutil.copy2(src, dst)
        src.unlink()


def stage_repo(root: Path, model: BundleModel, staged: Path) -> RepoFolder:
    """Build the model's repo folder (blobs and the commit's snapshot) in ``staged``, a folder shaped
    like the Hugging Face cache, from the extracted files."""
    repo = RepoFolder(model.repo_id, staged)
    for f in model.files:
        src = root / model.member(f)
        blob = repo.blob(f.blob)
        blob.parent.mkdir(parents=True, exist_ok=True)
        if blob.exists():  # two paths with the same content
            src.unlink()
        else:
            _move(src, blob)
        link = repo.snapshot(model.commit) / f.path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    secure_repo_folder(repo.path)  # the store's modes before the move, as a pull gives them
    return repo


def place(staged: RepoFolder, model: BundleModel, cache: Path, placer: Placer) -> None:
    """Move a staged repo into ``cache``: whole when it is new there, else blob by blob, then links."""
    target = RepoFolder(model.repo_id, cache)
    if not target.path.exists():
        placer.rename_new(staged.path, target.path)  # the whole repo folder in one step
        return
    for f in model.files:
        blob, staged_blob = target.blob(f.blob), staged.blob(f.blob)
        placer.mkdir(blob.parent)
        if not staged_blob.exists():
            continue  # already placed for an earlier path of the same content
        if blob.is_file() and blob.stat().st_size == f.size and sha256_file(blob) == f.sha256:
            continue
        placer.replace(staged_blob, blob)
        placer.blobs += 1
    snap = target.snapshot(model.commit)
    if not snap.exists():
        placer.mkdir(snap.parent)
        # links in the staged snapshot are relative to their folder: the same in the target
        placer.rename_new(staged.snapshot(model.commit), snap)
        return
    for f in model.files:
        link, blob = snap / f.path, target.blob(f.blob)
        if link.exists() and link.stat().st_size == f.size and Path(os.path.realpath(link)) == blob.resolve():
            continue
        placer.mkdir(link.parent)
        tmp_link = staged.path / f"link-{hashlib.sha1(f.path.encode()).hexdigest()}"
        tmp_link.symlink_to(os.path.relpath(blob, link.parent))
        placer.replace(tmp_link, link)


def write_ref(repo_id: str, revision: str, commit: str, *, placer: Placer | None = None,
              cache: Path | None = None, force: bool = False) -> bool:
    """Point the ref ``revision`` at ``commit`` when it is missing or names a snapshot that is not there.

    An existing ref to a snapshot in the cache is left alone (another project may rely on it).
    ``cache``: another folder of the same layout (default: the Hugging Face cache); ``force``: point
    it at ``commit`` whatever it names now (our copy of another tool's model: the bundle's is wanted).
    """
    if is_commit(revision) or not valid_revision(revision):
        return False
    repo = RepoFolder(repo_id, cache)
    current = repo.read_ref(revision)
    if current == commit or (current and repo.snapshot(current).is_dir() and not force):
        return False
    if placer is not None:
        ref = repo.ref_path(revision)
        placer.mkdir(ref.parent)
        tmp = placer.backup / f"ref-{len(placer.undo)}"
        tmp.write_text(commit)
        placer.replace(tmp, ref)
    else:
        repo.write_ref(revision, commit)
    return True
