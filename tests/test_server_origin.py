"""Browser origins: a request carrying an ``Origin`` that is not the server's own page (nor listed in
``LOCALMODELS_SERVER_ORIGINS``) is refused with 403 on ``/api/*`` and ``/v1/*``, as Ollama refuses
origins outside ``OLLAMA_ORIGINS``. A real ``serve`` subprocess on 127.0.0.1, without an API key
(the case a hostile web page or a DNS-rebinding attack targets).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live_server import free_port, localmodels, start_process, stop_process

EVIL = "http://evil.example"


def _start(home: Path, **env_extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "LOCALMODELS_HOME": str(home / "lm"), "HF_HOME": str(home / "hf"), "HF_HUB_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", **env_extra}
    url = f"http://127.0.0.1:{port}"
    proc = start_process(localmodels("serve", "--port", str(port)), env, url + "/health",
                         home / f"server-{port}.log")
    return proc, url


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("serve-origin")
    proc, url = _start(home)
    yield url, home
    stop_process(proc)


def test_state_changing_ollama_routes_refuse_a_foreign_origin(server):
    url, home = server
    with httpx.Client(base_url=url, timeout=30) as http:
        pull = http.post("/api/pull", json={"model": "minilm", "stream": False}, headers={"Origin": EVIL})
        delete = http.request("DELETE", "/api/delete", json={"model": "minilm"}, headers={"Origin": EVIL})
    for r in (pull, delete):
        assert r.status_code == 403, r.text
        body = r.json()
        assert set(body) == {"error"} and EVIL in body["error"]  # Ollama's shape, naming the origin
        assert "LOCALMODELS_SERVER_ORIGINS" in body["error"]  # and what to do
    assert not (home / "lm" / "records").exists()  # the pull did not run


def test_v1_and_reads_refuse_a_foreign_origin_too(server):
    url, _ = server
    with httpx.Client(base_url=url, timeout=30) as http:
        emb = http.post("/v1/embeddings", json={"model": "minilm", "input": "x"}, headers={"Origin": EVIL})
        tags = http.get("/api/tags", headers={"Origin": EVIL})
        preflight = http.options("/api/pull", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert emb.status_code == 403 and emb.json()["error"]["code"] == "forbidden_origin"  # OpenAI's shape
    assert tags.status_code == 403
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers


def test_dns_rebinding_is_refused(server):
    """A page at evil.example whose name now resolves to 127.0.0.1: same origin for the browser, but the
    server is not evil.example."""
    url, _ = server
    port = url.rsplit(":", 1)[1]
    with httpx.Client(base_url=url, timeout=30) as http:
        r = http.post("/api/show", json={"model": "minilm"},
                      headers={"Origin": f"http://evil.example:{port}", "Host": f"evil.example:{port}"})
    assert r.status_code == 403


def test_own_page_and_non_browser_clients_pass(server):
    url, _ = server
    host = url.removeprefix("http://")
    with httpx.Client(base_url=url, timeout=30) as http:
        absent = {"model": "nobody/absent-model"}
        same = http.request("DELETE", "/api/delete", json=absent, headers={"Origin": url})
        plain = http.request("DELETE", "/api/delete", json=absent)
        local = http.get("/api/version", headers={"Origin": f"http://localhost:{host.split(':')[1]}",
                                                   "Host": f"localhost:{host.split(':')[1]}"})
    assert same.status_code == plain.status_code == 404  # not in the store: answered, not refused
    assert local.status_code == 200


def test_listed_origins_pass_and_get_cors(tmp_path):
    app = "http://app.example:3000"
    proc, url = _start(tmp_path, LOCALMODELS_SERVER_ORIGINS=f"{app}, http://other.example")
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            ok = http.get("/api/version", headers={"Origin": app})
            pre = http.options("/api/pull", headers={"Origin": app, "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "content-type"})
            bad = http.get("/api/version", headers={"Origin": EVIL})
    finally:
        stop_process(proc)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == app
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == app
    assert bad.status_code == 403


@pytest.mark.parametrize(("origin", "host", "allowed"), [
    ("http://127.0.0.1:8080", "127.0.0.1:8080", True),
    ("http://[::1]:8080", "[::1]:8080", True),
    ("http://192.168.1.5:8080", "192.168.1.5:8080", True),  # the page served from a LAN address
    ("http://localhost:8080", "localhost:8080", True),
    ("http://127.0.0.1:9999", "127.0.0.1:8080", False),  # another local port is another origin
    ("http://evil.example:8080", "evil.example:8080", False),  # rebinding: same origin by name only
    ("null", "127.0.0.1:8080", False),
    ("vscode-webview://abc", "127.0.0.1:8080", True),
    ("http://gpu-box.lan:8080", "gpu-box.lan:8080", False),
])
def test_origin_rules(origin, host, allowed):
    from localmodels.server.auth import origin_allowed

    assert origin_allowed(origin, host, listed=(), bind_host="127.0.0.1") is allowed


def test_origin_rules_bind_name_and_list():
    from localmodels.server.auth import origin_allowed

    assert origin_allowed("http://gpu-box.lan:8080", "gpu-box.lan:8080", listed=(), bind_host="gpu-box.lan")
    assert origin_allowed("https://App.example", None, listed=("https://app.example",), bind_host="0.0.0.0")
    assert origin_allowed("https://x.example", None, listed=("*",), bind_host="127.0.0.1")
