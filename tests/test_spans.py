"""Windowing and merging of entities over long texts (runtimes/spans.py)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localmodels.results import Entity
from localmodels.runtimes import spans as _spans

TITLE_RUN = 3  # the fake backend's longest entity, in words


def fake_backend(text: str, words: list[tuple[int, int]]) -> list[Entity]:
    """A context-free 'NER': every maximal run of 1..3 capitalised words is an entity.

    Runs of more than three capitalised words give nothing, so a window that cuts a long run makes
    a *different* (shorter) run at its edge: exactly the kind of artefact merging must remove.
    """
    out, i = [], 0
    while i < len(words):
        if not text[words[i][0]].isupper():
            i += 1
            continue
        j = i
        while j < len(words) and text[words[j][0]].isupper():
            j += 1
        if j - i <= TITLE_RUN:
            s, e = words[i][0], words[j - 1][1]
            out.append(Entity(text=text[s:e], label="X", start=s, end=e, score=0.9))
        i = j
    return out


def run_windowed(text: str, *, budget: int, overlap: int) -> list[Entity]:
    """Run the fake backend the way GLiNER does: word windows, each on its own substring."""
    words = _spans.split_words(text)
    plan = _spans.plan_windows([1] * len(words), budget=budget, overlap=overlap)
    results = []
    for w in _spans.windows_over(words, plan):
        sub = text[w.start : w.end]
        local = _spans.split_words(sub)
        results.append((w, _spans.shift(fake_backend(sub, local), w.start)))
    return _spans.merge_windows(text, results, flat=True)


unicode_words = st.lists(
    st.one_of(
        st.text(min_size=1, max_size=8),  # any Unicode, including spaces, combining marks, emoji
        st.sampled_from(["Barack", "Obama", "Zoë", "São", "Paulo", "ÉCOLE", "x", "the", "and", ".", "\n"]),
    ),
    min_size=0, max_size=80,
).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=unicode_words, budget=st.integers(6, 20), extra=st.integers(0, 4))
def test_windowed_offsets_slice_back_and_equal_unwindowed(text, budget, extra):
    overlap = min(TITLE_RUN + 2 + extra, budget - 1)  # long enough for an entity and its neighbours
    found = run_windowed(text, budget=budget, overlap=overlap)
    _spans.check_offsets(text, found)
    whole = fake_backend(text, _spans.split_words(text))
    assert [(e.start, e.end) for e in found] == [(e.start, e.end) for e in whole]


@settings(max_examples=100, deadline=None)
@given(costs=st.lists(st.integers(1, 10), max_size=60), budget=st.integers(1, 30), overlap=st.integers(0, 8))
def test_plan_windows_covers_every_unit_within_budget(costs, budget, overlap):
    plan = _spans.plan_windows(costs, budget=budget, overlap=overlap)
    if not costs:
        assert plan == []
        return
    assert plan[0][0] == 0 and plan[-1][1] == len(costs)
    for (a0, a1), (b0, _) in zip(plan, plan[1:]):
        assert a0 < b0 <= a1  # windows advance and touch or overlap
    for a, b in plan:
        assert b - a == 1 or sum(costs[a:b]) <= budget


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=300), max_chars=st.integers(5, 60))
def test_sentence_units_are_in_order_and_fit(text, max_chars):
    units = _spans.split_sentences(text, max_chars=max_chars)
    last = 0
    for s, e in units:
        assert last <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace()
        last = e
    words = "".join(text[s:e] for s, e in units).split()
    assert words == text.split() or "".join(words) == "".join(text.split())


def test_entity_crossing_a_window_border_is_found_once():
    filler = " ".join(f"w{i}" for i in range(40))
    text = f"{filler} Barack Hussein Obama {filler}."
    words = _spans.split_words(text)
    target = text.index("Barack")
    plan = _spans.plan_windows([1] * len(words), budget=42, overlap=6)
    windows = _spans.windows_over(words, plan)
    # the name really straddles a border: some window ends inside it
    assert any(target < w.end < target + len("Barack Hussein Obama") for w in windows)
    found = run_windowed(text, budget=42, overlap=6)
    assert [(e.text, e.start) for e in found] == [("Barack Hussein Obama", target)]


def test_touches_cut_only_at_inner_edges():
    text = "Alpha beta Gamma delta"
    w = _spans.Window(6, 16, 1, 3, cut_left=True, cut_right=True)  # "beta Gamma"
    gamma = Entity("Gamma", "X", 11, 16, 1.0)
    beta = Entity("beta", "X", 6, 10, 1.0)
    assert _spans.touches_cut(text, gamma, w) and _spans.touches_cut(text, beta, w)
    whole = _spans.Window(0, len(text), 0, 4)
    assert not _spans.touches_cut(text, Entity("Alpha", "X", 0, 5, 1.0), whole)


def test_merge_entities_keeps_best_of_duplicates_and_overlaps():
    a = Entity("New York", "LOC", 0, 8, 0.6)
    a2 = Entity("New York", "LOC", 0, 8, 0.9)
    b = Entity("New York Times", "ORG", 0, 14, 0.8)
    c = Entity("Times", "ORG", 9, 14, 0.5)
    assert _spans.merge_entities([a, b, c, a2]) == [a2, c]  # "Times" does not overlap "New York"
    nested = _spans.dedupe_entities([a, b, c, a2])
    assert [(e.text, e.score) for e in nested] == [("New York", 0.9), ("New York Times", 0.8), ("Times", 0.5)]


def test_split_words_is_gliners_regex():
    text = "São Paulo-based ACME_Corp, e-mail: x@y.z!"
    words = [text[s:e] for s, e in _spans.split_words(text)]
    assert words == [m.group() for m in re.finditer(r"\w+(?:[-_]\w+)*|\S", text)]
    assert words[:3] == ["São", "Paulo-based", "ACME_Corp"]
