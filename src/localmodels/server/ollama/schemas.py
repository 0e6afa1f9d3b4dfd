"""Request bodies of Ollama's API (https://github.com/ollama/ollama/blob/main/docs/api.md).

Unknown fields are ignored, as Ollama does; wrong types answer 400 (see ``errors.py``).
Durations follow Ollama: ``keep_alive`` is seconds (a number) or a Go duration string ("5m", "1h30m").
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_NAME = Field(min_length=1, max_length=1024, description="A model reference or alias: minilm, org/name ...")


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Options(_Body):
    """The ``options`` Ollama passes to the runner; the ones we honour are listed, the rest ignored."""

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    num_predict: int | None = Field(default=None, ge=-2)
    stop: list[str] | str | None = None
    seed: int | None = None
    num_ctx: int | None = Field(default=None, ge=16, le=1_048_576)
    num_thread: int | None = Field(default=None, ge=1, le=1024)


class _ModelRequest(_Body):
    model: str = _NAME
    keep_alive: float | str | None = None


class _GenerateBase(_ModelRequest):
    stream: bool = True
    format: Literal["json", ""] | dict[str, Any] | None = None
    options: Options | None = None
    think: bool | str | None = None


class GenerateRequest(_GenerateBase):
    prompt: str | None = None
    suffix: str | None = None
    system: str | None = None
    template: str | None = None
    raw: bool = False
    images: list[str] | None = None
    context: list[int] | None = None


class Message(_Body):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    images: list[str] | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChatRequest(_GenerateBase):
    messages: list[Message] = Field(default_factory=list)
    tools: list[dict[str, Any]] | None = None


class EmbedRequest(_ModelRequest):
    input: str | list[str]
    truncate: bool = True
    dimensions: int | None = Field(default=None, ge=1)
    options: Options | None = None


class EmbeddingsRequest(_ModelRequest):
    """The older single-text route: ``prompt`` in, ``embedding`` out."""

    prompt: str
    options: Options | None = None


class RerankRequest(_ModelRequest):
    """The shape of the open Ollama rerank PRs (ollama#11389): ``query``, ``documents``, ``top_n``."""

    query: str = Field(min_length=1)
    documents: list[str] = Field(min_length=1)
    top_n: int | None = Field(default=None, ge=1)
    return_documents: bool = True


class ModelRequest(_Body):
    """/api/show, /api/delete: ``model`` (Ollama's older clients send ``name``)."""

    model: str | None = Field(default=None, min_length=1, max_length=1024)
    name: str | None = Field(default=None, min_length=1, max_length=1024)
    verbose: bool = False

    @property
    def ref(self) -> str:
        return self.model or self.name or ""


class PullRequest(ModelRequest):
    insecure: bool = False
    stream: bool = True


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def keep_alive_seconds(value: float | str | None) -> float | None:
    """Ollama's ``keep_alive``: None (server default), seconds, or "5m" / "1h30m" / "-1" (forever: < 0)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    parts = _DURATION.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"keep_alive {value!r} is not a duration: use seconds or e.g. '5m', '1h', '-1'")
    return sign * sum(float(n) * _UNIT_S[u] for n, u in parts)
