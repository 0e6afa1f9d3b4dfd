"""The Hub's wire format: model info, tree listings and errors as ``huggingface_hub`` parses them
(see ``shared/notes/hub-protocol.md`` and ``tests/hub_server.py``)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from .inventory import ServedRepo, Snapshot

NO_CACHE = {"Cache-Control": "no-store"}


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(obj), status_code=status, media_type="application/json", headers=headers)


def hub_error(status: int, code: str | None, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error as the Hub sends it: ``X-Error-Code`` (so clients raise their typed errors),
    ``X-Error-Message`` and a JSON ``error``."""
    h = {"X-Error-Message": message.replace("\n", " "), **(headers or {})}
    if code:
        h["X-Error-Code"] = code
    return json_response({"error": message}, status, h)


def repo_not_found(repo_id: str) -> Response:
    return hub_error(404, "RepoNotFound", f"Repository Not Found for url: /api/models/{repo_id}. "
                     "Please make sure you specified the correct `repo_id` and `repo_type`. This mirror "
                     "serves only what its store holds (localmodels mirror status lists it).")


def revision_not_found(revision: str) -> Response:
    return hub_error(404, "RevisionNotFound", f"Invalid rev id: {revision}")


def entry_not_found(path: str, commit: str) -> Response:
    return hub_error(404, "EntryNotFound", f"Entry not found: {path} does not exist at {commit}",
                     {"X-Repo-Commit": commit})


def gated_refused(repo_id: str, *, has_token: bool, url: str) -> Response:
    if not has_token:
        return hub_error(401, "GatedRepo", f"Access to model {repo_id} is restricted. You must have access to it "
                                           "and be authenticated to access it. Please log in.")
    return hub_error(403, "GatedRepo", f"Access to model {repo_id} is restricted and you are not in the "
                                       f"authorized list. Ask the mirror's admin ({url}) to allow your token.")


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def model_info(repo: ServedRepo, snap: Snapshot, *, blobs: bool) -> dict[str, Any]:
    siblings = []
    for f in sorted(snap.files.values(), key=lambda f: f.path):
        s: dict[str, Any] = {"rfilename": f.path}
        if blobs:
            s.update(size=f.size, blobId=f.blob_id)
            if f.lfs:
                s["lfs"] = f.tree_entry()["lfs"] | {"sha256": f.sha256}
        siblings.append(s)
    return {
        "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
        "id": repo.repo_id,
        "modelId": repo.repo_id,
        "sha": snap.commit,
        "private": False,
        "gated": "manual" if repo.gated else False,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "lastModified": _iso(snap.created),
        "createdAt": _iso(snap.created),
        "siblings": siblings,
        "usedStorage": snap.size,
    }


def tree_items(snap: Snapshot, prefix: str, recursive: bool) -> list[dict[str, Any]] | None:
    """The listing under ``prefix`` (None when the prefix names nothing)."""
    entries: dict[str, dict[str, Any]] = {}
    base = prefix + "/" if prefix else ""
    for f in snap.files.values():
        if not f.path.startswith(base):
            continue
        parts = f.path[len(base):].split("/")
        for i in range(1, len(parts)):
            d = base + "/".join(parts[:i])
            if recursive or i == 1:
                entries.setdefault(d, {"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(),
                                       "size": 0, "path": d})
        if recursive or len(parts) == 1:
            entries[f.path] = f.tree_entry()
    if prefix and not entries:
        return None
    return [entries[k] for k in sorted(entries)]


def page(items: list[dict[str, Any]], query: dict[str, str], *, base_url: str, path: str, size: int
         ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One page of a listing and its ``Link: <next>; rel="next"`` header."""
    try:
        start = max(0, int(query.get("cursor") or 0))
    except ValueError:
        start = 0
    headers: dict[str, str] = {}
    if start + size < len(items):
        q = {k: v for k, v in query.items() if k != "cursor"} | {"cursor": str(start + size)}
        qs = "&".join(f"{k}={quote(v)}" for k, v in q.items())
        headers["Link"] = f'<{base_url}{path}?{qs}>; rel="next"'
    return items[start:start + size], headers
