"""Shared plumbing for the tasks: input checks; the (memoized) resolver lives with ``runtime_for``."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from ..runtimes.registry import resolve_model

__all__ = ["as_list", "resolve_model"]


def as_list(texts: str | Sequence[str], what: str = "texts") -> tuple[list[str], bool]:
    """(list of texts, whether a single string was given); rejects non-strings clearly."""
    if isinstance(texts, str):
        return [texts], True
    if isinstance(texts, (bytes, bytearray)):
        raise UsageError(f"{what} must be str, not bytes", hint="decode the bytes as UTF-8 first")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise UsageError(f"{what}[{i}] is {type(t).__name__}, not str")
    return out, False
