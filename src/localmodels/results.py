"""Result types shared by the tasks, the CLI and the server. Plain dataclasses; ``to_dict`` for JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class _Dict:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass
class Entity(_Dict):
    """A named entity: ``text == original_text[start:end]`` always holds."""

    text: str
    label: str
    start: int
    end: int
    score: float
    model: str = ""
    source_label: str | None = None  # the backend's own label when ``label`` was mapped


@dataclass
class Classification(_Dict):
    """The winning label, its confidence, and the score of every label (sums to 1 unless multi-label)."""

    label: str
    score: float | None  # None: the model gave no confidence (a remote endpoint without logprobs)
    scores: dict[str, float]  # empty when score is None
    model: str = ""
    method: str = ""
    labels: list[str] = field(default_factory=list)  # multi-label: every label over the threshold
    reasoning: str | None = None


@dataclass
class SearchHit(_Dict):
    index: int
    score: float
    text: str


@dataclass
class RerankResult(_Dict):
    index: int
    score: float
    text: str


@dataclass
class Generation(_Dict):
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    seconds: float = 0.0
