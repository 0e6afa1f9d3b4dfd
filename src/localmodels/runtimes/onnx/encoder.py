"""An encoder model on ONNX Runtime: session, tokenizer, length-sorted batching.

:func:`load_encoder` returns an :class:`OnnxEncoder` through the process-wide loaded-model cache;
:meth:`OnnxEncoder.tokenize` truncates at the model's maximum length (counted and warned about,
never an error) and :meth:`OnnxEncoder.batches` runs inputs sorted by token length, padded per
batch, yielding the original positions so callers restore the input order.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...config import num_threads
from ...errors import RuntimeFailure, UsageError
from .export import OUTPUT_NAME, Head
from .model_files import OnnxFile, Quantize, onnx_file
from .tokenizer import load_tokenizer, read_json

if TYPE_CHECKING:
    from ...store import LocalModel

log = logging.getLogger("localmodels.onnx")


class TruncationWarning(UserWarning):
    """Some inputs were longer than the model's maximum length and were cut."""


@dataclass
class Batch:
    positions: np.ndarray  # indices into the caller's input list
    output: np.ndarray  # the model output for these rows
    attention_mask: np.ndarray  # (rows, seq) int64
    encodings: list[Any] = field(default_factory=list)


def session_options():
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    threads = num_threads()
    if threads:
        so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return so


class OnnxEncoder:
    """A loaded encoder. Thread-safe for inference (ORT sessions are; the tokenizer is not mutated)."""

    def __init__(self, model: LocalModel, file: OnnxFile, head: Head, config: dict[str, Any]) -> None:
        import onnxruntime as ort

        self.name = model.name
        self.folder = Path(model.path)
        self.file = file
        self.head = head
        self.config = config
        self.tokenizer, self.tok = load_tokenizer(self.folder, config)
        self.max_length = self.tok.max_length
        try:
            self.session = ort.InferenceSession(
                str(file.path), sess_options=session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # noqa: BLE001 - ORT raises its own untyped errors
            raise RuntimeFailure(f"onnxruntime cannot load {file.path}: {e}",
                                 hint="remove the derived artifact (localmodels prune) or re-pull the model") from e
        self.input_names = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        self.output_name = _pick_output(outputs, head, file.path)
        self.truncated = 0  # inputs cut at max_length by the last tokenize() call
        self._trunc = self._truncating(self.max_length)
        self._lock = threading.Lock()
        self._windowed: dict[tuple[int, int], Any] = {}

    # -- identity ---------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """Identifies the weights, the recipe and the tokenizer limit (keys persistent indexes)."""
        return hashlib.sha256(f"{self.file.key}|{self.head}|{self.max_length}".encode()).hexdigest()[:32]

    @property
    def quantized(self) -> bool:
        return self.file.quantized

    def close(self) -> None:
        self.session = None  # type: ignore[assignment]

    # -- tokenization -----------------------------------------------------------------------
    def _truncating(self, max_length: int, stride: int = 0):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(self.tokenizer.to_str())
        tok.no_padding()
        tok.enable_truncation(max_length, stride=stride, strategy="longest_first")
        return tok

    def windowed_tokenizer(self, window: int, stride: int):
        """A tokenizer that splits long inputs into overlapping windows (``encoding.overflowing``)."""
        key = (window, stride)
        with self._lock:
            if key not in self._windowed:
                self._windowed[key] = self._truncating(window, stride)
            return self._windowed[key]

    def tokenize(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> list[Any]:
        """Encodings (no padding) truncated at the model's maximum length; warns with the count cut."""
        if pairs is not None:
            if len(pairs) != len(texts):
                raise UsageError(f"{len(texts)} first texts but {len(pairs)} second texts")
            encs = self._trunc.encode_batch(list(zip(texts, pairs)), add_special_tokens=True)
        else:
            encs = self._trunc.encode_batch(list(texts), add_special_tokens=True)
        cut = sum(1 for e in encs if e.overflowing)
        self.truncated = cut
        if cut:
            msg = f"{cut} of {len(encs)} input(s) exceeded {self.max_length} tokens and were truncated"
            log.warning(msg)
            warnings.warn(msg, TruncationWarning, stacklevel=3)
        return encs

    # -- inference --------------------------------------------------------------------------
    def batches(self, encodings: Sequence[Any], *, batch_size: int = 32) -> Iterator[Batch]:
        """Run encodings sorted by length (longest first), padded per batch."""
        if batch_size < 1:
            raise UsageError(f"batch_size must be >= 1, got {batch_size}")
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            rows = [encodings[i] for i in idx]
            yield Batch(idx, *self._run(rows), encodings=rows)

    def _run(self, rows: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(e.ids) for e in rows)
        n = len(rows)
        ids = np.full((n, width), self.tok.pad_id, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        types = np.zeros((n, width), dtype=np.int64)
        for r, e in enumerate(rows):
            k = len(e.ids)
            ids[r, :k] = e.ids
            mask[r, :k] = 1
            types[r, :k] = e.type_ids
        available = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        feeds = {}
        for name in self.input_names:
            if name not in available:
                raise RuntimeFailure(f"{self.file.path} needs an input {name!r} that localmodels cannot provide")
            feeds[name] = available[name]
        session = self.session
        if session is None:
            raise RuntimeFailure(f"{self.name} was unloaded", hint="call the task again to reload it")
        try:
            (out,) = session.run([self.output_name], feeds)
        except Exception as e:  # noqa: BLE001
            raise RuntimeFailure(f"onnxruntime failed on {self.name}: {e}") from e
        return out, mask

    def run_all(self, encodings: Sequence[Any], *, batch_size: int = 32) -> list[np.ndarray]:
        """Per input, its output rows trimmed to its own length (token outputs) or its logits row."""
        results: list[np.ndarray] = [None] * len(encodings)  # type: ignore[list-item]
        for b in self.batches(encodings, batch_size=batch_size):
            for r, pos in enumerate(b.positions):
                row = b.output[r]
                if row.ndim == 2:  # (seq, dim): drop the padding
                    row = row[: len(b.encodings[r].ids)]
                results[pos] = row
        return results


def _pick_output(outputs: list[str], head: Head, path: Path) -> str:
    wanted = OUTPUT_NAME[head]
    if wanted in outputs:
        return wanted
    if head == "base":
        for alt in ("token_embeddings", "last_hidden_state", "hidden_states"):
            if alt in outputs:
                return alt
    raise UsageError(
        f"{path} has outputs {outputs}, not {wanted!r} needed for {head}",
        hint="use a model made for this task (e.g. a cross-encoder for rerank, an NLI model for zero-shot nli)",
    )


def load_config(folder: Path) -> dict[str, Any]:
    return read_json(Path(folder) / "config.json")


def load_encoder(model: LocalModel, *, head: Head = "base", quantize: Quantize = None,
                 variant: bool | None = None) -> OnnxEncoder:
    """The loaded encoder for ``model`` (from the loaded-model cache; exported/quantized once if needed)."""
    from ..cache import loaded_models

    config = load_config(model.path)
    if not config and not (model.path / "tokenizer.json").is_file() and not (model.path / "vocab.txt").is_file():
        raise UsageError(f"{model.path} does not look like an encoder model (no config.json, no tokenizer)")
    file = onnx_file(model, head=head, config=config, quantize=quantize, variant=variant)
    size = file.path.stat().st_size
    estimate = int(size * 1.6) + 64 * 1024 * 1024
    key = f"onnx:{file.path}:{head}:{num_threads() or 0}"
    return loaded_models().get(key, lambda: OnnxEncoder(model, file, head, config), estimate_bytes=estimate)
