"""Calls the tasks off the event loop.

Encoder tasks (embed, rerank, ner, classify) go through the :class:`MicroBatcher` onto a small
thread pool. Generation runs on its own threads, one at a time per model (llama.cpp contexts are
not thread-safe); a stream is pumped from its thread into an asyncio queue.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .batcher import MicroBatcher
from .errors import APIError
from .metrics import Metrics
from .settings import ServerSettings


@dataclass(frozen=True)
class EmbedOut:
    vector: np.ndarray
    tokens: int


@dataclass(frozen=True)
class ScoreOut:
    score: float
    tokens: int


@dataclass(frozen=True)
class GenOut:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


_DONE = object()


class TaskRunner:
    def __init__(self, settings: ServerSettings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.open()
        self.batcher = MicroBatcher(
            self._run_batch, self.encoder_pool, enabled=settings.batching, max_batch=settings.max_batch,
            wait_ms=settings.batch_wait_ms, max_queue=settings.limits.max_queue, inflight=settings.batch_inflight,
            on_batch=lambda key, n: metrics.observe_batch(str(key[0]), n))
        self._model_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def open(self) -> None:
        """(Re)create the thread pools: an app can go through several lifespans (test clients do)."""
        if getattr(self, "_closed", True):
            self.encoder_pool = ThreadPoolExecutor(max(1, self.settings.workers), thread_name_prefix="lm-encode")
            self.generate_pool = ThreadPoolExecutor(8, thread_name_prefix="lm-generate")
            if hasattr(self, "batcher"):
                self.batcher.executor = self.encoder_pool
            self._closed = False

    def close(self) -> None:
        self._closed = True
        self.encoder_pool.shutdown(wait=False, cancel_futures=True)
        self.generate_pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ encoders (micro-batched)
    async def embed(self, ref: str, texts: Sequence[str], *, kind: str | None) -> list[EmbedOut]:
        return await self.batcher.submit(("embed", ref, kind), texts)

    async def ner(self, ref: str, texts: Sequence[str], *, labels: tuple[str, ...] | None,
                  threshold: float) -> list[list[Any]]:
        return await self.batcher.submit(("ner", ref, labels, threshold), texts)

    async def rerank(self, ref: str, query: str, docs: Sequence[str]) -> list[ScoreOut]:
        """One relevance score (and the tokens read) per document, in document order."""
        return await self.batcher.submit(("rerank", ref), [(query, d) for d in docs])

    async def classify(self, ref: str, texts: Sequence[str], *, labels: tuple[str, ...], method: str,
                       multi_label: bool, template: str, descriptions: tuple[tuple[str, str], ...] | None):
        key = ("classify", ref, labels, method, multi_label, template, descriptions)
        if method == "llm":  # an LLM behind it: one at a time per model, like generation
            return await self._on_model_thread(ref, self._run_batch, key, list(texts))
        return await self.batcher.submit(key, texts)

    def _run_batch(self, key: Hashable, inputs: list[Any]) -> list[Any]:
        from .. import tasks

        kind = key[0]
        if kind == "embed":
            _, ref, emb_kind = key
            out = tasks.embed_batch(inputs, model=ref, kind=emb_kind, batch_size=self.settings.max_batch)
            return [EmbedOut(v, t) for v, t in zip(np.asarray(out.vectors), out.tokens)]
        if kind == "ner":
            _, ref, labels, threshold = key
            kwargs: dict[str, Any] = {"model": ref, "threshold": threshold}
            if labels:
                kwargs["labels"] = list(labels)
            out = tasks.ner(list(inputs), **kwargs)
            return list(out)
        if kind == "rerank":
            # every pair of the micro-batch in one call, whatever the queries (that is where batching pays)
            scored = tasks.score_pairs(inputs, model=key[1], warn=False)
            return [ScoreOut(float(s), t) for s, t in zip(scored.scores, scored.tokens)]
        if kind == "classify":
            _, ref, labels, method, multi_label, template, descriptions = key
            out = tasks.zero_shot(list(inputs), list(labels), model=ref, method=method, multi_label=multi_label,
                                  hypothesis_template=template,
                                  descriptions=dict(descriptions) if descriptions else None)
            return list(out)
        raise ValueError(f"unknown task {kind!r}")  # pragma: no cover

    # ------------------------------------------------------------ generation
    def _lock_for(self, ref: str) -> threading.Lock:
        with self._locks_guard:
            return self._model_locks.setdefault(ref, threading.Lock())

    async def _on_model_thread(self, ref: str, fn, *args):
        lock = self._lock_for(ref)

        def locked():
            with lock:
                return fn(*args)

        return await asyncio.get_running_loop().run_in_executor(self.generate_pool, locked)

    async def generate(self, ref: str, **kwargs: Any) -> GenOut:
        from .. import tasks

        def call() -> GenOut:
            self.metrics.observe_batch("generate", 1)
            return _gen_out(tasks.generate(model=ref, stream=False, **kwargs))

        return await self._on_model_thread(ref, call)

    async def generate_logprobs(self, ref: str, *, top: int, echo: bool, **kwargs: Any) -> tuple[GenOut, list[Any]]:
        """A completion (none for ``max_tokens=0``, echo only) and its tokens' log-probabilities
        (:class:`~localmodels.runtimes.base.TokenLogprob`), the prompt's first when ``echo``."""
        from .. import tasks

        def call() -> tuple[GenOut, list[Any]]:
            self.metrics.observe_batch("generate", 1)
            if kwargs.get("max_tokens"):
                out = _gen_out(tasks.generate(model=ref, stream=False, **kwargs))
            else:
                out = GenOut("", 0, 0, "length")
            lps = tasks.token_logprobs(model=ref, prompt=kwargs.get("prompt"), messages=kwargs.get("messages"),
                                       completion=out.text, top=top, echo=echo)
            if not kwargs.get("max_tokens"):
                out = GenOut("", len(lps), 0, "length")
            return out, lps

        return await self._on_model_thread(ref, call)

    async def generate_stream(self, ref: str, *, idle_timeout: float, **kwargs: Any) -> AsyncIterator[str | GenOut]:
        """Text pieces as the model produces them, then a :class:`GenOut` with the totals (when the
        runtime reports them); stops the model when the consumer goes away."""
        from .. import tasks

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancelled = threading.Event()
        lock = self._lock_for(ref)

        def put(item: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def pump() -> None:
            with lock:
                if cancelled.is_set():
                    return
                self.metrics.observe_batch("generate", 1)
                it = None
                try:
                    it = tasks.generate(model=ref, stream=True, **kwargs)
                    for piece in it:
                        if cancelled.is_set():
                            break
                        put(piece)
                    result = getattr(it, "result", None)
                    if result is not None:
                        put(_gen_out(result))
                    put(_DONE)
                except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                    put(exc)
                finally:
                    close = getattr(it, "close", None)
                    if callable(close):
                        try:
                            close()
                        except Exception:  # noqa: BLE001
                            pass

        fut = loop.run_in_executor(self.generate_pool, pump)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), idle_timeout)
                except TimeoutError:
                    raise APIError(504, f"generation produced nothing for {idle_timeout:.0f} s",
                                   type="server_error", code="timeout") from None
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancelled.set()
            fut.add_done_callback(lambda f: f.exception() if not f.cancelled() else None)


def _gen_out(g: Any) -> GenOut:
    return GenOut(g.text, int(g.prompt_tokens or 0), int(g.completion_tokens or 0), g.finish_reason or "stop")
