"""GLiNER-style zero-shot NER on ONNX Runtime (no torch, no ``gliner`` package at run time).

Works with the published GLiNER ONNX exports (``onnx-community/gliner_*``, ``urchade/gliner_*``
exported with ``GLiNER.export_to_onnx``, NuNER Zero): a folder with ``gliner_config.json``,
``tokenizer.json`` and ``onnx/model.onnx`` (or ``model.onnx``; ``*quantized*.onnx`` with
``quantize="int8"``).

The graph interface (``GLiNER.export_to_onnx``):

- span models (``span_mode`` != ``token_level``): inputs ``input_ids``, ``attention_mask``,
  ``words_mask``, ``text_lengths``, ``span_idx``, ``span_mask``; output ``logits``
  ``[batch, words, max_width, num_classes]``;
- token models (``span_mode == "token_level"``, e.g. NuNER Zero): no ``span_idx``/``span_mask``;
  output ``logits`` ``[batch, words, num_classes, 3]`` (start, end, inside).

Pre- and post-processing replicate ``gliner`` 0.2.x exactly:

1. words: GLiNER's regex splitter ``\\w+(?:[-_]\\w+)*|\\S`` (character offsets kept);
2. prompt: ``<<ENT>> type1 <<ENT>> type2 ... <<SEP>> word1 word2 ...`` tokenized as pre-split
   words; ``words_mask`` marks the first sub-token of each text word with its 1-based index;
3. spans: every ``(i, i + j)`` for ``j < max_width`` (``gliner_config.json``), masked past the end;
4. scores: ``sigmoid(logits)``; candidates above ``threshold``; greedy decoding by score:
   *flat* keeps non-overlapping spans, *nested* also keeps spans fully inside another;
   ``multi_label`` lets one span carry several types.

Long texts: never truncated. A text longer than ``max_len`` words or the tokenizer's limit (with the
prompt) is split into word windows that share ``2 * max_width + 8`` words; entities a window may have
cut are dropped and the rest merged (``runtimes/spans.py``). ``max_length="error"`` raises instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RuntimeFailure, UsageError
from ..results import Entity
from .base import SpanOptions
from .cache import loaded_models
from .gliner_decode import Span, decode_spans, decode_tokens, greedy_search, sigmoid

__all__ = ["GlinerModel", "Span", "decode_spans", "decode_tokens", "find_onnx", "greedy_search",
           "load_gliner", "sigmoid"]


def find_onnx(path: Path, *, quantize: str | None = None) -> Path:
    """The ONNX file of a GLiNER folder: ``onnx/model.onnx`` > ``model.onnx`` > any ``*.onnx``."""
    path = Path(path)
    files = sorted([*path.glob("*.onnx"), *path.glob("onnx/*.onnx")])
    if not files:
        raise UsageError(
            f"no ONNX file in the GLiNER folder {path}",
            hint="export it once with gliner: GLiNER.from_pretrained(...).export_to_onnx(folder), "
                 "or pull an onnx-community/gliner_* repo",
        )
    quantized = [f for f in files if "quant" in f.name or "int8" in f.name]
    plain = [f for f in files if f not in quantized]
    if quantize == "int8" and quantized:
        return quantized[0]
    for rel in ("onnx/model.onnx", "model.onnx"):
        if (path / rel).is_file():
            return path / rel
    return (plain or files)[0]


# --------------------------------------------------------------------------------------------------
# Pre-processing
# --------------------------------------------------------------------------------------------------

@dataclass
class Encoded:
    """One batch of model inputs (as gliner's collator builds them) and what decoding needs."""

    inputs: dict[str, np.ndarray]
    num_words: list[int]


@dataclass
class GlinerModel:
    """A loaded GLiNER ONNX model with its tokenizer and config."""

    path: Path
    name: str
    session: Any
    tokenizer: Any
    config: dict[str, Any]
    max_tokens: int
    pad_id: int
    input_names: list[str] = field(default_factory=list)

    @property
    def max_width(self) -> int:
        return int(self.config.get("max_width", 12))

    @property
    def max_words(self) -> int:
        return int(self.config.get("max_len", 384))

    @property
    def token_level(self) -> bool:
        return self.config.get("span_mode") == "token_level" or "span_idx" not in self.input_names

    @property
    def ent_token(self) -> str:
        return self.config.get("ent_token", "<<ENT>>")

    @property
    def sep_token(self) -> str:
        return self.config.get("sep_token", "<<SEP>>")

    @property
    def fixed_labels(self) -> None:
        return None  # zero-shot: any entity type

    def close(self) -> None:
        self.session = None

    def find_entities(self, texts: Sequence[str], labels: Sequence[str] | None,
                      options: SpanOptions) -> list[list[Entity]]:
        """:class:`~localmodels.runtimes.base.SpanModel`: entities labelled with the given prompts."""
        return self.predict(texts, list(labels or []), threshold=options.threshold, flat=options.flat,
                            multi_label=options.multi_label, max_length=options.max_length,
                            batch_size=options.batch_size)

    def prompt(self, labels: Sequence[str]) -> list[str]:
        words: list[str] = []
        for label in labels:
            words += [self.ent_token, str(label)]
        return words + [self.sep_token]

    def encode(self, windows: Sequence[Sequence[str]], labels: Sequence[str]) -> Encoded:
        """Inputs for a batch of word lists, exactly as gliner's UniEncoderSpan collator makes them."""
        prompt = self.prompt(labels)
        n_prompt = len(prompt)
        encs = self.tokenizer.encode_batch([prompt + list(w) for w in windows], is_pretokenized=True)
        seq = max(len(e.ids) for e in encs)
        b = len(windows)
        input_ids = np.full((b, seq), self.pad_id, dtype=np.int64)
        attention = np.zeros((b, seq), dtype=np.int64)
        words_mask = np.zeros((b, seq), dtype=np.int64)
        for i, e in enumerate(encs):
            n = len(e.ids)
            input_ids[i, :n] = e.ids
            attention[i, :n] = e.attention_mask
            words_mask[i, :n] = _words_mask(e.word_ids, n_prompt)
        num_words = [len(w) for w in windows]
        inputs: dict[str, np.ndarray] = {
            "input_ids": input_ids,
            "attention_mask": attention,
            "words_mask": words_mask,
            "text_lengths": np.asarray(num_words, dtype=np.int64).reshape(b, 1),
        }
        if not self.token_level:
            k = self.max_width
            n_spans = max(num_words) * k
            span_idx = np.zeros((b, n_spans, 2), dtype=np.int64)
            span_mask = np.zeros((b, n_spans), dtype=bool)
            for i, n in enumerate(num_words):
                starts = np.repeat(np.arange(n), k)
                ends = starts + np.tile(np.arange(k), n)
                span_idx[i, : n * k, 0] = starts
                span_idx[i, : n * k, 1] = ends
                span_mask[i, : n * k] = ends <= n - 1
            inputs["span_idx"] = span_idx
            inputs["span_mask"] = span_mask
        return Encoded(inputs, num_words)

    def run(self, encoded: Encoded) -> np.ndarray:
        """The model's logits for one encoded batch (span: [B,L,K,C]; token: [B,L,C,3])."""
        feeds = {}
        for meta in self.session.get_inputs():
            value = encoded.inputs.get(meta.name)
            if value is None:
                raise RuntimeFailure(f"the GLiNER ONNX graph {self.name} wants an input {meta.name!r} "
                                     "this runtime does not make (bi-encoder or relation models are not supported)")
            feeds[meta.name] = value.astype(_np_type(meta.type), copy=False)
        try:
            logits = self.session.run(None, feeds)[0]
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own types
            raise RuntimeFailure(f"ONNX Runtime failed on {self.name}: {e}") from e
        return logits

    def decode(self, logits: np.ndarray, num_words: Sequence[int], labels: Sequence[str], *,
               threshold: float, flat: bool, multi_label: bool) -> list[list[Span]]:
        if self.token_level:
            b, n, c = len(num_words), max(num_words), len(labels)
            if logits.shape != (b, n, c, 3) and logits.shape == (3, b, n, c):
                logits = np.transpose(logits, (1, 2, 3, 0))  # exports that put (start, end, inside) first
        fn = decode_tokens if self.token_level else decode_spans
        return fn(logits, num_words, labels, threshold=threshold, flat=flat, multi_label=multi_label)

    # ------------------------------------------------------------------ whole texts, with windows

    def predict(self, texts: Sequence[str], labels: Sequence[str], *, threshold: float = 0.5,
                flat: bool = True, multi_label: bool = False, max_length: str = "chunk",
                batch_size: int = 8) -> list[list[Entity]]:
        """Entities per text (label = the prompt label); long texts are windowed, never truncated."""
        from . import spans as _spans

        labels = list(dict.fromkeys(labels))
        if not labels:
            raise UsageError("a GLiNER model needs at least one entity type", hint="pass --labels person,organization")
        prompt_tokens = len(self.tokenizer.encode(self.prompt(labels), is_pretokenized=True).ids)
        budget = self.max_tokens - prompt_tokens
        if budget < 8:
            raise UsageError(
                f"the {len(labels)} entity types take {prompt_tokens} of the model's {self.max_tokens} tokens",
                hint="pass fewer or shorter labels",
            )
        overlap = 2 * self.max_width + 8
        jobs: list[tuple[int, _spans.Window, list[tuple[int, int]], list[str]]] = []
        for i, text in enumerate(texts):
            words = _spans.split_words(text)
            if not words:
                continue
            costs = self._token_counts(text, words)
            too_long = len(words) > self.max_words or sum(costs) > budget
            if too_long and max_length == "error":
                raise UsageError(
                    f"text {i} has {len(words)} words / {sum(costs)} tokens; {self.name} takes at most "
                    f"{self.max_words} words and {budget} tokens (with these {len(labels)} labels)",
                    hint="pass max_length='chunk' (--max-length chunk) to split it into overlapping windows",
                )
            big = _spans.oversized_units(costs, budget)
            if big:
                s, e = words[big[0]]
                raise UsageError(
                    f"text {i} has a single word of {costs[big[0]]} tokens at characters {s}-{e}, "
                    f"longer than the {budget} tokens {self.name} can read at once",
                    hint="insert spaces into very long unbroken strings before running NER",
                )
            plan = _spans.plan_windows(costs, budget=budget, overlap=overlap, max_units=self.max_words)
            for w in _spans.windows_over(words, plan):
                units = words[w.first : w.last]
                jobs.append((i, w, units, [text[a:b] for a, b in units]))

        found: list[list[tuple[_spans.Window, list[Entity]]]] = [[] for _ in texts]
        order = sorted(range(len(jobs)), key=lambda j: len(jobs[j][3]))
        for b0 in range(0, len(order), batch_size):
            batch = [jobs[j] for j in order[b0 : b0 + batch_size]]
            enc = self.encode([job[3] for job in batch], labels)
            logits = self.run(enc)
            decoded = self.decode(logits, enc.num_words, labels, threshold=threshold, flat=flat,
                                  multi_label=multi_label)
            for (i, window, units, _), spans in zip(batch, decoded):
                text = texts[i]
                ents = []
                for s, e, label, score in spans:
                    if e >= len(units):  # token models may score padding positions
                        continue
                    start, end = units[s][0], units[e][1]
                    ents.append(Entity(text=text[start:end], label=label, start=start, end=end,
                                       score=score, model=self.name, source_label=label))
                found[i].append((window, ents))
        out = []
        for text, results in zip(texts, found):
            if len(results) == 1:
                out.append(results[0][1])  # gliner's order: by start, then by score
            else:
                out.append(_spans.merge_windows(text, results, flat=flat))
        return out

    def _token_counts(self, text: str, words: list[tuple[int, int]]) -> list[int]:
        enc = self.tokenizer.encode([text[a:b] for a, b in words], is_pretokenized=True, add_special_tokens=False)
        counts = [0] * len(words)
        for wid in enc.word_ids:
            if wid is not None:
                counts[wid] += 1
        return counts


def _words_mask(word_ids: Sequence[int | None], skip: int) -> list[int]:
    """gliner's prepare_word_mask: 1-based index of each text word on its first sub-token, else 0."""
    mask, prev, seen = [], None, 0
    for wid in word_ids:
        if wid is None:
            mask.append(0)
        elif wid != prev:
            seen += 1
            mask.append(0 if seen <= skip else seen - skip)
        else:
            mask.append(0)
        prev = wid
    return mask


_ORT_TYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_,
              "tensor(float)": np.float32}


def _np_type(ort_type: str):
    return _ORT_TYPES.get(ort_type, np.int64)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------

def load_gliner(path: Path, *, name: str | None = None, quantize: str | None = None) -> GlinerModel:
    """The GLiNER model in ``path`` (loaded once per process, through :func:`loaded_models`)."""
    path = Path(path)
    onnx_path = find_onnx(path, quantize=quantize)
    key = f"gliner:{onnx_path.resolve()}"
    size = onnx_path.stat().st_size + sum(f.stat().st_size for f in onnx_path.parent.glob(onnx_path.name + "*data"))
    return loaded_models().get(key, lambda: _load(path, onnx_path, name or path.name),
                               estimate_bytes=int(size * 1.5) + 100_000_000)


def _load(path: Path, onnx_path: Path, name: str) -> GlinerModel:
    import onnxruntime as ort

    from .onnx.encoder import session_options
    from .onnx.tokenizer import load_tokenizer

    try:
        config = json.loads((path / "gliner_config.json").read_text(encoding="utf-8"))
    except ValueError as e:
        raise UsageError(f"{path / 'gliner_config.json'} is not valid JSON: {e}") from e
    if config.get("labels_encoder") or config.get("labels_decoder") or config.get("relations_layer"):
        raise UsageError(
            f"{name} is a bi-encoder / decoder / relation GLiNER; only uni-encoder span and token models run here",
        )
    enc_cfg = config.get("encoder_config") or {}
    tokenizer, info = load_tokenizer(path, enc_cfg if isinstance(enc_cfg, dict) else {})
    for special in (config.get("ent_token", "<<ENT>>"), config.get("sep_token", "<<SEP>>")):
        if tokenizer.token_to_id(special) is None:
            raise UsageError(f"the tokenizer of {name} lacks the GLiNER token {special!r}",
                             hint="use the tokenizer.json saved with the GLiNER model, not the base encoder's")
    try:
        session = ort.InferenceSession(str(onnx_path), sess_options=session_options(),
                                       providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001
        raise RuntimeFailure(f"cannot load {onnx_path}: {e}", hint="re-pull or re-export the model") from e
    return GlinerModel(path=path, name=name, session=session, tokenizer=tokenizer, config=config,
                       max_tokens=info.max_length, pad_id=info.pad_id,
                       input_names=[i.name for i in session.get_inputs()])
