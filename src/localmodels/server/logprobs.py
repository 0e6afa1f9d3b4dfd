"""Token log-probabilities in OpenAI's two shapes: chat (``logprobs.content``) and legacy completions
(``tokens`` / ``token_logprobs`` / ``top_logprobs`` / ``text_offset``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import schemas as s


def chat_logprobs(items: Sequence[Any]) -> s.ChatLogprobs:
    """``choices[i].logprobs`` of a chat completion: one entry per completion token."""
    return s.ChatLogprobs(content=[
        s.TokenLogprobItem(token=x.token, logprob=x.logprob if x.logprob is not None else 0.0, bytes=x.bytes,
                           top_logprobs=[s.TopLogprob(token=t, logprob=lp, bytes=b) for t, lp, b in x.top])
        for x in items
    ])


def completion_logprobs(items: Sequence[Any], *, offset: int = 0) -> s.CompletionLogprobs:
    """``choices[i].logprobs`` of a legacy completion; ``offset`` is added to every text offset."""
    tops: list[dict[str, float] | None] = []
    for x in items:
        if x.logprob is None:
            tops.append(None)
            continue
        d: dict[str, float] = {}
        for t, lp, _ in x.top:
            d.setdefault(t, lp)
        tops.append(d)
    return s.CompletionLogprobs(tokens=[x.token for x in items], token_logprobs=[x.logprob for x in items],
                                top_logprobs=tops, text_offset=[offset + x.offset for x in items])
