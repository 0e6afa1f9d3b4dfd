"""Server pieces that need no model: the micro-batcher, auth, limits, metrics, error shapes, settings."""

from __future__ import annotations

import asyncio
import base64
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from localmodels import errors as lm_errors
from localmodels.server.auth import key_matches
from localmodels.server.batcher import MicroBatcher
from localmodels.server.errors import from_local_error
from localmodels.server.metrics import Metrics
from localmodels.server.routes_openai import encode_vector, truncate
from localmodels.server.settings import ServerSettings, api_key_from_env, parse_models


class Recorder:
    """A batch function that records each call and returns (input, call number) per input."""

    def __init__(self, delay: float = 0.0, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()
        self.delay = delay
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def __call__(self, key, inputs):
        with self._lock:
            self.calls.append(list(inputs))
            n = len(self.calls)
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in inputs:
            raise ValueError(f"bad input {self.fail_on!r}")
        return [(x, key, n) for x in inputs]


def run(coro):
    return asyncio.run(coro)


def test_batcher_gathers_concurrent_requests_and_slices_results():
    rec = Recorder(delay=0.01)
    pool = ThreadPoolExecutor(2, thread_name_prefix="worker")
    sizes = []
    b = MicroBatcher(rec, pool, max_batch=64, wait_ms=50, on_batch=lambda k, n: sizes.append(n))

    async def main():
        subs = [[f"r{i}-a", f"r{i}-b"] if i % 2 else [f"r{i}"] for i in range(20)]
        outs = await asyncio.gather(*(b.submit("k", s) for s in subs))
        return subs, outs

    subs, outs = run(main())
    for sub, out in zip(subs, outs):
        assert [o[0] for o in out] == sub  # each caller gets exactly its own inputs' results, in order
        assert all(o[1] == "k" for o in out)
    assert len(rec.calls) == 1 and len(rec.calls[0]) == 30  # one task call for all 20 requests
    assert sizes == [30]
    assert rec.threads and all(t.startswith("worker") for t in rec.threads)  # never on the event loop


def test_batcher_respects_max_batch_and_never_splits_a_request():
    rec = Recorder()
    b = MicroBatcher(rec, ThreadPoolExecutor(1), max_batch=8, wait_ms=20)

    async def main():
        return await asyncio.gather(*(b.submit("k", [f"{i}.{j}" for j in range(3)]) for i in range(10)))

    outs = run(main())
    assert [len(c) for c in rec.calls] and all(len(c) <= 8 for c in rec.calls)
    assert sum(len(c) for c in rec.calls) == 30
    for i, out in enumerate(outs):
        assert [o[0] for o in out] == [f"{i}.{j}" for j in range(3)]
        assert len({o[2] for o in out}) == 1  # all three inputs of a request ran in the same call
    # a request larger than max_batch still runs whole
    big = run(b.submit("k", [str(i) for i in range(20)]))
    assert len(big) == 20 and len(rec.calls[-1]) == 20


def test_batcher_keys_do_not_mix():
    rec = Recorder()
    b = MicroBatcher(rec, ThreadPoolExecutor(2), max_batch=32, wait_ms=20)

    async def main():
        return await asyncio.gather(*(b.submit(("m", i % 2), [str(i)]) for i in range(10)))

    outs = run(main())
    for i, out in enumerate(outs):
        assert out[0][1] == ("m", i % 2)
    for call in rec.calls:
        assert len({int(x) % 2 for x in call}) == 1


def test_one_bad_request_does_not_fail_its_batch_neighbours():
    rec = Recorder(fail_on="bad")
    b = MicroBatcher(rec, ThreadPoolExecutor(1), max_batch=32, wait_ms=30)

    async def main():
        return await asyncio.gather(*(b.submit("k", ["bad" if i == 3 else f"ok{i}"]) for i in range(6)),
                                    return_exceptions=True)

    outs = run(main())
    assert isinstance(outs[3], ValueError)
    assert [o[0][0] for i, o in enumerate(outs) if i != 3] == ["ok0", "ok1", "ok2", "ok4", "ok5"]


def test_batcher_disabled_runs_each_request_alone():
    rec = Recorder()
    b = MicroBatcher(rec, ThreadPoolExecutor(2), enabled=False)

    async def main():
        return await asyncio.gather(*(b.submit("k", [str(i)]) for i in range(5)))

    outs = run(main())
    assert len(rec.calls) == 5 and all(len(c) == 1 for c in rec.calls)
    assert [o[0][0] for o in outs] == [str(i) for i in range(5)]


def test_batcher_skips_requests_whose_caller_gave_up():
    rec = Recorder(delay=0.2)
    b = MicroBatcher(rec, ThreadPoolExecutor(1), max_batch=1, wait_ms=0)

    async def main():
        first = asyncio.create_task(b.submit("k", ["first"]))
        await asyncio.sleep(0.05)  # "first" is running; the next one waits in the queue
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(b.submit("k", ["abandoned"]), 0.05)
        third = await b.submit("k", ["third"])
        return await first, third

    first, third = run(main())
    assert first[0][0] == "first" and third[0][0] == "third"
    assert ["abandoned"] not in rec.calls


def test_batcher_backpressure_answers_503():
    from localmodels.server.errors import APIError

    rec = Recorder(delay=0.2)
    b = MicroBatcher(rec, ThreadPoolExecutor(1), max_batch=2, wait_ms=0, max_queue=4)

    async def main():
        tasks = [asyncio.create_task(b.submit("k", ["a", "b"])) for _ in range(2)]
        await asyncio.sleep(0.01)
        with pytest.raises(APIError) as e:
            await b.submit("k", ["x"] * 4)
        await asyncio.gather(*tasks)
        return e.value

    err = run(main())
    assert err.status == 503 and err.code == "server_busy"


def test_key_matches_is_exact():
    assert key_matches("Bearer s3cret", "s3cret")
    assert key_matches("bearer s3cret", "s3cret")
    assert not key_matches("Bearer s3cre", "s3cret")
    assert not key_matches("Bearer s3cret2", "s3cret")
    assert not key_matches("Basic s3cret", "s3cret")
    assert not key_matches(None, "s3cret")
    assert not key_matches("", "s3cret")


def test_local_errors_map_to_statuses():
    cases = {
        lm_errors.NotInStoreError("x"): 404,
        lm_errors.ModelNotFoundError("nope"): 404,
        lm_errors.UsageError("bad"): 400,
        lm_errors.InsufficientResourcesError("memory", needed=10, available=1): 503,
        lm_errors.MissingDependencyError("llama-cpp-python", "llama"): 501,
        lm_errors.RuntimeFailure("boom"): 500,
    }
    for err, status in cases.items():
        api = from_local_error(err)
        assert api.status == status
        body = api.body()["error"]
        assert set(body) == {"message", "type", "param", "code"} and body["message"]
    assert "localmodels pull x" in from_local_error(lm_errors.NotInStoreError("x")).message


def test_truncate_renormalises_and_base64_round_trips():
    v = np.array([3.0, 4.0, 12.0], dtype=np.float32)
    t = truncate(v / np.linalg.norm(v), 2)
    assert np.allclose(t, [0.6, 0.8])
    s = encode_vector(t, "base64")
    assert np.allclose(np.frombuffer(base64.b64decode(s), dtype="<f4"), t)
    assert encode_vector(t, "float") == pytest.approx([0.6, 0.8])


def test_metrics_exposition_format():
    m = Metrics()
    m.observe_request("/v1/embeddings", "POST", 200, 0.02)
    m.observe_request("/v1/embeddings", "POST", 200, 3.0)
    m.observe_batch("embed", 5)
    text = m.render()
    line = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')
    for ln in text.splitlines():
        assert ln.startswith("# HELP ") or ln.startswith("# TYPE ") or line.match(ln), ln
    assert 'localmodels_requests_total{endpoint="/v1/embeddings",method="POST",status="200"} 2' in text
    assert 'localmodels_request_duration_seconds_bucket{endpoint="/v1/embeddings",le="0.025"} 1' in text
    assert 'localmodels_request_duration_seconds_bucket{endpoint="/v1/embeddings",le="+Inf"} 2' in text
    assert 'localmodels_batch_size_bucket{task="embed",le="8"} 1' in text
    assert re.search(r"^localmodels_process_resident_memory_bytes [1-9][0-9]*$", text, re.M)
    assert re.search(r"^localmodels_loaded_models [0-9]+$", text, re.M)


def test_parse_models_and_api_key_env(monkeypatch):
    assert parse_models("minilm, rr=./tiny ,") == {"minilm": "minilm", "rr": "./tiny"}
    assert parse_models(None) == {}
    with pytest.raises(lm_errors.UsageError):
        parse_models("=x")
    monkeypatch.setenv("MY_KEY", "k")
    assert api_key_from_env("MY_KEY") == "k"
    monkeypatch.setenv("MY_KEY", "")
    with pytest.raises(lm_errors.UsageError):  # an empty key must never mean "no auth"
        api_key_from_env("MY_KEY")
    assert ServerSettings().is_loopback and ServerSettings(host="127.0.0.2").is_loopback
    assert not ServerSettings(host="0.0.0.0").is_loopback and not ServerSettings(host="192.0.2.1").is_loopback


def test_body_limit_auth_and_catch_all_in_process(monkeypatch):
    """Middleware behaviour without any model: 413, 401, a crash becomes a 500 in the error shape."""
    from localmodels import tasks
    from localmodels.server import Limits, create_app

    def broken_embed(texts, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setitem(vars(tasks), "embed_batch", broken_embed)  # what the server calls (vectors + usage)
    app = create_app(ServerSettings(models={"m": "minilm"}, api_key="k",
                                    limits=Limits(max_body_bytes=1000)))
    auth = {"Authorization": "Bearer k"}

    async def chunks():
        for _ in range(3):
            yield b"x" * 600

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            big = await c.post("/v1/embeddings", json={"model": "m", "input": "x" * 2000}, headers=auth)
            chunked = await c.post("/v1/embeddings", content=chunks(),
                                   headers={**auth, "content-type": "application/json"})
            noauth = await c.post("/v1/embeddings", json={"model": "m", "input": "x"})
            crash = await c.post("/v1/embeddings", json={"model": "m", "input": "x"}, headers=auth)
            health = await c.get("/health")
            return big, chunked, noauth, crash, health

    big, chunked, noauth, crash, health = run(main())
    assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"
    assert chunked.status_code == 413
    assert noauth.status_code == 401 and noauth.json()["error"]["code"] == "invalid_api_key"
    assert crash.status_code == 500
    assert crash.json()["error"]["type"] == "server_error" and "KeyError" in crash.json()["error"]["message"]
    assert health.status_code == 200  # open without a key


class _ShareableSource:
    """A minimal third-party source whose names a request may use (nameable_in_requests)."""

    supports_revision = False

    def __init__(self, kind: str, nameable: bool) -> None:
        self.kind = kind
        self.nameable_in_requests = nameable

    def parse(self, ref):
        from localmodels.sources import Spec

        return Spec(self.kind, ref.split(":", 1)[1], ref) if ref.startswith(self.kind + ":") else None


def test_request_names_follow_the_source_contract_not_kind_strings(tmp_path):
    """Without --models, a request may name catalog aliases and Hub ids, never a folder, a file, an
    installed package, another tool's store or a remote endpoint; a source says which through
    ``nameable_in_requests``, so a new source needs no change in the server."""
    from localmodels.server.models import ModelDirectory
    from localmodels.sources import register_source, sources, unregister_source

    assert {s.kind for s in sources() if s.nameable_in_requests} == {"hub"}
    assert all(isinstance(s.nameable_in_requests, bool) for s in sources())
    d = ModelDirectory({})
    assert d.ref("minilm") == "minilm" and d.ref("org/name") == "org/name"
    (tmp_path / "m").mkdir()
    for ref in (str(tmp_path / "m"), "./m", "pypi:pytest", "pypi:localmodels", f"file:{tmp_path}/x.gguf",
                "ollama:llama3.2:1b", "lmstudio:a/b.gguf", "remote:gpt-4o-mini", "derived:head"):
        with pytest.raises(lm_errors.ModelNotFoundError, match="must be listed at start-up") as e:
            d.ref(ref)
        assert e.value.hint and "--models" in e.value.hint
    with pytest.raises(lm_errors.ModelNotFoundError, match="does not exist"):
        d.ref("not a ref!!")
    assert ModelDirectory({"m": "pypi:pytest"}).ref("m") == "pypi:pytest"  # listed by the operator: served
    for kind, nameable in (("shared", True), ("private", False)):
        register_source(_ShareableSource(kind, nameable))  # type: ignore[arg-type]
    try:
        assert d.ref("shared:x") == "shared:x"
        with pytest.raises(lm_errors.ModelNotFoundError):
            d.ref("private:x")
    finally:
        unregister_source("shared")
        unregister_source("private")


def test_request_for_an_installed_package_answers_404_and_writes_no_record(tmp_path):
    """POST with model=pypi:<an installed package> never makes the server inspect it or record it."""
    from localmodels.config import home
    from localmodels.server import create_app

    app = create_app(ServerSettings())

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            v1 = await c.post("/v1/embeddings", json={"model": "pypi:pytest", "input": "x"})
            ollama = await c.post("/api/embed", json={"model": "pypi:pytest", "input": "x"})
            local = await c.post("/api/show", json={"model": str(tmp_path)})
            return v1, ollama, local

    v1, ollama, local = run(main())
    assert v1.status_code == 404 and "listed at start-up" in v1.json()["error"]["message"]
    assert ollama.status_code == 404 and "listed at start-up" in ollama.json()["error"]
    assert local.status_code == 404
    assert not list(home().rglob("*.json"))  # no record written
