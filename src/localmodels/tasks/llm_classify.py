"""Classification with a language model: the answer can only be one of the labels.

The task builds the prompts; the model's :class:`~localmodels.runtimes.base.LLM` runtime answers
with ``score_labels``, each in its own way:

- local GGUF models (llama.cpp): every label's token sequence is scored after the prompt (sum of
  token log-probabilities, including the end of the answer) and the masses are normalised over the
  labels; the answer is the most probable label at temperature 0, else one sampled from
  softmax(log-probability / temperature). Constrained decoding done exactly, over each label's
  canonical tokens (a character-level GBNF grammar lets llama.cpp take token splits the model never
  uses). ``with_reasoning``: the answer is ``{"category": <label>, "reasoning": "..."}``, the
  category chosen as above and the reasoning kept a valid, bounded JSON string by a grammar;
- many texts (single-label, no reasoning) go to the runtime together (``score_labels_batch``): a
  local model scores them in parallel sequences of one llama.cpp batch (``LOCALMODELS_LLM_BATCH``);
- remote models (``remote:...``): scored exactly like a local model where the server scores text
  (``/v1/completions`` with ``echo`` + ``logprobs``: ``localmodels serve``, vLLM), else the answer is
  constrained with ``response_format`` (the labels as an enum) and the confidence read from the
  answer's ``logprobs``. An endpoint that returns no logprobs at all is refused (a confidence is
  never made up) unless ``no_logprobs_ok``: then the answer comes with ``score`` None and no scores.

``multi_label``: one yes/no question per label; a label's score is P(yes) / (P(yes) + P(no)), and
``labels`` lists those at or above 0.5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import UsageError
from ..results import Classification
from ..runtimes.base import LLM, LabelScores
from ..runtimes.labels import REASONING_MAX_CHARS, reasoning_grammar

__all__ = ["llm_classify", "build_prompt", "reasoning_grammar"]

MAX_TEXT_CHARS = 20_000  # a first cut before token-level truncation, for very long files
NO_LOGPROBS_NOTE = "the endpoint returned no log-probabilities: the answer has no confidence"


def llm_classify(
    texts: list[str] | str,
    labels: Sequence[str],
    *,
    model: Any = None,
    multi_label: bool = False,
    descriptions: dict[str, str] | None = None,
    with_reasoning: bool = False,
    temperature: float = 0.0,
    seed: int | None = None,
    no_logprobs_ok: bool = False,
) -> list[Classification]:
    """Classify each text into ``labels`` with an LLM; one :class:`Classification` per text.

    Raises:
        UsageError: no texts, fewer than two labels, duplicate or empty labels, descriptions for
            unknown labels.
    """
    from .generate import DEFAULT_MODEL, get_llm

    if isinstance(texts, str):
        texts = [texts]
    labels = _check_labels(labels, descriptions)
    model = DEFAULT_MODEL if model is None else model
    llm = get_llm(model)
    name = model if isinstance(model, str) else llm.name
    for text in texts:
        if not isinstance(text, str):
            raise UsageError(f"texts must be strings, got {type(text).__name__}")
    texts = [t[:MAX_TEXT_CHARS] for t in texts]
    if multi_label:
        out = [_classify_multi(llm, text, labels, descriptions, temperature, seed, name) for text in texts]
    elif with_reasoning:
        out = _classify_reasoned(llm, texts, labels, descriptions, temperature, seed, name)
    else:
        out = _classify_many(llm, texts, labels, descriptions, temperature, seed, name)
    if not no_logprobs_ok and any(r.method.endswith("nologprobs") for r in out):
        raise UsageError(
            f"{name} returned no log-probabilities, so its answers come with no confidence: refusing",
            hint="use an endpoint that returns logprobs (localmodels serve, llama.cpp's server, vLLM), or pass "
                 "--no-logprobs-ok (no_logprobs_ok=True) to take the bare answers with confidence null")
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
        return (head + 'Answer with a JSON object: {"category": <one of the categories>, '
                '"reasoning": <one short sentence>}.\nJSON:')
    return head + "Category:"


def _yes_no_prompt(text: str, label: str, description: str | None) -> tuple[str, str]:
    """(shared head with the text, per-label question): the head's KV cache is reused across labels."""
    head = f'Text:\n"""\n{text}\n"""\n\n'
    about = f" ({description})" if description else ""
    return head, f'Question: does the text belong to the category "{label}"{about}? Answer yes or no.\nAnswer:'


# ------------------------------------------------------------------------------------------ answers


def _prompt_fitter(llm: LLM, labels: list[str], descriptions: dict[str, str] | None,
                   with_reasoning: bool) -> Callable[[str], str]:
    """text -> its prompt, the text cut to fit the context (labels and empty prompt measured once)."""
    longest = max(llm.count_tokens(" " + x + "\n") for x in labels)
    reserve = (REASONING_MAX_CHARS + 40 + 2 * longest) if with_reasoning else longest + 4
    template = build_prompt("", labels, descriptions, json_answer=with_reasoning)

    def fit(text: str) -> str:
        fitted = llm.fit_text(text, prompt_without_text=template, answer_tokens=reserve)
        return build_prompt(fitted, labels, descriptions, json_answer=with_reasoning)

    return fit


def _result(got: LabelScores, name: str, reasoning: str | None) -> Classification:
    if got.probs is None:  # no confidence to report: None, never a made-up number
        return Classification(got.label, None, {}, model=name, method=got.method,  # type: ignore[arg-type]
                              labels=[got.label], reasoning=got.reasoning or NO_LOGPROBS_NOTE)
    return Classification(got.label, got.probs[got.label], got.probs, model=name, method=got.method,
                          labels=[got.label], reasoning=reasoning)


def _classify_many(llm: LLM, texts: list[str], labels: list[str], descriptions: dict[str, str] | None,
                   temperature: float, seed: int | None, name: str) -> list[Classification]:
    if not texts:
        return []
    fit = _prompt_fitter(llm, labels, descriptions, False)
    got = llm.score_labels_batch([fit(t) for t in texts], labels, temperature=temperature, seed=seed)
    return [_result(g, name, None) for g in got]


def _classify_reasoned(llm: LLM, texts: list[str], labels: list[str], descriptions: dict[str, str] | None,
                       temperature: float, seed: int | None, name: str) -> list[Classification]:
    if not texts:
        return []
    fit = _prompt_fitter(llm, labels, descriptions, True)
    out = []
    for text in texts:
        got = llm.score_labels(fit(text), labels, key="category", with_reasoning=True, temperature=temperature,
                               seed=seed)
        out.append(_result(got, name, got.reasoning))
    return out


def _classify_multi(llm: LLM, text: str, labels: list[str], descriptions: dict[str, str] | None,
                    temperature: float, seed: int | None, name: str) -> Classification:
    d = descriptions or {}
    longest_q = max(llm.count_tokens(_yes_no_prompt("", x, d.get(x))[1]) for x in labels)
    head_empty, _ = _yes_no_prompt("", labels[0], None)
    fitted = llm.fit_text(text, prompt_without_text=head_empty, answer_tokens=longest_q + 8)
    scores: dict[str, float] = {}
    methods = set()
    for label in labels:
        head, question = _yes_no_prompt(fitted, label, d.get(label))
        got = llm.score_labels(head + question, ["yes", "no"], key="answer", temperature=temperature, seed=seed)
        methods.add(got.method)
        scores[label] = got.probs["yes"] if got.probs is not None else (1.0 if got.label == "yes" else 0.0)
    no_logprobs = sorted(m for m in methods if m.endswith("nologprobs"))
    method = no_logprobs[0] if no_logprobs else sorted(methods)[0]  # one answer without logprobs says so
    best = max(scores, key=scores.__getitem__)
    chosen = sorted((x for x, p in scores.items() if p >= 0.5), key=lambda x: -scores[x])
    if no_logprobs:  # yes/no answers without a confidence: the labels answered yes, no scores
        return Classification(best, None, {}, model=name, method=method, labels=chosen,  # type: ignore[arg-type]
                              reasoning=NO_LOGPROBS_NOTE)
    return Classification(best, scores[best], scores, model=name, method=method, labels=chosen)
