"""Classification with a language model: the answer can only be one of the labels.

Local GGUF models (llama.cpp):
- the confidence is the probability mass of each label: the model scores every label's token
  sequence after the prompt (sum of token log-probabilities, including the end of the answer),
  and the masses are normalised over the labels;
- the answer is chosen over the labels only, so it can never be anything else: the most probable
  label at temperature 0, else one sampled from softmax(log-probability / temperature). This is
  constrained decoding done exactly, over each label's canonical tokens. (A character-level GBNF
  grammar lets llama.cpp take token splits the model never uses -- a bare " " token, then
  "cooking" -- and its answer then disagreed with the label probabilities.)
- ``with_reasoning``: the answer is a JSON object ``{"category": <label>, "reasoning": "..."}``;
  the category is chosen as above (scored after ``{"category": "``), and a GBNF grammar makes
  the model's reasoning a valid JSON string of bounded length, so the object always parses;
- ``multi_label``: one yes/no question per label; a label's score is P(yes) / (P(yes) + P(no)),
  and ``labels`` lists those at or above 0.5.

Remote models (``remote:...``): the answer is constrained with ``response_format`` (a JSON schema
with the labels as an enum) and validated; the confidence comes from ``logprobs`` when the
server returns them (the probability of each label's first token where the answer starts), else
the chosen label gets 1.0 and ``method`` says ``llm-remote-nologprobs``.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import RuntimeFailure, UsageError
from ..results import Classification

if TYPE_CHECKING:
    from ..runtimes.llama import LlamaModel
    from ..runtimes.remote import RemoteModel

__all__ = ["llm_classify", "build_prompt", "reasoning_grammar"]

MAX_TEXT_CHARS = 20_000  # a first cut before token-level truncation, for very long files
REASONING_MAX_CHARS = 200
NO_LOGPROBS_NOTE = "the endpoint returned no log-probabilities: 1.0 is not a calibrated confidence"


def llm_classify(
    texts: list[str] | str,
    labels: Sequence[str],
    *,
    model: Any = "gemma3-270m",
    multi_label: bool = False,
    descriptions: dict[str, str] | None = None,
    with_reasoning: bool = False,
    temperature: float = 0.0,
    seed: int | None = None,
) -> list[Classification]:
    """Classify each text into ``labels`` with an LLM; one :class:`Classification` per text.

    Raises:
        UsageError: no texts, fewer than two labels, duplicate or empty labels, descriptions for
            unknown labels.
    """
    from .generate import get_llm

    if isinstance(texts, str):
        texts = [texts]
    labels = _check_labels(labels, descriptions)
    llm = get_llm(model)
    from ..runtimes.remote import RemoteModel

    name = model if isinstance(model, str) else llm.name
    out = []
    for text in texts:
        if not isinstance(text, str):
            raise UsageError(f"texts must be strings, got {type(text).__name__}")
        if isinstance(llm, RemoteModel):
            out.append(_classify_remote(llm, text, labels, descriptions, multi_label, with_reasoning,
                                        temperature, seed, name))
        elif multi_label:
            out.append(_classify_local_multi(llm, text, labels, descriptions, name))
        else:
            out.append(_classify_local(llm, text, labels, descriptions, with_reasoning, temperature, seed, name))
    return out


def _check_labels(labels: Sequence[str], descriptions: dict[str, str] | None) -> list[str]:
    if isinstance(labels, str):
        raise UsageError("labels must be a list of strings, not one string")
    labels = [str(x) for x in labels]
    if len(labels) < 2:
        raise UsageError("give at least two labels", hint="e.g. labels=['python', 'readme', 'yaml']")
    if any(not x.strip() for x in labels):
        raise UsageError("labels must not be empty")
    if len(set(labels)) != len(labels):
        raise UsageError(f"duplicate labels in {labels}")
    if any("\n" in x for x in labels):
        raise UsageError("labels must be single-line")
    unknown = sorted(set(descriptions or {}) - set(labels))
    if unknown:
        raise UsageError(f"descriptions given for unknown labels: {', '.join(unknown)}")
    return labels


# ------------------------------------------------------------------------------------------ prompts


def _label_lines(labels: Sequence[str], descriptions: dict[str, str] | None) -> str:
    d = descriptions or {}
    return "\n".join(f"- {x}: {d[x]}" if d.get(x) else f"- {x}" for x in labels)


def build_prompt(text: str, labels: Sequence[str], descriptions: dict[str, str] | None = None, *,
                 json_answer: bool = False) -> str:
    """The single-label prompt; the answer (a label) follows the last line."""
    head = (
        "Classify the text into exactly one of these categories:\n"
        f"{_label_lines(labels, descriptions)}\n\n"
        f'Text:\n"""\n{text}\n"""\n\n'
    )
    if json_answer:
        return head + 'Answer with a JSON object: {"category": <one of the categories>, "reasoning": <one short sentence>}.\nJSON:'
    return head + "Category:"


def _yes_no_prompt(text: str, label: str, description: str | None) -> tuple[str, str]:
    """(shared head with the text, per-label question): the head's KV cache is reused across labels."""
    head = f'Text:\n"""\n{text}\n"""\n\n'
    about = f" ({description})" if description else ""
    return head, f'Question: does the text belong to the category "{label}"{about}? Answer yes or no.\nAnswer:'


def _gbnf_literal(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def reasoning_grammar(max_chars: int = REASONING_MAX_CHARS) -> str:
    """GBNF for the rest of a JSON answer once the category is written: the reasoning string's
    characters (at most ``max_chars``), its closing quote and the closing brace."""
    return (
        f'root ::= char{{0,{max_chars}}} "\\"" ws "}}"\n'
        'char ::= [^"\\\\\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})\n'
        'ws ::= " "?\n'
    )


# ------------------------------------------------------------------------------------------ local


def _fit_text(llm: "LlamaModel", text: str, overhead_tokens: int, reserve: int) -> str:
    """Cut ``text`` so that the prompt plus the answer fits the model's context."""
    text = text[:MAX_TEXT_CHARS]
    budget = llm.n_ctx - overhead_tokens - reserve - 8
    if budget <= 16:
        raise UsageError(f"the labels and instructions alone fill the context of {llm.n_ctx} tokens",
                         hint="load the model with a larger n_ctx (LOCALMODELS_N_CTX)")
    toks = llm.tokenize(text, add_bos=False, special=False)
    if len(toks) <= budget:
        return text
    return llm.detokenize(toks[:budget])


def _continuations(llm: "LlamaModel", prefix_text: str, prefix: list[int], answers: Sequence[str]) -> list[list[int]]:
    """Token ids of each answer as it follows ``prefix_text`` (tokenised together, then split)."""
    out = []
    for a in answers:
        full = llm.tokenize(prefix_text + a, add_bos=True, special=False)
        if full[:len(prefix)] == prefix and len(full) > len(prefix):
            out.append(full[len(prefix):])
        else:
            out.append(llm.tokenize(a, add_bos=False, special=False))
    return out


def _normalise(logps: Sequence[float]) -> list[float]:
    m = max(logps)
    ws = [math.exp(x - m) for x in logps]
    total = sum(ws)
    return [w / total for w in ws]


def _choose(labels: list[str], logps: Sequence[float], temperature: float, seed: int | None) -> str:
    """The answer: the most probable label at temperature 0, else a label sampled from
    softmax(log-probability / temperature) over the labels (seeded)."""
    if temperature <= 0:
        return labels[max(range(len(labels)), key=lambda i: logps[i])]
    import random

    weights = _normalise([x / temperature for x in logps])
    return random.Random(seed).choices(labels, weights=weights)[0]


def _classify_local(llm: "LlamaModel", text: str, labels: list[str], descriptions: dict[str, str] | None,
                    with_reasoning: bool, temperature: float, seed: int | None, name: str) -> Classification:
    overhead = len(llm.tokenize(build_prompt("", labels, descriptions, json_answer=with_reasoning), special=False))
    longest = max(len(llm.tokenize(" " + x + "\n", add_bos=False, special=False)) for x in labels)
    reserve = (REASONING_MAX_CHARS + 40 + 2 * longest) if with_reasoning else longest + 4
    prompt = build_prompt(_fit_text(llm, text, overhead, reserve), labels, descriptions, json_answer=with_reasoning)
    if with_reasoning:
        prompt += ' {"category": "'
        answers = [json.dumps(x, ensure_ascii=False)[1:] for x in labels]  # escaped label + closing quote
    else:
        answers = [f" {x}\n" for x in labels]
    tokens = llm.tokenize(prompt, add_bos=True, special=False)
    logps = llm.continuation_logprobs(tokens, _continuations(llm, prompt, tokens, answers))
    scores = dict(zip(labels, _normalise(logps)))
    label = _choose(labels, logps, temperature, seed)
    reasoning = None
    if with_reasoning:
        rest = prompt + json.dumps(label, ensure_ascii=False)[1:] + ', "reasoning": "'
        gen = llm.generate(llm.tokenize(rest, add_bos=True, special=False), max_tokens=reserve,
                           temperature=temperature, seed=seed,
                           grammar=llm.compile_grammar(grammar=reasoning_grammar()))
        reasoning = _json_string_prefix(gen.text)
    return Classification(label, scores[label], scores, model=name, method="llm", labels=[label], reasoning=reasoning)


def _json_string_prefix(text: str) -> str:
    """The reasoning string the grammar produced (up to its closing quote), decoded from JSON."""
    end = text.rfind('"')
    raw = text[:end] if end >= 0 else text  # cut short by max_tokens: keep what is there
    try:
        return json.loads('"' + raw + '"').strip()
    except ValueError:
        return raw.strip()


def _classify_local_multi(llm: "LlamaModel", text: str, labels: list[str], descriptions: dict[str, str] | None,
                          name: str) -> Classification:
    d = descriptions or {}
    longest_q = max(len(llm.tokenize(_yes_no_prompt("", x, d.get(x))[1], add_bos=False, special=False))
                    for x in labels)
    head_empty, _ = _yes_no_prompt("", labels[0], None)
    overhead = len(llm.tokenize(head_empty, special=False)) + longest_q
    fitted = _fit_text(llm, text, overhead, 8)
    scores: dict[str, float] = {}
    for label in labels:
        head, question = _yes_no_prompt(fitted, label, d.get(label))
        prompt = head + question
        tokens = llm.tokenize(prompt, add_bos=True, special=False)
        conts = _continuations(llm, prompt, tokens, [" yes\n", " no\n"])
        p_yes, _ = _normalise(llm.continuation_logprobs(tokens, conts))
        scores[label] = p_yes
    return _multi_result(scores, name, "llm")


def _multi_result(scores: dict[str, float], name: str, method: str, reasoning: str | None = None) -> Classification:
    best = max(scores, key=scores.__getitem__)
    chosen = sorted((x for x, p in scores.items() if p >= 0.5), key=lambda x: -scores[x])
    return Classification(best, scores[best], scores, model=name, method=method, labels=chosen, reasoning=reasoning)


# ------------------------------------------------------------------------------------------ remote


def _classify_remote(llm: "RemoteModel", text: str, labels: list[str], descriptions: dict[str, str] | None,
                     multi_label: bool, with_reasoning: bool, temperature: float, seed: int | None,
                     name: str) -> Classification:
    text = text[:MAX_TEXT_CHARS]
    if multi_label:
        d = descriptions or {}
        scores: dict[str, float] = {}
        got_logprobs = True
        for label in labels:
            head, question = _yes_no_prompt(text, label, d.get(label))
            answer, probs = _remote_choice(llm, head + question, ["yes", "no"], "answer", False, temperature, seed)
            got_logprobs &= probs is not None
            scores[label] = probs["yes"] if probs is not None else (1.0 if answer == "yes" else 0.0)
        method = "llm-remote" if got_logprobs else "llm-remote-nologprobs"
        return _multi_result(scores, name, method, None if got_logprobs else NO_LOGPROBS_NOTE)
    prompt = build_prompt(text, labels, descriptions, json_answer=with_reasoning)
    answer, probs, reasoning = _remote_answer(llm, prompt, labels, "category", with_reasoning, temperature, seed)
    if probs is None:
        scores = {x: (1.0 if x == answer else 0.0) for x in labels}
        note = reasoning if with_reasoning else NO_LOGPROBS_NOTE
        return Classification(answer, 1.0, scores, model=name, method="llm-remote-nologprobs", labels=[answer],
                              reasoning=note)
    return Classification(answer, probs[answer], probs, model=name, method="llm-remote", labels=[answer],
                          reasoning=reasoning if with_reasoning else None)


def _remote_choice(llm: "RemoteModel", prompt: str, options: list[str], key: str, with_reasoning: bool,
                   temperature: float, seed: int | None) -> tuple[str, dict[str, float] | None]:
    answer, probs, _ = _remote_answer(llm, prompt, options, key, with_reasoning, temperature, seed)
    return answer, probs


def _remote_answer(llm: "RemoteModel", prompt: str, options: list[str], key: str, with_reasoning: bool,
                   temperature: float, seed: int | None) -> tuple[str, dict[str, float] | None, str | None]:
    """Ask for ``{key: <option>}`` (+ reasoning) with a JSON schema; validate; read the logprobs."""
    from ..runtimes.remote import json_schema_format

    props: dict[str, Any] = {key: {"type": "string", "enum": options}}
    if with_reasoning:
        props["reasoning"] = {"type": "string"}
    schema = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    payload: dict[str, Any] = {
        "messages": [{"role": "user", "content": prompt + "\nReply with JSON only."}],
        "temperature": temperature, "max_tokens": 400 if with_reasoning else 60,
        "response_format": json_schema_format(schema, name="classification"),
        "logprobs": True, "top_logprobs": 20,
    }
    if seed is not None:
        payload["seed"] = seed
    last_error = ""
    for attempt in range(2):  # one retry when the endpoint ignores the schema
        try:
            data = llm.chat_completion(payload)
        except UsageError:
            if "logprobs" not in payload:
                raise
            payload.pop("logprobs")  # some endpoints refuse logprobs: ask again without them
            payload.pop("top_logprobs")
            data = llm.chat_completion(payload)
        choice = data["choices"][0]
        content = (choice.get("message") or {}).get("content") or ""
        try:
            obj = json.loads(content)
            answer = obj[key]
        except (ValueError, KeyError, TypeError):
            last_error = f"not the JSON object asked for: {content[:200]!r}"
            continue
        if answer not in options:
            last_error = f"{key} {answer!r} is not one of {options}"
            continue
        reasoning = str(obj.get("reasoning", "")) if with_reasoning else None
        return answer, _label_probs(content, choice.get("logprobs"), options, key, answer), reasoning
    raise RuntimeFailure(f"{llm.name} did not answer with one of the labels: {last_error}",
                         hint="the endpoint may not support response_format json_schema")


def _label_probs(content: str, logprobs: Any, options: list[str], key: str, answer: str) -> dict[str, float] | None:
    """Probability of each option where the answer's value starts, from the returned top logprobs.

    Each alternative token at that position gives its probability to the options it begins
    (split evenly when it begins several); the masses are normalised over the options.
    """
    items = (logprobs or {}).get("content") if isinstance(logprobs, dict) else None
    if not items:
        return None
    m = re.search(rf'"{re.escape(key)}"\s*:\s*"', content)
    if m is None:
        return None
    start = m.end()
    pos = 0
    for item in items:
        tok = item.get("token", "")
        end = pos + len(tok)
        if end > start:
            before = tok[: max(0, start - pos)]
            alts = item.get("top_logprobs") or [{"token": tok, "logprob": item.get("logprob", 0.0)}]
            mass = {x: 0.0 for x in options}
            for alt in alts:
                t = alt.get("token", "")
                if not t.startswith(before):
                    continue
                v = t[len(before):]
                closed = '"' in v
                v = v.split('"', 1)[0]
                if not v:
                    continue
                hits = [x for x in options if (x == v if closed else x.startswith(v))]
                for x in hits:
                    mass[x] += math.exp(float(alt.get("logprob", -1e9))) / len(hits)
            total = sum(mass.values())
            if total <= 0:
                return None
            return {x: p / total for x, p in mass.items()}
        pos = end
    return None
