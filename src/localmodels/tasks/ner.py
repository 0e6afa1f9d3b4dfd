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

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

from ..errors import UsageError
from ..results import Entity

if TYPE_CHECKING:
    from ..store._model import LocalModel

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
    texts = [text] if single else _check_texts(text)
    if max_length not in ("chunk", "error"):
        raise UsageError(f"max_length must be 'chunk' or 'error', not {max_length!r}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise UsageError(f"threshold must be between 0 and 1, not {threshold}")
    label_list = _label_list(labels)
    if not texts:
        return []
    lm = resolve_model(model)
    backend = backend_for(lm)
    if backend == "spacy":
        results = _run_spacy(lm, texts, label_list, max_length=max_length, batch_size=max(batch_size, 32))
    elif backend == "gliner":
        results = _run_gliner(lm, texts, label_list, threshold=threshold, flat=flat, multi_label=multi_label,
                              max_length=max_length, batch_size=batch_size)
    else:
        results = _run_token_classification(lm, texts, label_list, threshold=threshold, aggregation=aggregation,
                                            max_length=max_length, batch_size=batch_size)
    return results[0] if single else results


# ------------------------------------------------------------------------------------------------ backends

def _run_spacy(lm: LocalModel, texts: list[str], labels: list[str] | None, *, max_length: str,
               batch_size: int) -> list[list[Entity]]:
    from ..runtimes.spacy_runtime import check_lengths, load_spacy

    if max_length == "error":
        check_lengths(texts)
    nlp = load_spacy(lm.path, name=_model_name(lm))
    keep = _fixed_label_filter(_model_name(lm), nlp.labels, labels)
    found = nlp.predict(texts, max_length=max_length, batch_size=batch_size)
    return [[_to_common(e) for e in ents if keep is None or e.source_label in keep] for ents in found]


def _run_gliner(lm: LocalModel, texts: list[str], labels: list[str] | None, *, threshold: float, flat: bool,
                multi_label: bool, max_length: str, batch_size: int) -> list[list[Entity]]:
    from ..runtimes.gliner import load_gliner

    gl = load_gliner(lm.path, name=_model_name(lm))
    wanted = labels or list(DEFAULT_ZERO_SHOT_LABELS)
    prompts: dict[str, str] = {}  # prompt text -> reported label
    for label in wanted:
        common = TO_COMMON.get(label) if label.isupper() else None
        prompts.setdefault(PROMPT_WORDS[common] if common else label, common or label)
    found = gl.predict(texts, list(prompts), threshold=threshold, flat=flat, multi_label=multi_label,
                       max_length=max_length, batch_size=batch_size)
    for ents in found:
        for e in ents:
            e.label = prompts.get(e.source_label or e.label, e.label)
    return found


def _run_token_classification(lm: LocalModel, texts: list[str], labels: list[str] | None, *, threshold: float,
                              aggregation: str, max_length: str, batch_size: int) -> list[list[Entity]]:
    try:
        from ..runtimes.onnx.token_classification import classify_tokens
    except ImportError as e:
        from ..errors import RuntimeFailure

        raise RuntimeFailure(f"token-classification NER is not available in this build: {e}") from e
    config = _read_config(lm.path)
    id2label = config.get("id2label") or {}
    source_labels = sorted({_strip_bio(str(v)) for v in id2label.values()} - {"O"})
    keep = _fixed_label_filter(_model_name(lm), source_labels, labels)
    if max_length == "error":
        _check_token_length(lm.path, config, texts)
    params = inspect.signature(classify_tokens).parameters
    kwargs: dict[str, Any] = {"aggregation": aggregation}
    for name, value in (("batch_size", batch_size), ("max_length", max_length)):
        if name in params:
            kwargs[name] = value
    found = classify_tokens(lm, texts, **kwargs)
    out = []
    for ents in found:
        row = []
        for e in ents:
            src = _strip_bio(e.source_label or e.label)
            if e.score < threshold or (keep is not None and src not in keep):
                continue
            e.source_label = src
            e.label = to_common(src)
            e.model = e.model or _model_name(lm)
            row.append(e)
        out.append(row)
    return out


def _check_token_length(path: Path, config: dict[str, Any], texts: list[str]) -> None:
    from ..runtimes.onnx.tokenizer import load_tokenizer

    tokenizer, info = load_tokenizer(path, config)
    for i, enc in enumerate(tokenizer.encode_batch(texts)):
        if len(enc.ids) > info.max_length:
            raise UsageError(
                f"text {i} has {len(enc.ids)} tokens, more than the model's {info.max_length}",
                hint="pass max_length='chunk' (--max-length chunk) to split it into overlapping windows",
            )


# ------------------------------------------------------------------------------------------------ labels

def _label_list(labels: Sequence[str] | str | None) -> list[str] | None:
    if labels is None:
        return None
    items = labels.split(",") if isinstance(labels, str) else list(labels)
    if not all(isinstance(x, str) for x in items):
        raise UsageError("labels must be strings")
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


def _to_common(e: Entity) -> Entity:
    e.label = to_common(e.source_label or e.label)
    return e


def _strip_bio(label: str) -> str:
    return label[2:] if len(label) > 2 and label[1] == "-" and label[0] in "BIESLU" else label


# ------------------------------------------------------------------------------------------------ models

def backend_for(lm: LocalModel) -> str:
    """``spacy`` | ``gliner`` | ``token-classification`` for a resolved model (else UsageError)."""
    from ..runtimes.gliner import is_gliner_folder
    from ..runtimes.spacy_runtime import is_spacy_pipeline

    runtime = getattr(lm.entry, "runtime", None)
    if runtime == "spacy" or is_spacy_pipeline(lm.path):
        return "spacy"
    if is_gliner_folder(lm.path):
        return "gliner"
    config = _read_config(lm.path)
    archs = config.get("architectures") or []
    if config.get("id2label") and (any(str(a).endswith("ForTokenClassification") for a in archs) or not archs):
        return "token-classification"
    raise UsageError(
        f"{_model_name(lm)} is not an NER model (no spaCy pipeline, gliner_config.json, or "
        "*ForTokenClassification config.json with id2label)",
        hint="pick an NER model: localmodels catalog, e.g. --model spacy-en-sm",
    )


def resolve_model(ref: str) -> LocalModel:
    """The store's model for ``ref`` (through the tasks' shared, briefly memoized resolver)."""
    if not isinstance(ref, str) or not ref.strip():
        raise UsageError("model must be a non-empty string", hint="e.g. --model spacy-en-sm")
    from ._encoders import resolve_model as resolve

    return resolve(ref)


def _model_name(lm: LocalModel) -> str:
    aliases = getattr(lm.entry, "aliases", None) or []
    if lm.ref in aliases:
        return lm.ref
    return lm.name or lm.ref


def _read_config(path: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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
    return items
