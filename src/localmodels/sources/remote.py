"""``remote:NAME``: a model behind an OpenAI-compatible endpoint. The store keeps nothing of it;
this source only claims the scheme so every verb can say so."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidReferenceError, UsageError
from ..refs import parse_ref
from ._serve import SourceBase
from .base import LocalModel, Spec


class RemoteSource(SourceBase):
    kind = "remote"

    def parse(self, ref: str) -> Spec | None:
        r = parse_ref(ref)
        return Spec(self.kind, r.name, r.raw) if r.kind == self.kind else None

    def key(self, spec: Spec) -> str:
        raise InvalidReferenceError(spec.ref, "a remote: model is served by its endpoint, not kept in the store")

    def present(self, spec: Spec) -> LocalModel | None:
        raise InvalidReferenceError(spec.ref, "a remote: model is served by its endpoint, not kept in the store",
                                    hint="pass it to a task (model='remote:NAME'); the store has nothing to resolve")

    def fetch(self, spec: Spec, **_: Any) -> LocalModel:
        raise InvalidReferenceError(spec.ref, "a remote: model is served by its endpoint; there is nothing to pull")

    def remove(self, spec: Spec, *, dry_run: bool) -> list[dict[str, Any]]:
        raise UsageError(f"{spec.ref}: a remote model is not stored locally; there is nothing to remove")
