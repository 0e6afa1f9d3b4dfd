"""Issue 20, defect 6: every input error is a 4xx in OpenAI's shape, never a 500.

A lone surrogate (``"\\ud800"`` in JSON) reached the tokenizer, which raised TypeError (500). The app
runs in-process with the real tasks behind it (minilm, spacy-en-sm); the store is the one the other
server tests share, so minilm's one-time ONNX export is reused.
"""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localmodels.server import Limits, ServerSettings, create_app

LIMITS = Limits(max_inputs=8, max_input_chars=200, request_timeout_s=60)
SHAPE = {"message", "type", "param", "code"}


@pytest.fixture(autouse=True)
def shared_store(isolated_home, tmp_path_factory, monkeypatch):
    base = tmp_path_factory.getbasetemp() / "serve-shared"
    monkeypatch.setenv("LOCALMODELS_HOME", str(base / "localmodels"))
    monkeypatch.setenv("HF_HOME", str(base / "hf"))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # Long enough a batch window that concurrent requests become one micro-batch.
    app = create_app(ServerSettings(models={"minilm": "minilm", "spacy-en-sm": "spacy-en-sm"}, keep_alive_s=-1,
                                    batch_wait_ms=300, limits=LIMITS))
    with TestClient(app) as c:
        yield c


def post_raw(client: TestClient, path: str, body: str):
    """``body`` is JSON text as a client writes it (``\\ud800`` escapes included)."""
    return client.post(path, content=body.encode("utf-8"), headers={"content-type": "application/json"})


def assert_openai_error(r, status: int | tuple[int, ...]) -> dict:
    """An OpenAI-shaped client error; (400, 422) where pydantic itself may refuse the string first."""
    assert r.status_code in (status if isinstance(status, tuple) else (status,)), (r.status_code, r.text[:300])
    err = r.json()["error"]
    assert set(err) == SHAPE and err["type"] == "invalid_request_error"
    return err


def test_lone_surrogate_is_a_400_on_every_text_route(client):
    err = assert_openai_error(post_raw(client, "/v1/embeddings", '{"model":"minilm","input":"\\ud800"}'), 400)
    assert "surrogate" in err["message"]
    assert_openai_error(post_raw(client, "/v1/embeddings", '{"model":"minilm","input":["ok","a\\udfffb"]}'), 400)
    assert_openai_error(post_raw(client, "/v1/rerank",
                                 '{"model":"minilm","query":"q\\ud800","documents":["a","b"]}'), (400, 422))
    assert_openai_error(post_raw(client, "/v1/rerank",
                                 '{"model":"minilm","query":"q","documents":["a","\\ud800"]}'), (400, 422))
    assert_openai_error(post_raw(client, "/v1/classify",
                                 '{"model":"minilm","input":"\\ud800","labels":["a","b"]}'), (400, 422))
    assert_openai_error(post_raw(client, "/v1/classify",
                                 '{"model":"minilm","input":"cats","labels":["a","b\\ud800"]}'), (400, 422))
    assert_openai_error(post_raw(client, "/v1/ner", '{"model":"spacy-en-sm","input":"Paris \\ud800"}'), (400, 422))
    # Ollama's routes share the runner: a client error too, in Ollama's shape.
    r = post_raw(client, "/api/embed", '{"model":"minilm","input":"\\ud800"}')
    assert r.status_code == 400 and "surrogate" in r.json()["error"], r.text[:300]
    # A surrogate *pair* is one valid character: accepted.
    r = post_raw(client, "/v1/embeddings", '{"model":"minilm","input":"emoji \\ud83d\\ude00"}')
    assert r.status_code == 200, r.text[:300]


def test_one_bad_input_does_not_fail_its_micro_batch_mates(client):
    """Four concurrent requests share one micro-batch; only the bad one fails (400), the others get vectors."""
    bodies = [f'{{"model":"minilm","input":["good {i}","more {i}"]}}' for i in range(3)]
    bodies.insert(1, '{"model":"minilm","input":["fine","\\ud800"]}')
    results: dict[int, object] = {}
    barrier = threading.Barrier(len(bodies))

    def send(i: int) -> None:
        barrier.wait()
        results[i] = post_raw(client, "/v1/embeddings", bodies[i])

    before = client.app.state.lm.metrics.batches.get("embed")
    n_before = before.n if before else 0
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert_openai_error(results[1], 400)
    for i in (0, 2, 3):
        r = results[i]
        assert r.status_code == 200, r.text[:300]
        assert [d["index"] for d in r.json()["data"]] == [0, 1]
    hist = client.app.state.lm.metrics.batches["embed"]
    assert hist.n > n_before and hist.total >= 8, "the four requests were not batched together"


def test_library_refuses_a_lone_surrogate_before_the_model():
    import localmodels as lm
    from localmodels.errors import UsageError

    with pytest.raises(UsageError, match="lone surrogate"):
        lm.embed(["fine", "bad \ud800"], model="minilm")
    with pytest.raises(UsageError, match="lone surrogate"):
        lm.zero_shot("text", ["a", "b"], model="minilm", hypothesis_template="About {} \udc00")


# Every unicode code point, surrogates included and made common (hypothesis leaves category Cs
# out by default, and they are 2048 of 1.1 million code points).
ANY_CHAR = st.one_of(st.characters(exclude_categories=()), st.characters(categories=["Cs"]),
                     st.sampled_from("\x00\t\n \u200b\ufeff\ufffd"))
TEXT = st.text(ANY_CHAR, max_size=40)


def _json_text(value) -> str:
    # json.dumps writes a lone surrogate as a \\udxxx escape, the way a client would send it.
    return json.dumps(value, ensure_ascii=True)


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(texts=st.lists(TEXT, min_size=0, max_size=4), single=st.booleans(),
       route=st.sampled_from(["embeddings", "rerank", "classify", "ner"]))
def test_fuzz_unicode_never_a_server_error(client, texts, single, route):
    if route == "embeddings":
        body = {"model": "minilm", "input": texts[0] if single and texts else texts}
    elif route == "rerank":
        body = {"model": "minilm", "query": texts[0] if texts else "", "documents": texts[1:]}
    elif route == "classify":
        body = {"model": "minilm", "input": texts, "labels": ["pets", *texts[:1]]}
    else:
        body = {"model": "spacy-en-sm", "input": texts}
    r = post_raw(client, f"/v1/{route}", _json_text(body))
    assert r.status_code < 500, (route, body, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert set(r.json()["error"]) == SHAPE
    else:
        expected = len(texts) - 1 if route == "rerank" else (1 if route == "embeddings" and single else len(texts))
        data = r.json().get("data", r.json().get("results"))
        assert len(data) == expected
