"""Token classification (BERT-style NER) on ONNX Runtime: BIO/IOB2 decoding with transformers' semantics.

Aggregation strategies follow ``transformers.pipeline("token-classification", aggregation_strategy=...)``:

- ``none``: one entity per token (label without its B-/I- prefix; ``source_label`` keeps the tag);
- ``simple``: adjacent tokens with the same tag are grouped (a ``B-`` starts a new group);
- ``first`` / ``average`` / ``max``: tokens of one word are first forced to agree (the first token's
  label, the averaged scores, or the most confident token), then words are grouped as ``simple``.

Words are found from the tokenizer's word ids (a token continues a word when it has the same word id
as the previous one), so offsets and grouping do not depend on a "##" heuristic. Every entity's
``start``/``end`` are character offsets into the input (``text[start:end] == entity.text``). Texts
longer than the window are split into overlapping token windows (``stride`` tokens shared) and the
entities of all windows merged with :func:`localmodels.runtimes.spans.merge_entities`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...errors import UsageError
from ...results import Entity
from .encoder import load_encoder
from .model_files import Quantize

if TYPE_CHECKING:
    from ...store import LocalModel
    from ..base import SpanOptions

Aggregation = Literal["none", "simple", "first", "average", "max"]
AGGREGATIONS = ("none", "simple", "first", "average", "max")


def label_map(config: dict[str, Any], num_labels: int | None = None, *, source: str = "config.json") -> list[str]:
    """``id2label`` as a list indexed by class id; a clear error when it is missing or does not fit."""
    raw = config.get("id2label")
    if not isinstance(raw, dict) or not raw:
        raise UsageError(
            f"the model has no label map (id2label) in its {source}",
            hint="use a token-classification model whose config.json names its labels",
        )
    try:
        ids = {int(k): str(v) for k, v in raw.items()}
    except (TypeError, ValueError) as e:
        raise UsageError(f"id2label in {source} has non-integer ids: {list(raw)[:5]}") from e
    n = num_labels if num_labels is not None else max(ids) + 1
    if sorted(ids) != list(range(n)):
        raise UsageError(
            f"id2label in {source} has ids {sorted(ids)[:10]} but the model outputs {n} classes",
            hint="fix the model's config.json so id2label covers every output class",
        )
    return [ids[i] for i in range(n)]


def split_tag(label: str) -> tuple[str, str]:
    """("B"|"I", entity type) for IOB2 tags; labels without a prefix continue (like transformers)."""
    if label.startswith(("B-", "B_")):
        return "B", label[2:]
    if label.startswith(("I-", "I_")):
        return "I", label[2:]
    return "I", label


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64) if x.dtype != np.float32 else x
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def classify_tokens(model: LocalModel, texts: Sequence[str], *, aggregation: Aggregation = "first",
                    window: int | None = None, stride: int | None = None, batch_size: int = 16,
                    quantize: Quantize = None, ignore_labels: Sequence[str] = ("O",)) -> list[list[Entity]]:
    """Entities per text. ``window`` (tokens, default the model's maximum length) and ``stride``
    (tokens shared by consecutive windows, default a quarter of the window) control long texts."""
    if aggregation not in AGGREGATIONS:
        raise UsageError(f"unknown aggregation {aggregation!r}", hint=f"use one of: {', '.join(AGGREGATIONS)}")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise UsageError(f"texts[{i}] is {type(t).__name__}, not str")
    enc = load_encoder(model, head="token-classification", quantize=quantize)
    labels = label_map(enc.config)
    win = min(window or enc.max_length, enc.max_length)
    specials = 3 if win > 8 else 2
    if win <= specials + 1:
        raise UsageError(f"window must be more than {specials + 1} tokens, got {window}")
    st = stride if stride is not None else win // 4
    st = max(0, min(st, win - specials - 1))
    tok = enc.windowed_tokenizer(win, st)

    windows: list[Any] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        e = tok.encode(text)
        for w in [e, *e.overflowing]:
            windows.append(w)
            owner.append(i)
    outputs = enc.run_all(windows, batch_size=batch_size) if windows else []
    if outputs and outputs[0].shape[-1] != len(labels):
        label_map(enc.config, outputs[0].shape[-1])  # raises with the mismatch
    per_text: list[list[Entity]] = [[] for _ in texts]
    counts = [0] * len(texts)
    for w, logits, i in zip(windows, outputs, owner):
        per_text[i].extend(decode_window(texts[i], w, _softmax(logits), labels, aggregation, enc.name,
                                         ignore_labels))
        counts[i] += 1
    if any(c > 1 for c in counts):
        from ..spans import merge_entities

        per_text = [merge_entities(ents) if c > 1 else ents for ents, c in zip(per_text, counts)]
    return per_text


def decode_window(text: str, encoding: Any, scores: np.ndarray, labels: list[str], aggregation: str,
                  model_name: str = "", ignore_labels: Sequence[str] = ("O",)) -> list[Entity]:
    """Entities from one window's per-token class probabilities."""
    pre = []
    prev_word = None
    for idx, (special, (start, end), word) in enumerate(
        zip(encoding.special_tokens_mask, encoding.offsets, encoding.word_ids)
    ):
        if special:
            prev_word = None
            continue
        is_sub = word is not None and word == prev_word and bool(pre)
        pre.append((start, end, scores[idx], is_sub))
        prev_word = word

    tokens: list[tuple[str, float, int, int]] = []  # (label, score, start, end)
    if aggregation in ("none", "simple"):
        for start, end, s, _ in pre:
            k = int(s.argmax())
            tokens.append((labels[k], float(s[k]), start, end))
    else:
        groups: list[list[tuple[int, int, np.ndarray, bool]]] = []
        for p in pre:
            if groups and p[3]:
                groups[-1].append(p)
            else:
                groups.append([p])
        for g in groups:
            if aggregation == "first":
                s = g[0][2]
            elif aggregation == "max":
                s = max(g, key=lambda p: p[2].max())[2]
            else:
                s = np.nanmean(np.stack([p[2] for p in g]), axis=0)
            k = int(s.argmax())
            tokens.append((labels[k], float(s[k]), g[0][0], g[-1][1]))

    ignore = set(ignore_labels)
    if aggregation == "none":
        out = []
        for label, score, start, end in tokens:
            if label in ignore:
                continue
            out.append(Entity(text[start:end], split_tag(label)[1], start, end, score, model_name, label))
        return out

    grouped: list[list[tuple[str, float, int, int]]] = []
    for t in tokens:
        bi, tag = split_tag(t[0])
        if grouped and bi != "B" and split_tag(grouped[-1][-1][0])[1] == tag:
            grouped[-1].append(t)
        else:
            grouped.append([t])
    out = []
    for g in grouped:
        tag = g[0][0].split("-", 1)[-1]
        if tag in ignore or g[0][0] in ignore:
            continue
        start, end = g[0][2], g[-1][3]
        score = float(np.nanmean([t[1] for t in g]))
        out.append(Entity(text[start:end], tag, start, end, score, model_name, None))
    return out


def strip_bio(label: str) -> str:
    """``B-PER`` -> ``PER`` (also I-, E-, S-, L-, U- prefixes); other labels unchanged."""
    return label[2:] if len(label) > 2 and label[1] == "-" and label[0] in "BIESLU" else label


class TokenClassifier:
    """A BERT-style token-classification model as a :class:`~localmodels.runtimes.base.SpanModel`."""

    def __init__(self, model: LocalModel, *, name: str | None = None) -> None:
        from .encoder import load_config

        self.model = model
        self.name = name or model.name
        self.config = load_config(model.path)

    @property
    def fixed_labels(self) -> list[str]:
        """The entity types in ``id2label`` without their B-/I- prefixes (``O`` left out)."""
        id2label = self.config.get("id2label") or {}
        return sorted({strip_bio(str(v)) for v in id2label.values()} - {"O"})

    def find_entities(self, texts: Sequence[str], labels: Sequence[str] | None,
                      options: SpanOptions) -> list[list[Entity]]:
        """Entities per text (``source_label`` the bare type); long texts run in overlapping windows."""
        if options.max_length == "error":
            self._check_lengths(texts)
        found = classify_tokens(self.model, texts, aggregation=options.aggregation,  # type: ignore[arg-type]
                                batch_size=options.batch_size)
        for ents in found:
            for e in ents:
                e.source_label = strip_bio(e.source_label or e.label)
                e.model = e.model or self.name
        return found

    def _check_lengths(self, texts: Sequence[str]) -> None:
        from .tokenizer import load_tokenizer

        tokenizer, info = load_tokenizer(self.model.path, self.config)
        for i, enc in enumerate(tokenizer.encode_batch(list(texts))):
            if len(enc.ids) > info.max_length:
                raise UsageError(
                    f"text {i} has {len(enc.ids)} tokens, more than the model's {info.max_length}",
                    hint="pass max_length='chunk' (--max-length chunk) to split it into overlapping windows",
                )
