"""Label scoring in parallel sequences: many prompts and every label of each in a few llama.cpp batches.

The prompts of one classification run share a head (the instructions and the label list). The head
is evaluated once in sequence 0 and kept; each prompt's own tail is decoded in its own sequence
(the head's cache cells copied to it, which costs no compute), all tails in one batch; then every
label's tokens after every prompt, each label in a sequence of its own, in one more batch. This
gives the same log-probabilities as scoring each prompt + label on its own (to float rounding: the
test compares them to 1e-4), at a fraction of the decode calls.

It needs a context with several sequences and a unified KV cache: :func:`parallel_context` makes
one when the model is opened; where that fails the model scores sequentially (``_scoring``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("localmodels.llama")
MAX_SEQUENCES = 64  # sequences of the scoring context (llama.cpp allows up to 256)


def parallel_context(llm: Any, n_seq: int = MAX_SEQUENCES) -> int:
    """Give ``llm`` a context of the same size with ``n_seq`` sequences sharing one KV cache.

    llama-cpp-python creates a one-sequence context and has no option for more, so the context is
    made again from the same parameters. Returns the sequences now available (1 when it failed).
    """
    try:
        import llama_cpp
        from llama_cpp import _internals as internals

        n_seq = min(n_seq, int(llama_cpp.llama_max_parallel_sequences()))
        params = type(llm.context_params).from_buffer_copy(llm.context_params)
        params.n_seq_max = n_seq
        params.kv_unified = True
        ctx = internals.LlamaContext(model=llm._model, params=params, verbose=False)
    except Exception as e:  # noqa: BLE001 - keep the one-sequence context: scoring stays sequential
        log.debug("no parallel llama.cpp context (%s): label scoring runs sequentially", e)
        return 1
    old, llm._ctx, llm.context_params = llm._ctx, ctx, params
    llm._stack.callback(ctx.close)
    old.close()
    llm.n_tokens = 0
    return n_seq


def _rows(llm: Any, n_vocab: int, items: list[tuple[int, int, int, bool]]) -> list[np.ndarray | None]:
    """Decode ``items`` = (token, position, sequence, wants logits) in batches of ``n_batch``; the
    logits of each item that wants them (float64), else None."""
    import llama_cpp
    import numpy as np

    batch = llm._batch.batch
    out: list[np.ndarray | None] = []
    step = llm.n_batch
    for start in range(0, len(items), step):
        chunk = items[start:start + step]
        batch.n_tokens = len(chunk)
        for j, (tok, pos, seq, want) in enumerate(chunk):
            batch.token[j] = tok
            batch.pos[j] = pos
            batch.seq_id[j][0] = seq
            batch.n_seq_id[j] = 1
            batch.logits[j] = want
        rc = llama_cpp.llama_decode(llm._ctx.ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        for j, (_, _, _, want) in enumerate(chunk):
            if want:
                ptr = llm._ctx.get_logits_ith(j)
                out.append(np.ctypeslib.as_array(ptr, shape=(n_vocab,)).astype(np.float64))
            else:
                out.append(None)
    return out


def _log_softmax(row: np.ndarray) -> np.ndarray:
    import numpy as np

    m = row.max()
    return row - (m + np.log(np.exp(row - m).sum()))


def _common_prefix(seqs: Sequence[Sequence[int]]) -> int:
    n = min(len(s) for s in seqs)
    first = seqs[0]
    for i in range(n):
        if any(s[i] != first[i] for s in seqs[1:]):
            return i
    return n


class BatchedScoring:
    """``batched_logprobs``: mixed into :class:`~.model.LlamaModel` next to ``LabelScoring``."""

    llm: Any
    lock: Any
    n_ctx: int
    n_vocab: int
    n_seq: int = 1

    def group_size(self, n_labels: int, wanted: int) -> int:
        """How many prompts of ``n_labels`` labels one batched call takes (0: score sequentially).

        The scoring context is made on first use (``wanted`` = 0 never makes it)."""
        if wanted <= 0:
            return 0
        with self.lock:
            if self.n_seq == 1 and not getattr(self, "_tried_parallel", False):
                self._tried_parallel = True
                self.n_seq = parallel_context(self.llm)
        if self.n_seq <= 1:
            return 0
        return min(wanted, max(0, (self.n_seq - 1) // (n_labels + 1)))

    def batched_logprobs(self, prompts: Sequence[Sequence[int]],
                         conts: Sequence[Sequence[Sequence[int]]]) -> list[list[float]]:
        """log P(cont | prompt) for every prompt and each of its continuations, in parallel sequences.

        The caller keeps ``len(prompts) * (1 + len(conts[0])) + 1 <= n_seq`` (:meth:`group_size`)
        and the tokens within the context.
        """
        import llama_cpp

        llm = self.llm
        with self.lock:
            head_n = min(_common_prefix(prompts), min(len(p) for p in prompts) - 1)
            head = list(prompts[0][:head_n])
            mem = llama_cpp.llama_get_memory(llm._ctx.ctx)
            llama_cpp.llama_memory_seq_rm(mem, -1, head_n, -1)  # all but the shared head
            cached = llm.input_ids[:min(llm.n_tokens, head_n)].tolist()
            keep = 0
            for a, b in zip(cached, head):
                if a != b:
                    break
                keep += 1
            if keep < head_n:
                llama_cpp.llama_memory_seq_rm(mem, -1, keep, -1)
                llm.n_tokens = keep
                if head_n > keep:
                    llm.eval(head[keep:])
            llm.n_tokens = head_n
            try:
                return self._score_group(mem, head_n, prompts, conts)
            finally:
                llama_cpp.llama_memory_seq_rm(mem, -1, head_n, -1)
                for s in range(1, self.n_seq):
                    llama_cpp.llama_memory_seq_rm(mem, s, -1, -1)
                llm.n_tokens = head_n

    def _score_group(self, mem: Any, head_n: int, prompts: Sequence[Sequence[int]],
                     conts: Sequence[Sequence[Sequence[int]]]) -> list[list[float]]:
        import llama_cpp

        items: list[tuple[int, int, int, bool]] = []
        for b, p in enumerate(prompts):
            seq = 1 + b
            if head_n:
                llama_cpp.llama_memory_seq_cp(mem, 0, seq, 0, head_n)
            tail = list(p[head_n:])
            items += [(t, head_n + i, seq, i == len(tail) - 1) for i, t in enumerate(tail)]
        lasts = [r for r in _rows(self.llm, self.n_vocab, items) if r is not None]
        firsts = [_log_softmax(r) for r in lasts]
        n_labels = len(conts[0])
        items, owners = [], []
        for b, p in enumerate(prompts):
            for k, cont in enumerate(conts[b]):
                if len(cont) < 2:
                    continue
                seq = 1 + len(prompts) + b * n_labels + k
                llama_cpp.llama_memory_seq_cp(mem, 1 + b, seq, 0, len(p))
                for i, t in enumerate(cont[:-1]):
                    items.append((t, len(p) + i, seq, True))
                    owners.append((b, k, i + 1))
        rows = _rows(self.llm, self.n_vocab, items) if items else []
        out = [[float(firsts[b][c[0]]) if c else 0.0 for c in conts[b]] for b in range(len(prompts))]
        for (b, k, i), row in zip(owners, rows):
            out[b][k] += float(_log_softmax(row)[conts[b][k][i]])  # type: ignore[arg-type]
        return out
