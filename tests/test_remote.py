"""Remote OpenAI-compatible providers against a small OpenAI-shaped server on 127.0.0.1.

The server (stdlib, one thread per request) checks the bearer key, answers chat completions
(plain, streamed as server-sent events, JSON-schema constrained with optional logprobs) and can
inject faults per model name: ``flaky-429`` (one 429 with Retry-After, then success),
``flaky-503`` (two 503s, then success), ``slow`` (answers after 3 s), ``broken-schema``
(ignores the schema), ``nologprobs`` (never returns logprobs).
"""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localmodels.errors import AccessError, ModelNotFoundError, NetworkError, RuntimeFailure, UsageError

KEY = "sk-test-0123456789abcdefSECRET"


class _State:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.requests: list[dict] = []
        self.times: list[float] = []
        self.lock = threading.Lock()


def _pick_label(prompt: str, labels: list[str]) -> str:
    text = prompt.split('Text:\n"""', 1)[-1].lower()
    return max(labels, key=lambda x: (text.count(x.lower()), -labels.index(x)))


def _logprobs_for(content: str, key: str, chosen: str, options: list[str]) -> dict:
    """Tokens of the JSON answer; at the value's first token, alternatives for every option."""
    head = content[: content.index(f'"{key}"')] + f'"{key}": "'
    rest = content[len(head):]
    tokens = [head, chosen, rest[len(chosen):]]
    p_chosen = 0.7
    others = [o for o in options if o != chosen]
    alts = [{"token": chosen, "logprob": math.log(p_chosen)}] + [
        {"token": o, "logprob": math.log((1 - p_chosen) / len(others))} for o in others
    ]
    items = []
    for i, t in enumerate(tokens):
        top = alts if i == 1 else [{"token": t, "logprob": 0.0}]
        items.append({"token": t, "logprob": top[0]["logprob"], "top_logprobs": top})
    return {"content": items}


def make_handler(state: _State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            req = json.loads(self.rfile.read(length) or b"{}")
            model = req.get("model", "")
            with state.lock:
                n = state.calls[model] = state.calls.get(model, 0) + 1
                state.requests.append({"path": self.path, "body": req, "auth": self.headers.get("Authorization")})
                state.times.append(time.monotonic())
            if self.path != "/v1/chat/completions":
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            auth = self.headers.get("Authorization", "")
            if auth != f"Bearer {KEY}":
                given = auth.removeprefix("Bearer ")
                return self._send(401, {"error": {"message": f"Incorrect API key provided: {given}"}})
            if model == "missing":
                return self._send(404, {"error": {"message": "The model `missing` does not exist"}})
            if model == "flaky-429" and n == 1:
                return self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": "1"})
            if model == "flaky-503" and n <= 2:
                return self._send(503, {"error": {"message": "overloaded"}})
            if model == "slow":
                time.sleep(3)
            if model == "bad-request":
                return self._send(400, {"error": {"message": "max_tokens is too large"}})
            prompt = req["messages"][-1]["content"]
            fmt = req.get("response_format")
            logprobs = None
            if fmt and fmt.get("type") == "json_schema" and model != "broken-schema":
                schema = fmt["json_schema"]["schema"]
                key = next(iter(schema["properties"]))
                options = schema["properties"][key]["enum"]
                if key == "answer":  # yes/no per label
                    label = prompt.split('category "', 1)[1].split('"', 1)[0]
                    chosen = "yes" if label.lower() in prompt.split("Question:")[0].lower() else "no"
                else:
                    chosen = _pick_label(prompt, options)
                obj = {key: chosen}
                if "reasoning" in schema["properties"]:
                    obj["reasoning"] = f"it mentions {chosen}"
                content = json.dumps(obj)
                if req.get("logprobs") and model != "nologprobs":
                    logprobs = _logprobs_for(content, key, chosen, options)
            elif model == "broken-schema":
                content = "I think it is python"
            else:
                content = f"echo: {prompt}"
                for s in req.get("stop") or []:
                    if s in content:
                        content = content[: content.index(s)]
            words = content.split(" ")
            if req.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for i, w in enumerate(words):
                    piece = w if i == 0 else " " + w
                    ev = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(ev)}\n\n".encode())
                    self.wfile.flush()
                end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(words)}}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True
                return
            choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            if logprobs is not None:
                choice["logprobs"] = logprobs
            self._send(200, {
                "id": "chatcmpl-1", "object": "chat.completion", "model": model, "choices": [choice],
                "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(words),
                          "total_tokens": len(prompt.split()) + len(words)},
            })

    return Handler


@pytest.fixture(scope="module")
def server():
    state = _State()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield httpd, state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def remote_env(server, monkeypatch):
    httpd, state = server
    state.calls.clear()
    state.requests.clear()
    state.times.clear()
    monkeypatch.setenv("LOCALMODELS_REMOTE_BASE_URL", f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    monkeypatch.setenv("LOCALMODELS_REMOTE_API_KEY", KEY)
    monkeypatch.setenv("LOCALMODELS_REMOTE_BACKOFF", "0.05")
    monkeypatch.setenv("LOCALMODELS_REMOTE_TIMEOUT", "10")
    return state


def test_generate_plain_and_chat(remote_env):
    from localmodels.tasks.generate import generate

    g = generate("hello there", model="remote:echo", max_tokens=16)
    assert g.text == "echo: hello there"
    assert g.model == "remote:echo"
    assert (g.prompt_tokens, g.completion_tokens, g.finish_reason) == (2, 3, "stop")
    req = remote_env.requests[-1]
    assert req["auth"] == f"Bearer {KEY}"
    assert req["body"]["model"] == "echo" and req["body"]["max_tokens"] == 16
    assert req["body"]["messages"] == [{"role": "user", "content": "hello there"}]

    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    g = generate(messages=msgs, model="remote:echo", stop=["zzz"], seed=7)
    assert g.text == "echo: hi"
    body = remote_env.requests[-1]["body"]
    assert body["messages"] == msgs and body["stop"] == ["zzz"] and body["seed"] == 7


def test_stream_sse(remote_env):
    from localmodels.tasks.generate import generate

    stream = generate("one two three", model="remote:echo", stream=True)
    pieces = list(stream)
    assert len(pieces) == 4
    assert "".join(pieces) == "echo: one two three"
    assert stream.result is not None
    assert stream.result.text == "echo: one two three"
    assert stream.result.completion_tokens == 4 and stream.result.finish_reason == "stop"


def test_429_then_success_honours_retry_after(remote_env):
    from localmodels.tasks.generate import generate

    t0 = time.monotonic()
    g = generate("x", model="remote:flaky-429")
    assert g.text == "echo: x"
    assert remote_env.calls["flaky-429"] == 2
    gap = remote_env.times[1] - remote_env.times[0]
    assert gap >= 0.9, "Retry-After: 1 was not honoured"
    assert time.monotonic() - t0 < 30


def test_5xx_retried_with_backoff(remote_env):
    from localmodels.tasks.generate import generate

    assert generate("y", model="remote:flaky-503").text == "echo: y"
    assert remote_env.calls["flaky-503"] == 3


def test_retries_exhausted(remote_env, monkeypatch):
    from localmodels.tasks.generate import generate

    monkeypatch.setenv("LOCALMODELS_REMOTE_MAX_RETRIES", "1")
    with pytest.raises(NetworkError) as e:
        generate("y", model="remote:flaky-503")
    assert "HTTP 503" in str(e.value) and "2 attempt" in str(e.value)
    assert remote_env.calls["flaky-503"] == 2


def test_timeout(remote_env, monkeypatch):
    from localmodels.tasks.generate import generate

    monkeypatch.setenv("LOCALMODELS_REMOTE_TIMEOUT", "0.5")
    monkeypatch.setenv("LOCALMODELS_REMOTE_MAX_RETRIES", "1")
    with pytest.raises(NetworkError) as e:
        generate("z", model="remote:slow")
    assert "timed out after 0.5 s" in str(e.value)
    assert remote_env.calls["slow"] == 2  # one retry
    assert e.value.hint


def test_bad_api_key_is_clear_and_never_shown(remote_env, monkeypatch):
    from localmodels.runtimes.remote import get_remote
    from localmodels.tasks.generate import generate

    secret = "sk-wrong-key-DO-NOT-PRINT-987654"
    monkeypatch.setenv("LOCALMODELS_REMOTE_API_KEY", secret)
    with pytest.raises(AccessError) as e:
        generate("hi", model="remote:echo")
    err = e.value
    assert err.status == 401
    assert "rejected the API key" in str(err)
    assert "LOCALMODELS_REMOTE_API_KEY" in err.hint
    shown = (str(err), err.hint, repr(err), repr(get_remote("remote:echo")), repr(get_remote("remote:echo").endpoint))
    for text in shown:
        assert secret not in text and secret[:10] not in text
    assert remote_env.calls["echo"] == 1  # 401 is not retried


def test_bad_api_key_cli(remote_env, cli):
    secret = "sk-wrong-key-CLI-SECRET-123456"
    r = cli("generate", "hi", "--model", "remote:echo", env={"LOCALMODELS_REMOTE_API_KEY": secret})
    assert r.returncode != 0
    assert "rejected the API key" in r.stderr
    assert "Traceback" not in r.stderr
    assert secret not in r.stdout + r.stderr
    assert secret[:10] not in r.stdout + r.stderr


def test_cli_generate_streams_remote(remote_env, cli):
    r = cli("generate", "alpha beta", "--model", "remote:echo")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "echo: alpha beta"
    r = cli("generate", "alpha", "--model", "remote:echo", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["text"] == "echo: alpha" and data["model"] == "remote:echo"


def test_cli_chat_loop_remote(remote_env, cli):
    r = cli("chat", "--model", "remote:echo", "--system", "be nice", input="first\n\nsecond\n/exit\nnever\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["echo: first", "echo: second"]
    bodies = [q["body"] for q in remote_env.requests]
    assert len(bodies) == 2
    assert bodies[1]["messages"] == [
        {"role": "system", "content": "be nice"}, {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first"}, {"role": "user", "content": "second"},
    ]


def test_404_and_400(remote_env):
    from localmodels.tasks.generate import generate

    with pytest.raises(ModelNotFoundError):
        generate("a", model="remote:missing")
    with pytest.raises(UsageError) as e:
        generate("a", model="remote:bad-request")
    assert "max_tokens is too large" in str(e.value)


def test_grammar_refused_remote(remote_env):
    from localmodels.tasks.generate import generate

    with pytest.raises(UsageError):
        generate("a", model="remote:echo", grammar='root ::= "a"')


def test_json_schema_sent_as_response_format(remote_env):
    from localmodels.tasks.generate import generate

    schema = {"type": "object", "properties": {"category": {"type": "string", "enum": ["a", "b"]}},
              "required": ["category"]}
    g = generate("pick: b b b", model="remote:echo", json_schema=schema)
    assert json.loads(g.text) == {"category": "b"}
    fmt = remote_env.requests[-1]["body"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == schema


def test_unreachable_endpoint(monkeypatch):
    from localmodels.tasks.generate import generate

    monkeypatch.setenv("LOCALMODELS_REMOTE_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LOCALMODELS_REMOTE_MAX_RETRIES", "0")
    with pytest.raises(NetworkError) as e:
        generate("a", model="remote:any")
    assert "connection failed" in str(e.value)


# ----------------------------------------------------------------------------------- presets


def test_presets_and_missing_endpoint(monkeypatch):
    from localmodels.runtimes.remote import endpoint_for

    for var in ("LOCALMODELS_REMOTE_BASE_URL", "OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(UsageError) as e:
        endpoint_for("remote:some-model")
    assert "LOCALMODELS_REMOTE_BASE_URL" in e.value.hint
    with pytest.raises(AccessError) as e:
        endpoint_for("remote:deepseek-chat")
    assert "DEEPSEEK_API_KEY" in str(e.value)
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-deep-secret-value-1234")
    ep, model = endpoint_for("remote:deepseek-chat")
    assert (ep.provider, ep.base_url, model) == ("deepseek", "https://api.deepseek.com/v1", "deepseek-chat")
    assert "sk-deep" not in repr(ep)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    ep, model = endpoint_for("remote:openai/gpt-4o-mini")
    assert (ep.provider, model) == ("openai", "gpt-4o-mini")
    ep, model = endpoint_for("remote:ollama/llama3.2")
    assert (ep.base_url, ep.api_key, model) == ("http://127.0.0.1:11434/v1", None, "llama3.2")
    monkeypatch.setenv("LOCALMODELS_REMOTE_BASE_URL", "http://user:pw@127.0.0.1:8000/v1/")
    ep, model = endpoint_for("remote:org/model-name")
    assert (ep.provider, ep.base_url, model) == ("custom", "http://user:pw@127.0.0.1:8000/v1", "org/model-name")
    assert ep.display_url == "http://127.0.0.1:8000/v1"


# ----------------------------------------------------------------------------------- classification


TEXTS = [
    "import os\n\ndef main():\n    print('python code')\n",
    "# Project\n\nThis readme explains the project. See the readme.\n",
    "server:\n  port: 8080\n# yaml yaml config\n",
]
LABELS = ["python", "readme", "yaml"]


def test_llm_classify_remote_with_logprobs(remote_env):
    from localmodels.tasks.llm_classify import llm_classify

    res = llm_classify(TEXTS, LABELS, model="remote:clf", descriptions={"yaml": "a YAML configuration file"})
    assert [r.label for r in res] == LABELS
    for r in res:
        assert r.method == "llm-remote-chat"  # this endpoint has no /completions echo: the chat answer's logprobs
        assert set(r.scores) == set(LABELS)
        assert abs(sum(r.scores.values()) - 1) < 1e-9
        assert r.score == pytest.approx(0.7)
    body = remote_env.requests[-1]["body"]
    assert body["logprobs"] is True
    assert body["response_format"]["json_schema"]["schema"]["properties"]["category"]["enum"] == LABELS
    assert "a YAML configuration file" in body["messages"][0]["content"]


def test_llm_classify_remote_without_logprobs(remote_env):
    """No logprobs: refused (a confidence is never made up); with no_logprobs_ok the bare answer, score None."""
    from localmodels.tasks.llm_classify import llm_classify

    with pytest.raises(UsageError, match="no log-probabilities") as e:
        llm_classify([TEXTS[2]], LABELS, model="remote:nologprobs")
    assert "--no-logprobs-ok" in e.value.hint
    (r,) = llm_classify([TEXTS[2]], LABELS, model="remote:nologprobs", no_logprobs_ok=True)
    assert r.label == "yaml" and r.score is None and r.scores == {}
    assert r.method == "llm-remote-nologprobs"
    assert "no log-probabilities" in r.reasoning
    (m,) = llm_classify(["python code with a yaml block"], LABELS, model="remote:nologprobs", multi_label=True,
                        no_logprobs_ok=True)
    assert set(m.labels) == {"python", "yaml"} and m.score is None and m.scores == {}


def test_cli_zero_shot_remote_without_logprobs(remote_env, cli):
    """The CLI refuses with the reason and the flag; --no-logprobs-ok prints confidence null."""
    r = cli("zero-shot", TEXTS[2], "--labels", ",".join(LABELS), "--method", "llm", "--model", "remote:nologprobs")
    assert r.returncode == 2 and "no log-probabilities" in r.stderr and "--no-logprobs-ok" in r.stderr
    r = cli("zero-shot", TEXTS[2], "--labels", ",".join(LABELS), "--method", "llm", "--model", "remote:nologprobs",
            "--no-logprobs-ok", "--json")
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)
    assert row["label"] == "yaml" and row["score"] is None and row["method"] == "llm-remote-nologprobs"


def test_llm_classify_remote_reasoning_and_multi(remote_env):
    from localmodels.tasks.llm_classify import llm_classify

    (r,) = llm_classify([TEXTS[0]], LABELS, model="remote:clf", with_reasoning=True)
    assert r.label == "python" and r.reasoning == "it mentions python"
    (m,) = llm_classify(["python code with a yaml block"], LABELS, model="remote:clf", multi_label=True)
    assert set(m.labels) == {"python", "yaml"}
    assert m.scores["readme"] < 0.5 <= min(m.scores["python"], m.scores["yaml"])


def test_llm_classify_remote_rejects_answers_outside_labels(remote_env):
    from localmodels.tasks.llm_classify import llm_classify

    with pytest.raises(RuntimeFailure):
        llm_classify(["x"], LABELS, model="remote:broken-schema")
    chats = [r for r in remote_env.requests if r["path"] == "/v1/chat/completions"]
    assert len(chats) == 2  # asked twice, then failed closed
