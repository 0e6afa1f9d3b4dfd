"""What vouches for a bundle's bytes: the store's own copy of a commit, or only the bundle itself.

A commit is immutable: each of its files has exactly one content. When the Hugging Face cache
already holds a commit, it knows each file's blob name (its sha256, or git blob sha1 for small
files) from the snapshot's links and from the Hub's listing it cached. A bundle that names a
different blob for such a file is forged or damaged, however consistent its own index is, and is
refused before anything is extracted (:func:`check_against_store`). Files the store does not hold
yet are checked against the bundle's own digests only: the import summary says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import IntegrityError
from ..sources.hfcache import RepoFolder
from .bundle_index import BundleIndex, BundleModel


def held_blobs(repo: RepoFolder, commit: str) -> dict[str, set[str]]:
    """Path -> the blob names the cache holds for that file of ``commit`` (links and cached listing)."""
    held: dict[str, set[str]] = {}
    for path, entry in (repo.read_tree(commit) or {}).items():
        blob = entry.get("lfs_sha256") or entry.get("blob_id")
        if isinstance(blob, str) and blob:
            held.setdefault(path, set()).add(blob)
    if repo.snapshot(commit).is_dir():
        for path in repo.snapshot_files(commit):
            blob = repo.blob_of(commit, path)
            if blob is not None:
                held.setdefault(path, set()).add(blob.name)
    return held


def _check_model(model: BundleModel, cache: Path) -> bool:
    """Refuse a file whose blob differs from the one held for the same commit; True when every file
    of the model matched one we hold."""
    held = held_blobs(RepoFolder(model.repo_id, cache), model.commit)
    vouched = True
    for f in model.files:
        ours = held.get(f.path)
        if not ours:
            vouched = False
            continue
        if ours != {f.blob}:
            mine = ", ".join(sorted(b[:12] + "..." for b in ours))
            raise IntegrityError(
                f"refusing the bundle: {model.repo_id}@{model.commit[:10]}: {f.path} differs from the copy of that "
                f"commit this store already holds (blob {f.blob[:12]}... in the bundle, {mine} here); "
                "nothing was imported",
                path=f.path, expected=sorted(ours)[0], actual=f.blob,
                hint="the bundle was forged or damaged: get it again from its source, or export it again; "
                     f"`localmodels verify {model.repo_id}@{model.commit}` checks the copy here")
    return vouched


def check_against_store(index: BundleIndex, root_of: Callable[[BundleModel], Path]) -> list[str]:
    """Refuse a bundle that would change a file of a commit already held (see the module docstring);
    return the models (``org/name@commit``) with files vouched for by the bundle alone. ``root_of``
    gives each model's root (the Hugging Face cache, or our copies for another tool's model)."""
    return [m.label for m in index.models if not _check_model(m, root_of(m))]


TRUST_NOTE = ("checked against the bundle's own digests only: these bytes are only as trustworthy as the bundle "
              "(no copy here to compare with, no signature checked)")
