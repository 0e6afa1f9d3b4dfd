"""The local Hub stand-in speaks the protocol huggingface_hub expects, and its faults do what they say."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hub_server import GOOD_TOKEN, git_blob_sha1, hub, hub_session  # noqa: F401  (fixtures)

HERE = Path(__file__).resolve().parent
WEIGHTS = bytes(range(256)) * 400  # 102400 bytes


def request(url: str, method: str = "GET", path: str = "/", headers: dict | None = None,
            body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read() if method != "HEAD" else b""
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


@pytest.fixture
def repo(hub):
    commit = hub.add_repo("acme/tiny", {"config.json": b'{"a": 1}', "model.safetensors": WEIGHTS,
                                        "sub/dir/vocab.txt": b"a\nb\n"})
    return commit


def test_model_info_and_revisions(hub, repo):
    status, _, body = request(hub.url, path="/api/models/acme/tiny")
    info = json.loads(body)
    assert status == 200 and info["id"] == "acme/tiny" and info["sha"] == repo and info["gated"] is False
    assert sorted(s["rfilename"] for s in info["siblings"]) == ["config.json", "model.safetensors", "sub/dir/vocab.txt"]
    _, _, body = request(hub.url, path=f"/api/models/acme/tiny/revision/{repo}?blobs=true")
    sib = {s["rfilename"]: s for s in json.loads(body)["siblings"]}
    assert sib["model.safetensors"]["lfs"]["sha256"] == hashlib.sha256(WEIGHTS).hexdigest()
    assert sib["config.json"]["blobId"] == git_blob_sha1(b'{"a": 1}') and "lfs" not in sib["config.json"]

    same = hub.add_repo("acme/tiny", {"config.json": b'{"a": 1}', "model.safetensors": WEIGHTS,
                                      "sub/dir/vocab.txt": b"a\nb\n"})
    assert same == repo, "the commit is derived from the contents"
    new = hub.add_repo("acme/tiny", {"config.json": b'{"a": 2}', "model.safetensors": WEIGHTS}, tags=["v2"])
    assert new != repo
    assert json.loads(request(hub.url, path="/api/models/acme/tiny/revision/main")[2])["sha"] == new
    assert json.loads(request(hub.url, path="/api/models/acme/tiny/revision/v2")[2])["sha"] == new
    assert json.loads(request(hub.url, path=f"/api/models/acme/tiny/revision/{repo}")[2])["sha"] == repo
    assert json.loads(request(hub.url, path=f"/api/models/acme/tiny/revision/{repo[:7]}")[2])["sha"] == repo
    assert request(hub.url, path="/api/agent-harnesses")[0] == 200


def test_git_blob_sha1_is_what_git_computes(tmp_path):
    data = b"hello world\n"
    assert git_blob_sha1(data) == "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"  # git hash-object


def test_tree_paging_and_directories(hub, repo):
    hub.tree_page_size = 2
    path = f"/api/models/acme/tiny/tree/{repo}?recursive=true&expand=false"
    entries, pages = [], 0
    while path:
        status, headers, body = request(hub.url, path=path)
        assert status == 200
        entries += json.loads(body)
        pages += 1
        link = headers.get("link")
        path = urlsplit(link.split(";")[0].strip("<> ")).path + "?" + urlsplit(link.split(";")[0].strip("<> ")).query \
            if link else None
        assert not link or 'rel="next"' in link
    assert pages == 3
    by_path = {e["path"]: e for e in entries}
    assert by_path["sub"]["type"] == "directory" and by_path["sub/dir"]["type"] == "directory"
    lfs = by_path["model.safetensors"]
    assert lfs["lfs"]["oid"] == hashlib.sha256(WEIGHTS).hexdigest() and lfs["size"] == len(WEIGHTS)
    assert "xetHash" not in lfs
    hub.tree_page_size = 1000
    top = json.loads(request(hub.url, path=f"/api/models/acme/tiny/tree/{repo}")[2])
    assert sorted(e["path"] for e in top) == ["config.json", "model.safetensors", "sub"]
    sub = json.loads(request(hub.url, path="/api/models/acme/tiny/tree/main/sub/dir")[2])
    assert [e["path"] for e in sub] == ["sub/dir/vocab.txt"]


def test_resolve_headers_range_and_cdn_redirect(hub, repo):
    status, h, _ = request(hub.url, "HEAD", "/acme/tiny/resolve/main/config.json")
    assert status == 200 and h["etag"] == '"' + git_blob_sha1(b'{"a": 1}') + '"'
    assert h["x-repo-commit"] == repo and h["content-length"] == "8"

    status, h, _ = request(hub.url, "HEAD", "/acme/tiny/resolve/main/model.safetensors")
    sha = hashlib.sha256(WEIGHTS).hexdigest()
    assert status == 302 and h["x-linked-etag"] == f'"{sha}"' and h["x-linked-size"] == str(len(WEIGHTS))
    assert h["location"].startswith(hub.cdn_url) and hub.cdn_url != hub.url
    cdn_path = h["location"][len(hub.cdn_url):]
    status, h, body = request(hub.cdn_url, path=cdn_path, headers={"Range": "bytes=100-"})
    assert status == 206 and body == WEIGHTS[100:] and h["content-range"] == f"bytes 100-{len(WEIGHTS) - 1}/{len(WEIGHTS)}"
    status, h, _ = request(hub.cdn_url, path=cdn_path, headers={"Range": f"bytes={len(WEIGHTS)}-"})
    assert status == 416 and h["content-range"] == f"bytes */{len(WEIGHTS)}"

    hub.cdn = False
    status, h, body = request(hub.url, path="/acme/tiny/resolve/main/model.safetensors",
                              headers={"Range": "bytes=0-9"})
    assert status == 206 and body == WEIGHTS[:10] and h["etag"] == f'"{sha}"' and h["x-linked-etag"] == f'"{sha}"'
    status, _, body = request(hub.url, path="/acme/tiny/resolve/main/sub/dir/vocab.txt")
    assert status == 200 and body == b"a\nb\n"


def test_error_codes_and_messages(hub, repo):
    s, h, _ = request(hub.url, path="/api/models/acme/nope")
    assert (s, h["x-error-code"]) == (401, "RepoNotFound")
    s, h, _ = request(hub.url, path="/api/models/acme/nope", headers={"Authorization": "Bearer x"})
    assert (s, h["x-error-code"]) == (404, "RepoNotFound")
    s, h, _ = request(hub.url, path="/api/models/acme/tiny/revision/nope")
    assert (s, h["x-error-code"]) == (404, "RevisionNotFound")
    s, h, _ = request(hub.url, "HEAD", "/acme/tiny/resolve/main/missing.txt")
    assert (s, h["x-error-code"], h["x-repo-commit"]) == (404, "EntryNotFound", repo)

    hub.add_repo("acme/gated", {"config.json": b"{}"}, gated=True)
    assert json.loads(request(hub.url, path="/api/models/acme/gated")[2])["gated"] == "manual"  # metadata public
    s, h, _ = request(hub.url, "HEAD", "/acme/gated/resolve/main/config.json")
    assert (s, h["x-error-code"]) == (401, "GatedRepo") and "Please log in" in h["x-error-message"]
    s, h, _ = request(hub.url, "HEAD", "/acme/gated/resolve/main/config.json", {"Authorization": "Bearer bad"})
    assert (s, h["x-error-code"]) == (403, "GatedRepo") and f"{hub.url}/acme/gated" in h["x-error-message"]
    s, _, _ = request(hub.url, "HEAD", "/acme/gated/resolve/main/config.json", {"Authorization": f"Bearer {GOOD_TOKEN}"})
    assert s == 200
    assert request(hub.url, path="/api/models/acme/gated/auth-check")[0] == 401


def test_huggingface_hub_maps_the_errors_to_its_types(hub, repo, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub import errors as e

    hub.add_repo("acme/gated", {"config.json": b"{}"}, gated=True)
    kw = {"endpoint": hub.url, "cache_dir": tmp_path}
    cases = [
        (lambda: HfApi(endpoint=hub.url).model_info("acme/nope"), e.RepositoryNotFoundError),
        (lambda: HfApi(endpoint=hub.url).model_info("acme/tiny", revision="nope"), e.RevisionNotFoundError),
        (lambda: hf_hub_download("acme/tiny", "missing.txt", **kw), e.RemoteEntryNotFoundError),
        (lambda: hf_hub_download("acme/gated", "config.json", token=False, **kw), e.GatedRepoError),
        (lambda: hf_hub_download("acme/gated", "config.json", token="hf_bad", **kw), e.GatedRepoError),
    ]
    for call, exc_type in cases:
        with pytest.raises(exc_type):
            call()
    path = hf_hub_download("acme/gated", "config.json", token=GOOD_TOKEN, **kw)
    assert Path(path).read_bytes() == b"{}"
    gated = hub.requests("HEAD", r"acme/gated")
    assert [r.status for r in gated] == [401, 403, 200] and [r.auth for r in gated] == [False, True, True]


def test_faults_are_one_shot_and_matched_by_regex(hub, repo):
    hub.cdn = False
    path = "/acme/tiny/resolve/main/model.safetensors"
    hub.fail(r"GET /acme/tiny/resolve/.*safetensors", status=429, headers={"Retry-After": "7"})
    s, h, _ = request(hub.url, path=path)
    assert s == 429 and h["retry-after"] == "7"
    assert request(hub.url, path=path)[0] == 200
    assert request(hub.url, "HEAD", path)[0] == 200, "a GET fault does not hit HEAD"

    hub.fail(r"safetensors", "corrupt", nbytes=4)
    s, _, body = request(hub.url, path=path)
    assert s == 200 and len(body) == len(WEIGHTS) and body != WEIGHTS
    assert sum(a != b for a, b in zip(body, WEIGHTS)) == 4

    hub.fail(r"safetensors", "short", nbytes=100)
    s, h, body = request(hub.url, path=path)
    assert body == WEIGHTS[:-100] and h["content-length"] == str(len(WEIGHTS) - 100)

    hub.fail(r"safetensors", "drop", after=1000)
    with pytest.raises(http.client.IncompleteRead) as ei:
        request(hub.url, path=path)
    assert len(ei.value.partial) == 1000

    hub.fail(r"config\.json", status=503, times=2)
    assert [request(hub.url, path="/acme/tiny/resolve/main/config.json")[0] for _ in range(3)] == [503, 503, 200]
    assert [r.fault for r in hub.requests("GET", "config")] == ["status", "status", None]


def test_request_log_records_method_path_range_auth_host(hub, repo):
    hub.clear_log()
    request(hub.url, "HEAD", "/acme/tiny/resolve/main/config.json", {"Authorization": "Bearer t"})
    request(hub.url, "GET", "/acme/tiny/resolve/main/config.json", {"Range": "bytes=2-"})
    head, get = hub.requests()
    assert (head.method, head.auth, head.range, head.status) == ("HEAD", True, None, 200)
    assert (get.method, get.auth, get.range, get.status) == ("GET", False, "bytes=2-", 206)
    assert head.host == hub.url.split("//")[1] and head.path == "/acme/tiny/resolve/main/config.json"


def test_snapshot_download_against_the_stand_in(hub, repo, tmp_path):
    from huggingface_hub import snapshot_download

    folder = Path(snapshot_download("acme/tiny", endpoint=hub.url, cache_dir=tmp_path))
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert (folder / "sub" / "dir" / "vocab.txt").read_bytes() == b"a\nb\n"
    lines = [r.line.split("?")[0] for r in hub.requests()]
    assert lines[:2] == ["GET /api/models/acme/tiny/revision/main", f"GET /api/models/acme/tiny/tree/{repo}"]
    assert sum(1 for line in lines if line.startswith("HEAD")) == 3


def test_standalone_process_serves_a_folder_and_takes_faults(tmp_path):
    repo = tmp_path / "repos" / "acme" / "disk"
    (repo / "sub").mkdir(parents=True)
    (repo / "config.json").write_bytes(b'{"x": 1}')
    (repo / "sub" / "model.safetensors").write_bytes(WEIGHTS)
    (tmp_path / "repos" / "acme" / "locked").mkdir()
    (tmp_path / "repos" / "acme" / "locked" / "config.json").write_bytes(b"{}")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "hub_server.py"), "--repos-from", str(tmp_path / "repos"), "--port", "0",
         "--gated", "acme/locked", "--token", "secret"],
        stdout=subprocess.PIPE, text=True, env={**os.environ},
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        info = json.loads(request(url, path="/api/models/acme/disk")[2])
        assert sorted(s["rfilename"] for s in info["siblings"]) == ["config.json", "sub/model.safetensors"]
        request(url, "POST", "/__hub__/fault", body=json.dumps({"pattern": "config", "status": 500}).encode())
        assert request(url, path="/acme/disk/resolve/main/config.json")[0] == 500
        assert request(url, path="/acme/disk/resolve/main/config.json")[2] == b'{"x": 1}'
        assert request(url, "HEAD", "/acme/locked/resolve/main/config.json", {"Authorization": "Bearer secret"})[0] == 200
        assert request(url, "HEAD", "/acme/locked/resolve/main/config.json")[0] == 401
        log = json.loads(request(url, path="/__hub__/log")[2])
        assert [(r["method"], r["status"]) for r in log][-4:] == [("GET", 500), ("GET", 200), ("HEAD", 200), ("HEAD", 401)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cdn_redirect_to_localhost_drops_the_token(hub, repo, tmp_path):
    from huggingface_hub import snapshot_download

    hub.cdn_host = "localhost"
    folder = Path(snapshot_download("acme/tiny", endpoint=hub.url, cache_dir=tmp_path, token="hf_secret"))
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    (cdn_get,) = hub.requests("GET", r"/cdn-lfs/")
    assert cdn_get.host.startswith("localhost:") and not cdn_get.auth
    assert all(r.auth for r in hub.requests() if "/cdn-lfs/" not in r.path)
