"""Shared plumbing for the tasks: input checks; the (memoized) resolver lives with ``runtime_for``."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from ..runtimes.registry import resolve_model

__all__ = ["as_list", "check_text", "resolve_model"]


def check_text(text: str, what: str = "text") -> str:
    """``text`` if it is valid Unicode; a lone surrogate (JSON's ``"\\ud800"``) is the caller's error.

    Tokenizers and UTF-8 encoders cannot take one (``tokenizers`` raises TypeError), so it is refused
    here, before any model sees it: a :class:`UsageError`, a 400 from the server.
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise UsageError(f"{what} holds a lone surrogate (U+{ord(text[e.start]):04X} at character {e.start}): "
                             "it is not valid Unicode text",
                             hint="send UTF-8 text; a surrogate must come in a high+low pair") from None
    return text


def as_list(texts: str | Sequence[str], what: str = "texts") -> tuple[list[str], bool]:
    """(list of texts, whether a single string was given); rejects non-strings clearly."""
    if isinstance(texts, str):
        return [check_text(texts, what)], True
    if isinstance(texts, (bytes, bytearray)):
        raise UsageError(f"{what} must be str, not bytes", hint="decode the bytes as UTF-8 first")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise UsageError(f"{what}[{i}] is {type(t).__name__}, not str")
        check_text(t, f"{what}[{i}]")
    return out, False
