"""generate / chat on the real Gemma 3 270M base model: plumbing, determinism, stops, streaming, CLI.

The model is a base model: tests assert on behaviour (greedy determinism, stop strings, token
counts, constrained output), plus one well-known completion it gets right.
"""

from __future__ import annotations

import json
import logging

import pytest

from localmodels.errors import UsageError
from test_llama import GGUF_NAME, gemma_dir, one_llama_thread  # noqa: F401 (autouse fixture)


@pytest.fixture(scope="session")
def model() -> str:
    return str(gemma_dir() / GGUF_NAME)  # the file itself: no store record to build in every test


def test_greedy_is_deterministic_and_sensible(model):
    from localmodels.tasks.generate import generate

    a = generate("Paris is the capital of", model=model, max_tokens=8)
    b = generate("Paris is the capital of", model=model, max_tokens=8)
    assert a.text == b.text
    assert "France" in a.text
    assert a.model == model


def test_token_counts_and_length_finish(model):
    from localmodels.runtimes.llama import load
    from localmodels.tasks.generate import generate

    g = generate("Once upon a time", model=model, max_tokens=12)
    assert g.prompt_tokens == len(load(model).tokenize("Once upon a time"))
    assert g.finish_reason == "length"
    assert g.completion_tokens == 12
    assert g.seconds > 0 and g.text


def test_stop_strings(model):
    from localmodels.tasks.generate import generate

    full = generate("Paris is the capital of", model=model, max_tokens=16).text
    stop = " " + full.split()[2]  # a word the greedy answer writes (" France and is ...": " is")
    g = generate("Paris is the capital of", model=model, max_tokens=16, stop=[stop])
    assert g.text == full[: full.index(stop)]
    assert g.finish_reason == "stop"
    assert 0 < g.completion_tokens < 16


def test_streaming_matches(model):
    from localmodels.tasks.generate import generate

    full = generate("The opposite of hot is", model=model, max_tokens=10)
    stream = generate("The opposite of hot is", model=model, max_tokens=10, stream=True)
    pieces = list(stream)
    assert len(pieces) > 1
    assert "".join(pieces) == full.text
    assert stream.result.text == full.text
    assert (stream.result.prompt_tokens, stream.result.completion_tokens, stream.result.finish_reason) == (
        full.prompt_tokens, full.completion_tokens, full.finish_reason)


def test_abandoned_stream_releases_the_model(model):
    from localmodels.tasks.generate import generate

    with generate("Count: one, two,", model=model, max_tokens=30, stream=True) as s:
        next(s)
    assert generate("Paris is the capital of", model=model, max_tokens=4).text


def test_seeded_sampling_repeats(model):
    from localmodels.tasks.generate import generate

    a = generate("My favourite food is", model=model, max_tokens=12, temperature=1.0, seed=42)
    b = generate("My favourite food is", model=model, max_tokens=12, temperature=1.0, seed=42)
    assert a.text == b.text


def test_chat_uses_fallback_template_and_says_so_once(model, caplog):
    from localmodels.runtimes import llama
    from localmodels.tasks.generate import chat

    llama._WARNED.discard(f"tpl:{llama.load(model).path}")
    msgs = [{"role": "system", "content": "You answer briefly."}, {"role": "user", "content": "Name a colour."}]
    with caplog.at_level(logging.WARNING, logger="localmodels.llama"):
        g = chat(msgs, model=model, max_tokens=16)
        chat(msgs, model=model, max_tokens=4)
    notes = [r.getMessage() for r in caplog.records if "chat template" in r.getMessage()]
    assert len(notes) == 1 and "plain-text" in notes[0]
    assert g.completion_tokens >= 1
    assert "User:" not in g.text  # the plain template's stop string ends the turn


def test_chat_with_catalog_fallback_template(model):
    from localmodels.registry import find_entry
    from localmodels.runtimes.llama import load
    from localmodels.store._model import LocalModel

    entry = find_entry("gemma3-270m")
    local = LocalModel(ref="gemma3-270m", name=entry.id, path=gemma_dir(), source="pypi", entry=entry)
    m = load(local, n_ctx=1024)
    assert m.template.name == "gemma"
    tokens, stops = m.chat_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert m.detokenize(tokens) == "user\nBe brief.\n\nHi\nmodel\n"  # the markers are special tokens
    text = m.detokenize(tokens, special=True)
    assert text == "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
    assert tokens[0] == m.llm.token_bos() and tokens[1] != m.llm.token_bos()  # one BOS
    assert "<end_of_turn>" in stops
    # special-token stops end a turn by token id (their text is dropped from the output)
    assert len(m._special_stop_ids(stops)) == 2


def test_json_schema_output(model):
    from localmodels.tasks.generate import generate

    schema = {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]},
                                               "ok": {"type": "boolean"}},
              "required": ["city", "ok"]}
    g = generate("The capital of France as JSON:", model=model, json_schema=schema, max_tokens=40)
    data = json.loads(g.text)
    assert data["city"] in ("Paris", "Rome") and isinstance(data["ok"], bool)


def test_grammar_output(model):
    from localmodels.tasks.generate import generate

    for seed in range(4):
        g = generate("Is the sky green? Answer:", model=model, grammar='root ::= " " ("yes" | "no")',
                     temperature=1.5, seed=seed, max_tokens=5)
        assert g.text in (" yes", " no")


def test_usage_errors(model):
    from localmodels.tasks.generate import generate

    with pytest.raises(UsageError):
        generate(model=model)
    with pytest.raises(UsageError):
        generate("a", messages=[{"role": "user", "content": "b"}], model=model)
    with pytest.raises(UsageError):
        generate(messages=[], model=model)
    with pytest.raises(UsageError):
        generate(messages=[{"role": "robot", "content": "x"}], model=model)
    with pytest.raises(UsageError):
        generate("a", model=model, max_tokens=0)
    with pytest.raises(UsageError) as e:
        generate("word " * 5000, model=model)
    assert "context" in str(e.value)
    with pytest.raises(UsageError):
        generate("a", model=model, grammar='root ::= "x"', json_schema={"type": "string"})


def test_not_a_generation_model():
    from localmodels.tasks.generate import generate

    with pytest.raises(UsageError) as e:
        generate("hi", model="minilm")
    assert "GGUF" in str(e.value)


def test_cli_generate_streams(model, cli):
    r = cli("generate", "Paris is the capital of", "--model", model, "-n", "8")
    assert r.returncode == 0, r.stderr
    assert "France" in r.stdout
    r = cli("generate", "-", "--model", model, "-n", "4", "--json", input="The opposite of hot is")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["completion_tokens"] >= 1 and data["prompt_tokens"] > 1


def test_cli_chat_loop(model, cli):
    r = cli("chat", "--model", model, "-n", "8", "-t", "0", input="Hello!\n/reset\nName a fruit.\n")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) >= 2
    assert "Traceback" not in r.stderr


def test_gguf_name_constant():
    assert (gemma_dir() / GGUF_NAME).is_file()


# ------------------------------------------------------------------------------ a GGUF with a template

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _with_chat_template(src, dst, template: str):
    """Copy a GGUF, adding ``tokenizer.chat_template`` to its metadata (the data section is moved)."""
    import mmap
    import struct

    from localmodels.runtimes.llama.gguf import _Reader, read_gguf

    info = read_gguf(src)
    with open(src, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        r = _Reader(buf, len(buf), src)
        r.pos = 24
        n_kv = struct.unpack_from("<Q", buf, 16)[0]
        for _ in range(n_kv):
            r.string()
            r.value(r.unpack("<I"), keep=False)
        kv_end = r.pos
        for _ in range(len(info.tensors)):
            r.string()
            n_dims = r.unpack("<I")
            r.pos += 8 * n_dims + 4 + 8
        tensors_end = r.pos
        key = b"tokenizer.chat_template"
        val = template.encode()
        extra = struct.pack("<Q", len(key)) + key + struct.pack("<I", 8) + struct.pack("<Q", len(val)) + val
        head = (bytes(buf[:16]) + struct.pack("<Q", n_kv + 1) + bytes(buf[24:kv_end]) + extra
                + bytes(buf[kv_end:tensors_end]))
        align = int(info.metadata.get("general.alignment", 32))
        head += b"\0" * (-len(head) % align)
        with open(dst, "wb") as g:
            g.write(head)
            g.write(buf[info.data_offset:])
    return dst


@pytest.fixture(scope="session")
def templated(tmp_path_factory):
    d = tmp_path_factory.mktemp("templated")
    return _with_chat_template(gemma_dir() / GGUF_NAME, d / "gemma-chatml.gguf", CHATML)


def test_chat_template_from_gguf_metadata(templated, caplog):
    from localmodels.runtimes.llama import check_gguf, load
    from localmodels.tasks.generate import chat

    info = check_gguf(templated)
    assert info.chat_template == CHATML
    m = load(str(templated), n_ctx=1024)
    assert m.template.name == "gguf"
    tokens, stops = m.chat_prompt([{"role": "user", "content": "Hi"}])
    assert m.detokenize(tokens).endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    assert stops == []
    msgs = [{"role": "user", "content": "Say hello."}]
    with caplog.at_level(logging.WARNING, logger="localmodels.llama"):
        g = chat(msgs, model=str(templated), n_ctx=1024, max_tokens=8)
    assert not [r for r in caplog.records if "chat template" in r.getMessage()]
    assert g.prompt_tokens == len(m.chat_prompt(msgs)[0]) and g.completion_tokens >= 1


def test_catalog_alias_end_to_end():
    """``gemma3-270m`` through the store (assembled from its PyPI chunk packages), as a user calls it."""
    from localmodels.runtimes.llama import load
    from localmodels.tasks.generate import generate

    g = generate("Paris is the capital of", model="gemma3-270m", max_tokens=4)
    assert g.model == "gemma3-270m" and "France" in g.text
    assert load("gemma3-270m").template.name == "gemma"  # the catalog's fallback for this base model


def test_top_p_top_k_reach_the_runtime(model):
    """top_p/top_k unset change nothing (llama.cpp's 0.95/40); set, they reach the sampler: top_k=1
    (or a tiny top_p) at a high temperature is the greedy answer; a wide top_k samples differently."""
    from localmodels.tasks.generate import generate

    prompt, n = "Paris is the capital of", 16  # no near tie at the top: greedy is the same in any cache state
    greedy = generate(prompt, model=model, max_tokens=n).text
    hot = {"temperature": 1.5, "seed": 7, "max_tokens": n}
    default = generate(prompt, model=model, **hot).text
    assert generate(prompt, model=model, top_p=0.95, top_k=40, **hot).text == default  # the defaults
    assert default != greedy  # a hot sample of 16 tokens is not the greedy one (else the rest proves nothing)
    assert generate(prompt, model=model, top_k=1, **hot).text == greedy
    assert generate(prompt, model=model, top_p=1e-6, **hot).text == greedy
    assert generate(prompt, model=model, top_k=0, top_p=1.0, **hot).text != default  # the whole vocabulary
    streamed = generate(prompt, model=model, top_k=1, stream=True, **hot)
    assert "".join(streamed) == greedy
