"""What a runtime can do: one small ``Protocol`` per capability.

A task asks :func:`localmodels.runtimes.registry.runtime_for` for the runtime of a model and a
capability once, then only calls the methods below; it never looks at files, runtimes' classes
or reference prefixes itself.

    ==========  =====================================================  ==========================
    capability  protocol and methods                                   implemented by
    ==========  =====================================================  ==========================
    encoder     Encoder: embed_batch, score_pairs, classify_batch,     OnnxRuntime (onnx/runtime),
                dims                                                    RemoteModel (remote)
    spans       SpanModel: find_entities (+ fixed_labels)              SpacyNER, GlinerModel,
                                                                       TokenClassifier
    llm         LLM: generate, chat, score_labels                      LlamaModel, RemoteModel
    ==========  =====================================================  ==========================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from ..results import Entity, Generation
    from ._stream import GenerationStream

Capability = Literal["encoder", "spans", "llm"]
CAPABILITIES: tuple[Capability, ...] = ("encoder", "spans", "llm")
Kind = Literal["query", "passage"]


@dataclass(frozen=True)
class Embeddings:
    """Vectors in input order and the tokens each input took (the usage a server reports)."""

    vectors: np.ndarray  # (n, dim) float32
    tokens: list[int]


@dataclass(frozen=True)
class PairScores:
    """One relevance score per (query, document) pair, in input order, and the tokens each pair took."""

    scores: np.ndarray  # (n,) float
    tokens: list[int]


@dataclass(frozen=True)
class SpanOptions:
    """Options every span model accepts; each uses those that apply to it."""

    threshold: float = 0.5  # scored models: drop entities below it
    flat: bool = True  # span models: non-overlapping entities only
    multi_label: bool = False  # span models: one span may carry several types
    aggregation: str = "first"  # token classification: sub-word aggregation
    max_length: str = "chunk"  # "chunk": overlapping windows over long texts; "error": refuse them
    batch_size: int = 8


@dataclass(frozen=True)
class LabelScores:
    """The label an LLM chose among ``labels`` and, where it can say, a probability per label."""

    label: str
    probs: dict[str, float] | None  # None: the runtime cannot score (a remote endpoint without logprobs)
    reasoning: str | None = None
    method: str = "llm"  # how the scores were made: llm (exact, local), llm-remote, llm-remote-nologprobs


@dataclass(frozen=True)
class TokenLogprob:
    """One token of a text with its log-probability and the most probable alternatives at its place.

    ``offset`` is the character offset of the token in the text it belongs to; ``logprob`` is None
    for the first token of a prompt (nothing precedes it)."""

    token: str
    logprob: float | None
    bytes: list[int]
    offset: int
    top: list[tuple[str, float, list[int]]]


@runtime_checkable
class Encoder(Protocol):
    """An encoder model: embeddings, pair relevance (cross-encoders), sequence-classification logits."""

    name: str

    @property
    def cross_encoder(self) -> bool:
        """True when :meth:`score_pairs` reads each pair jointly (a reranker), not via embeddings."""
        ...

    @property
    def config(self) -> dict[str, Any]:
        """The model's ``config.json`` (label maps for NLI); empty where there is none."""
        ...

    @property
    def fingerprint(self) -> str:
        """Identifies what the vectors depend on (weights, recipe, passage prefix): keys saved indexes."""
        ...

    def embed_batch(self, texts: Sequence[str], *, kind: Kind | None = None, normalize: bool | None = True,
                    pooling: str | None = None, batch_size: int = 32) -> Embeddings: ...

    def score_pairs(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 32) -> PairScores: ...

    def classify_batch(self, inputs: Sequence[str | tuple[str, str]], *, batch_size: int = 32) -> np.ndarray:
        """Raw logits, (len(inputs), num_labels)."""
        ...

    def dims(self) -> int: ...


@runtime_checkable
class SpanModel(Protocol):
    """Finds entities as character spans (``text[e.start:e.end] == e.text``), windowing long texts."""

    name: str

    @property
    def fixed_labels(self) -> list[str] | None:
        """The model's own labels (fixed-label models), or None for zero-shot models that take any."""
        ...

    def find_entities(self, texts: Sequence[str], labels: Sequence[str] | None,
                      options: SpanOptions) -> list[list[Entity]]:
        """Entities per text; ``source_label`` is the model's label (or the prompt, zero-shot)."""
        ...


@runtime_checkable
class LLM(Protocol):
    """A language model: completion or chat (optionally streamed and constrained), label scoring."""

    name: str

    def generate(self, *, prompt: str | None = None, messages: Sequence[dict[str, Any]] | None = None,
                 max_tokens: int = 128, temperature: float = 0.0, stop: str | Sequence[str] | None = None,
                 seed: int | None = None, json_schema: dict[str, Any] | str | None = None,
                 grammar: str | None = None, stream: bool = False, model_name: str | None = None,
                 top_p: float | None = None, top_k: int | None = None) -> Generation | GenerationStream:
        """``top_p`` / ``top_k`` None: the runtime's defaults (callers pass them only when asked)."""
        ...

    def chat(self, messages: Sequence[dict[str, Any]], **options: Any) -> Generation | GenerationStream: ...

    def score_labels(self, prompt: str, labels: Sequence[str], *, key: str = "category",
                     with_reasoning: bool = False, temperature: float = 0.0,
                     seed: int | None = None) -> LabelScores:
        """Which of ``labels`` answers ``prompt`` (the answer can be nothing else), with its confidence.

        ``key`` names the answer where it is a JSON field; ``with_reasoning`` adds a short reason.
        """
        ...

    def score_labels_batch(self, prompts: Sequence[str], labels: Sequence[str], *, temperature: float = 0.0,
                           seed: int | None = None) -> list[LabelScores]:
        """:meth:`score_labels` (no reasoning) for many prompts: what a runtime can batch, it batches."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def fit_text(self, text: str, *, prompt_without_text: str, answer_tokens: int) -> str:
        """``text`` cut so that the prompt around it and an answer of ``answer_tokens`` fit the context."""
        ...
