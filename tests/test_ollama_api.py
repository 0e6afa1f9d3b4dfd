"""Ollama's API on ``localmodels serve``, driven by the official ``ollama`` Python client.

One server (the CLI, a real process on 127.0.0.1 with an API key) serves minilm (real embeddings),
spacy-en-sm, gemma3-270m (a real GGUF: plumbing, not quality) and a tiny cross-encoder; a second
one, pointed at our local stand-in for the Hub, pulls and deletes. Bad inputs on every new route
get their status code and Ollama's ``{"error": "..."}`` body, never a 500.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import ollama
import openai
import pytest

from live_server import free_port, localmodels, start_process, stop_process

KEY = "ollama-test-key-" + "4c1d8e2a" * 3
TEXTS = ["A man is eating food.", "The stock market fell sharply today.", "Ein Hund spielt im Park."]


class Server:
    def __init__(self, proc: subprocess.Popen, url: str, home: Path, log: Path) -> None:
        self.proc, self.url, self.home, self.log = proc, url, home, log

    def client(self, key: str | None = KEY) -> ollama.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return ollama.Client(host=self.url, headers=headers, timeout=180)

    def http(self, key: str | None = KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=180)

    def stop(self) -> str:
        stop_process(self.proc, wait_s=15)
        return self.log.read_text()


def start(home: Path, *args: str, env: dict[str, str] | None = None, key: str | None = KEY) -> Server:
    port = free_port()
    full_env = {**os.environ, "LOCALMODELS_HOME": str(home / "localmodels"), "HF_HOME": str(home / "hf"),
                **(env or {})}
    cmd = localmodels("serve", "--port", str(port), *args)
    if key:
        full_env["LM_OLLAMA_TEST_KEY"] = key
        cmd += ["--api-key-env", "LM_OLLAMA_TEST_KEY"]
    url = f"http://127.0.0.1:{port}"
    log = home / f"server-{port}.log"
    return Server(start_process(cmd, full_env, url + "/health", log, timeout_s=90), url, home, log)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    home = tmp_path_factory.getbasetemp() / "ollama-serve"
    home.mkdir(exist_ok=True)
    from tests.tiny_models import build

    reranker = build(home / "tiny", "bert", head="cross-encoder")
    server = start(home, "--models", f"minilm,spacy-en-sm,gemma3-270m,rr={reranker}", "--keep-alive", "3600",
                   "--max-tokens", "256", env={"HF_HUB_OFFLINE": "1"})
    yield server
    log = server.stop()
    assert KEY not in log
    assert "Traceback" not in log, log


@pytest.fixture
def same_home(live, monkeypatch):
    """The library in this process on the server's store (reuses minilm's ONNX export)."""
    monkeypatch.setenv("LOCALMODELS_HOME", str(live.home / "localmodels"))
    monkeypatch.setenv("HF_HOME", str(live.home / "hf"))


# ---------------------------------------------------------------- models
def test_version_list_show(live):
    with live.http() as http:
        v = http.get("/api/version").json()
        assert http.head("/").status_code == http.head("/api/version").status_code == 200  # Ollama's heartbeat
    assert v["version"] and v["localmodels"]
    listed = {m.model: m for m in live.client().list().models}
    assert {"minilm", "spacy-en-sm", "gemma3-270m", "rr"} <= set(listed)
    gemma = listed["gemma3-270m"]
    assert gemma.size > 100_000_000 and len(gemma.digest) == 64 and gemma.modified_at is not None
    assert gemma.details.format == "gguf" and gemma.details.quantization_level == "Q4_K_M"

    shown = live.client().show("gemma3-270m")
    assert "completion" in shown.capabilities
    assert shown.modelinfo["general.architecture"] == "gemma3"
    assert shown.details.family == "gemma3" and shown.license
    assert "embedding" in live.client().show("minilm").capabilities
    assert live.client().show("minilm:latest").details.format  # clients add ':latest' to a bare name


def test_embed_equals_library(live, same_home):
    import localmodels as lm

    client = live.client()
    got = np.array(client.embed(model="minilm", input=TEXTS).embeddings, dtype=np.float32)
    want = lm.embed(TEXTS, model="minilm")
    assert got.shape == want.shape == (3, 384)
    np.testing.assert_allclose(got, want, atol=1e-5)
    one = client.embed(model="minilm", input=TEXTS[0])
    np.testing.assert_allclose(one.embeddings[0], want[0], atol=1e-5)
    assert one.prompt_eval_count > 3 and one.total_duration > 0
    old = client.embeddings(model="minilm", prompt=TEXTS[1])
    np.testing.assert_allclose(old.embedding, want[1], atol=1e-5)
    assert client.embed(model="minilm", input=[]).embeddings == []
    # /api/ps shows the loaded model, with its memory and an expiry
    ps = {m.model: m for m in client.ps().models}
    assert "minilm" in ps and ps["minilm"].size > 0 and ps["minilm"].expires_at is not None
    # the openai client still works on the same server
    oa = openai.OpenAI(base_url=live.url + "/v1", api_key=KEY, max_retries=0)
    vec = oa.embeddings.create(model="minilm", input=TEXTS[0], encoding_format="float").data[0].embedding
    np.testing.assert_allclose(vec, want[0], atol=1e-5)


def test_rerank_matches_v1(live):
    docs = ["Paris is the capital of France.", "Bananas are yellow.", "France's capital city is Paris."]
    with live.http() as http:
        r = http.post("/api/rerank", json={"model": "rr", "query": "capital of France", "documents": docs,
                                           "top_n": 2})
        v1 = http.post("/v1/rerank", json={"model": "rr", "query": "capital of France", "documents": docs})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 2 and results[0]["relevance_score"] >= results[1]["relevance_score"]
    want = {h["index"]: h["relevance_score"] for h in v1.json()["results"]}
    for hit in results:
        assert hit["document"] == docs[hit["index"]]
        assert hit["relevance_score"] == pytest.approx(want[hit["index"]], abs=1e-5)


# ---------------------------------------------------------------- generation
PROMPT = "The capital of France is"


def test_generate_stream_and_not_match_library(live, same_home):
    import localmodels as lm

    client = live.client()
    opts = {"num_predict": 8, "temperature": 0}
    whole = client.generate(model="gemma3-270m", prompt=PROMPT, options=opts)
    assert whole.done and whole.done_reason in ("stop", "length") and whole.response
    assert whole.eval_count and 0 < whole.eval_count <= 8 and whole.prompt_eval_count > 0
    assert whole.total_duration >= whole.eval_duration > 0
    parts = list(client.generate(model="gemma3-270m", prompt=PROMPT, options=opts, stream=True))
    assert all(not p.done for p in parts[:-1]) and parts[-1].done and len(parts) >= 2
    assert "".join(p.response for p in parts) == whole.response
    assert parts[-1].eval_count == whole.eval_count and parts[-1].done_reason == whole.done_reason
    want = lm.generate(PROMPT, model="gemma3-270m", max_tokens=8)
    assert whole.response == want.text


def test_top_p_top_k_reach_the_model(live):
    """options.top_k / top_p (and /v1's top_p) reach llama.cpp's sampler: top_k=1 or a tiny top_p at a
    high temperature answers the greedy text; unset, they equal llama.cpp's defaults (0.95 / 40)."""
    client = live.client()
    prompt = "Paris is the capital of"
    greedy = client.generate(model="gemma3-270m", prompt=prompt, options={"num_predict": 16}).response
    hot = {"num_predict": 16, "temperature": 1.5, "seed": 7}
    default = client.generate(model="gemma3-270m", prompt=prompt, options=hot).response
    assert default != greedy
    same = client.generate(model="gemma3-270m", prompt=prompt, options={**hot, "top_p": 0.95, "top_k": 40})
    assert same.response == default
    assert client.generate(model="gemma3-270m", prompt=prompt, options={**hot, "top_k": 1}).response == greedy
    msgs = [{"role": "user", "content": "Name a colour."}]
    chat_greedy = client.chat(model="gemma3-270m", messages=msgs, options={"num_predict": 12}).message.content
    chat_k1 = client.chat(model="gemma3-270m", messages=msgs, options={**hot, "num_predict": 12, "top_k": 1})
    assert chat_k1.message.content == chat_greedy
    with live.http() as http:
        body = {"model": "gemma3-270m", "prompt": prompt, "max_tokens": 16, "temperature": 1.5, "seed": 7}
        v1 = http.post("/v1/completions", json={**body, "top_p": 1e-6})
        assert v1.status_code == 200, v1.text
        assert v1.json()["choices"][0]["text"] == greedy
        assert http.post("/v1/completions", json=body).json()["choices"][0]["text"] == default


def test_chat_stream_not_and_json_schema(live):
    client = live.client()
    msgs = [{"role": "user", "content": "Say hello."}]
    whole = client.chat(model="gemma3-270m", messages=msgs, options={"num_predict": 12, "seed": 7})
    assert whole.message.role == "assistant" and whole.done and whole.eval_count
    chunks = list(client.chat(model="gemma3-270m", messages=msgs, options={"num_predict": 12, "seed": 7},
                              stream=True))
    assert chunks[-1].done and chunks[-1].done_reason in ("stop", "length")
    assert "".join(c.message.content for c in chunks) == whole.message.content
    schema = {"type": "object", "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
              "required": ["answer"]}
    out = client.chat(model="gemma3-270m", messages=[{"role": "user", "content": "Is the sky blue?"}],
                      format=schema, options={"num_predict": 64})
    assert json.loads(out.message.content)["answer"] in ("yes", "no")
    # format "json": any object (grammar sampling over Gemma's 262k-token vocabulary is slow: a few tokens)
    free = client.generate(model="gemma3-270m", prompt="A JSON object describing a cat:", format="json",
                           options={"num_predict": 6})
    assert free.response.lstrip().startswith("{")
    if free.done_reason == "stop":
        assert isinstance(json.loads(free.response), dict)


def test_keep_alive_load_and_unload(live):
    client = live.client()
    loaded = client.generate(model="gemma3-270m", prompt="")
    assert loaded.done and loaded.done_reason == "load"
    assert "gemma3-270m" in {m.model for m in client.ps().models}
    gone = client.generate(model="gemma3-270m", prompt="", keep_alive=0)
    assert gone.done_reason == "unload"
    assert "gemma3-270m" not in {m.model for m in client.ps().models}
    client.generate(model="gemma3-270m", prompt="Hi", options={"num_predict": 2}, keep_alive="1s")
    assert "gemma3-270m" in {m.model for m in client.ps().models}
    time.sleep(2.0)
    assert "gemma3-270m" not in {m.model for m in client.ps().models}


# ---------------------------------------------------------------- bad inputs
def _post_routes() -> dict[str, dict]:
    return {
        "/api/generate": {"model": "MISSING", "prompt": "hi"},
        "/api/chat": {"model": "MISSING", "messages": [{"role": "user", "content": "hi"}]},
        "/api/embed": {"model": "MISSING", "input": "hi"},
        "/api/embeddings": {"model": "MISSING", "prompt": "hi"},
        "/api/rerank": {"model": "MISSING", "query": "q", "documents": ["d"]},
        "/api/show": {"model": "MISSING"},
        "/api/pull": {"model": "MISSING"},
    }


def test_errors_are_ollama_shaped_never_500(live):
    client = live.client()
    with pytest.raises(ollama.ResponseError) as e:
        client.generate(model="no-such-model", prompt="hi")
    assert e.value.status_code == 404 and "no-such-model" in e.value.error
    with pytest.raises(ollama.ResponseError) as e:
        client.chat(model="gemma3-270m", messages=[{"role": "user", "content": "hi"}],
                    options={"num_predict": 10**9})
    assert e.value.status_code == 400 and "num_predict" in e.value.error
    with pytest.raises(ollama.ResponseError) as e:
        list(client.chat(model="gemma3-270m", messages=[{"role": "user", "content": "x"}], stream=True,
                         options={"num_predict": 100_000}))
    assert e.value.status_code == 400
    with pytest.raises(ollama.ResponseError) as e:
        client.embed(model="gemma3-270m-typo", input="x")
    assert e.value.status_code == 404
    with pytest.raises(ollama.ResponseError) as e:
        live.client(key=None).list()
    assert e.value.status_code == 401 and "API key" in e.value.error
    with live.http() as http:
        for path, body in _post_routes().items():
            r = http.post(path, json=body)
            assert r.status_code == 404, (path, r.text)
            assert "MISSING" in r.json()["error"], path
            bad = http.post(path, content=b'{"model": "minilm", ', headers={"Content-Type": "application/json"})
            assert bad.status_code == 400 and isinstance(bad.json()["error"], str), (path, bad.text)
            wrong = http.post(path, json={"model": 5, "input": {"x": 1}, "messages": 3, "prompt": [1]})
            assert wrong.status_code == 400 and isinstance(wrong.json()["error"], str), (path, wrong.text)
        r = http.request("DELETE", "/api/delete", json={"model": "MISSING"})
        assert r.status_code == 404 and "MISSING" in r.json()["error"]
        r = http.post("/api/generate", json={"model": "gemma3-270m", "prompt": "x", "keep_alive": "soon"})
        assert r.status_code == 400 and "keep_alive" in r.json()["error"]
        r = http.post("/api/generate", json={"model": "gemma3-270m", "prompt": "x", "images": ["aGk="]})
        assert r.status_code == 400 and "images" in r.json()["error"]
        r = http.post("/api/embed", json={"model": "minilm", "input": "x", "dimensions": 8})
        assert r.status_code == 400 and "dimensions" in r.json()["error"]
        r = http.post("/api/generate", json={"model": "minilm", "prompt": "x"})  # not an LLM
        assert 400 <= r.status_code < 500, r.text
        r = http.get("/api/nothing-here")
        assert r.status_code == 404 and isinstance(r.json()["error"], str)


# ---------------------------------------------------------------- pull and delete (local Hub)
def test_pull_with_progress_then_delete(tmp_path):
    from tests.hub_server import Hub, weight_bytes

    weights = weight_bytes(24 * 1024 * 1024)  # huggingface_hub writes 10 MB at a time
    files = {"config.json": b'{"model_type": "bert"}', "model.safetensors": weights}
    with Hub() as hub:
        hub.add_repo("acme/tiny-pull", files)
        hub.fail(r"GET .*model\.safetensors", "slow", seconds=0.1)
        server = start(tmp_path, env=hub.env())
        try:
            client = server.client()
            lines = list(client.pull("acme/tiny-pull", stream=True))
            statuses = [p.status for p in lines]
            assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
            assert "verifying sha256 digest" in statuses
            digest = "sha256:" + hashlib.sha256(weights).hexdigest()
            mine = [p for p in lines if p.digest == digest]
            assert mine and mine[-1].completed == mine[-1].total == len(weights)
            assert any(p.completed and p.total and p.completed < p.total for p in mine), \
                "no intermediate progress line while the file was downloading"
            assert "acme/tiny-pull" in {m.model for m in client.list().models}
            again = client.pull("acme/tiny-pull")  # present: no download, still success
            assert again.status == "success"

            with pytest.raises(ollama.ResponseError) as e:
                list(client.pull("acme/does-not-exist", stream=True))
            assert e.value.status_code == 404 and "acme/does-not-exist" in e.value.error
            with pytest.raises(ollama.ResponseError) as e:
                client.pull("not a ref!")
            assert e.value.status_code in (400, 404)

            assert client.delete("acme/tiny-pull").status == "success"
            assert "acme/tiny-pull" not in {m.model for m in client.list().models}
            with pytest.raises(ollama.ResponseError) as e:
                client.delete("acme/tiny-pull")
            assert e.value.status_code == 404
        finally:
            log = server.stop()
        assert "Traceback" not in log, log


# ---------------------------------------------------------------- keep_alive book (in process)
def test_keep_alive_durations_and_a_model_in_use_stays_loaded():
    from localmodels.runtimes.cache import loaded_models
    from localmodels.server.ollama.keepalive import KeepAlive
    from localmodels.server.ollama.schemas import keep_alive_seconds

    assert keep_alive_seconds("5m") == 300 and keep_alive_seconds("1h30m") == 5400
    assert keep_alive_seconds("-1") == -1 and keep_alive_seconds(0) == 0 and keep_alive_seconds(None) is None
    with pytest.raises(ValueError):
        keep_alive_seconds("soon")
    keep = KeepAlive(server_keep_alive_s=600)
    assert keep.effective(None) == 600 and keep.effective(-1) == 600 and keep.effective(30) == 30

    class Model:
        closed = False

        def close(self) -> None:
            self.closed = True

    first = keep.start("m")
    model = loaded_models().get("test-keepalive-slot", Model)  # the first request loads it
    second = keep.start("m")  # a second request for the same model starts
    keep.finish("m", first, 0)  # keep_alive 0 while the other still uses it: stays loaded
    assert "test-keepalive-slot" in loaded_models() and not model.closed
    keep.finish("m", second, 0)  # the last one out unloads it
    assert "test-keepalive-slot" not in loaded_models() and model.closed
