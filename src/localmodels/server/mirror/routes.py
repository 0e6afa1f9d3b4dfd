"""The mirror's routes, matched on the raw path as the Hub's are (a revision may be ``refs%2Fpr%2F1``).

    GET  /api/models/{repo}[/revision/{rev}]      model info (siblings, sha, gated; ?blobs=true)
    GET  /api/models/{repo}/tree/{rev}[/{path}]   listing (?recursive=true), paged with Link
    POST /api/models/{repo}/paths-info/{rev}      listing entries of the given paths
    GET  /api/models/{repo}/auth-check            200, or the gated errors
    HEAD/GET /{repo}/resolve/{rev}/{path}         verified bytes: ETag, X-Repo-Commit, X-Linked-*,
                                                  Range (206/416), If-None-Match (304)
    GET  /api/mirror/status                       what is served, verified state, request counts
    GET  /api/agent-harnesses, /api/whoami-v2     what huggingface_hub asks on the side
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import Response

from ...errors import AccessError, LocalModelsError, ModelNotFoundError, NetworkError
from ...sources._files import is_safe_relpath
from ...sources.hfcache import valid_repo_id, valid_revision
from . import protocol as hub
from .auth import Access, Token
from .inventory import Inventory, ServedRepo, Snapshot
from .pullthrough import PullThrough
from .sendfile import BlobResponse
from .status import Stats
from .verify import CorruptBlob, Verifier

log = logging.getLogger("localmodels.mirror")

_REPO = r"(?P<repo>[^/]+(?:/[^/]+)?)"
_API = re.compile(r"^/api/models/" + _REPO + r"(?P<rest>(?:/(?:revision|tree|paths-info)/.*)|/auth-check|/?)$")
_RESOLVE = re.compile(r"^/" + _REPO + r"/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class Call:
    """One request, reduced to what the handlers need."""

    method: str
    path: str  # raw, still quoted
    query: dict[str, str]
    headers: Any
    token: Token | None
    body: bytes = b""


class Mirror:
    """The served state and the request handlers (each runs in a worker thread)."""

    def __init__(self, inventory: Inventory, verifier: Verifier, access: Access, stats: Stats, *,
                 pull: PullThrough | None = None, tree_page_size: int = 1000, status: Callable[[], dict] | None = None
                 ) -> None:
        self.inventory = inventory
        self.verifier = verifier
        self.access = access
        self.stats = stats
        self.pull = pull
        self.tree_page_size = tree_page_size
        self.status = status

    # ---- entry point ----------------------------------------------------------------------------
    def handle(self, request: Request, body: bytes) -> Response:
        raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        query = {k: values[0] for k, values in parse_qs(request.url.query).items()}
        call = Call(request.method, raw, query, request.headers, None, body)
        if raw == "/api/agent-harnesses":
            return hub.json_response({"standardEnvVars": [], "harnesses": {}})
        if self.access.required:
            call.token = self.access.identify(request.headers.get("authorization"))
            if call.token is None:
                self.stats.count("refused", 401)
                given = request.headers.get("authorization") is not None
                return hub.hub_error(401, None, "Invalid credentials in Authorization header" if given else
                                     "This mirror needs a token: set HF_TOKEN (sent as 'Authorization: Bearer "
                                     "<token>')", {"WWW-Authenticate": 'Bearer realm="localmodels mirror"'})
        if raw == "/api/whoami-v2":
            return hub.json_response({"type": "user", "name": "mirror-user", "auth": {"type": "access_token"}})
        if raw == "/api/mirror/status" and self.status is not None:
            return hub.json_response(self.status())
        if call.method in ("GET", "HEAD", "POST") and (m := _API.match(raw)):
            return self._api(call, unquote(m.group("repo")), m.group("rest"))
        if call.method in ("GET", "HEAD") and (m := _RESOLVE.match(raw)):
            return self._resolve(call, unquote(m.group("repo")), unquote(m.group("rev")), unquote(m.group("path")))
        self.stats.count("other", 404)
        return hub.hub_error(404, None, f"not found: {call.method} {raw.split('?')[0]}")

    # ---- lookup ---------------------------------------------------------------------------------
    def _snapshot(self, call: Call, repo_id: str, revision: str, route: str
                  ) -> tuple[ServedRepo, Snapshot] | Response:
        """The served repo and snapshot (pulling through on a miss), or the Hub's error."""
        if not valid_repo_id(repo_id) or not valid_revision(revision):
            return self._count(route, repo_id, hub.repo_not_found(repo_id) if not valid_repo_id(repo_id)
                               else hub.revision_not_found(revision))
        repo = self.inventory.repo(repo_id)
        snap = repo.resolve(revision) if repo else None
        target = self.inventory.fetchable(repo_id, revision) if snap is None and self.pull is not None else None
        if target is not None and self.pull is not None:
            try:
                self.pull.fetch(repo_id, *target)
            except ModelNotFoundError as e:
                missing_revision = f"revision {revision!r} was not found" in e.message
                return self._count(route, repo_id, hub.revision_not_found(revision) if missing_revision
                                   else hub.repo_not_found(repo_id))
            except AccessError as e:
                return self._count(route, repo_id, hub.hub_error(401 if e.status != 403 else 403, "GatedRepo",
                                                                 f"the mirror's upstream refused {repo_id}: {e}"))
            except (NetworkError, LocalModelsError, OSError) as e:
                return self._count(route, repo_id, hub.hub_error(502, None, f"the upstream failed for {repo_id}: {e}"))
            repo = self.inventory.repo(repo_id)
            snap = repo.resolve(revision) if repo else None
        if repo is None:
            return self._count(route, repo_id, hub.repo_not_found(repo_id))
        if snap is None:
            return self._count(route, repo.repo_id, hub.revision_not_found(revision))
        return repo, snap

    def _count(self, route: str, repo_id: str | None, response: Response, served: int = 0) -> Response:
        self.stats.count(route, response.status_code, repo_id, served_bytes=served)
        return response

    # ---- /api/models ----------------------------------------------------------------------------
    def _api(self, call: Call, repo_id: str, rest: str) -> Response:
        rest = rest.rstrip("/") if rest in ("", "/") else rest
        if rest == "/auth-check":
            found = self._snapshot(call, repo_id, "main", "api")
            if isinstance(found, Response):
                return found
            repo, _ = found
            if repo.gated and (call.token is None or not call.token.may_read(repo.repo_id)):
                return self._count("api", repo.repo_id, self._gate_error(call, repo))
            return self._count("api", repo.repo_id, hub.json_response({}))
        kind, _, tail = rest.lstrip("/").partition("/")
        rev_raw, _, sub = tail.partition("/")
        revision = unquote(rev_raw) if kind else "main"
        found = self._snapshot(call, repo_id, revision, "api")
        if isinstance(found, Response):
            return found
        repo, snap = found
        if kind in ("", "revision"):
            return self._count("api", repo.repo_id,
                               hub.json_response(hub.model_info(repo, snap, blobs=call.query.get("blobs") == "true")))
        if kind == "tree":
            prefix = unquote(sub.split("?")[0]).strip("/")
            items = hub.tree_items(snap, prefix, call.query.get("recursive", "").lower() == "true")
            if items is None:
                return self._count("api", repo.repo_id, hub.entry_not_found(prefix, snap.commit))
            base = f"{call.headers.get('x-forwarded-proto', 'http')}://{call.headers.get('host', '127.0.0.1')}"
            page, headers = hub.page(items, call.query, base_url=base, path=call.path.split("?")[0],
                                     size=self.tree_page_size)
            return self._count("api", repo.repo_id, hub.json_response(page, headers=headers))
        # paths-info
        form = parse_qs(call.body.decode("utf-8", "replace"))
        paths = form.get("paths", [])
        if not paths and call.body.startswith(b"{"):
            import json

            try:
                paths = list(json.loads(call.body).get("paths", []))
            except (ValueError, AttributeError):
                paths = []
        entries = [snap.files[p].tree_entry() for p in paths if p in snap.files]
        return self._count("api", repo.repo_id, hub.json_response(entries))

    def _gate_error(self, call: Call, repo: ServedRepo) -> Response:
        return hub.gated_refused(repo.repo_id, has_token=call.token is not None,
                                 url=call.headers.get("host", "this mirror"))

    # ---- /{repo}/resolve ------------------------------------------------------------------------
    def _resolve(self, call: Call, repo_id: str, revision: str, path: str) -> Response:
        if not is_safe_relpath(path):
            return self._count("file", repo_id, hub.hub_error(400, None, f"bad file path {path!r}"))
        found = self._snapshot(call, repo_id, revision, "file")
        if isinstance(found, Response):
            return found
        repo, snap = found
        if repo.gated and (call.token is None or not call.token.may_read(repo.repo_id)):
            return self._count("file", repo.repo_id, self._gate_error(call, repo))
        f = snap.files.get(path)
        if f is None:
            return self._count("file", repo.repo_id, hub.entry_not_found(path, snap.commit))
        headers = {"X-Repo-Commit": snap.commit, "ETag": f'"{f.etag}"', "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream", "Cache-Control": "public, max-age=31536000, immutable"
                   if revision == snap.commit else "no-cache"}
        if f.lfs:
            headers |= {"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(f.size)}
        try:
            fd, st = self.verifier.open_verified(f, repo.repo_id, hash_now=call.method != "HEAD")
        except CorruptBlob as e:
            return self._count("file", repo.repo_id, hub.hub_error(
                503, None, f"{repo.repo_id}/{path}: the mirror's copy failed its sha256 check ({e}); it is not "
                "served. Use another endpoint, or retry once the mirror's store is repaired.", hub.NO_CACHE))
        return self._body(call, repo.repo_id, fd, st, headers)

    def _body(self, call: Call, repo_id: str, fd: int, st: os.stat_result, headers: dict[str, str]) -> Response:
        size = st.st_size
        head = call.method == "HEAD"
        inm = call.headers.get("if-none-match")
        if inm and any(t.strip().removeprefix("W/") in (headers["ETag"], "*") for t in inm.split(",")):
            os.close(fd)
            return self._count("file", repo_id, BlobResponse(None, status=304, headers=headers, head=True))
        start, end, status = 0, size, 200
        rng = (call.headers.get("range") or "").strip()
        m = _RANGE.match(rng) if rng and "," not in rng else None
        if m and (m.group(1) or m.group(2)):
            if m.group(1):
                start = int(m.group(1))
                end = min(size, int(m.group(2)) + 1) if m.group(2) else size
            else:  # the last N bytes
                start = max(0, size - int(m.group(2)))
            if start >= size or end <= start:
                os.close(fd)
                return self._count("file", repo_id, BlobResponse(
                    None, status=416, headers=headers | {"Content-Range": f"bytes */{size}", "Content-Length": "0"},
                    head=True))
            status = 206
            headers = headers | {"Content-Range": f"bytes {start}-{end - 1}/{size}"}
        headers["Content-Length"] = str(end - start)
        response = BlobResponse(fd, status=status, headers=headers, offset=start, count=end - start, head=head,
                                verified=st)
        self.stats.count("file", status, repo_id, served_bytes=0 if head else end - start)
        return response
