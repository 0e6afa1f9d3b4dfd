"""Micro-batching: concurrent requests for the same (task, model, options) become one task call.

Each request submits its list of inputs under a key. One lane per key collects submissions for
up to ``wait_ms`` after the first one arrived (or until ``max_batch`` inputs are waiting), hands
the concatenated inputs to ``run(key, inputs)`` on a worker thread (the event loop never blocks)
and gives every caller its own slice of the results. While a batch runs, the next one fills up;
a submission is never split. If a batch of several submissions fails, each is retried alone, so
one bad request cannot fail its neighbours. With ``enabled=False`` every submission is its own call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from .errors import APIError

log = logging.getLogger("localmodels.server")

# Failures that concern the model, not one request's inputs: retrying each request alone is useless.
_MODEL_LEVEL_ERRORS = (LookupError, MemoryError, ImportError, PermissionError, OSError)

RunFn = Callable[[Hashable, list[Any]], Sequence[Any]]


@dataclass
class _Submission:
    inputs: list[Any]
    future: asyncio.Future
    enqueued: float


@dataclass
class _Lane:
    pending: deque[_Submission] = field(default_factory=deque)
    count: int = 0  # inputs waiting
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    loop: asyncio.AbstractEventLoop | None = None
    running: set[asyncio.Task] = field(default_factory=set)


class MicroBatcher:
    def __init__(self, run: RunFn, executor: Executor, *, enabled: bool = True, max_batch: int = 32,
                 wait_ms: float = 5.0, max_queue: int = 4096,
                 on_batch: Callable[[Hashable, int], None] | None = None, idle_exit_s: float = 30.0,
                 inflight: int = 1) -> None:
        self.run = run
        self.executor = executor
        self.enabled = enabled
        self.max_batch = max(1, max_batch)
        self.wait_s = max(0.0, wait_ms) / 1000
        self.max_queue = max_queue
        self.on_batch = on_batch
        self.idle_exit_s = idle_exit_s
        self.inflight = max(1, inflight)  # batches of one key running at once (pipelining)
        self._lanes: dict[Hashable, _Lane] = {}

    async def submit(self, key: Hashable, inputs: Sequence[Any]) -> list[Any]:
        """Results for ``inputs``, in order, computed together with other callers' inputs for ``key``."""
        inputs = list(inputs)
        if not self.enabled:
            return await self._call(key, inputs)
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(key)
        if lane is None or lane.loop is not loop:  # (a new event loop: test clients start one per call)
            lane = self._lanes[key] = _Lane(loop=loop)
        if lane.count + len(inputs) > self.max_queue and lane.count:
            raise APIError(503, "the server is busy: too many queued inputs for this model; retry later",
                           type="server_error", code="server_busy", headers={"Retry-After": "1"})
        sub = _Submission(inputs, loop.create_future(), loop.time())
        lane.pending.append(sub)
        lane.count += len(inputs)
        lane.wake.set()
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._drain(key, lane))
        return await sub.future

    async def _call(self, key: Hashable, inputs: list[Any]) -> list[Any]:
        loop = asyncio.get_running_loop()
        if self.on_batch:
            self.on_batch(key, len(inputs))
        results = await loop.run_in_executor(self.executor, self.run, key, inputs)
        results = list(results)
        if len(results) != len(inputs):
            raise RuntimeError(f"batch function returned {len(results)} results for {len(inputs)} inputs")
        return results

    async def _drain(self, key: Hashable, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while len(lane.running) >= self.inflight:  # all slots busy: let the queue fill up
                await asyncio.wait(lane.running, return_when=asyncio.FIRST_COMPLETED)
            if not lane.pending:
                lane.wake.clear()
                try:
                    await asyncio.wait_for(lane.wake.wait(), self.idle_exit_s)
                except TimeoutError:
                    if not lane.pending and not lane.running:
                        if self._lanes.get(key) is lane:
                            del self._lanes[key]
                        return
                continue
            deadline = lane.pending[0].enqueued + self.wait_s
            while lane.count < self.max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                lane.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lane.wake.wait(), remaining)
            batch: list[_Submission] = []
            size = 0
            while lane.pending and (not batch or size + len(lane.pending[0].inputs) <= self.max_batch):
                sub = lane.pending.popleft()
                lane.count -= len(sub.inputs)
                if sub.future.done():  # the caller gave up (timeout, disconnect)
                    continue
                batch.append(sub)
                size += len(sub.inputs)
            if batch:
                task = asyncio.create_task(self._run_batch(key, batch))
                lane.running.add(task)
                task.add_done_callback(lane.running.discard)

    async def _run_batch(self, key: Hashable, batch: list[_Submission]) -> None:
        flat = [x for sub in batch for x in sub.inputs]
        try:
            results = await self._call(key, flat)
        except Exception as exc:  # noqa: BLE001 - delivered to the callers
            if len(batch) == 1 or isinstance(exc, _MODEL_LEVEL_ERRORS):
                for sub in batch:
                    _deliver_error(sub, exc)
                return
            log.debug("batch of %d submissions failed (%s); retrying each alone", len(batch), type(exc).__name__)
            for sub in batch:
                if sub.future.done():
                    continue
                try:
                    _deliver(sub, await self._call(key, sub.inputs))
                except Exception as one_exc:  # noqa: BLE001
                    _deliver_error(sub, one_exc)
            return
        start = 0
        for sub in batch:
            _deliver(sub, results[start:start + len(sub.inputs)])
            start += len(sub.inputs)


def _deliver(sub: _Submission, value: list[Any]) -> None:
    if not sub.future.done():
        sub.future.set_result(value)


def _deliver_error(sub: _Submission, exc: BaseException) -> None:
    if not sub.future.done():
        sub.future.set_exception(exc)
