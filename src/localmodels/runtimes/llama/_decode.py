"""Decoding a batch of (token, position, sequence) items in a llama.cpp context, the log-softmax of a
logits row and the shared prefix of token lists: shared by label scoring, parallel scoring and
``logprobs``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Item = tuple[int, int, int, bool]  # token, position, sequence, wants logits


def decode(ctx: Any, batch: Any, n_batch: int, n_vocab: int, items: list[Item]) -> list[np.ndarray | None]:
    """Decode ``items`` in ``ctx`` (a llama-cpp-python ``LlamaContext``) through ``batch`` (a raw
    ``llama_batch``), ``n_batch`` at a time; the logits (float64) of each item that wants them, else None."""
    import llama_cpp
    import numpy as np

    out: list[np.ndarray | None] = []
    for start in range(0, len(items), n_batch):
        chunk = items[start:start + n_batch]
        batch.n_tokens = len(chunk)
        for j, (tok, pos, seq, want) in enumerate(chunk):
            batch.token[j] = tok
            batch.pos[j] = pos
            batch.seq_id[j][0] = seq
            batch.n_seq_id[j] = 1
            batch.logits[j] = want
        rc = llama_cpp.llama_decode(ctx.ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        for j, (_, _, _, want) in enumerate(chunk):
            row = None
            if want:
                row = np.ctypeslib.as_array(ctx.get_logits_ith(j), shape=(n_vocab,)).astype(np.float64)
            out.append(row)
    return out


def log_softmax(row: np.ndarray) -> np.ndarray:
    import numpy as np

    m = row.max()
    return row - (m + np.log(np.exp(row - m).sum()))


def common_prefix(seqs: Sequence[Sequence[int]]) -> int:
    """How many leading tokens all of ``seqs`` share."""
    n = min(len(s) for s in seqs)
    first = seqs[0]
    for i in range(n):
        if any(s[i] != first[i] for s in seqs[1:]):
            return i
    return n
