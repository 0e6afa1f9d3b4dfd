"""OpenAI-compatible endpoints: /v1/models, /v1/embeddings, /v1/chat/completions, /v1/completions."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from . import schemas as s
from .errors import APIError, error_body
from .limits import check_max_tokens, check_texts
from .logprobs import chat_logprobs, completion_logprobs
from .runner import GenOut
from .state import ServerState, get_state

router = APIRouter(prefix="/v1")

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": s.ErrorResponse} for code in (400, 401, 404, 413, 422, 500, 503, 504)
}
DEFAULT_CHAT_MAX_TOKENS = 256


@router.get("/models", response_model=s.ModelList, responses=ERRORS, tags=["openai"])
async def list_models(state: ServerState = Depends(get_state)) -> s.ModelList:
    import asyncio

    from ..tasks.loaded import loaded_keys

    keys = loaded_keys()
    cards = await asyncio.to_thread(state.directory.cards, keys)
    return s.ModelList(data=[s.ModelCard(created=int(state.started), **c) for c in cards])


# ---------------------------------------------------------------- embeddings
@router.post("/embeddings", response_model=s.EmbeddingsResponse, responses=ERRORS, tags=["openai"])
async def embeddings(req: s.EmbeddingsRequest, state: ServerState = Depends(get_state)) -> s.EmbeddingsResponse:
    texts = [req.input] if isinstance(req.input, str) else req.input
    check_texts(texts, state.settings.limits)
    ref = state.directory.ref(req.model)
    if req.dimensions is not None and not state.directory.is_matryoshka(req.model, ref):
        raise APIError(400, f"model {req.model!r} does not support 'dimensions': it was not trained to be "
                            "truncated (Matryoshka); leave 'dimensions' out", param="dimensions",
                       code="unsupported_parameter")
    outs = await state.timed(state.runner.embed(ref, texts, kind=req.kind))
    data = []
    for i, out in enumerate(outs):
        vec = truncate(out.vector, req.dimensions) if req.dimensions is not None else out.vector
        data.append(s.Embedding(index=i, embedding=encode_vector(vec, req.encoding_format)))
    tokens = sum(o.tokens for o in outs)
    return s.EmbeddingsResponse(data=data, model=req.model,
                                usage=s.EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens))


def truncate(vec: np.ndarray, dims: int) -> np.ndarray:
    """The first ``dims`` values, renormalised to unit length (Matryoshka truncation)."""
    if dims > vec.shape[-1]:
        raise APIError(400, f"dimensions={dims} is more than the model's {vec.shape[-1]}", param="dimensions",
                       code="invalid_value")
    head = np.asarray(vec[:dims], dtype=np.float32)
    norm = float(np.linalg.norm(head))
    return head / norm if norm > 0 else head


def encode_vector(vec: np.ndarray, fmt: str) -> list[float] | str:
    arr = np.asarray(vec, dtype="<f4")
    if fmt == "base64":
        return base64.b64encode(arr.tobytes()).decode("ascii")
    return arr.tolist()


# ---------------------------------------------------------------- chat and completions
def _message_text(msg: s.ChatMessage, index: int) -> str:
    if msg.content is None or isinstance(msg.content, str):
        return msg.content or ""
    parts = []
    for part in msg.content:
        if part.type != "text" or part.text is None:
            raise APIError(400, f"messages[{index}]: only text content is supported (got {part.type!r})",
                           param=f"messages.{index}.content", code="unsupported_content")
        parts.append(part.text)
    return "".join(parts)


def _schema_for(fmt: s.ResponseFormat | None) -> dict[str, Any] | None:
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "object"}
    if fmt.json_schema is None or fmt.json_schema.schema_ is None:
        raise APIError(400, "response_format json_schema needs 'json_schema': {'name', 'schema'}",
                       param="response_format.json_schema", code="invalid_value")
    return fmt.json_schema.schema_


def _stops(stop: str | list[str] | None) -> list[str] | None:
    if stop is None:
        return None
    stops = [stop] if isinstance(stop, str) else list(stop)
    if len(stops) > 4 or any(not x or len(x) > 256 for x in stops):
        raise APIError(400, "stop: at most 4 non-empty sequences of at most 256 characters", param="stop",
                       code="invalid_value")
    return stops


def _gen_kwargs(req: s._GenerationParams, max_tokens: int, fmt: s.ResponseFormat | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"max_tokens": max_tokens, "temperature": req.temperature, "stop": _stops(req.stop),
                              "seed": req.seed}
    if req.top_p is not None:  # OpenAI has top_p (no top_k); the task passes it to the runtime
        kwargs["top_p"] = req.top_p
    schema = _schema_for(fmt)
    if schema is not None:
        kwargs["json_schema"] = schema
    return kwargs


@router.post("/chat/completions", response_model=s.ChatCompletion, responses={
    **ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "JSON, or server-sent events when stream"}},
    tags=["openai"])
async def chat_completions(req: s.ChatCompletionRequest, state: ServerState = Depends(get_state)):
    limits = state.settings.limits
    check_max_tokens(req.max_tokens, limits)
    check_max_tokens(req.max_completion_tokens, limits, param="max_completion_tokens")
    messages = []
    for i, m in enumerate(req.messages):
        role = "system" if m.role == "developer" else m.role
        messages.append({"role": role, "content": _message_text(m, i)})
    total = "".join(m["content"] for m in messages)
    check_texts([total], limits, param="messages", what="messages")
    if len(messages) > limits.max_inputs:
        raise APIError(413, f"too many messages: {len(messages)}", param="messages", code="too_many_inputs")
    ref = state.directory.ref(req.model)
    max_tokens = req.max_completion_tokens or req.max_tokens or min(DEFAULT_CHAT_MAX_TOKENS, limits.max_tokens)
    kwargs = _gen_kwargs(req, max_tokens, req.response_format)
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if req.logprobs and req.stream:
        raise APIError(400, "logprobs are not sent in a stream here: ask without stream", param="logprobs",
                       code="unsupported_parameter")
    if req.logprobs:
        out, lps = await state.timed(state.runner.generate_logprobs(
            ref, messages=messages, top=req.top_logprobs or 0, echo=False, **kwargs))
        return s.ChatCompletion(
            id=cid, created=created, model=req.model,
            choices=[s.ChatChoice(index=0, message=s.AssistantMessage(content=out.text),
                                  finish_reason=out.finish_reason, logprobs=chat_logprobs(lps))],
            usage=s.Usage(prompt_tokens=out.prompt_tokens, completion_tokens=out.completion_tokens,
                          total_tokens=out.prompt_tokens + out.completion_tokens))
    if req.stream:
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        stream = await _primed(state, state.runner.generate_stream(
            ref, messages=messages, idle_timeout=limits.request_timeout_s, **kwargs))
        return _sse(_chat_chunks(stream, cid, created, req.model, max_tokens, include_usage))
    out = await state.timed(state.runner.generate(ref, messages=messages, **kwargs))
    return s.ChatCompletion(
        id=cid, created=created, model=req.model,
        choices=[s.ChatChoice(index=0, message=s.AssistantMessage(content=out.text), finish_reason=out.finish_reason)],
        usage=s.Usage(prompt_tokens=out.prompt_tokens, completion_tokens=out.completion_tokens,
                      total_tokens=out.prompt_tokens + out.completion_tokens))


@router.post("/completions", response_model=s.Completion, responses={
    **ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "JSON, or server-sent events when stream"}},
    tags=["openai"])
async def completions(req: s.CompletionRequest, state: ServerState = Depends(get_state)):
    limits = state.settings.limits
    check_max_tokens(req.max_tokens, limits)
    prompts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
    check_texts(prompts, limits, param="prompt", what="prompts")
    if req.stream and len(prompts) != 1:
        raise APIError(400, "streaming takes a single prompt", param="prompt", code="invalid_value")
    ref = state.directory.ref(req.model)
    max_tokens = 16 if req.max_tokens is None else req.max_tokens
    if max_tokens == 0 and not req.echo:
        raise APIError(400, "max_tokens=0 only with echo (scoring the prompt)", param="max_tokens",
                       code="invalid_value")
    if req.stream and (req.echo or req.logprobs is not None):
        raise APIError(400, "echo and logprobs are not sent in a stream here: ask without stream",
                       param="logprobs", code="unsupported_parameter")
    kwargs = _gen_kwargs(req, max_tokens, req.response_format)
    cid, created = f"cmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if req.logprobs is not None or req.echo:
        return await _scored_completions(state, req, ref, prompts, kwargs, cid, created)
    if req.stream:
        stream = await _primed(state, state.runner.generate_stream(
            ref, prompt=prompts[0], idle_timeout=limits.request_timeout_s, **kwargs))
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return _sse(_completion_chunks(stream, cid, created, req.model, max_tokens, include_usage))
    choices, p_tok, c_tok = [], 0, 0
    for i, prompt in enumerate(prompts):
        out = await state.timed(state.runner.generate(ref, prompt=prompt, **kwargs))
        choices.append(s.CompletionChoice(index=i, text=out.text, finish_reason=out.finish_reason))
        p_tok += out.prompt_tokens
        c_tok += out.completion_tokens
    return s.Completion(id=cid, created=created, model=req.model, choices=choices,
                        usage=s.Usage(prompt_tokens=p_tok, completion_tokens=c_tok, total_tokens=p_tok + c_tok))


async def _scored_completions(state: ServerState, req: s.CompletionRequest, ref: str, prompts: list[str],
                              kwargs: dict[str, Any], cid: str, created: int) -> s.Completion:
    """Completions with ``logprobs`` and/or ``echo`` (the prompt's tokens scored too: classic text scoring)."""
    choices, p_tok, c_tok = [], 0, 0
    for i, prompt in enumerate(prompts):
        if req.logprobs is None:  # echo alone
            out = (await state.timed(state.runner.generate(ref, prompt=prompt, **kwargs)) if kwargs["max_tokens"]
                   else GenOut("", 0, 0, "length"))
            lp = None
        else:
            out, lps = await state.timed(state.runner.generate_logprobs(
                ref, prompt=prompt, top=req.logprobs, echo=req.echo, **kwargs))
            lp = completion_logprobs(lps, offset=0 if req.echo else len(prompt))
        text = (prompt if req.echo else "") + out.text
        choices.append(s.CompletionChoice(index=i, text=text, finish_reason=out.finish_reason, logprobs=lp))
        p_tok += out.prompt_tokens
        c_tok += out.completion_tokens
    return s.Completion(id=cid, created=created, model=req.model, choices=choices,
                        usage=s.Usage(prompt_tokens=p_tok, completion_tokens=c_tok, total_tokens=p_tok + c_tok))


# ---------------------------------------------------------------- server-sent events
async def _primed(state: ServerState, stream: AsyncIterator[str | GenOut]) -> AsyncIterator[str | GenOut]:
    """Wait for the first piece before answering 200, so that an unknown model or a bad grammar gets
    its proper status code instead of an error inside an open stream."""
    try:
        first = await state.timed(anext(stream))
    except StopAsyncIteration:
        first = None

    async def rest() -> AsyncIterator[str | GenOut]:
        if first is None:
            return
        yield first
        async for piece in stream:
            yield piece

    return rest()


def _sse(events: AsyncIterator[dict[str, Any]]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        async for event in events:
            yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _guarded(stream: AsyncIterator[str | GenOut]) -> AsyncIterator[str | GenOut | dict[str, Any]]:
    """Pieces of text; an error after the stream started becomes one last error event (OpenAI does the same)."""
    from ..errors import LocalModelsError
    from .errors import from_local_error

    try:
        async for piece in stream:
            yield piece
    except APIError as e:
        yield e.body()
    except LocalModelsError as e:
        yield from_local_error(e).body()
    except Exception as e:  # noqa: BLE001 - the stream is already open: report in-band
        import logging

        logging.getLogger("localmodels.server").error("stream failed: %s", type(e).__name__, exc_info=e)
        yield error_body(f"generation failed ({type(e).__name__})", type="server_error", code="internal_error")


async def _chat_chunks(stream: AsyncIterator[str | GenOut], cid: str, created: int, model: str, max_tokens: int,
                       include_usage: bool) -> AsyncIterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    yield chunk({"role": "assistant", "content": ""}, None)
    tally = _Tally(max_tokens)
    async for piece in _guarded(stream):
        if isinstance(piece, dict):  # an error after the stream started
            yield piece
            return
        if tally.add(piece):
            yield chunk({"content": piece}, None)
    yield chunk({}, tally.finish_reason)
    if include_usage:
        yield {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [],
               "usage": tally.usage()}


async def _completion_chunks(stream: AsyncIterator[str | GenOut], cid: str, created: int, model: str,
                             max_tokens: int, include_usage: bool) -> AsyncIterator[dict[str, Any]]:
    def chunk(text: str, finish: str | None) -> dict[str, Any]:
        return {"id": cid, "object": "text_completion", "created": created, "model": model,
                "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}]}

    tally = _Tally(max_tokens)
    async for piece in _guarded(stream):
        if isinstance(piece, dict):
            yield piece
            return
        if tally.add(piece):
            yield chunk(piece, None)
    yield chunk("", tally.finish_reason)
    if include_usage:
        yield {"id": cid, "object": "text_completion", "created": created, "model": model, "choices": [],
               "usage": tally.usage()}


class _Tally:
    """Counts streamed pieces; the runtime's final totals replace the estimate when they come."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self.pieces = 0
        self.final: GenOut | None = None

    def add(self, piece: str | GenOut) -> bool:
        """True when ``piece`` is text to send."""
        if isinstance(piece, GenOut):
            self.final = piece
            return False
        self.pieces += 1
        return bool(piece)

    @property
    def finish_reason(self) -> str:
        if self.final is not None:
            return self.final.finish_reason
        return "length" if self.pieces >= self.max_tokens else "stop"

    def usage(self) -> dict[str, int]:
        p = self.final.prompt_tokens if self.final else 0
        c = self.final.completion_tokens if self.final else self.pieces
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
