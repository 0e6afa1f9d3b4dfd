"""``localmodels serve`` for real: a uvicorn subprocess on 127.0.0.1, the official ``openai`` client and httpx.

One server (the CLI, with an API key) serves minilm (real embeddings), spacy-en-sm (real NER) and
gemma3-270m (real GGUF, a base model: plumbing, not quality). It shares LOCALMODELS_HOME with the
test process so that minilm's one-time ONNX export is made once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import openai
import psutil
import pytest

from live_server import free_port, localmodels, start_process, stop_process
from localmodels.errors import UsageError

KEY = "test-key-" + "7f3a9c2e5b" * 3
BODY_MARKER = "SECRET-BODY-MARKER-4711"


class Live:
    def __init__(self, proc: subprocess.Popen, url: str, home: Path, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.home = home
        self.log = log

    def client(self, key: str = KEY, **kw) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0, timeout=120, **kw)

    def http(self, key: str | None = KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


def start_server(home: Path, *args: str, key: str | None = None) -> Live:
    port = free_port()
    env = {**os.environ, "LOCALMODELS_HOME": str(home / "localmodels"), "HF_HOME": str(home / "hf"),
           "HF_HUB_OFFLINE": "1"}
    if key:
        env["LM_TEST_API_KEY"] = key
    log = home / f"server-{port}.log"
    cmd = localmodels("serve", "--port", str(port), *args)
    if key:
        cmd += ["--api-key-env", "LM_TEST_API_KEY"]
    url = f"http://127.0.0.1:{port}"
    return Live(start_process(cmd, env, url + "/health", log), url, home, log)


def stop_server(live: Live) -> str:
    stop_process(live.proc, wait_s=15)
    return live.log.read_text()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    home = tmp_path_factory.getbasetemp() / "serve-shared"  # test_server_fuzz.py uses this store too
    home.mkdir(exist_ok=True)
    from tests.tiny_models import build

    reranker = build(home / "tiny", "bert", head="cross-encoder")
    nli = build(home / "tiny", "bert", head="sequence-classification")
    server = start_server(home, "--models", f"minilm,spacy-en-sm,gemma3-270m,rr={reranker},nli={nli}",
                          "--keep-alive", "3600", "--max-tokens", "256", key=KEY)
    server.reranker, server.nli = reranker, nli
    yield server
    log = stop_server(server)
    # Never the key, never a request body in the server's output.
    assert KEY not in log
    assert BODY_MARKER not in log


@pytest.fixture
def same_home(live, monkeypatch):
    """Run the library in this process against the server's store (reuses minilm's ONNX export)."""
    monkeypatch.setenv("LOCALMODELS_HOME", str(live.home / "localmodels"))
    monkeypatch.setenv("HF_HOME", str(live.home / "hf"))


TEXTS = ["A man is eating food.", "The stock market fell sharply today.", "Ein Hund spielt im Park.", "ok"]


def test_embeddings_match_library_embed(live, same_home):
    import localmodels as lm

    client = live.client()
    resp = client.embeddings.create(model="minilm", input=TEXTS)  # the client asks for base64 by default
    got = np.array([d.embedding for d in resp.data], dtype=np.float32)
    want = lm.embed(TEXTS, model="minilm")
    assert got.shape == want.shape == (4, 384)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert [d.index for d in resp.data] == [0, 1, 2, 3]
    assert resp.model == "minilm" and resp.usage.prompt_tokens > len(TEXTS)
    assert resp.usage.total_tokens == resp.usage.prompt_tokens

    one = client.embeddings.create(model="minilm", input=TEXTS[0], encoding_format="float")
    np.testing.assert_allclose(one.data[0].embedding, want[0], atol=1e-5)

    with live.http() as http:
        r = http.post("/v1/embeddings", json={"model": "minilm", "input": TEXTS[:2], "encoding_format": "base64"})
    assert r.status_code == 200
    decoded = [np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in r.json()["data"]]
    np.testing.assert_allclose(np.stack(decoded), want[:2], atol=1e-5)


def test_embeddings_dimensions_only_where_allowed(live):
    client = live.client()
    with pytest.raises(openai.BadRequestError) as e:
        client.embeddings.create(model="minilm", input="hello", dimensions=128)
    assert e.value.body["param"] == "dimensions"
    assert "Matryoshka" in e.value.body["message"]


def test_errors_map_to_openai_exceptions(live):
    client = live.client()
    with pytest.raises(openai.NotFoundError) as e:
        client.embeddings.create(model="no-such-model", input="hi")
    assert e.value.body["code"] == "model_not_found" and e.value.body["param"] == "model"
    with pytest.raises(openai.AuthenticationError):
        live.client(key="wrong-key").embeddings.create(model="minilm", input="hi")
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="minilm", input=[])
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.completions.create(model="gemma3-270m", prompt="Hi", max_tokens=100_000)
    assert e.value.body["code"] == "max_tokens_too_large"
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="gemma3-270m", messages=[{"role": "wizard", "content": "x"}])
    with pytest.raises(openai.NotFoundError):  # a folder is never opened because a request names it
        client.embeddings.create(model=str(Path(__file__).parent), input="hi")


def test_error_shape_and_limits(live):
    with live.http() as http:
        r = http.post("/v1/embeddings", content=b'{"model": "minilm", "input": ',
                      headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}
        r = http.post("/v1/embeddings", json={"model": "minilm", "input": 42})
        assert r.status_code == 422 and r.json()["error"]["param"].startswith("input")
        r = http.post("/v1/embeddings", json={"model": "minilm", "input": ["x"] * 3000})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_many_inputs"
        r = http.post("/v1/embeddings", json={"model": "minilm", "input": BODY_MARKER * 3000})
        assert r.status_code == 413 and r.json()["error"]["code"] == "input_too_long"
        r = http.post("/v1/embeddings", content=b"x" * (9 * 1024 * 1024), headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
        r = http.get("/v1/nothing-here")
        assert r.status_code == 404 and r.json()["error"]["type"] == "invalid_request_error"
        assert http.get("/health").status_code == 200  # still alive after all that


def test_auth(live):
    with live.http(key=None) as http:
        r = http.post("/v1/embeddings", json={"model": "minilm", "input": BODY_MARKER})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        assert http.get("/v1/models").status_code == 401
        assert http.get("/metrics").status_code == 401
        assert http.get("/health").status_code == 200
        assert http.get("/openapi.json").status_code == 200
    with live.http(key="not-" + KEY) as http:
        assert http.get("/v1/models").status_code == 401
    with live.http() as http:
        r = http.get("/v1/models")
        assert r.status_code == 200
        assert {m["id"] for m in r.json()["data"]} == {"minilm", "spacy-en-sm", "gemma3-270m", "rr", "nli"}


def test_chat_and_completions_stream_on_gemma(live):
    client = live.client()
    messages = [{"role": "user", "content": "Name a colour."}]
    full = client.chat.completions.create(model="gemma3-270m", messages=messages, max_tokens=6, temperature=0)
    assert full.object == "chat.completion" and full.choices[0].message.role == "assistant"
    assert full.choices[0].finish_reason in ("stop", "length")
    assert full.usage.prompt_tokens > 0

    chunks = list(client.chat.completions.create(model="gemma3-270m", messages=messages, max_tokens=6,
                                                 temperature=0, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [full.choices[0].finish_reason]
    assert text == (full.choices[0].message.content or "")  # greedy: same text streamed or not
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == full.usage.completion_tokens

    prompt = "The capital of France is"
    done = client.completions.create(model="gemma3-270m", prompt=prompt, max_tokens=8, temperature=0)
    assert done.choices[0].text.strip()
    pieces = list(client.completions.create(model="gemma3-270m", prompt=prompt, max_tokens=8, temperature=0,
                                            stream=True))
    assert "".join(p.choices[0].text for p in pieces if p.choices) == done.choices[0].text

    # The raw wire format: OpenAI's chunks as server-sent events, ending with [DONE].
    with live.http() as http:
        with http.stream("POST", "/v1/completions", json={"model": "gemma3-270m", "prompt": prompt,
                                                          "max_tokens": 4, "stream": True}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = [ln for ln in r.iter_lines() if ln]
    assert all(ln.startswith("data: ") for ln in lines)
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[0][6:])["object"] == "text_completion"


def test_chat_json_schema_response_format(live):
    schema = {"type": "object", "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]}},
              "required": ["colour"], "additionalProperties": False}
    resp = live.client().chat.completions.create(
        model="gemma3-270m", messages=[{"role": "user", "content": "Pick a colour."}], max_tokens=32,
        response_format={"type": "json_schema", "json_schema": {"name": "pick", "schema": schema}})
    value = json.loads(resp.choices[0].message.content)
    assert value["colour"] in {"red", "green", "blue"}


def test_ner_and_classify(live):
    with live.http() as http:
        r = http.post("/v1/ner", json={"model": "spacy-en-sm",
                                       "input": ["Barack Obama visited Paris in 2015.", "nothing here"]})
        assert r.status_code == 200
        data = r.json()["data"]
        assert [d["index"] for d in data] == [0, 1]
        ents = {(e["text"], e["label"]) for e in data[0]["entities"]}
        assert ("Barack Obama", "PERSON") in ents
        text = "Barack Obama visited Paris in 2015."
        assert all(text[e["start"]:e["end"]] == e["text"] for e in data[0]["entities"])

        r = http.post("/v1/classify", json={"model": "minilm", "labels": ["cats and pets", "stock markets"],
                                            "input": ["My kitten sleeps on the sofa all day.",
                                                      "Shares fell sharply on Wall Street."]})
        assert r.status_code == 200, r.text
        out = r.json()["data"]
        assert [o["label"] for o in out] == ["cats and pets", "stock markets"]
        for o in out:
            assert set(o["scores"]) == {"cats and pets", "stock markets"}
            assert sum(o["scores"].values()) == pytest.approx(1.0, abs=1e-4)
        r = http.post("/v1/classify", json={"model": "minilm", "labels": [], "input": "x"})
        assert r.status_code == 422


def test_rerank_cohere_jina_shape(live, same_home):
    import localmodels as lm

    query = "Where did Barack Obama go?"
    docs = ["Barack Obama visited Paris in 2015.", "The stock market fell sharply today.",
            "A man is eating food.", "The new phone has a faster processor."]
    want = {r.index: r.score for r in lm.rerank(query, docs, model=str(live.reranker))}
    with live.http() as http:
        r = http.post("/v1/rerank", json={"model": "rr", "query": query, "documents": docs, "top_n": 3,
                                          "return_documents": True})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model"] == "rr" and len(body["results"]) == 3
        scores = [h["relevance_score"] for h in body["results"]]
        assert scores == sorted(scores, reverse=True)
        for hit in body["results"]:
            assert hit["document"]["text"] == docs[hit["index"]]
            assert hit["relevance_score"] == pytest.approx(want[hit["index"]], abs=1e-5)
        # Jina's {"text": ...} documents, no documents back by default, /rerank alias
        r = http.post("/rerank", json={"model": "rr", "query": query, "documents": [{"text": d} for d in docs]})
        assert r.status_code == 200 and len(r.json()["results"]) == 4
        assert all("document" not in h for h in r.json()["results"])

        # concurrent rerank requests with different queries are scored in shared batches
        async def many():
            async with httpx.AsyncClient(base_url=live.url, headers={"Authorization": f"Bearer {KEY}"},
                                         timeout=120) as c:
                return await asyncio.gather(*(c.post("/v1/rerank", json={
                    "model": "rr", "query": f"{query} {i}", "documents": docs}) for i in range(12)))

        outs = asyncio.run(many())
        assert all(o.status_code == 200 for o in outs)
        for i, o in enumerate(outs):
            alone = {x.index: x.score for x in lm.rerank(f"{query} {i}", docs, model=str(live.reranker))}
            for h in o.json()["results"]:
                assert h["relevance_score"] == pytest.approx(alone[h["index"]], abs=1e-4)


def test_usage_counts_the_models_own_tokens(live, same_home):
    from localmodels.tasks.embed import embed_batch

    want = embed_batch(TEXTS, model="minilm").tokens  # the task reports what the tokenizer made
    assert all(n >= 3 for n in want)  # [CLS] ... [SEP]
    resp = live.client().embeddings.create(model="minilm", input=TEXTS)
    assert resp.usage.prompt_tokens == sum(want)
    with live.http() as http:
        r = http.post("/v1/rerank", json={"model": "rr", "query": "q", "documents": TEXTS})
    assert r.status_code == 200 and r.json()["usage"]["total_tokens"] > sum(want)  # each pair holds the query too


@pytest.fixture
def remote_to_live(live, same_home, monkeypatch):
    """``remote:NAME`` models point at our own server, as at any OpenAI-compatible endpoint."""
    monkeypatch.setenv("LOCALMODELS_REMOTE_BASE_URL", live.url + "/v1")
    monkeypatch.setenv("LOCALMODELS_REMOTE_API_KEY", KEY)


def test_remote_embed_through_our_server(live, remote_to_live):
    import localmodels as lm
    from localmodels.tasks.embed import dims, embed_batch

    got = lm.embed(TEXTS, model="remote:minilm")
    want = lm.embed(TEXTS, model="minilm")
    assert got.shape == want.shape == (4, 384) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(lm.embed(TEXTS[0], model="remote:minilm"), want[0], atol=1e-5)
    assert lm.embed([], model="remote:minilm").shape[0] == 0
    # several requests when the batch is smaller than the input; usage comes back with them
    counted = embed_batch(TEXTS, model="remote:minilm", batch_size=3)
    np.testing.assert_allclose(counted.vectors, want, atol=1e-5)
    assert sum(counted.tokens) == sum(embed_batch(TEXTS, model="minilm").tokens)
    assert dims("remote:minilm") == 384
    # search and zero-shot by embedding run on the remote encoder as on a local one
    docs = ["Barack Obama visited Paris in 2015.", "A man is eating food.", "Stocks fell."]
    assert [h.index for h in lm.search("What did the man eat?", docs, model="remote:minilm", index=False)] == [
        h.index for h in lm.search("What did the man eat?", docs, model="minilm", index=False)]
    remote_cls = lm.zero_shot(docs, ["politics", "food", "finance"], model="remote:minilm")
    local_cls = lm.zero_shot(docs, ["politics", "food", "finance"], model="minilm")
    assert [c.label for c in remote_cls] == [c.label for c in local_cls]
    assert remote_cls[0].scores == pytest.approx(local_cls[0].scores, abs=1e-4)
    with pytest.raises(UsageError, match="NLI"):  # an endpoint has no NLI head to read entailment from
        lm.zero_shot(docs, ["politics", "food"], model="remote:minilm", method="nli")


def test_remote_rerank_through_our_server(live, remote_to_live):
    import localmodels as lm

    query = "Where did Barack Obama go?"
    docs = ["Barack Obama visited Paris in 2015.", "The stock market fell sharply today.", "A man is eating food."]
    got = lm.rerank(query, docs, model="remote:rr")  # the server's cross-encoder
    want = lm.rerank(query, docs, model=str(live.reranker))
    assert [r.index for r in got] == [r.index for r in want]
    assert [r.score for r in got] == pytest.approx([r.score for r in want], abs=1e-5)
    assert [r.text for r in got] == [docs[r.index] for r in got]
    assert len(lm.rerank(query, docs, model="remote:rr", top_n=2)) == 2
    # a bi-encoder behind the endpoint: the server ranks by cosine, as the library does locally
    with pytest.warns(UserWarning):
        local = lm.rerank(query, docs, model="minilm")
    remote = lm.rerank(query, docs, model="remote:minilm")
    assert [r.index for r in remote] == [r.index for r in local]
    assert [r.score for r in remote] == pytest.approx([r.score for r in local], abs=1e-5)


def test_remote_encoder_errors_are_clear(live, remote_to_live, monkeypatch):
    import localmodels as lm
    from localmodels.errors import AccessError, ModelNotFoundError

    with pytest.raises(ModelNotFoundError):
        lm.embed(["x"], model="remote:not-served")
    monkeypatch.setenv("LOCALMODELS_REMOTE_API_KEY", "wrong-key-0123456789")
    with pytest.raises(AccessError) as e:
        lm.embed(["x"], model="remote:minilm")
    assert "wrong-key-0123456789" not in str(e.value)


def test_classify_with_nli_model(live, same_home):
    import localmodels as lm

    labels = ["politics", "sports", "food"]
    texts = ["Barack Obama visited Paris in 2015.", "A man is eating food."]
    want = lm.zero_shot(texts, labels, model=str(live.nli), method="nli")
    with live.http() as http:
        r = http.post("/v1/classify", json={"model": "nli", "input": texts, "labels": labels, "method": "nli"})
    assert r.status_code == 200, r.text
    for got, exp in zip(r.json()["data"], want):
        assert got["label"] == exp.label
        assert got["scores"] == pytest.approx(exp.scores, abs=1e-5)


def test_200_concurrent_embedding_requests(live, same_home):
    import localmodels as lm

    texts = [f"request {i}: " + " ".join(["alpha", "beta", "gamma", "delta"][: 1 + i % 4]) * (1 + i % 5)
             for i in range(200)]
    want = lm.embed(texts, model="minilm")
    proc = psutil.Process(live.proc.pid)

    async def main():
        async with openai.AsyncOpenAI(base_url=live.url + "/v1", api_key=KEY, max_retries=0, timeout=120) as client:

            async def one(i: int):
                r = await client.embeddings.create(model="minilm", input=texts[i])
                return i, np.array(r.data[0].embedding, dtype=np.float32)

            await asyncio.gather(*(one(i) for i in range(0, 200, 4)))  # warm: model loaded, pools up
            before = proc.memory_info().rss
            out = await asyncio.gather(*(one(i) for i in range(200)))
            return before, out

    rss_before, results = asyncio.run(main())
    rss_after = proc.memory_info().rss
    assert len(results) == 200
    for i, vec in results:
        cos = float(vec @ want[i])
        assert cos > 0.9999, (i, cos)  # each caller got the vector of its own text
    assert rss_after - rss_before < 500 * 1024 * 1024

    with live.http() as http:
        metrics = http.get("/metrics").text
    sizes = [ln for ln in metrics.splitlines() if ln.startswith('localmodels_batch_size_count{task="embed"}')]
    total = [ln for ln in metrics.splitlines() if ln.startswith('localmodels_batch_size_sum{task="embed"}')]
    n_calls, n_inputs = float(sizes[0].split()[-1]), float(total[0].split()[-1])
    assert n_inputs / n_calls > 1.5  # concurrent requests were batched together


def test_health_metrics_docs(live):
    with live.http() as http:
        h = http.get("/health").json()
        assert h["status"] == "ok" and h["loaded_models"] >= 1
        m = http.get("/metrics")
        assert m.headers["content-type"].startswith("text/plain")
        text = m.text
        assert 'localmodels_requests_total{endpoint="/v1/embeddings",method="POST",status="200"}' in text
        assert 'localmodels_request_duration_seconds_bucket{endpoint="/v1/embeddings",le="+Inf"}' in text
        assert "localmodels_batch_size_bucket" in text
        assert "localmodels_process_resident_memory_bytes" in text
        loaded = [ln for ln in text.splitlines() if ln.startswith("localmodels_loaded_models ")]
        assert loaded and int(loaded[0].split()[1]) >= 1
        docs = http.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        paths = http.get("/openapi.json").json()["paths"]
        for p in ("/v1/embeddings", "/v1/chat/completions", "/v1/completions", "/v1/rerank", "/v1/ner",
                  "/v1/classify", "/v1/models", "/health", "/metrics"):
            assert p in paths


def test_keep_alive_unloads_idle_models(tmp_path):
    live = start_server(tmp_path, "--models", "spacy-en-sm", "--keep-alive", "1")
    try:
        with live.http(key=None) as http:
            assert http.post("/v1/ner", json={"model": "spacy-en-sm", "input": "Angela Merkel"}).status_code == 200
            assert http.get("/health").json()["loaded_models"] == 1
            assert http.get("/v1/models").json()["data"][0]["loaded"] is True
            deadline = time.time() + 15
            while http.get("/health").json()["loaded_models"] and time.time() < deadline:
                time.sleep(0.3)
            assert http.get("/health").json()["loaded_models"] == 0
            # and it loads again on the next use
            assert http.post("/v1/ner", json={"model": "spacy-en-sm", "input": "Angela Merkel"}).status_code == 200
    finally:
        log = stop_server(live)
    assert "unloaded idle models" in log


def test_cli_warns_when_binding_beyond_loopback_without_a_key(cli):
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the bind fails, after the warning.
    r = cli("serve", "--host", "192.0.2.1", "--port", str(free_port()), timeout=60)
    assert "without an API key" in r.stderr
    assert r.returncode != 0
    r = cli("serve", "--api-key-env", "LM_SURELY_UNSET_VAR", timeout=60)
    assert r.returncode == 2 and "LM_SURELY_UNSET_VAR" in r.stderr
