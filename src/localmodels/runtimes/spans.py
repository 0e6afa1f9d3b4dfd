"""Span helpers shared by every NER runtime: windows over long texts and merging their entities.

Backends run on overlapping windows and map each entity back to offsets in the original text;
:func:`merge_windows` then drops the entities a window cut in two and removes the duplicates that
the overlaps produce.

How long texts are handled (the same recipe for every backend):

1. The text is cut into *units* that never split an entity: words (GLiNER's regex splitter, for
   span and token models) or sentences (spaCy). :func:`split_words`, :func:`split_sentences`.
2. :func:`plan_windows` groups consecutive units into windows whose cost (tokens, characters)
   fits the model's budget; consecutive windows share ``overlap`` units.
3. Each window is run on its own (in batches); entity offsets are shifted back by the window's
   start in the original text.
4. :func:`merge_windows` drops every entity that *touches a cut edge* (only whitespace between it
   and a window edge that is not the text's own edge: the window may have cut it), keeps the best
   score of duplicates and, for flat output, resolves overlaps greedily by score.

An entity of at most ``overlap - 1`` units always lies strictly inside some window, so it is found
once, whole, even when it crosses a window border.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..results import Entity

# GLiNER's default "whitespace" words splitter (gliner.data_processing.tokenizer.WhitespaceTokenSplitter).
WORD_PATTERN = re.compile(r"\w+(?:[-_]\w+)*|\S")
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace, or at a
# blank line. Cheap and language-agnostic; a wrong boundary only costs context, never an entity.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+|\n\s*\n")


@dataclass(frozen=True)
class Window:
    """A slice ``text[start:end]`` of the original text, covering units ``first..last-1``.

    ``cut_left`` / ``cut_right``: the window starts after / ends before other units of the text.
    """

    start: int
    end: int
    first: int
    last: int
    cut_left: bool = False
    cut_right: bool = False


def split_words(text: str) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` as GLiNER splits them (``\\w+(?:[-_]\\w+)*|\\S``)."""
    return [m.span() for m in WORD_PATTERN.finditer(text)]


def split_sentences(text: str, *, max_chars: int | None = None) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (whitespace between them excluded).

    A sentence longer than ``max_chars`` is cut further at word boundaries, so every unit fits.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        _append_stripped(text, pos, m.start(), spans)
        pos = m.end()
    _append_stripped(text, pos, len(text), spans)
    if max_chars is None:
        return spans
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if e - s <= max_chars:
            out.append((s, e))
            continue
        words = [(s + a, s + b) for a, b in split_words(text[s:e])]
        for i0, i1 in plan_windows([b - a + 1 for a, b in words], budget=max_chars, overlap=0):
            out.append((words[i0][0], words[i1 - 1][1]))
    return out


def _append_stripped(text: str, s: int, e: int, spans: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if s < e:
        spans.append((s, e))


def plan_windows(costs: Sequence[int], *, budget: int, overlap: int, max_units: int | None = None
                 ) -> list[tuple[int, int]]:
    """Group units ``0..len(costs)-1`` into windows ``[first, last)`` of total cost <= ``budget``.

    Consecutive windows share ``overlap`` units (fewer when a window holds too few units to share
    that many and still advance). A unit whose own cost exceeds the budget gets a window of its own:
    callers that cannot run it must check for that (see :func:`oversized_units`).
    """
    n = len(costs)
    if n == 0:
        return []
    windows: list[tuple[int, int]] = []
    first = 0
    while True:
        last, total = first, 0
        while last < n and (last == first or total + costs[last] <= budget) and (
            max_units is None or last - first < max_units
        ):
            total += costs[last]
            last += 1
        windows.append((first, last))
        if last >= n:
            return windows
        first = max(first + 1, last - overlap)


def oversized_units(costs: Sequence[int], budget: int) -> list[int]:
    """Indices of units that alone exceed ``budget`` (they cannot be run without truncation)."""
    return [i for i, c in enumerate(costs) if c > budget]


def windows_over(units: Sequence[tuple[int, int]], plan: Iterable[tuple[int, int]]) -> list[Window]:
    """Turn unit-index windows into character windows over the original text."""
    return [Window(units[a][0], units[b - 1][1], a, b, a > 0, b < len(units)) for a, b in plan]


def touches_cut(text: str, entity: Entity, window: Window) -> bool:
    """True when only whitespace separates ``entity`` from an edge of ``window`` that is a cut.

    Edges with no unit beyond them (the start or end of the whole text) are not cuts.
    """
    left = window.cut_left and text[window.start : entity.start].strip() == ""
    right = window.cut_right and text[entity.end : window.end].strip() == ""
    return left or right


def shift(entities: Iterable[Entity], offset: int) -> list[Entity]:
    """Move entities found in a window back to offsets in the original text."""
    return [replace(e, start=e.start + offset, end=e.end + offset) for e in entities]


def merge_windows(text: str, results: Sequence[tuple[Window, list[Entity]]], *, flat: bool = True,
                  ) -> list[Entity]:
    """Combine the entities of overlapping windows (offsets already in the original text).

    Drops entities that touch a cut edge of their window, then keeps one entity per
    ``(start, end, label)`` (the best score) and, if ``flat``, resolves overlaps by score
    (:func:`merge_entities`). With one window covering the whole text nothing is dropped.
    """
    kept: list[Entity] = []
    for window, ents in results:
        kept.extend(e for e in ents if not touches_cut(text, e, window))
    return merge_entities(kept) if flat else dedupe_entities(kept)


def dedupe_entities(entities: Iterable[Entity]) -> list[Entity]:
    """One entity per ``(start, end, label)`` (the best score), sorted by position; overlaps stay."""
    best: dict[tuple[int, int, str], Entity] = {}
    for e in entities:
        key = (e.start, e.end, e.label)
        if key not in best or e.score > best[key].score:
            best[key] = e
    return sorted(best.values(), key=lambda e: (e.start, e.end, -e.score, e.label))


def merge_entities(entities: Iterable[Entity]) -> list[Entity]:
    """Sort by position and drop duplicates and overlaps, keeping the higher-scoring entity.

    Two entities with the same span and label are one entity (the best score wins). Overlapping
    entities of any label are resolved in favour of the higher score (then the longer span), so the
    result is flat. Offsets must already refer to the original text.
    """
    ranked = sorted(dedupe_entities(entities), key=lambda e: (-e.score, -(e.end - e.start), e.start))
    # kept spans are disjoint, so sorted by start they are sorted by end too: a candidate can only
    # overlap its two neighbours in that order (O(n log n) instead of comparing with every kept span)
    kept: list[Entity] = []
    for e in ranked:
        i = bisect.bisect_right(kept, (e.start, e.end), key=lambda k: (k.start, k.end))
        if (i > 0 and kept[i - 1].end > e.start) or (i < len(kept) and kept[i].start < e.end):
            continue
        kept.insert(i, e)
    return kept


def check_offsets(text: str, entities: Iterable[Entity]) -> None:
    """Assert the invariant every backend guarantees: ``text[e.start:e.end] == e.text``."""
    for e in entities:
        if text[e.start : e.end] != e.text:
            raise AssertionError(f"entity {e.text!r} does not slice back: {text[e.start:e.end]!r}")
