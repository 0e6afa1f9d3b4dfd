"""Ollama's /api/generate and /api/chat: NDJSON streaming (the default) or one JSON answer.

Both run ``localmodels.tasks.generate`` through the server's task runner, as /v1 does.
``options``: temperature (default 0: greedy, as the CLI and /v1), num_predict (-1/-2: the server's
--max-tokens), stop, seed, top_p and top_k (passed to the runtime; unset: llama.cpp's 0.95 / 40), num_ctx
and num_thread (load settings). ``format``: "json" or a JSON schema, enforced by a
llama.cpp grammar. /api/generate renders ``prompt`` as plain text (a base model's template) unless
``system`` is given, which makes it one chat turn with the model's chat template; ``raw`` keeps the
prompt as it is. An empty prompt (or no messages) loads the model, and with ``keep_alive: 0``
unloads it, as Ollama does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request

from ...tasks.generate import get_llm
from ..errors import APIError
from ..limits import check_max_tokens, check_texts
from ..runner import GenOut
from ..state import ServerState, get_state
from ._common import Clock, keep_alive_of, ndjson, now_iso, requested_keep_alive, resolve_name
from .schemas import ChatRequest, GenerateRequest, Options, _GenerateBase

router = APIRouter(prefix="/api", tags=["ollama"])
DEFAULT_NUM_PREDICT = 256


def _unsupported(what: str, name: str) -> APIError:
    return APIError(400, f"{name} does not support {what}", code="unsupported_parameter")


def _options(req: _GenerateBase, state: ServerState, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(generation kwargs, load options) from ``options`` and ``format``."""
    limits = state.settings.limits
    o = req.options or Options()
    n = o.num_predict
    if n == 0:
        raise APIError(400, "options.num_predict must be a positive number of tokens, or -1 for the most "
                            "this server allows", param="options.num_predict", code="invalid_value")
    check_max_tokens(n, limits, param="options.num_predict")
    max_tokens = limits.max_tokens if n is not None and n < 0 else (n or min(DEFAULT_NUM_PREDICT, limits.max_tokens))
    stops = [o.stop] if isinstance(o.stop, str) else list(o.stop or [])
    if len(stops) > 16 or any(not s or len(s) > 256 for s in stops):
        raise APIError(400, "options.stop: at most 16 non-empty strings of at most 256 characters",
                       param="options.stop", code="invalid_value")
    kwargs: dict[str, Any] = {"max_tokens": max_tokens, "temperature": o.temperature or 0.0,
                              "stop": stops or None, "seed": o.seed}
    kwargs.update({k: v for k, v in (("top_p", o.top_p), ("top_k", o.top_k)) if v is not None})
    if req.format == "json":
        kwargs["json_schema"] = {"type": "object"}
    elif isinstance(req.format, dict):
        if not req.format:
            raise APIError(400, "format: an empty JSON schema; send \"json\" or a schema", param="format",
                           code="invalid_value")
        kwargs["json_schema"] = req.format
    if req.think:
        raise _unsupported("thinking", name)
    load: dict[str, Any] = {}
    if o.num_ctx is not None:
        load["n_ctx"] = o.num_ctx
    if o.num_thread is not None:
        load["n_threads"] = o.num_thread
    return {**kwargs, **load}, load


async def _load(state: ServerState, ref: str, load: dict[str, Any], clock: Clock) -> None:
    await state.timed(asyncio.to_thread(get_llm, ref, **load))
    clock.mark_loaded()


def _load_only(name: str, keep_alive: float | None, *, chat: bool) -> dict[str, Any]:
    reason = "unload" if keep_alive == 0 else "load"
    out: dict[str, Any] = {"model": name, "created_at": now_iso(), "done": True, "done_reason": reason}
    if chat:
        out["message"] = {"role": "assistant", "content": ""}
    else:
        out["response"] = ""
    return out


async def _run(request: Request, state: ServerState, req: _GenerateBase, name: str, ref: str,
               task_kwargs: dict[str, Any], *, chat: bool):
    kwargs, load = _options(req, state, name)
    keep_alive = requested_keep_alive(req.keep_alive)
    keep = keep_alive_of(request)
    clock = Clock()
    before = keep.start(name)
    try:
        await _load(state, ref, load, clock)
        limits = state.settings.limits
        stream = state.runner.generate_stream(ref, idle_timeout=limits.request_timeout_s, **task_kwargs, **kwargs)
        first = await state.timed(_first(stream))  # before answering 200: a bad grammar gets its status code
    except BaseException:
        keep.finish(name, before, None)
        raise
    clock.mark_first()

    def piece_line(text: str) -> dict[str, Any]:
        base: dict[str, Any] = {"model": name, "created_at": now_iso(), "done": False}
        if chat:
            base["message"] = {"role": "assistant", "content": text}
        else:
            base["response"] = text
        return base

    def final_line(pieces: list[str], final: GenOut | None) -> dict[str, Any]:
        line = piece_line("".join(pieces) if not req.stream else "")
        p_tok = final.prompt_tokens if final else 0
        c_tok = final.completion_tokens if final else len(pieces)
        reason = final.finish_reason if final else ("length" if len(pieces) >= kwargs["max_tokens"] else "stop")
        line.update(done=True, done_reason=reason, **clock.totals(p_tok, c_tok))
        return line

    if not req.stream:
        try:
            pieces, final = await state.timed(_collect(first, stream))
        finally:
            keep.finish(name, before, keep_alive)
        return final_line(pieces, final)

    async def lines() -> AsyncIterator[dict[str, Any]]:
        pieces: list[str] = []
        final: GenOut | None = None
        try:
            async for item in _chain(first, stream):
                if isinstance(item, GenOut):
                    final = item
                elif item:
                    pieces.append(item)
                    yield piece_line(item)
        finally:
            keep.finish(name, before, keep_alive)
        yield final_line(pieces, final)

    return ndjson(lines())


async def _first(stream: AsyncIterator[str | GenOut]) -> str | GenOut | None:
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None


async def _chain(first: str | GenOut | None, stream: AsyncIterator[str | GenOut]) -> AsyncIterator[str | GenOut]:
    if first is None:
        return
    yield first
    async for item in stream:
        yield item


async def _collect(first: str | GenOut | None, stream) -> tuple[list[str], GenOut | None]:
    pieces: list[str] = []
    final: GenOut | None = None
    async for item in _chain(first, stream):
        if isinstance(item, GenOut):
            final = item
        elif item:
            pieces.append(item)
    return pieces, final


@router.post("/generate")
async def generate(req: GenerateRequest, request: Request, state: ServerState = Depends(get_state)):
    name, ref = resolve_name(state, req.model)
    if req.images:
        raise _unsupported("images", name)
    if req.suffix:
        raise _unsupported("insert (suffix)", name)
    if req.template:
        raise APIError(400, "template overrides are not supported: render the prompt yourself and send "
                            "raw: true", param="template", code="unsupported_parameter")
    if req.context:
        raise APIError(400, "context is not supported: send the conversation to /api/chat", param="context",
                       code="unsupported_parameter")
    if not req.prompt:
        return await _load_or_unload(request, state, req, name, ref, chat=False)
    texts = [req.prompt] + ([req.system] if req.system else [])
    check_texts(texts, state.settings.limits, param="prompt", what="prompts")
    if req.system and not req.raw:
        task = {"messages": [{"role": "system", "content": req.system}, {"role": "user", "content": req.prompt}]}
    else:
        task = {"prompt": req.prompt}
    return await _run(request, state, req, name, ref, task, chat=False)


@router.post("/chat")
async def chat(req: ChatRequest, request: Request, state: ServerState = Depends(get_state)):
    name, ref = resolve_name(state, req.model)
    if req.tools:
        raise _unsupported("tools", name)
    if any(m.images for m in req.messages):
        raise _unsupported("images", name)
    if not req.messages:
        return await _load_or_unload(request, state, req, name, ref, chat=True)
    limits = state.settings.limits
    if len(req.messages) > limits.max_inputs:
        raise APIError(413, f"too many messages: {len(req.messages)}", param="messages", code="too_many_inputs")
    messages = [{"role": m.role, "content": m.content} for m in req.messages]
    check_texts(["".join(m["content"] for m in messages)], limits, param="messages", what="messages")
    return await _run(request, state, req, name, ref, {"messages": messages}, chat=True)


async def _load_or_unload(request: Request, state: ServerState, req: _GenerateBase, name: str, ref: str, *,
                          chat: bool) -> dict[str, Any]:
    keep_alive = requested_keep_alive(req.keep_alive)
    _, load = _options(req, state, name)
    keep = keep_alive_of(request)
    before = keep.start(name)
    try:
        await _load(state, ref, load, Clock())
    finally:
        keep.finish(name, before, keep_alive)
    return _load_only(name, keep_alive, chat=chat)
