"""Scoring on llama.cpp: log P(continuation | prefix), and choosing a label by it (constrained exactly).

:class:`LabelScoring` is mixed into :class:`~.model.LlamaModel` (which brings ``llm``, ``lock``,
``n_ctx``, ``n_vocab``, ``tokenize``, ``generate_tokens`` and ``compile_grammar``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...errors import UsageError
from ..base import LabelScores
from ..labels import REASONING_MAX_CHARS, choose, json_string_prefix, normalise, reasoning_grammar

__all__ = ["LabelScoring", "REASONING_MAX_CHARS", "choose", "json_string_prefix", "normalise", "reasoning_grammar"]
from ._decode import common_prefix, decode, log_softmax

if TYPE_CHECKING:
    import numpy as np

class LabelScoring:
    """``score_labels``, ``count_tokens``, ``fit_text`` and the continuation log-probabilities under them."""

    llm: Any
    lock: Any
    n_ctx: int
    n_vocab: int

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text, add_bos=False, special=False))

    def fit_text(self, text: str, *, prompt_without_text: str, answer_tokens: int) -> str:
        """Cut ``text`` so that the prompt around it plus the answer fits the context."""
        overhead = len(self.tokenize(prompt_without_text, add_bos=True, special=False))
        budget = self.n_ctx - overhead - answer_tokens - 8
        if budget <= 16:
            raise UsageError(f"the labels and instructions alone fill the context of {self.n_ctx} tokens",
                             hint="load the model with a larger n_ctx (LOCALMODELS_N_CTX)")
        toks = self.tokenize(text, add_bos=False, special=False)
        if len(toks) <= budget:
            return text
        return self.detokenize(toks[:budget])  # type: ignore[attr-defined]

    def continuations(self, prefix_text: str, prefix: list[int], answers: Sequence[str]) -> list[list[int]]:
        """Token ids of each answer as it follows ``prefix_text`` (tokenised together, then split)."""
        out = []
        for a in answers:
            full = self.tokenize(prefix_text + a, add_bos=True, special=False)
            if full[:len(prefix)] == prefix and len(full) > len(prefix):
                out.append(full[len(prefix):])
            else:
                out.append(self.tokenize(a, add_bos=False, special=False))
        return out

    def _answers(self, prompt: str, labels: list[str], key: str, with_reasoning: bool) -> tuple[str, list[str]]:
        if with_reasoning:
            return prompt + f' {{"{key}": "', [json.dumps(x, ensure_ascii=False)[1:] for x in labels]
        return prompt, [f" {x}\n" for x in labels]

    def label_logprobs(self, prompts: Sequence[str], answers: Sequence[str]) -> list[list[float]]:
        """log P(answer | prompt) for every prompt and answer: prompts in groups of parallel sequences
        (``LOCALMODELS_LLM_BATCH``, ``_batched``), else one prompt and its answers after another.
        Both give the same numbers to the bit (a batch-invariant llama.cpp: ``_cpp``)."""
        from ...config import settings

        toks = [self.tokenize(p, add_bos=True, special=False) for p in prompts]
        conts = [self.continuations(p, t, answers) for p, t in zip(prompts, toks)]
        for t, c in zip(toks, conts):
            self._check_fits(t, c)
        group = self.group_size(settings().llm_batch)  # type: ignore[attr-defined]
        out: list[list[float] | None] = [None] * len(toks)
        batchable = [i for i in range(len(toks)) if group and self.fits_scoring_sequence(toks[i], conts[i])]  # type: ignore[attr-defined]
        for start in range(0, len(batchable), max(group, 1)):
            idx = batchable[start:start + group]
            for i, got in zip(idx, self.batched_logprobs([toks[i] for i in idx], [conts[i] for i in idx])):  # type: ignore[attr-defined]
                out[i] = got
        for i, got in enumerate(out):
            if got is None:  # sequentially: batching off, or the prompt is longer than a scoring sequence
                out[i] = self.continuation_logprobs(toks[i], conts[i])
        return out  # type: ignore[return-value]

    def score_labels_batch(self, prompts: Sequence[str], labels: Sequence[str], *, temperature: float = 0.0,
                           seed: int | None = None) -> list[LabelScores]:
        """:meth:`score_labels` for many prompts at once (no reasoning): one label per prompt."""
        labels = list(labels)
        answers = self._answers("", labels, "category", False)[1]
        out = []
        for logps in self.label_logprobs(list(prompts), answers):
            out.append(LabelScores(choose(labels, logps, temperature, seed), dict(zip(labels, normalise(logps))),
                                   None, method="llm"))
        return out

    def score_labels(self, prompt: str, labels: Sequence[str], *, key: str = "category",
                     with_reasoning: bool = False, temperature: float = 0.0, seed: int | None = None) -> LabelScores:
        """Every label's token sequence scored after ``prompt`` (``" label\\n"``; with reasoning, the JSON
        value after ``{"<key>": "``); the answer is chosen over the labels only, then (with reasoning)
        a grammar keeps the model's reasoning a valid, bounded JSON string."""
        labels = list(labels)
        if not with_reasoning:
            return self.score_labels_batch([prompt], labels, temperature=temperature, seed=seed)[0]
        prompt, answers = self._answers(prompt, labels, key, with_reasoning)
        logps = self.label_logprobs([prompt], answers)[0]
        probs = dict(zip(labels, normalise(logps)))
        label = choose(labels, logps, temperature, seed)
        rest = prompt + json.dumps(label, ensure_ascii=False)[1:] + ', "reasoning": "'
        longest = max(self.count_tokens(" " + x + "\n") for x in labels)
        gen = self.generate_tokens(  # type: ignore[attr-defined]
            self.tokenize(rest, add_bos=True, special=False), max_tokens=REASONING_MAX_CHARS + 40 + 2 * longest,
            temperature=temperature, seed=seed,
            grammar=self.compile_grammar(grammar=reasoning_grammar()))  # type: ignore[attr-defined]
        return LabelScores(label, probs, json_string_prefix(gen.text), method="llm")

    def _check_fits(self, prompt: Sequence[int], answers: Sequence[Sequence[int]]) -> None:
        if len(prompt) + max((len(a) for a in answers), default=0) >= self.n_ctx:
            raise UsageError(
                f"prompt of {len(prompt)} tokens plus the answer does not fit the context of {self.n_ctx} tokens",
                hint="shorten the text or load the model with a larger context (--n-ctx, LOCALMODELS_N_CTX)",
            )

    def continuation_logprobs(self, prefix: Sequence[int], continuations: Sequence[Sequence[int]]) -> list[float]:
        """log P(continuation | prefix), summed over its tokens, for each continuation.

        The prefix is evaluated once (reusing whatever the KV cache already holds); each
        continuation is decoded after it in one batch and then removed from the cache.
        """
        if not prefix:
            raise UsageError("an empty prefix cannot be scored")
        with self.lock:
            llm = self.llm
            n = len(prefix)
            self._check_fits(prefix, continuations)
            first = log_softmax(self._prime(list(prefix)))
            out: list[float] = []
            try:
                for cont in continuations:
                    cont = list(cont)
                    if not cont:
                        out.append(0.0)
                        continue
                    total = float(first[cont[0]])
                    if len(cont) > 1:
                        rows = self._decode_rows(cont[:-1], n_past=n)
                        for row, tok in zip(rows, cont[1:]):
                            total += float(log_softmax(row)[tok])
                        llm._ctx.kv_cache_seq_rm(-1, n, -1)
                    out.append(total)
            finally:
                # Leave the cache one token short so the next call recomputes fresh logits.
                llm._ctx.kv_cache_seq_rm(-1, n - 1, -1)
                llm.n_tokens = n - 1
            return out

    def _prime(self, tokens: list[int]) -> np.ndarray:
        """Evaluate ``tokens`` (reusing the cached prefix) and return the last position's logits."""
        import numpy as np

        llm = self.llm
        keep = min(common_prefix([llm.input_ids[: llm.n_tokens].tolist(), tokens]), len(tokens) - 1)
        if keep and not llm._ctx.kv_cache_seq_rm(-1, keep, -1):
            keep = 0
        llm.n_tokens = keep
        if keep == 0:
            llm.reset()
        llm.eval(tokens[keep:])  # one batch: the logits do not depend on it (a batch-invariant build, ``_cpp``)
        ptr = llm._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64)

    def _decode_rows(self, tokens: list[int], *, n_past: int) -> list[np.ndarray]:
        """Decode ``tokens`` at positions ``n_past...`` and return the logits after each one."""
        llm = self.llm
        items = [(t, n_past + i, 0, True) for i, t in enumerate(tokens)]
        return decode(llm._ctx, llm._batch.batch, llm.n_batch, self.n_vocab, items)  # type: ignore[return-value]
