"""A local stand-in for the Hugging Face Hub: a stdlib HTTP server on 127.0.0.1 with fault injection.

It speaks the part of the Hub protocol that ``huggingface_hub`` uses to download (see
``../shared/notes/hub-protocol.md``):

    GET  /api/models/{repo}[/revision/{rev}]        model info: id, sha, siblings, gated (?blobs=true: sizes, lfs)
    GET  /api/models/{repo}/tree/{rev}[/{path}]     tree listing, paged with ``Link: <...>; rel="next"``
    POST /api/models/{repo}/paths-info/{rev}        the tree entries of the given paths
    GET  /api/models/{repo}/auth-check              gated / private check
    HEAD /{repo}/resolve/{rev}/{path}               ETag, X-Repo-Commit, X-Linked-Etag, X-Linked-Size
    GET  /{repo}/resolve/{rev}/{path}               the bytes, with Range (206 / 416)
    GET  /cdn-lfs/{repo}/{sha256}/{path}            LFS bytes on a second origin (another port, optionally
                                                    named ``localhost``), after a 302
    GET  /api/agent-harnesses                       what huggingface_hub 2.x asks for when telemetry is on

Errors carry ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo) and the Hub's
messages, so ``huggingface_hub`` raises its own typed errors. Gated repos keep their metadata public
and answer 401 (no token) or 403 (a token without access) on ``resolve``, as the real Hub does.

Faults are one-shot (or ``times=N``) and matched by a regex on ``"METHOD /raw/path"``:
``status`` (any code + headers, e.g. 429 + Retry-After), ``drop`` (send N body bytes, then close),
``stall`` (send N bytes, sleep), ``slow`` (send in small pieces with pauses), ``corrupt`` (flip bytes,
same length), ``short`` (a self-consistent body shorter than the file).

In tests::

    hub = Hub().start()            # or the ``hub`` fixture in the test modules
    commit = hub.add_repo("acme/tiny", {"config.json": b"{}", "model.safetensors": b"..."})
    hub.fail(r"GET .*model.safetensors", "drop", after=1000)
    ...
    hub.requests("GET")            # the request log

As a process (for tests that kill clients, or by hand)::

    python tests/hub_server.py --repos-from DIR --port 0     # DIR/org/name/<files>; prints the URL

Control endpoints for a server in another process: ``POST /__hub__/fault`` (JSON: the keyword
arguments of :meth:`Hub.fail`), ``GET /__hub__/log``, ``POST /__hub__/reset``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

DEFAULT_LFS_PATTERNS = (".safetensors", ".bin", ".onnx", ".gguf", ".pt", ".pth", ".ckpt", ".pkl", ".h5", ".msgpack")
LFS_SPEC = "version https://git-lfs.github.com/spec/v1\n"
GOOD_TOKEN = "hf_good"


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def weight_bytes(size: int, seed: bytes = b"w") -> bytes:
    """``size`` deterministic pseudo-weight bytes (a different ``seed`` gives different bytes)."""
    return (hashlib.sha256(seed).digest() * (size // 32 + 1))[:size]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"{LFS_SPEC}oid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class RepoFile:
    path: str
    data: bytes
    lfs: bool
    sha256: str = ""
    blob_id: str = ""  # git blob sha1 (of the LFS pointer for LFS files, as git stores them)
    pointer_size: int = 0

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        if self.lfs:
            pointer = lfs_pointer(self.sha256, len(self.data))
            self.blob_id = git_blob_sha1(pointer)
            self.pointer_size = len(pointer)
        else:
            self.blob_id = git_blob_sha1(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def etag(self) -> str:
        """What ``huggingface_hub`` names the blob after: sha256 for LFS files, git sha1 otherwise."""
        return self.sha256 if self.lfs else self.blob_id

    def tree_entry(self) -> dict:
        entry: dict = {"type": "file", "oid": self.blob_id, "size": self.size, "path": self.path}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": self.pointer_size}
        return entry


@dataclass
class Commit:
    sha: str
    files: dict[str, RepoFile]
    created: float = field(default_factory=time.time)


@dataclass
class Repo:
    repo_id: str
    gated: bool | str = False  # False, "auto" or "manual"
    private: bool = False
    tokens: tuple[str, ...] = (GOOD_TOKEN,)
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # branch or tag -> commit sha

    def resolve(self, rev: str) -> Commit | None:
        if rev in self.refs:
            return self.commits[self.refs[rev]]
        if rev in self.commits:
            return self.commits[rev]
        if re.fullmatch(r"[0-9a-f]{7,40}", rev):
            found = [c for sha, c in self.commits.items() if sha.startswith(rev)]
            if len(found) == 1:
                return found[0]
        return None


@dataclass
class Fault:
    pattern: str
    kind: str  # status | drop | stall | slow | corrupt | short
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0  # drop/stall: body bytes sent first
    seconds: float = 0.0  # stall: pause; slow: pause between pieces; status: pause before answering
    nbytes: int = 16  # corrupt: bytes flipped; short: bytes missing
    times: int = 1
    fired: int = 0

    def matches(self, line: str) -> bool:
        return self.fired < self.times and re.search(self.pattern, line) is not None


@dataclass
class Request:
    method: str
    path: str  # the raw path with its query
    host: str
    auth: bool
    range: str | None
    status: int = 0
    fault: str | None = None
    time: float = field(default_factory=time.monotonic)

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


class Hub:
    """The repos, the request log and the faults; :meth:`start` serves them on two loopback ports."""

    def __init__(self, *, cdn: bool = True, tree_page_size: int = 1000, cdn_host: str = "127.0.0.1") -> None:
        self.repos: dict[str, Repo] = {}
        self.log: list[Request] = []
        self.faults: list[Fault] = []
        self.cdn = cdn  # LFS files answer with a 302 to the second origin
        self.cdn_host = cdn_host  # the host name in that redirect: "127.0.0.1" or "localhost"
        self.tree_page_size = tree_page_size
        self.lock = threading.RLock()
        self._servers: list[ThreadingHTTPServer] = []
        self.url = ""
        self._cdn_port = 0

    # ------------------------------------------------------------------ repos
    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes | str],
        *,
        lfs_patterns: Iterable[str] = DEFAULT_LFS_PATTERNS,
        gated: bool | str = False,
        private: bool = False,
        tokens: Iterable[str] = (GOOD_TOKEN,),
        revision: str = "main",
        tags: Iterable[str] = (),
    ) -> str:
        """Add (or add a new commit to) a repo; moves branch ``revision`` and ``tags`` to it; returns the sha.

        The commit sha is a sha1 over the paths and blob ids, so the same files give the same commit
        and changing a file gives a new one. Older commits stay reachable by their sha.
        """
        suffixes = tuple(lfs_patterns)
        repo_files = {
            p: RepoFile(p, d.encode() if isinstance(d, str) else bytes(d), lfs=p.endswith(suffixes))
            for p, d in files.items()
        }
        h = hashlib.sha1(repo_id.encode())
        for p in sorted(repo_files):
            h.update(f"{p}\0{repo_files[p].blob_id}\n".encode())
        sha = h.hexdigest()
        with self.lock:
            repo = self.repos.get(repo_id)
            if repo is None:
                repo = self.repos[repo_id] = Repo(repo_id)
            repo.gated = "manual" if gated is True else gated
            repo.private = private
            repo.tokens = tuple(tokens)
            repo.commits[sha] = Commit(sha, repo_files)
            repo.refs[revision] = sha
            for tag in tags:
                repo.refs[tag] = sha
        return sha

    def file(self, repo_id: str, path: str, revision: str = "main") -> RepoFile:
        commit = self.repos[repo_id].resolve(revision)
        assert commit is not None
        return commit.files[path]

    # ----------------------------------------------------------------- faults
    def fail(self, pattern: str, kind: str = "status", *, status: int = 503,
             headers: Mapping[str, str] | None = None, after: int = 0, seconds: float = 0.0,
             nbytes: int = 16, times: int = 1) -> Fault:
        """Inject a fault into the next ``times`` requests whose ``"METHOD /path"`` matches ``pattern``."""
        if kind not in ("status", "drop", "stall", "slow", "corrupt", "short"):
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(pattern, kind, status, dict(headers or {}), after, seconds, nbytes, times)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, line: str, kinds: Iterable[str]) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.kind in kinds and f.matches(line):
                    f.fired += 1
                    return f
        return None

    # -------------------------------------------------------------------- log
    def requests(self, method: str | None = None, pattern: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log
                    if (method is None or r.method == method) and (pattern is None or re.search(pattern, r.path))]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def reset(self) -> None:
        with self.lock:
            self.log.clear()
            self.faults.clear()

    # ---------------------------------------------------------------- serving
    def start(self, port: int = 0, cdn_port: int = 0) -> Hub:
        main = _Server(("127.0.0.1", port), self)
        cdn = _Server(("127.0.0.1", cdn_port), self)
        self._servers = [main, cdn]
        self.url = f"http://127.0.0.1:{main.server_address[1]}"
        self._cdn_port = cdn.server_address[1]
        for srv in self._servers:
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    @property
    def cdn_url(self) -> str:
        """The second origin (another port, and the host name ``cdn_host``) that LFS files redirect to."""
        return f"http://{self.cdn_host}:{self._cdn_port}"

    def stop(self) -> None:
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        self._servers = []

    def __enter__(self) -> Hub:
        return self.start() if not self._servers else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a client process that must talk to this hub only."""
        return {
            "HF_ENDPOINT": self.url,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            **extra,
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, hub: Hub) -> None:
        self.hub = hub
        super().__init__(addr, _Handler)

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout, OSError)):
            return  # clients closing keep-alive sockets, dropped connections: expected here
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30

    def log_message(self, format, *args) -> None:  # silence stderr
        pass

    # ------------------------------------------------------------ plumbing
    @property
    def hub(self) -> Hub:
        return self.server.hub

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        self._method = method
        auth = self.headers.get("authorization") or ""
        self._token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        self._req = Request(method, self.path, self.headers.get("host", ""), bool(auth), self.headers.get("range"))
        if not self.path.startswith("/__hub__/"):
            with self.hub.lock:
                self.hub.log.append(self._req)
        body = b""
        length = int(self.headers.get("content-length") or 0)
        if length:
            body = self.rfile.read(length)
        self._body = body
        fault = self.hub.take_fault(f"{method} {self.path}", ("status",))
        if fault is not None:
            self._req.fault = "status"
            if fault.seconds:
                time.sleep(fault.seconds)
            msg = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}.get(
                fault.status, "injected error")
            return self._json({"error": msg}, fault.status, fault.headers)
        try:
            self._route(method)
        except (TimeoutError, ConnectionError, BrokenPipeError):
            self.close_connection = True

    def _send(self, status: int, headers: Mapping[str, str], body: bytes = b"", *, length: int | None = None) -> None:
        self._req.status = status
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self._method != "HEAD" and body:
            self.wfile.write(body)

    def _json(self, obj, status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(obj).encode())

    def _error(self, status: int, code: str | None, message: str, headers: Mapping[str, str] | None = None) -> None:
        h = {"X-Error-Message": message, **(headers or {})}
        if code:
            h["X-Error-Code"] = code
        self._json({"error": message}, status, h)

    # -------------------------------------------------------------- routes
    def _route(self, method: str) -> None:
        split = urlsplit(self.path)
        raw, query = split.path, parse_qs(split.query)
        if raw.startswith("/__hub__/"):
            return self._control(method, raw)
        if raw == "/api/agent-harnesses":
            return self._json({"standardEnvVars": [], "harnesses": {}})
        m = re.fullmatch(r"/api/models/([^/]+)/([^/]+)(/.*)?", raw)
        if m:
            return self._api(method, unquote(m.group(1)) + "/" + unquote(m.group(2)), m.group(3) or "", query)
        m = re.fullmatch(r"/cdn-lfs/([^/]+)/([^/]+)/([0-9a-f]{64})/(.+)", raw)
        if m and method in ("GET", "HEAD"):
            return self._cdn(unquote(m.group(1)) + "/" + unquote(m.group(2)), m.group(3))
        m = re.fullmatch(r"/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)", raw)
        if m and method in ("GET", "HEAD"):
            repo_id = unquote(m.group(1)) + "/" + unquote(m.group(2))
            return self._resolve(repo_id, unquote(m.group(3)), "/".join(unquote(s) for s in m.group(4).split("/")))
        self._error(404, None, f"not found: {raw}")

    def _repo(self, repo_id: str, *, metadata: bool) -> Repo | None:
        """The repo, or None after answering the error the Hub gives for it."""
        repo = self.hub.repos.get(repo_id)
        if repo is not None and repo.private and self._token not in repo.tokens:
            repo = None
        if repo is None:
            self._error(401 if self._token is None else 404, "RepoNotFound",
                        "Repository not found" if metadata else
                        f"Repository Not Found for url: {self.hub.url}{self.path}.")
            return None
        return repo

    def _gate(self, repo: Repo) -> bool:
        """False after answering 401/403 for a gated repo the caller may not read."""
        if not repo.gated or self._token in repo.tokens:
            return True
        if self._token is None:
            self._error(401, "GatedRepo", f"Access to model {repo.repo_id} is restricted. You must have access to it "
                                          "and be authenticated to access it. Please log in.")
        else:
            self._error(403, "GatedRepo", f"Access to model {repo.repo_id} is restricted and you are not in the "
                                          f"authorized list. Visit {self.hub.url}/{repo.repo_id} to ask for access.")
        return False

    def _commit(self, repo: Repo, rev: str) -> Commit | None:
        commit = repo.resolve(rev)
        if commit is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return commit

    def _api(self, method: str, repo_id: str, rest: str, query: dict) -> None:
        repo = self._repo(repo_id, metadata=True)
        if repo is None:
            return
        if rest in ("", "/") or rest.startswith("/revision/"):
            rev = unquote(rest[len("/revision/"):]) if rest.startswith("/revision/") else "main"
            commit = self._commit(repo, rev)
            if commit is not None:
                self._json(self._info(repo, commit, blobs=query.get("blobs", [""])[0] == "true"))
            return
        if rest == "/auth-check":
            if self._gate(repo):
                self._json({})
            return
        m = re.fullmatch(r"/tree/([^/]+)(/.*)?", rest)
        if m and method == "GET":
            commit = self._commit(repo, unquote(m.group(1)))
            if commit is not None:
                prefix = unquote((m.group(2) or "").strip("/"))
                self._tree(repo, commit, prefix, query)
            return
        m = re.fullmatch(r"/paths-info/([^/]+)", rest)
        if m and method == "POST":
            commit = self._commit(repo, unquote(m.group(1)))
            if commit is not None:
                form = parse_qs(self._body.decode())
                paths = form.get("paths", [])
                if not paths and self._body.startswith(b"{"):
                    paths = json.loads(self._body).get("paths", [])
                self._json([commit.files[p].tree_entry() for p in paths if p in commit.files])
            return
        self._error(404, None, f"not found: {rest}")

    def _info(self, repo: Repo, commit: Commit, *, blobs: bool) -> dict:
        siblings = []
        for f in sorted(commit.files.values(), key=lambda f: f.path):
            s: dict = {"rfilename": f.path}
            if blobs:
                s.update(size=f.size, blobId=f.blob_id)
                if f.lfs:
                    s["lfs"] = {"size": f.size, "sha256": f.sha256, "pointerSize": f.pointer_size}
            siblings.append(s)
        return {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "sha": commit.sha,
            "private": repo.private,
            "gated": repo.gated,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "lastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(commit.created)),
            "siblings": siblings,
        }

    def _tree(self, repo: Repo, commit: Commit, prefix: str, query: dict) -> None:
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        entries: dict[str, dict] = {}
        base = prefix + "/" if prefix else ""
        for f in commit.files.values():
            if not f.path.startswith(base):
                continue
            rest = f.path[len(base):]
            parts = rest.split("/")
            for i in range(1, len(parts)):  # directories on the way
                d = base + "/".join(parts[:i])
                if recursive or i == 1:
                    entries.setdefault(d, {"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(),
                                           "size": 0, "path": d})
            if recursive or len(parts) == 1:
                entries[f.path] = f.tree_entry()
        if prefix and not entries and prefix not in commit.files:
            return self._error(404, "EntryNotFound", f"{prefix} does not exist on \"{commit.sha}\"",
                               {"X-Repo-Commit": commit.sha})
        items = [entries[k] for k in sorted(entries)]
        start = int(query.get("cursor", ["0"])[0] or 0)
        size = self.hub.tree_page_size
        page = items[start:start + size]
        headers = {}
        if start + size < len(items):
            q = {k: v[0] for k, v in query.items() if k != "cursor"}
            q["cursor"] = str(start + size)
            qs = "&".join(f"{k}={quote(v)}" for k, v in q.items())
            headers["Link"] = f'<{self.hub.url}{urlsplit(self.path).path}?{qs}>; rel="next"'
        self._json(page, 200, headers)

    def _resolve(self, repo_id: str, rev: str, path: str) -> None:
        repo = self._repo(repo_id, metadata=False)
        if repo is None or not self._gate(repo):
            return
        commit = self._commit(repo, rev)
        if commit is None:
            return
        f = commit.files.get(path)
        if f is None:
            return self._error(404, "EntryNotFound", f"Entry not found for url: {self.hub.url}{self.path}.",
                               {"X-Repo-Commit": commit.sha})
        headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{f.blob_id}"', "Accept-Ranges": "bytes"}
        if f.lfs:
            headers.update({"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(f.size)})
            if self.hub.cdn:
                loc = f"{self.hub.cdn_url}/cdn-lfs/{repo.repo_id}/{f.sha256}/{quote(f.path)}"
                return self._send(302, {**headers, "Location": loc, "Content-Type": "text/plain"}, b"Found.")
            headers["ETag"] = f'"{f.sha256}"'
        self._body_of(f, headers)

    def _cdn(self, repo_id: str, sha256: str) -> None:
        repo = self.hub.repos.get(repo_id)
        f = None
        if repo is not None:
            for c in repo.commits.values():
                f = next((x for x in c.files.values() if x.lfs and x.sha256 == sha256), None)
                if f:
                    break
        if f is None:
            return self._send(404, {"Content-Type": "text/plain"}, b"NoSuchKey")
        self._body_of(f, {"ETag": f'"{f.sha256}"', "Accept-Ranges": "bytes"})

    def _body_of(self, f: RepoFile, headers: dict[str, str]) -> None:
        """Serve a file's bytes (whole or a Range), applying any body fault."""
        data = f.data
        total = len(data)
        status = 200
        rng = self.headers.get("range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if m:
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else total - 1
                if start >= total:
                    return self._send(416, {"Content-Range": f"bytes */{total}", **headers})
                end = min(end, total - 1)
                data = data[start:end + 1]
                status = 206
                headers = {**headers, "Content-Range": f"bytes {start}-{end}/{total}"}
        headers = {"Content-Type": "application/octet-stream", **headers}
        if self._method == "HEAD":
            return self._send(status, headers, length=len(data))
        fault = self.hub.take_fault(f"GET {self.path}", ("drop", "stall", "slow", "corrupt", "short"))
        if fault is None:
            return self._send(status, headers, data)
        self._req.fault = fault.kind
        if fault.kind == "corrupt":
            buf = bytearray(data)
            mid = len(buf) // 2
            for i in range(mid, min(len(buf), mid + max(1, fault.nbytes))):
                buf[i] ^= 0xFF
            return self._send(status, headers, bytes(buf))
        if fault.kind == "short":
            return self._send(status, headers, data[:max(0, len(data) - fault.nbytes)])
        self._req.status = status
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault.kind == "slow":
            step = max(1, len(data) // 20)
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(fault.seconds or 0.05)
            return
        self.wfile.write(data[:fault.after])
        self.wfile.flush()
        if fault.kind == "stall":
            time.sleep(fault.seconds or 5)
            self.wfile.write(data[fault.after:])
            return
        # drop: shut the socket down mid-body
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------- control
    def _control(self, method: str, raw: str) -> None:
        if raw == "/__hub__/log" and method == "GET":
            with self.hub.lock:
                log = [{"method": r.method, "path": r.path, "host": r.host, "auth": r.auth, "range": r.range,
                        "status": r.status, "fault": r.fault} for r in self.hub.log]
            return self._json(log)
        if raw == "/__hub__/fault" and method == "POST":
            spec = json.loads(self._body or b"{}")
            self.hub.fail(spec.pop("pattern"), spec.pop("kind", "status"), **spec)
            return self._json({"ok": True})
        if raw == "/__hub__/reset" and method == "POST":
            self.hub.reset()
            return self._json({"ok": True})
        self._error(404, None, "unknown control endpoint")


# ---------------------------------------------------------------- as a process
def load_repos(hub: Hub, folder: Path, *, gated: Iterable[str] = (), tokens: Iterable[str] = (GOOD_TOKEN,)) -> None:
    """Serve every ``folder/org/name/`` as repo ``org/name`` (all files under it, recursively)."""
    gated = set(gated)
    for org in sorted(p for p in folder.iterdir() if p.is_dir()):
        for repo in sorted(p for p in org.iterdir() if p.is_dir()):
            files = {f.relative_to(repo).as_posix(): f.read_bytes() for f in sorted(repo.rglob("*")) if f.is_file()}
            repo_id = f"{org.name}/{repo.name}"
            hub.add_repo(repo_id, files, gated=repo_id in gated, tokens=tuple(tokens))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="A local Hugging Face Hub stand-in on 127.0.0.1")
    ap.add_argument("--repos-from", type=Path, help="folder holding org/name/<files>")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cdn-port", type=int, default=0)
    ap.add_argument("--no-cdn", action="store_true", help="serve LFS files directly (no 302 to the CDN origin)")
    ap.add_argument("--cdn-host", default="127.0.0.1", help="host name in the CDN redirect (e.g. localhost)")
    ap.add_argument("--gated", action="append", default=[], help="repo id to gate (repeatable)")
    ap.add_argument("--token", action="append", default=[], help="token that may read gated repos")
    ap.add_argument("--tree-page-size", type=int, default=1000)
    args = ap.parse_args(argv)
    hub = Hub(cdn=not args.no_cdn, tree_page_size=args.tree_page_size, cdn_host=args.cdn_host)
    if args.repos_from:
        load_repos(hub, args.repos_from, gated=args.gated, tokens=args.token or (GOOD_TOKEN,))
    hub.start(args.port, args.cdn_port)
    print(hub.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())


# ------------------------------------------------------------------ pytest fixtures
try:  # usable without pytest installed (as a process)
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="session")
    def hub_session() -> Iterable[Hub]:
        """One server for the whole test session (cheap to share: each test gets a clean state)."""
        h = Hub().start()
        yield h
        h.stop()

    @pytest.fixture
    def hub(hub_session: Hub, monkeypatch) -> Hub:
        """The local Hub, emptied, with the environment pointing at it and tiny retry sleeps.

        Use in a test module with ``from hub_server import hub, hub_session  # noqa: F401``.
        """
        h = hub_session
        with h.lock:
            h.reset()
            h.repos.clear()
            h.cdn = True
            h.cdn_host = "127.0.0.1"
            h.tree_page_size = 1000
        for k, v in h.env(LOCALMODELS_RETRY_BASE="0.01", LOCALMODELS_RETRY_MAX_WAIT="5").items():
            monkeypatch.setenv(k, v)
        return h
