"""Resumable downloads of a Hub repo's LFS files, with ``huggingface_hub``'s own ``http_get``.

huggingface_hub 2.4 resumes a broken transfer only within one call: ``hf_hub_download`` writes to
a process-unique ``<blob>.<random>.incomplete`` and deletes it on any error, and what a killed
process leaves behind is never reused, so a multi-GB file starts again from byte 0. Here each LFS
file missing from the cache is fetched into ``blobs/<sha256>.incomplete`` (huggingface_hub's own
name for the partial of that blob, under its per-blob lock): the bytes already there are kept,
the rest asked for with ``Range: bytes=N-`` (``http_get(resume_size=N)``; a server that ignores
the range and answers 200 restarts the file), and the finished file becomes the blob. A failed,
interrupted or killed transfer leaves the partial for the next attempt: ``http_get``'s own
resumes within the call, then the retry policy's (:mod:`._retry`), then the next pull's.

Every file is then verified by sha256 like any download (:func:`.hub.fetch_snapshot`): a
partial whose prefix was wrong fails that check and the file is fetched again whole.
``snapshot_download`` still links each blob into the snapshot, and fetches the small non-LFS
files and files stored with Xet (when ``hf_xet`` is installed).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from .. import config
from ._hubapi import bar_class, hub_errors, hub_module
from ._hubnames import entry_size
from ._retry import call_with_retry
from .hfcache import RepoFolder

log = logging.getLogger("localmodels.sources.hub")

WORKERS = 4  # LFS files fetched at once


def partial_path(repo: RepoFolder, digest: str) -> Path:
    """Where the partial download of a blob lives (huggingface_hub's ``incomplete_path``)."""
    blob = repo.blob(digest)
    return blob.with_name(f"{blob.name}.incomplete")


def fetch_lfs_blobs(repo_id: str, commit: str, names: Sequence[str], tree: dict[str, dict], *,
                    token: str | bool | None, progress: bool) -> list[str]:
    """Fetch (resuming) the blob of every LFS file of ``names`` the cache lacks; returns their names."""
    repo = RepoFolder(repo_id)
    todo = [n for n in names if tree[n].get("lfs_sha256") and not repo.blob(tree[n]["lfs_sha256"]).is_file()]
    if not todo:
        return []
    hub_module()  # huggingface_hub imported, with our HTTP client (timeouts) in place
    jobs = [lambda n=n: _fetch_one(repo, commit, n, tree[n], token, progress) for n in todo]
    _run(jobs, WORKERS)
    return todo


def _fetch_one(repo: RepoFolder, commit: str, name: str, entry: dict, token, progress: bool) -> None:
    with hub_errors(repo.repo_id, commit, token_sent=bool(token)):
        call_with_retry(lambda: _transfer(repo, commit, name, entry, token, progress),
                        what=f"download of {name} from {repo.repo_id}@{commit[:12]}")


def _same_origin(a: str, b: str) -> bool:
    ua, ub = urlsplit(a), urlsplit(b)
    return (ua.scheme, ua.hostname, ua.port) == (ub.scheme, ub.hostname, ub.port)


def _transfer(repo: RepoFolder, commit: str, name: str, entry: dict, token, progress: bool) -> None:
    """One attempt: resume ``blobs/<sha256>.incomplete`` from its size, then make it the blob."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get, is_xet_available
    from huggingface_hub.utils import WeakFileLock, build_hf_headers

    digest, size = entry["lfs_sha256"], entry_size(entry)
    blob, part = repo.blob(digest), partial_path(repo, digest)
    endpoint = config.hf_endpoint()
    url = hf_hub_url(repo.repo_id, name, revision=commit, endpoint=endpoint)
    meta = get_hf_file_metadata(url, token=token, endpoint=endpoint)
    if meta.xet_file_data is not None and is_xet_available():
        return  # Xet storage: hf_xet fetches it by chunks (snapshot_download)
    location = url if meta.xet_file_data is not None else meta.location  # as huggingface_hub does
    headers = build_hf_headers(token=token)
    if not _same_origin(url, location):
        headers.pop("authorization", None)  # a signed CDN link: the token stays with the Hub
    lock = repo.lock_path(digest)
    lock.parent.mkdir(parents=True, exist_ok=True)
    blob.parent.mkdir(parents=True, exist_ok=True)
    with WeakFileLock(lock):
        if blob.is_file():
            return  # another process finished it meanwhile
        have = part.stat().st_size if part.is_file() else 0
        if have > size:
            have = 0  # not a prefix of this file
        if have:
            log.info("%s: resuming %s at byte %d of %d", repo.repo_id, name, have, size)
        with open(part, "r+b" if part.is_file() else "wb") as f:
            f.seek(have)
            f.truncate()
            http_get(location, f, resume_size=have, headers=headers, expected_size=size,
                     displayed_filename=name, tqdm_class=bar_class(progress))
        os.replace(part, blob)


def _run(jobs: Sequence[Callable[[], None]], workers: int) -> None:
    """Run ``jobs`` ``workers`` at a time in daemon threads; the first error is raised once all
    finished. Ctrl-C returns at once: a transfer cut off keeps its partial file for the next pull."""
    errors: list[BaseException] = []
    slots = threading.Semaphore(workers)

    def run(job: Callable[[], None]) -> None:
        with slots:
            if errors:
                return
            try:
                job()
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                errors.append(e)

    threads = [threading.Thread(target=run, args=(job,), daemon=True, name="localmodels-download") for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
    if errors:
        raise errors[0]
