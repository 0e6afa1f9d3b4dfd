"""LLM classification with the real Gemma 3 270M: grammar-constrained answers, label probabilities."""

from __future__ import annotations

import pytest

from localmodels.errors import UsageError
from test_llama import GGUF_NAME, gemma_dir, one_llama_thread  # noqa: F401 (autouse fixture)

PY = '''import os
import sys


def main(argv):
    """Print the arguments."""
    for arg in argv:
        print(arg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''

README = '''# fastgrep

A tiny command-line tool to search text files quickly.

## Installation

    pip install fastgrep

## Usage

Run `fastgrep PATTERN DIR`. See the documentation for more options.

## License

MIT
'''

YAML = '''version: 2
services:
  web:
    image: nginx:1.25
    ports:
      - "8080:80"
    environment:
      LOG_LEVEL: debug
      WORKERS: 4
'''

LABELS = ["python", "readme", "yaml"]
DESCRIPTIONS = {
    "python": "Python source code",
    "readme": "a README document in Markdown",
    "yaml": "a YAML configuration file",
}


@pytest.fixture(scope="session")
def model() -> str:
    return str(gemma_dir() / GGUF_NAME)  # the file itself: no store record to build in every test


def test_obvious_cases(model):
    from localmodels.tasks.llm_classify import llm_classify

    results = llm_classify([PY, README, YAML], LABELS, model=model, descriptions=DESCRIPTIONS)
    for r in results:
        assert r.label in LABELS
        assert set(r.scores) == set(LABELS)
        assert sum(r.scores.values()) == pytest.approx(1.0, abs=1e-9)
        assert r.score == r.scores[r.label]
        assert r.method == "llm" and r.labels == [r.label]
    # a real confidence, not a constant: the distributions differ between the three files
    dists = [tuple(round(r.scores[x], 4) for x in LABELS) for r in results]
    assert len(set(dists)) == 3
    assert all(0 < r.score < 1 for r in results)
    # (no accuracy assertion: the 270M *base* model is near chance here and leans to the first label;
    # an instruct model is what this task is for. The plumbing is what is tested.)
    # at temperature 0 the grammar's answer is the most probable label
    assert all(r.label == max(r.scores, key=r.scores.get) for r in results)


def test_high_temperature_still_answers_a_label(model):
    from localmodels.tasks.llm_classify import llm_classify

    text = "The weather today is sunny with a light breeze."
    labels = ["sports", "weather", "cooking", "politics"]
    answers = [llm_classify([text], labels, model=model, temperature=1.5, seed=s)[0] for s in range(8)]
    assert all(a.label in labels for a in answers)
    # the confidence is the same whatever was sampled: it comes from the label probabilities
    assert len({tuple(round(v, 6) for v in a.scores.values()) for a in answers}) == 1


def test_with_reasoning(model):
    from localmodels.tasks.llm_classify import llm_classify

    (r,) = llm_classify([YAML], LABELS, model=model, descriptions=DESCRIPTIONS, with_reasoning=True)
    assert r.label in LABELS
    assert isinstance(r.reasoning, str) and len(r.reasoning) <= 200
    assert r.label == max(r.scores, key=r.scores.get)
    assert sum(r.scores.values()) == pytest.approx(1.0)
    assert r.score == r.scores[r.label]


def test_multi_label(model):
    from localmodels.tasks.llm_classify import llm_classify

    (r,) = llm_classify([PY], LABELS, model=model, multi_label=True, descriptions=DESCRIPTIONS)
    assert set(r.scores) == set(LABELS)
    assert all(0.0 < p < 1.0 for p in r.scores.values())
    assert set(r.labels) <= set(LABELS)
    assert r.labels == sorted((x for x in LABELS if r.scores[x] >= 0.5), key=lambda x: -r.scores[x])
    assert r.label == max(r.scores, key=r.scores.get)


def test_long_text_is_cut_to_fit(model):
    from localmodels.runtimes.llama import load
    from localmodels.tasks.llm_classify import llm_classify

    small = load(model, n_ctx=512)
    (r,) = llm_classify([PY * 60], LABELS, model=small)
    assert r.label in LABELS and sum(r.scores.values()) == pytest.approx(1.0)


def test_prompt_and_grammar(model):
    from localmodels.runtimes.llama import load
    from localmodels.tasks.llm_classify import build_prompt, reasoning_grammar

    p = build_prompt("some text", LABELS, DESCRIPTIONS)
    assert "- yaml: a YAML configuration file" in p and p.endswith("Category:")
    assert "char{0,50}" in reasoning_grammar(50)
    assert load(model).compile_grammar(grammar=reasoning_grammar()) is not None  # llama.cpp parses it


def test_answer_agrees_with_the_probabilities(model):
    """The label is the most probable one at temperature 0 (a char-level grammar once answered
    'cooking' here with P(cooking) = 0.02, through a bare-space token)."""
    from localmodels.tasks.llm_classify import llm_classify

    (r,) = llm_classify(["The match ended 2-1 after extra time."], ["sports", "cooking"], model=model)
    assert r.label == max(r.scores, key=r.scores.get) and r.score >= 0.5


def test_label_validation(model):
    from localmodels.tasks.llm_classify import llm_classify

    with pytest.raises(UsageError):
        llm_classify(["x"], ["only"], model=model)
    with pytest.raises(UsageError):
        llm_classify(["x"], ["a", "a"], model=model)
    with pytest.raises(UsageError):
        llm_classify(["x"], "ab", model=model)
    with pytest.raises(UsageError):
        llm_classify(["x"], ["a", "b"], model=model, descriptions={"c": "?"})


def test_labels_with_quotes_are_safe(model):
    from localmodels.tasks.llm_classify import llm_classify

    labels = ['say "yes"', "say 'no'"]
    (r,) = llm_classify(["He agreed."], labels, model=model, temperature=1.0, seed=3)
    assert r.label in labels
    (r,) = llm_classify(["He agreed."], labels, model=model, with_reasoning=True)
    assert r.label in labels
