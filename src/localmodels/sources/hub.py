"""The Hugging Face Hub as a source: ``huggingface_hub`` for the transfer, our checks around it.

What ``huggingface_hub`` (pinned ``>=2.4,<3``) does not do and this module adds (see
``notes/hub-protocol.md``):

* a retry with exponential backoff and jitter around every Hub call (429 with ``Retry-After``,
  5xx, dropped connections), see :mod:`._retry`;
* a sha256 check of every downloaded file against the Hub's LFS oid (git blob sha1 for small
  files); a bad file is deleted and fetched once more, then :class:`IntegrityError`;
* refusal of pickle weights without opt-in and of repo file names that would escape the folder;
* a free-disk check before a download, and removal of orphan ``blobs/*.incomplete`` files;
* our own errors with a hint (gated 401 vs 403, not found, offline).

Files live in the standard Hugging Face cache (``config.hub_cache()``), so what transformers or
sentence-transformers downloaded is found, and what we download serves them too. Offline
(``config.offline()``) nothing here makes a network request.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from .. import config
from ..errors import (
    AccessError,
    InsufficientResourcesError,
    IntegrityError,
    InvalidReferenceError,
    LocalModelsError,
    ModelNotFoundError,
    NetworkError,
    NotInStoreError,
    OfflineError,
    UnsafeFileError,
)
from .base import FileRecord
from ._files import free_space as _disk_free
from ._files import is_safe_relpath, sha256_and_git_blob_sha1, sha256_file, write_atomic
from ._hflayout import (
    HEX40 as _HEX40,
    HEX64 as _HEX64,
    TREE_FORMAT_VERSION as _TREE_FORMAT_VERSION,
    escape_pattern as _escape,
    folder_files as _snapshot_files,
    is_commit,
    norm_patterns as _norm_patterns,
    read_ref_file,
    read_tree,
    repo_folder,
    repo_folder_name,
    select_files,
    snapshot_folder,
    valid_repo_id,
    valid_revision,
)
from ._retry import call_with_retry

log = logging.getLogger("localmodels.sources.hub")

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
SAFE_WEIGHT_SUFFIXES = (".safetensors", ".onnx", ".gguf", ".h5", ".msgpack", ".tflite", ".ot", ".mlmodel", ".npz")


# --------------------------------------------------------------------------------------- results
@dataclass
class HubSnapshot:
    """A complete, verified snapshot of a Hub repo in the Hugging Face cache."""

    repo_id: str
    revision: str  # what was asked for: a branch, tag or commit ("main" by default)
    commit: str  # the 40-hex commit it resolved to
    path: Path  # the snapshot folder (models--org--name/snapshots/<commit>)
    files: list[FileRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # pickle files left out (no allow_pickle)
    downloaded: list[str] = field(default_factory=list)  # files fetched over the network by this call

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class FileProblem:
    """One file of a snapshot that is not what the Hub says it must be."""

    path: str
    kind: str  # "missing" | "size" | "sha256" | "git-sha1"
    expected: str | None = None
    actual: str | None = None

    @property
    def message(self) -> str:
        if self.kind == "missing":
            return f"{self.path}: missing"
        return f"{self.path}: {self.kind} is {self.actual}, expected {self.expected}"

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------------- cache layout
def _locks_folder(repo_id: str) -> Path:
    return config.hub_cache() / ".locks" / repo_folder_name(repo_id)


def _write_tree(repo_id: str, commit: str, tree: dict[str, dict]) -> None:
    """Write the listing in ``huggingface_hub``'s own format, so ``snapshot_download`` skips the tree call."""
    data = {"format_version": _TREE_FORMAT_VERSION, "files": {p: tree[p] for p in sorted(tree)}}
    write_atomic(repo_folder(repo_id) / "trees" / f"{commit}.json", json.dumps(data, indent=1).encode())


def _write_ref(repo_id: str, revision: str, commit: str) -> None:
    if is_commit(revision):
        return
    ref = repo_folder(repo_id) / "refs" / revision
    try:
        if ref.read_text().strip() == commit:
            return
    except OSError:
        pass
    write_atomic(ref, commit.encode())


def read_ref(repo_id: str, revision: str | None) -> str | None:
    """The commit a branch or tag points to in the cache (a commit sha answers for itself)."""
    revision = revision or "main"
    if is_commit(revision):
        return revision
    check_revision(revision)
    return read_ref_file(repo_id, revision)


def _expected_digest(entry: dict) -> str:
    """The blob name ``huggingface_hub`` stores a file under: LFS sha256, else the git blob sha1."""
    return entry.get("lfs_sha256") or entry["blob_id"]


def _entry_size(entry: dict) -> int:
    return int(entry.get("lfs_size") or entry.get("size") or 0)


# ------------------------------------------------------------------------------ names and filters
def check_repo_id(repo_id: str) -> None:
    if not valid_repo_id(repo_id):
        raise InvalidReferenceError(str(repo_id), "not a Hub repo id (expected org/name)")


def check_revision(revision: str) -> None:
    """A branch, tag or commit: no path tricks (it names a file under ``refs/``)."""
    if not valid_revision(revision):
        raise InvalidReferenceError(str(revision), "not a valid revision (a branch, tag or commit sha)")


def check_safe_name(name: str) -> None:
    """Refuse a repo file name that could escape the snapshot folder (absolute, ``..``, backslash...)."""
    if not is_safe_relpath(name):
        raise UnsafeFileError(
            f"refusing repo file name {name!r}: it would escape the model folder",
            hint="this repo is malformed or malicious; report it, or pick the files you need with allow patterns",
        )


def is_pickle(name: str) -> bool:
    return name.lower().endswith(PICKLE_SUFFIXES)


def _apply_pickle_policy(repo_id: str, selected: list[str], allow_pickle: bool) -> tuple[list[str], list[str]]:
    """(files to fetch, pickle files skipped); UnsafeFileError when pickle weights are all there is."""
    if allow_pickle:
        return selected, []
    skipped = [p for p in selected if is_pickle(p)]
    keep = [p for p in selected if not is_pickle(p)]
    if skipped and not any(p.lower().endswith(SAFE_WEIGHT_SUFFIXES) for p in keep):
        raise UnsafeFileError(
            f"{repo_id} only has pickle weights ({', '.join(skipped[:3])}{', ...' if len(skipped) > 3 else ''}); "
            "loading a pickle file can run arbitrary code",
            hint=f"if you trust this repo, run: localmodels pull {repo_id} --allow-pickle",
        )
    return keep, skipped


def _pickle_ignores() -> list[str]:
    """fnmatch patterns (case-insensitive by character classes) for the pickle suffixes."""
    return ["*" + "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in suffix)
            for suffix in PICKLE_SUFFIXES]


def _download_patterns(tree: dict[str, dict], names: Sequence[str], allow_patterns, ignore_patterns,
                       allow_pickle: bool) -> tuple[list[str] | None, list[str] | None]:
    """Patterns that make ``snapshot_download`` fetch exactly ``names``.

    Exact (escaped) names for a few files; for many, the user's patterns plus the pickle ignores
    (``huggingface_hub`` matches every file against every pattern, so thousands of names are slow).
    """
    if len(names) > 256:
        allow = _norm_patterns(allow_patterns)
        ignore = (_norm_patterns(ignore_patterns) or []) + ([] if allow_pickle else _pickle_ignores())
        if select_files(tree, allow, ignore or None) == sorted(names):
            return allow, ignore or None
    return [_escape(n) for n in names], None


# --------------------------------------------------------------------------------- hashing memo
_memo_lock = threading.Lock()


def _memo_path(repo_id: str) -> Path:
    return config.home() / "cache" / "hub-verified" / (repo_folder_name(repo_id) + ".json")


def _load_memo(repo_id: str) -> dict[str, list]:
    try:
        data = json.loads(_memo_path(repo_id).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_memo(repo_id: str, memo: dict[str, list]) -> None:
    try:
        write_atomic(_memo_path(repo_id), json.dumps(memo, sort_keys=True).encode())
    except OSError:  # the memo only saves time
        pass


def _stamp(path: Path) -> list | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


# ------------------------------------------------------------------------------------ checking
def _check_one(snapshot_path: Path, rel: str, entry: dict | None, memo: dict[str, list] | None,
               *, use_memo: bool) -> tuple[FileRecord | None, FileProblem | None]:
    """Hash one snapshot file against its tree entry (or its blob name when there is no tree)."""
    p = snapshot_path / rel
    real = Path(os.path.realpath(p))
    if not real.is_file():
        return None, FileProblem(rel, "missing")
    stamp = _stamp(real)
    size = stamp[0] if stamp else 0
    want_sha256 = want_sha1 = None
    want_size = None
    if entry is not None:
        want_sha256 = entry.get("lfs_sha256")
        want_sha1 = None if want_sha256 else entry.get("blob_id")
        want_size = _entry_size(entry)
    elif p.is_symlink():
        if _HEX64.match(real.name):
            want_sha256 = real.name
        elif _HEX40.match(real.name):
            want_sha1 = real.name
    if want_size is not None and size != want_size:
        return None, FileProblem(rel, "size", str(want_size), str(size))
    key = real.name
    if use_memo and memo is not None and stamp is not None:
        known = memo.get(key)
        if known and known[:3] == stamp and (want_sha256 is None or known[3] == want_sha256):
            return FileRecord(rel, size, known[3]), None
    if want_sha1 is not None:
        digest, actual1 = sha256_and_git_blob_sha1(real)
        if actual1 != want_sha1:
            return None, FileProblem(rel, "git-sha1", want_sha1, actual1)
    else:
        digest = sha256_file(real)
    if want_sha256 is not None and digest != want_sha256:
        return None, FileProblem(rel, "sha256", want_sha256, digest)
    if memo is not None and stamp is not None and (want_sha256 or want_sha1):
        memo[key] = [*stamp, digest]
    return FileRecord(rel, size, digest), None


def _check_files(repo_id: str, commit: str, paths: Sequence[str], tree: dict[str, dict] | None,
                 *, use_memo: bool) -> tuple[list[FileRecord], list[FileProblem]]:
    snap = snapshot_folder(repo_id, commit)
    with _memo_lock:
        memo = _load_memo(repo_id)
    records: list[FileRecord] = []
    problems: list[FileProblem] = []

    def one(rel: str) -> tuple[FileRecord | None, FileProblem | None]:
        return _check_one(snap, rel, (tree or {}).get(rel), memo, use_memo=use_memo)

    workers = min(4, os.cpu_count() or 1, len(paths))
    if workers > 1:  # hashlib releases the GIL: big files hash in parallel
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, paths))
    else:
        results = [one(rel) for rel in paths]
    for rec, problem in results:
        if rec is not None:
            records.append(rec)
        if problem is not None:
            problems.append(problem)
    with _memo_lock:
        _save_memo(repo_id, memo)
    return records, problems


def _delete_file(repo_id: str, commit: str, rel: str) -> None:
    """Remove a snapshot entry and the blob behind it (so nothing bad counts as present)."""
    p = snapshot_folder(repo_id, commit) / rel
    real = Path(os.path.realpath(p))
    for target in (p, real):
        try:
            if target.is_symlink() or target.is_file():
                target.unlink()
        except OSError:
            pass


def clean_incomplete(repo_id: str) -> list[Path]:
    """Delete this repo's orphan ``blobs/*.incomplete`` files (left by a killed download).

    A partial file whose blob lock another process holds is a live download and stays.
    """
    blobs = repo_folder(repo_id) / "blobs"
    if not blobs.is_dir():
        return []
    from filelock import FileLock, Timeout

    removed = []
    for part in blobs.glob("*.incomplete"):
        etag = part.name.split(".")[0]
        lock_path = _locks_folder(repo_id) / f"{etag}.lock"
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(lock_path), timeout=0):
                part.unlink(missing_ok=True)
                removed.append(part)
        except Timeout:
            continue
        except OSError:
            continue
    if removed:
        log.info("removed %d orphan partial download(s) of %s", len(removed), repo_id)
    return removed


# --------------------------------------------------------------------------------- offline lookup
def find_cached(repo_id: str, revision: str | None = None, allow_patterns=None, ignore_patterns=None,
                *, allow_pickle: bool = False) -> HubSnapshot | None:
    """A complete snapshot already in the Hugging Face cache, or None. Never touches the network.

    Works for snapshots written by anyone (``huggingface_hub``, transformers, us): the commit comes
    from ``refs/<revision>`` (or is the revision), completeness from ``trees/<commit>.json``. Without
    a cached tree (older tools) the files present in the snapshot are taken as the snapshot.
    Large files are not hashed here (see :func:`verify_snapshot`); sha256 comes from the tree.
    """
    try:
        return _find_cached(repo_id, revision, allow_patterns, ignore_patterns, allow_pickle=allow_pickle)
    except UnsafeFileError:
        return None


def _find_cached(repo_id: str, revision: str | None, allow_patterns, ignore_patterns,
                 *, allow_pickle: bool) -> HubSnapshot | None:
    """:func:`find_cached`, raising UnsafeFileError for pickle-only weights or unsafe names."""
    check_repo_id(repo_id)
    revision = revision or "main"
    commit = read_ref(repo_id, revision)
    if commit is None:
        return None
    snap = snapshot_folder(repo_id, commit)
    if not snap.is_dir():
        return None
    tree = read_tree(repo_id, commit)
    if tree is not None:
        wanted = select_files(tree, allow_patterns, ignore_patterns)
    else:
        wanted = select_files(_snapshot_files(snap), allow_patterns, ignore_patterns)
    for name in wanted:
        check_safe_name(name)
    wanted, skipped = _apply_pickle_policy(repo_id, wanted, allow_pickle)
    if not wanted:
        return None
    records = []
    for rel in wanted:
        p = snap / rel
        if not p.is_file():  # follows the link: a dangling link is missing
            return None
        entry = (tree or {}).get(rel)
        size = p.stat().st_size
        if entry is not None:
            if size != _entry_size(entry):
                return None
            digest = entry.get("lfs_sha256")
        else:
            name = Path(os.path.realpath(p)).name
            digest = name if _HEX64.match(name) else None
        if digest is None:
            digest = sha256_file(p)  # small git file: cheap
        records.append(FileRecord(rel, size, digest))
    return HubSnapshot(repo_id, revision, commit, snap, records, skipped)


# ----------------------------------------------------------------------------------- the Hub side
def _hf():
    """Import ``huggingface_hub`` (after making sure no telemetry call can leave the machine)."""
    config.prepare_hf_env()
    import huggingface_hub
    from huggingface_hub import constants

    # Our offline switch is the source of truth (huggingface_hub read its env only at import).
    constants.HF_HUB_OFFLINE = config.offline()
    return huggingface_hub


def _token(token: str | bool | None) -> str | bool | None:
    if token is not None:
        return token
    return config.hf_token()


@contextmanager
def _hub_errors(repo_id: str, revision: str | None, *, token_sent: bool = False) -> Iterator[None]:
    """Turn ``huggingface_hub`` errors into ours, each with a hint."""
    from huggingface_hub import errors as hf_errors

    endpoint = config.hf_endpoint()
    shown = f"{repo_id}@{revision}" if revision and revision != "main" else repo_id
    try:
        yield
    except LocalModelsError:
        raise
    except hf_errors.GatedRepoError as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        if status == 403:
            raise AccessError(
                f"your Hugging Face token has no access to the gated repo {repo_id}",
                repo_id=repo_id, status=403,
                hint=f"request access at {endpoint}/{repo_id} (with the account of your HF_TOKEN), then pull again",
            ) from None
        if token_sent:
            raise AccessError(
                f"the Hugging Face token was refused for the gated repo {repo_id} (401: invalid or expired)",
                repo_id=repo_id, status=401,
                hint=f"set HF_TOKEN to a valid token of an account with access (request it at {endpoint}/{repo_id})",
            ) from None
        raise AccessError(
            f"{repo_id} is a gated repo and no Hugging Face token was sent",
            repo_id=repo_id, status=status or 401,
            hint=f"set HF_TOKEN to a token of an account with access (request it at {endpoint}/{repo_id})",
        ) from None
    except hf_errors.RepositoryNotFoundError:
        raise ModelNotFoundError(
            f"repo {repo_id} was not found on {endpoint}", ref=shown,
            hint="check the name (localmodels catalog lists known models); a private repo needs HF_TOKEN",
        ) from None
    except hf_errors.RevisionNotFoundError:
        raise ModelNotFoundError(
            f"revision {revision!r} was not found in {repo_id}", ref=shown,
            hint=f"use a branch, tag or commit of {repo_id} that exists (see {endpoint}/{repo_id}/commits/main)",
        ) from None
    except hf_errors.RemoteEntryNotFoundError as e:
        raise ModelNotFoundError(
            f"a file of {shown} was not found on the Hub: {str(e).splitlines()[0]}", ref=shown,
            hint="the repo changed while pulling; pull again",
        ) from None
    except hf_errors.OfflineModeIsEnabled:
        raise OfflineError(f"{shown} needs the network, and offline mode is on") from None
    except hf_errors.HFValidationError as e:
        raise InvalidReferenceError(shown, str(e).splitlines()[0]) from None
    except hf_errors.IncompleteSnapshotError as e:
        raise NetworkError(f"could not complete {shown}: {str(e).splitlines()[0]}",
                           hint="check the connection and HF_ENDPOINT, then pull again") from None
    except hf_errors.HfHubHTTPError as e:
        raise NetworkError(f"the Hub refused {shown}: {str(e).splitlines()[0]}",
                           hint="check HF_ENDPOINT and HF_TOKEN, then pull again") from e
    except (ConnectionError, TimeoutError) as e:
        raise NetworkError(f"could not reach the Hub for {shown}: {e}",
                           hint="check the connection and HF_ENDPOINT, then pull again") from e
    except Exception as e:  # httpx2 transport errors and the like
        if type(e).__module__.startswith(("httpx", "httpcore")):
            raise NetworkError(f"could not reach the Hub for {shown}: {type(e).__name__}: {e}",
                               hint="check the connection and HF_ENDPOINT, then pull again") from e
        raise


def _api(token):
    hf = _hf()
    return hf.HfApi(endpoint=config.hf_endpoint(), token=token)


def remote_commit(repo_id: str, revision: str | None = None, *, token: str | bool | None = None) -> str:
    """The commit a revision points to on the Hub (one request, retried)."""
    check_repo_id(repo_id)
    revision = revision or "main"
    if is_commit(revision):
        return revision
    if config.offline():
        raise OfflineError(f"resolving {repo_id}@{revision} needs the network, and offline mode is on")
    tok = _token(token)
    with _hub_errors(repo_id, revision, token_sent=bool(tok)):
        api = _api(tok)
        info = call_with_retry(lambda: api.model_info(repo_id, revision=revision),
                               what=f"model info for {repo_id}@{revision}")
    if not info.sha:
        raise NetworkError(f"the Hub gave no commit for {repo_id}@{revision}")
    return info.sha


def remote_tree(repo_id: str, commit: str, *, token: str | bool | None = None) -> dict[str, dict]:
    """The file listing at a commit: from the cache when present, else from the Hub (then cached)."""
    tree = read_tree(repo_id, commit)
    if tree is not None:
        return tree
    if config.offline():
        raise OfflineError(f"listing {repo_id}@{commit[:12]} needs the network, and offline mode is on")
    tok = _token(token)
    with _hub_errors(repo_id, commit, token_sent=bool(tok)):
        hf = _hf()
        api = _api(tok)

        def listing() -> dict[str, dict]:
            out: dict[str, dict] = {}
            for item in api.list_repo_tree(repo_id, recursive=True, revision=commit):
                if not isinstance(item, hf.hf_api.RepoFile):
                    continue
                info: dict[str, Any] = {"size": item.size, "blob_id": item.blob_id}
                if item.lfs is not None:
                    info["lfs_sha256"] = item.lfs.sha256
                    info["lfs_size"] = item.lfs.size
                out[item.path] = info
            return out

        tree = call_with_retry(listing, what=f"file list of {repo_id}@{commit[:12]}")
    _write_tree(repo_id, commit, tree)
    return tree


class _QuietBar:
    """A tqdm stand-in that shows nothing (``huggingface_hub`` accepts any tqdm-like class)."""

    def __init__(self, iterable=None, *args, **kwargs):
        self.iterable = iterable
        self.total = kwargs.get("total")
        self.n = 0
        self.disable = True

    def __iter__(self):
        return iter(self.iterable or ())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        self.n += n or 0

    def __getattr__(self, name):  # refresh, close, set_description, set_postfix_str, ...
        return lambda *a, **k: None


def _bar_class(progress: bool):
    if progress and sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm
    return _QuietBar


def _download(repo_id: str, commit: str, names: Sequence[str], *, token, progress: bool, force: bool,
              patterns: tuple[list[str] | None, list[str] | None] | None = None) -> None:
    """``snapshot_download`` of exactly ``names`` at ``commit`` (tree already cached), retried."""
    hf = _hf()
    allow, ignore = patterns or ([_escape(n) for n in names], None)

    def go() -> None:
        hf.snapshot_download(
            repo_id,
            revision=commit,
            cache_dir=str(config.hub_cache()),
            endpoint=config.hf_endpoint(),
            token=token,
            allow_patterns=allow,
            ignore_patterns=ignore,
            force_download=force,
            tqdm_class=_bar_class(progress),
            max_workers=8,
        )

    with _hub_errors(repo_id, commit, token_sent=bool(token)):
        call_with_retry(go, what=f"download of {repo_id}@{commit[:12]}")


def _check_disk(repo_id: str, needed: int) -> None:
    if needed <= 0:
        return
    free = _disk_free(repo_folder(repo_id))
    if needed > free:
        raise InsufficientResourcesError(
            "disk space", needed=needed, available=free,
            hint=f"free space under {config.hub_cache()}, or set HF_HUB_CACHE to a bigger disk",
        )


def _missing(repo_id: str, commit: str, names: Sequence[str], tree: dict[str, dict]) -> list[str]:
    """Files whose blob is not in the cache yet (or whose snapshot link is gone)."""
    base = repo_folder(repo_id)
    out = []
    for n in names:
        blob = base / "blobs" / _expected_digest(tree[n])
        if not blob.is_file() or not (base / "snapshots" / commit / n).is_file():
            out.append(n)
    return out


def _verified_cached(snap: HubSnapshot, shown: str) -> HubSnapshot:
    """The cached snapshot after a hash check of its files (memoised by size+mtime+inode)."""
    records, problems = _check_files(snap.repo_id, snap.commit, [f.path for f in snap.files],
                                     read_tree(snap.repo_id, snap.commit), use_memo=True)
    if problems:
        raise IntegrityError(
            f"the cached copy of {shown} is damaged: " + "; ".join(p.message for p in problems[:3]),
            path=problems[0].path, expected=problems[0].expected, actual=problems[0].actual,
            hint=f"run online: localmodels verify {shown} --repair",
        )
    snap.files = records
    return snap


def fetch_snapshot(
    repo_id: str,
    *,
    revision: str | None = None,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
    allow_pickle: bool = False,
    token: str | bool | None = None,
    progress: bool = False,
    force: bool = False,
) -> HubSnapshot:
    """Download (or find in the cache) a verified snapshot of ``repo_id`` at ``revision``.

    Online: resolve the commit, list the files, refuse unsafe names and pickle-only weights, check
    free disk, download what is missing with ``huggingface_hub``, check every file's sha256 (LFS oid
    / git blob sha1), fetch a bad file once more, write ``refs/<revision>`` last. Offline: the cached
    snapshot or :class:`NotInStoreError`.

    Raises:
        InvalidReferenceError, ModelNotFoundError (repo, revision or patterns match nothing),
        NotInStoreError (offline, not cached), AccessError (gated: 401 no token, 403 no access),
        UnsafeFileError, InsufficientResourcesError, IntegrityError, NetworkError (after retries).
    """
    check_repo_id(repo_id)
    rev = revision or "main"
    check_revision(rev)
    shown = f"{repo_id}@{revision}" if revision else repo_id
    if config.offline():
        snap = find_cached(repo_id, rev, allow_patterns, ignore_patterns, allow_pickle=allow_pickle)
        if snap is None:
            if not allow_pickle and find_cached(repo_id, rev, allow_patterns, ignore_patterns, allow_pickle=True):
                _find_cached(repo_id, rev, allow_patterns, ignore_patterns, allow_pickle=False)  # says why
            raise NotInStoreError(shown, detail="offline mode is on and the Hugging Face cache has no complete copy")
        return _verified_cached(snap, shown)

    tok = _token(token)
    try:
        commit = remote_commit(repo_id, rev, token=tok)
        tree = remote_tree(repo_id, commit, token=tok)
    except NetworkError as e:
        # The Hub is unreachable (after retries): a complete cached copy still serves, as in huggingface_hub.
        snap = find_cached(repo_id, rev, allow_patterns, ignore_patterns, allow_pickle=allow_pickle)
        if snap is None or force:
            raise
        log.warning("%s; using the cached copy of %s (commit %s)", e, shown, snap.commit[:12])
        return _verified_cached(snap, shown)
    selected = select_files(tree, allow_patterns, ignore_patterns)
    for name in selected:
        check_safe_name(name)
    names, skipped = _apply_pickle_policy(repo_id, selected, allow_pickle)
    if not names:
        pats = ", ".join(_norm_patterns(allow_patterns) or []) or "(all)"
        raise ModelNotFoundError(
            f"no file of {shown} matches the patterns {pats}" + (f" (ignoring {ignore_patterns})" if ignore_patterns else ""),
            ref=shown, hint=f"list the repo's files at {config.hf_endpoint()}/{repo_id}/tree/{rev} and fix the patterns",
        )

    clean_incomplete(repo_id)
    missing = list(names) if force else _missing(repo_id, commit, names, tree)
    no_blob = [n for n in missing if force or not (repo_folder(repo_id) / "blobs" / _expected_digest(tree[n])).is_file()]
    _check_disk(repo_id, sum(_entry_size(tree[n]) for n in no_blob))
    if missing:
        pats = (_download_patterns(tree, names, allow_patterns, ignore_patterns, allow_pickle)
                if len(missing) == len(names) else None)
        _download(repo_id, commit, missing, token=tok, progress=progress, force=force, patterns=pats)

    records, problems = _check_files(repo_id, commit, names, tree, use_memo=not force)
    if problems:
        bad = [p.path for p in problems]
        log.warning("%s: %s; downloading again", shown, "; ".join(p.message for p in problems))
        for rel in bad:
            _delete_file(repo_id, commit, rel)
        _download(repo_id, commit, bad, token=tok, progress=progress, force=True)
        again, problems = _check_files(repo_id, commit, bad, tree, use_memo=False)
        if problems:
            for p in problems:
                _delete_file(repo_id, commit, p.path)
            first = problems[0]
            raise IntegrityError(
                f"{first.path} of {shown} does not match the Hub's digest after a second download "
                f"({first.kind} {first.actual}, expected {first.expected})",
                path=first.path, expected=first.expected, actual=first.actual,
                hint="the server or a proxy is serving bad bytes; check HF_ENDPOINT and try again later",
            )
        by_path = {r.path: r for r in records + again}
        records = [by_path[n] for n in names]

    _write_ref(repo_id, rev, commit)
    clean_incomplete(repo_id)
    return HubSnapshot(repo_id, rev, commit, snapshot_folder(repo_id, commit), records, skipped,
                       no_blob)


# -------------------------------------------------------------------------------- verify / repair
def _target(snapshot: HubSnapshot | str, commit: str | None, allow_patterns, ignore_patterns
            ) -> tuple[str, str, list[str], dict[str, dict] | None]:
    if isinstance(snapshot, HubSnapshot):
        return snapshot.repo_id, snapshot.commit, [f.path for f in snapshot.files], read_tree(
            snapshot.repo_id, snapshot.commit)
    repo_id = snapshot
    check_repo_id(repo_id)
    c = read_ref(repo_id, commit)
    if c is None:
        raise NotInStoreError(repo_id if not commit else f"{repo_id}@{commit}")
    tree = read_tree(repo_id, c)
    snap = snapshot_folder(repo_id, c)
    present = [p for p in _snapshot_files(snap)] if snap.is_dir() else []
    # dangling links count too: os.walk lists them as files
    if allow_patterns is not None or ignore_patterns is not None:
        paths = select_files(tree if tree is not None else present, allow_patterns, ignore_patterns)
    else:
        paths = present
    return repo_id, c, paths, tree


def verify_snapshot(
    snapshot: HubSnapshot | str,
    commit: str | None = None,
    *,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
) -> list[FileProblem]:
    """Hash every file of a cached snapshot against the cached tree (or blob names); offline.

    ``snapshot`` is a :class:`HubSnapshot` (its files are checked) or a repo id with ``commit`` (a
    commit sha or a branch/tag in ``refs/``; default main): the files in the snapshot folder are
    checked, or, with patterns, the tree's files that match them (absent ones are ``missing``).
    """
    return check_snapshot(snapshot, commit, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns)[1]


def check_snapshot(
    snapshot: HubSnapshot | str,
    commit: str | None = None,
    *,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
) -> tuple[list[FileRecord], list[FileProblem]]:
    """:func:`verify_snapshot`, also returning the size and sha256 of each good file, from the same pass."""
    repo_id, c, paths, tree = _target(snapshot, commit, allow_patterns, ignore_patterns)
    return _check_files(repo_id, c, paths, tree, use_memo=False)


def repair(
    snapshot: HubSnapshot | str,
    commit: str | None = None,
    *,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
    token: str | bool | None = None,
    progress: bool = False,
) -> list[FileProblem]:
    """Verify, download the bad and missing files again, verify again; returns what is still wrong.

    Raises OfflineError when something needs fixing and offline mode is on.
    """
    repo_id, c, paths, tree = _target(snapshot, commit, allow_patterns, ignore_patterns)
    _, problems = _check_files(repo_id, c, paths, tree, use_memo=False)
    if not problems:
        return []
    if config.offline():
        raise OfflineError(f"repairing {repo_id} ({len(problems)} bad file(s)) needs the network, "
                           "and offline mode is on")
    tok = _token(token)
    tree = tree or remote_tree(repo_id, c, token=tok)
    bad = [p.path for p in problems]
    for rel in bad:
        check_safe_name(rel)
        if rel not in tree:
            raise ModelNotFoundError(f"{rel} is not part of {repo_id}@{c[:12]} on the Hub", ref=repo_id)
        _delete_file(repo_id, c, rel)
    clean_incomplete(repo_id)
    _check_disk(repo_id, sum(_entry_size(tree[n]) for n in bad))
    _download(repo_id, c, bad, token=tok, progress=progress, force=True)
    _, remaining = _check_files(repo_id, c, bad, tree, use_memo=False)
    for p in remaining:
        _delete_file(repo_id, c, p.path)
    return remaining


__all__ = [
    "HubSnapshot", "FileProblem", "fetch_snapshot", "find_cached", "verify_snapshot", "check_snapshot", "repair",
    "clean_incomplete", "remote_commit", "remote_tree", "read_tree", "read_ref", "repo_folder",
    "select_files", "check_safe_name", "check_repo_id", "check_revision", "is_pickle", "PICKLE_SUFFIXES",
]
