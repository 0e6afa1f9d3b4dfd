"""Schemathesis against the server's own OpenAPI schema: no input may produce a 5xx.

The app runs in-process through the ASGI transport with the real tasks behind it (minilm and
spacy-en-sm are served; other model names answer 404). Bounded and deterministic: a few
examples per operation, derandomized.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from localmodels.server import Limits, ServerSettings, create_app

# Small limits keep generated inputs cheap; the fuzzer must then meet 413/422 instead of 5xx.
app = create_app(ServerSettings(
    models={"minilm": "minilm", "spacy-en-sm": "spacy-en-sm"}, keep_alive_s=-1,
    limits=Limits(max_inputs=8, max_input_chars=200, max_tokens=4, max_labels=8, request_timeout_s=60)))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(autouse=True)
def shared_store(isolated_home, tmp_path_factory, monkeypatch):
    """The store test_server.py's live server uses: minilm's one-time ONNX export is reused."""
    base = tmp_path_factory.getbasetemp() / "serve-shared"
    monkeypatch.setenv("LOCALMODELS_HOME", str(base / "localmodels"))
    monkeypatch.setenv("HF_HOME", str(base / "hf"))


@schema.parametrize()
@settings(max_examples=8, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call(timeout=120)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    if response.status_code >= 400 and case.path != "/metrics":
        body = response.json()
        if case.path.startswith("/api/"):  # Ollama's routes answer in Ollama's shape: {"error": "message"}
            assert isinstance(body["error"], str) and body["error"], body
        else:  # OpenAI's shape
            assert set(body["error"]) == {"message", "type", "param", "code"}


def test_fuzzing_reached_the_tasks():
    """The schema's examples lead the fuzzer to real model calls, not only to 404s and 422s."""
    batches = app.state.lm.metrics.batches
    assert "embed" in batches and "ner" in batches, sorted(batches)
