"""Named-entity recognition: one front door for spaCy pipelines, GLiNER span models and BERT-style
token classification.

    ner("Barack Obama visited Paris in 2015.")                      # spaCy, the embedded default
    ner(texts, model="./gliner_small", labels=["PERSON", "drug"])   # GLiNER, zero-shot labels
    ner(text, model="dslim/bert-base-NER", labels=["PER"])          # token classification

Every backend returns :class:`~localmodels.results.Entity` objects whose ``start``/``end`` are
character offsets into the original text (``text[start:end] == entity.text``), ``label`` in the
common scheme below where the backend's label maps to it, ``source_label`` the backend's own label,
``score`` in [0, 1] and ``model`` the model's name.

Common label scheme (what ``label`` holds; the backend's own label is kept in ``source_label``):

    ============  ==========================================  ==================
    common        spaCy / OntoNotes                           CoNLL (BERT NER)
    ============  ==========================================  ==================
    PERSON        PERSON                                      PER
    ORG           ORG                                         ORG
    LOC           GPE, LOC, FAC                               LOC
    NORP          NORP                                        -
    DATE, TIME    DATE, TIME                                  -
    MONEY         MONEY                                       -
    PERCENT       PERCENT                                     -
    QUANTITY      QUANTITY                                    -
    CARDINAL      CARDINAL                                    -
    ORDINAL       ORDINAL                                     -
    EVENT         EVENT                                       -
    PRODUCT       PRODUCT                                     -
    WORK_OF_ART   WORK_OF_ART                                 -
    LAW           LAW                                         -
    LANGUAGE      LANGUAGE                                    -
    MISC          -                                           MISC
    ============  ==========================================  ==================

Labels given by the caller (``labels=``):

- fixed-label backends (spaCy, token classification) use them as a filter; each must be one of the
  model's own labels (``GPE``) or a common label that one of them maps to (``LOC``, also the
  aliases ``PER``, ``LOCATION``, ``ORGANIZATION``); anything else raises :class:`UsageError`;
- zero-shot backends (GLiNER) read them as entity types. An upper-case common label or alias
  (``PERSON``, ``ORG``, ``LOC``, ``GPE``...) is prompted in words (``person``, ``organization``,
  ``location``) and reported as the common label; any other string (``drug``, ``person``) is
  prompted and reported verbatim. Without labels GLiNER looks for PERSON, ORG, LOC and DATE.

Scores: GLiNER and token classification give probabilities (entities below ``threshold`` are
dropped); spaCy gives none, so its entities have ``score == 1.0``.

Long texts are split into overlapping windows (tokens for transformer models, words for GLiNER,
sentences for spaCy) and merged without duplicates; ``max_length="error"`` raises instead. Nothing
is ever truncated silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from ..errors import UsageError
from ..results import Entity
from ..runtimes.base import SpanModel, SpanOptions
from ..runtimes.registry import resolve_model as resolve
from ..runtimes.registry import runtime_for, span_kind
from ._encoders import check_text

if TYPE_CHECKING:
    from ..store import LocalModel

DEFAULT_MODEL = "spacy-en-sm"
MaxLength = Literal["chunk", "error"]

COMMON_LABELS = (
    "PERSON", "ORG", "LOC", "NORP", "DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL",
    "ORDINAL", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE", "MISC",
)
# Backend label (upper case) -> common label. Also the aliases a caller may type.
TO_COMMON: dict[str, str] = {
    **{label: label for label in COMMON_LABELS},
    "PER": "PERSON", "PERS": "PERSON", "PEOPLE": "PERSON",
    "ORGANIZATION": "ORG", "ORGANISATION": "ORG", "COMPANY": "ORG",
    "GPE": "LOC", "FAC": "LOC", "LOCATION": "LOC", "PLACE": "LOC",
    "NATIONALITY": "NORP",
    "PERCENTAGE": "PERCENT",
}
# How a zero-shot model is asked for a common label.
PROMPT_WORDS = {
    "PERSON": "person", "ORG": "organization", "LOC": "location", "NORP": "nationality or group",
    "DATE": "date", "TIME": "time", "MONEY": "money", "PERCENT": "percentage", "QUANTITY": "quantity",
    "CARDINAL": "number", "ORDINAL": "ordinal number", "EVENT": "event", "PRODUCT": "product",
    "WORK_OF_ART": "work of art", "LAW": "law", "LANGUAGE": "language", "MISC": "miscellaneous",
}
DEFAULT_ZERO_SHOT_LABELS = ("PERSON", "ORG", "LOC", "DATE")


def to_common(label: str) -> str:
    """The common-scheme label for a backend label (unchanged when it has none)."""
    bare = label.upper()
    if len(bare) > 2 and bare[1] == "-" and bare[0] in "BIESLU":  # B-PER, I-ORG ...
        bare = bare[2:]
    return TO_COMMON.get(bare, label)


@overload
def ner(text: str, *, model: str = ..., labels: Sequence[str] | str | None = ..., threshold: float = ...,
        aggregation: str = ..., max_length: MaxLength = ..., flat: bool = ..., multi_label: bool = ...,
        batch_size: int = ...) -> list[Entity]: ...
@overload
def ner(text: Sequence[str], *, model: str = ..., labels: Sequence[str] | str | None = ...,
        threshold: float = ..., aggregation: str = ..., max_length: MaxLength = ..., flat: bool = ...,
        multi_label: bool = ..., batch_size: int = ...) -> list[list[Entity]]: ...


def ner(text: str | Sequence[str], *, model: str = DEFAULT_MODEL, labels: Sequence[str] | str | None = None,
        threshold: float = 0.5, aggregation: str = "first", max_length: MaxLength = "chunk",
        flat: bool = True, multi_label: bool = False, batch_size: int = 8) -> list[Entity] | list[list[Entity]]:
    """Find named entities in one text (-> ``list[Entity]``) or several (-> one list per text).

    Args:
        model: a catalog alias, Hub id, local folder or ``pypi:`` package holding a spaCy pipeline,
            a GLiNER ONNX export or a token-classification model.
        labels: entity types (comma-separated string or list): a filter for fixed-label models,
            the types to look for for zero-shot models.
        threshold: minimum score (GLiNER, token classification).
        aggregation: sub-word aggregation for token classification (first, average, max, simple).
        max_length: ``"chunk"`` splits long texts into overlapping windows; ``"error"`` raises.
        flat: GLiNER: non-overlapping entities (True) or nested ones too (False).
        multi_label: GLiNER: one span may carry several types.

    Raises:
        UsageError: bad input, labels the model does not know, or a long text with ``max_length="error"``.
        NotInStoreError: the model is not available locally.
    """
    single = isinstance(text, str)
    texts = [check_text(text)] if single else _check_texts(text)
    if max_length not in ("chunk", "error"):
        raise UsageError(f"max_length must be 'chunk' or 'error', not {max_length!r}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise UsageError(f"threshold must be between 0 and 1, not {threshold}")
    label_list = _label_list(labels)
    if not texts:
        return []
    runtime = runtime_for(resolve_model(model), "spans")
    options = SpanOptions(threshold=float(threshold), flat=flat, multi_label=multi_label, aggregation=aggregation,
                          max_length=max_length, batch_size=batch_size)
    if runtime.fixed_labels is None:
        results = _zero_shot(runtime, texts, label_list, options)
    else:
        results = _fixed(runtime, runtime.fixed_labels, texts, label_list, options)
    return results[0] if single else results


def _zero_shot(runtime: SpanModel, texts: list[str], labels: list[str] | None,
               options: SpanOptions) -> list[list[Entity]]:
    """Common labels are prompted in words and reported as the common label; others verbatim."""
    wanted = labels or list(DEFAULT_ZERO_SHOT_LABELS)
    prompts: dict[str, str] = {}  # prompt text -> reported label
    for label in wanted:
        common = TO_COMMON.get(label) if label.isupper() else None
        prompts.setdefault(PROMPT_WORDS[common] if common else label, common or label)
    found = runtime.find_entities(texts, list(prompts), options)
    for ents in found:
        for e in ents:
            e.label = prompts.get(e.source_label or e.label, e.label)
    return found


def _fixed(runtime: SpanModel, source_labels: list[str], texts: list[str], labels: list[str] | None,
           options: SpanOptions) -> list[list[Entity]]:
    """The caller's labels filter the model's own; scores below the threshold are dropped."""
    keep = _fixed_label_filter(runtime.name, source_labels, labels)
    out = []
    for ents in runtime.find_entities(texts, None, options):
        row = []
        for e in ents:
            src = e.source_label or e.label
            if e.score < options.threshold or (keep is not None and src not in keep):
                continue
            e.source_label = src
            e.label = to_common(src)
            row.append(e)
        out.append(row)
    return out


# ------------------------------------------------------------------------------------------------ labels

def _label_list(labels: Sequence[str] | str | None) -> list[str] | None:
    if labels is None:
        return None
    items = labels.split(",") if isinstance(labels, str) else list(labels)
    if not all(isinstance(x, str) for x in items):
        raise UsageError("labels must be strings")
    for i, x in enumerate(items):
        check_text(x, f"labels[{i}]")
    out = list(dict.fromkeys(x.strip() for x in items if x.strip()))
    if not out:
        raise UsageError("labels is empty", hint="pass --labels PERSON,ORG or leave it out")
    return out


def _fixed_label_filter(model: str, source_labels: Sequence[str], wanted: list[str] | None) -> set[str] | None:
    """The backend labels to keep for the caller's ``wanted`` labels (None: keep all)."""
    if wanted is None:
        return None
    by_upper = {s.upper(): s for s in source_labels}
    keep: set[str] = set()
    unknown = []
    for label in wanted:
        up = label.upper()
        common = TO_COMMON.get(up)
        matches = [s for s in source_labels if common is not None and to_common(s) == common]
        if up in by_upper:
            matches.append(by_upper[up])
        if matches:
            keep.update(matches)
        else:
            unknown.append(label)
    if unknown:
        commons = sorted({to_common(s) for s in source_labels})
        raise UsageError(
            f"{model} has fixed labels and does not know {', '.join(map(repr, unknown))}; it predicts "
            f"{', '.join(source_labels)} (common scheme: {', '.join(commons)})",
            hint="pick labels from that list, or use a zero-shot GLiNER model for free-text labels",
        )
    return keep


# ------------------------------------------------------------------------------------------------ models

def backend_for(lm: LocalModel) -> str:
    """``spacy`` | ``gliner`` | ``token-classification`` for a resolved model (else UsageError)."""
    return span_kind(lm)


def resolve_model(ref: str) -> LocalModel:
    """The store's model for ``ref`` (through the tasks' shared, briefly memoized resolver)."""
    if not isinstance(ref, str) or not ref.strip():
        raise UsageError("model must be a non-empty string", hint="e.g. --model spacy-en-sm")
    return resolve(ref)


def _check_texts(texts: Any) -> list[str]:
    if isinstance(texts, (bytes, bytearray)):
        raise UsageError("text must be str, not bytes (decode it first)")
    try:
        items = list(texts)
    except TypeError:
        raise UsageError(f"text must be a string or a list of strings, not {type(texts).__name__}") from None
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise UsageError(f"text {i} is {type(t).__name__}, not str")
        check_text(t, f"text {i}")
    return items
