"""Token log-probabilities of a prompt and of a completion: what an OpenAI ``logprobs`` field reports.

:class:`TokenLogprobs` is mixed into :class:`~.model.LlamaModel`. The completion's tokens are scored
after the prompt once it was generated (one batch, the prompt's cache reused); ``echo`` scores the
prompt's own tokens as well (the classic way to score a text over HTTP, used by ``remote:``
classification to get the same label probabilities as a local model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..base import TokenLogprob
from ._decode import decode, log_softmax

if TYPE_CHECKING:
    import numpy as np

MAX_TOP = 20


class TokenLogprobs:
    llm: Any
    lock: Any
    n_ctx: int
    n_vocab: int

    def token_logprobs(self, *, prompt: str | None = None, messages: Sequence[dict[str, Any]] | None = None,
                       completion: str = "", top: int = 0, echo: bool = False) -> list[TokenLogprob]:
        """The completion's tokens (after the prompt, as generation saw it), with the prompt's first
        when ``echo``; ``top`` alternatives (at most 20) per token. Offsets count from the prompt's
        start when ``echo``, else from the completion's."""
        import llama_cpp

        top = max(0, min(int(top), MAX_TOP))
        if messages is not None:
            ptoks, _ = self.chat_prompt(messages)  # type: ignore[attr-defined]
        else:
            ptoks = self.prompt_tokens(prompt or "")  # type: ignore[attr-defined]
        comp = self.tokenize(completion, add_bos=False, special=False) if completion else []  # type: ignore[attr-defined]
        full = ptoks + comp
        if len(full) > self.n_ctx:
            from ...errors import UsageError

            raise UsageError(f"prompt and completion take {len(full)} tokens; the context holds {self.n_ctx}",
                             hint="give a larger context (--n-ctx, LOCALMODELS_N_CTX)")
        start = 0 if echo else len(ptoks)
        with self.lock:
            llm = self.llm
            mem = llama_cpp.llama_get_memory(llm._ctx.ctx)
            llama_cpp.llama_memory_seq_rm(mem, -1, 0, -1)
            llm.n_tokens = 0
            try:
                want = [(t, i, 0, i + 1 >= max(start, 1)) for i, t in enumerate(full[:-1])]
                got = decode(llm._ctx, llm._batch.batch, llm.n_batch, self.n_vocab, want) if want else []
                rows = [r for r in got if r is not None]
            finally:
                llama_cpp.llama_memory_seq_rm(mem, -1, 0, -1)
                llm.n_tokens = 0
        out: list[TokenLogprob] = []
        offset = 0
        first_scored = max(start, 1)
        for i in range(start, len(full)):
            raw = self._piece(full[i])
            text = raw.decode("utf-8", errors="replace")
            if i == 0:
                out.append(TokenLogprob(text, None, list(raw), offset, []))
            else:
                row = log_softmax(rows[i - first_scored])
                out.append(TokenLogprob(text, float(row[full[i]]), list(raw), offset, self._top(row, top)))
            offset += len(text)
        return out

    def _piece(self, token: int) -> bytes:
        return bytes(self.llm.detokenize([token], special=False))

    def _top(self, row: np.ndarray, k: int) -> list[tuple[str, float, list[int]]]:
        import numpy as np

        if k <= 0:
            return []
        idx = np.argpartition(-row, k)[:k]
        idx = idx[np.argsort(-row[idx])]
        out = []
        for t in idx.tolist():
            raw = self._piece(t)
            out.append((raw.decode("utf-8", errors="replace"), float(row[t]), list(raw)))
        return out
