"""/api/pull: ``store.pull`` in a thread, reported as Ollama's NDJSON progress lines.

    {"status": "pulling manifest"}
    {"status": "pulling 53aa51172d14", "digest": "sha256:53aa...", "total": 90868376, "completed": 1048576}
    {"status": "verifying sha256 digest"}
    {"status": "writing manifest"}
    {"status": "success"}

While the store downloads, bytes are read from the Hugging Face cache as they land (the
``.incomplete`` blobs, sized by the cached tree listing); when the pull returns, one line per file
gives its sha256 and size from the store's record, then ``store.verify`` hashes the files again.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ... import config, store
from ...errors import RuntimeFailure
from ...tasks.loaded import recording_pull

POLL_S = 0.2


def _sizes(repo: Path) -> dict[str, int]:
    """Blob name -> size, from the tree listings cached next to the blobs."""
    out: dict[str, int] = {}
    for tree in sorted((repo / "trees").glob("*.json")):
        try:
            files = json.loads(tree.read_text()).get("files", {})
        except (OSError, ValueError):
            continue
        for entry in files.values():
            blob = entry.get("lfs_sha256") or entry.get("blob_id")
            if blob:
                out[blob] = int(entry.get("lfs_size") or entry.get("size") or 0)
    return out


def _partial(seen: dict[str, int]) -> list[dict[str, Any]]:
    """Progress lines for the downloads in the Hugging Face cache that grew since the last look."""
    lines = []
    for blobs in config.hub_cache().glob("models--*/blobs"):
        sizes: dict[str, int] | None = None
        for p in blobs.glob("*.incomplete"):
            try:
                done = p.stat().st_size
            except OSError:
                continue
            blob = p.name.split(".", 1)[0]  # "<digest>[.<random>].incomplete"
            if seen.get(blob) == done:
                continue
            seen[blob] = done
            sizes = _sizes(blobs.parent) if sizes is None else sizes
            line: dict[str, Any] = {"status": f"pulling {blob[:12]}", "digest": f"sha256:{blob}",
                                    "completed": done}
            if blob in sizes:
                line["total"] = max(sizes[blob], done)
            lines.append(line)
    return lines


def _file_lines(model: store.LocalModel) -> list[dict[str, Any]]:
    out = []
    for f in model.files:
        digest = f.sha256 or ""
        out.append({"status": f"pulling {digest[:12] or f.path}", "digest": f"sha256:{digest}" if digest else "",
                    "total": f.size, "completed": f.size})
    return out


def _verify(ref: str) -> None:
    checks = store.verify(ref)
    bad = [c for c in checks if not c.ok]
    if bad:
        problems = "; ".join(f"{p.path}: {p.problem}" for p in bad[0].problems[:3])
        raise RuntimeFailure(f"{ref}: verification failed after the pull ({problems})",
                             hint=f"run: localmodels verify {ref} --repair")


class Pull:
    """One running pull: a thread doing the work and a queue of progress lines."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.model: store.LocalModel | None = None

    def start(self) -> None:
        def work() -> None:
            try:
                with recording_pull():  # the one request that writes to the store (the server reads only)
                    self.model = store.pull(self.ref)
            except BaseException as e:  # noqa: BLE001 - handed to the request
                self.error = e
            finally:
                self.done.set()

        threading.Thread(target=work, name="lm-ollama-pull", daemon=True).start()

    async def events(self, *, first_wait_s: float) -> AsyncIterator[dict[str, Any]]:
        """Progress lines. An error within ``first_wait_s`` (no byte downloaded yet) is raised before
        the first line, so the caller can answer with a status code instead of an in-band error."""
        seen: dict[str, int] = {}
        pending: list[dict[str, Any]] = []
        waited = 0.0
        while not self.done.is_set() and waited < first_wait_s:
            await asyncio.sleep(POLL_S)
            waited += POLL_S
            pending = await asyncio.to_thread(_partial, seen)
            if pending:
                break
        if self.done.is_set() and self.error is not None:
            raise self.error
        yield {"status": "pulling manifest"}
        for line in pending:
            yield line
        while not self.done.is_set():
            await asyncio.sleep(POLL_S)
            for line in await asyncio.to_thread(_partial, seen):
                yield line
        if self.error is not None:
            raise self.error
        assert self.model is not None
        for line in _file_lines(self.model):
            yield line
        yield {"status": "verifying sha256 digest"}
        await asyncio.to_thread(_verify, self.ref)
        yield {"status": "writing manifest"}
        yield {"status": "success"}
