"""Models behind an OpenAI-compatible endpoint: ``remote:<model>`` references.

The endpoint comes from the environment:

    LOCALMODELS_REMOTE_BASE_URL   e.g. http://127.0.0.1:8080/v1 (vLLM, llama.cpp server, localmodels serve)
    LOCALMODELS_REMOTE_API_KEY    sent as ``Authorization: Bearer ...`` (optional for local servers)
    LOCALMODELS_REMOTE_TIMEOUT    seconds per request (default 60)
    LOCALMODELS_REMOTE_MAX_RETRIES  retries on 429 / 5xx / timeouts / dropped connections (default 3)
    LOCALMODELS_REMOTE_BACKOFF    first backoff in seconds, doubled each retry (default 0.5)

or from a provider preset, named in the reference (``remote:deepseek/deepseek-chat``) or guessed from
the model name when ``LOCALMODELS_REMOTE_BASE_URL`` is not set (``remote:deepseek-chat``,
``remote:gpt-4o-mini``, ``remote:gemini-2.0-flash``):

    openai      https://api.openai.com/v1                                 OPENAI_API_KEY  (OPENAI_BASE_URL)
    deepseek    https://api.deepseek.com/v1                               DEEPSEEK_API_KEY
    gemini      https://generativelanguage.googleapis.com/v1beta/openai   GEMINI_API_KEY (or GOOGLE_API_KEY)
    groq        https://api.groq.com/openai/v1                            GROQ_API_KEY
    mistral     https://api.mistral.ai/v1                                 MISTRAL_API_KEY
    openrouter  https://openrouter.ai/api/v1                              OPENROUTER_API_KEY
    ollama      http://127.0.0.1:11434/v1                                 (no key)
    llamacpp    http://127.0.0.1:8080/v1                                  (no key)

The API key is never printed, logged, put in an exception message or shown by ``repr``.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..config import settings
from ..errors import AccessError, ModelNotFoundError, NetworkError, RuntimeFailure, UsageError
from ..results import Generation
from ._remote_encoder import RemoteEncoding
from ._remote_labels import RemoteLabels, json_schema_format
from ._stream import GenerationStream

__all__ = ["PRESETS", "Provider", "RemoteEndpoint", "RemoteModel", "endpoint_for", "get_remote", "json_schema_format"]


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str
    key_envs: tuple[str, ...] = ()
    base_url_env: str | None = None
    model_prefixes: tuple[str, ...] = ()


PRESETS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("openai", "https://api.openai.com/v1", ("OPENAI_API_KEY",), "OPENAI_BASE_URL",
                 ("gpt-", "o1", "o3", "o4", "chatgpt-")),
        Provider("deepseek", "https://api.deepseek.com/v1", ("DEEPSEEK_API_KEY",), None, ("deepseek-",)),
        Provider("gemini", "https://generativelanguage.googleapis.com/v1beta/openai",
                 ("GEMINI_API_KEY", "GOOGLE_API_KEY"), None, ("gemini-",)),
        Provider("groq", "https://api.groq.com/openai/v1", ("GROQ_API_KEY",)),
        Provider("mistral", "https://api.mistral.ai/v1", ("MISTRAL_API_KEY",), None,
                 ("mistral-", "open-mistral", "codestral")),
        Provider("openrouter", "https://openrouter.ai/api/v1", ("OPENROUTER_API_KEY",)),
        Provider("ollama", "http://127.0.0.1:11434/v1"),
        Provider("llamacpp", "http://127.0.0.1:8080/v1"),
    )
}


@dataclass(frozen=True)
class RemoteEndpoint:
    """Where to send requests. ``api_key`` is excluded from ``repr``."""

    base_url: str
    provider: str
    api_key: str | None = field(default=None, repr=False)
    key_env: str | None = None  # the variable the key came from (for hints)
    timeout: float = 60.0
    max_retries: int = 3
    backoff: float = 0.5

    @property
    def display_url(self) -> str:
        """The base URL without any user:password part."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))


def endpoint_for(name: str) -> tuple[RemoteEndpoint, str]:
    """The endpoint and the model id to send, for ``remote:<name>`` (``name`` without the prefix)."""
    if name.startswith("remote:"):
        name = name[len("remote:"):]
    if not name:
        raise UsageError("missing model name after 'remote:'", hint="e.g. remote:gpt-4o-mini")
    s = settings()
    common = dict(timeout=s.remote_timeout, max_retries=max(0, s.remote_max_retries),
                  backoff=max(0.0, s.remote_backoff))

    head, sep, rest = name.partition("/")
    if sep and head in PRESETS and rest:
        return _preset_endpoint(PRESETS[head], **common), rest
    if s.remote_base_url:
        return RemoteEndpoint(s.remote_base_url.rstrip("/"), "custom", s.remote_api_key,
                              "LOCALMODELS_REMOTE_API_KEY", **common), name
    for p in PRESETS.values():
        if p.model_prefixes and name.lower().startswith(p.model_prefixes):
            return _preset_endpoint(p, **common), name
    raise UsageError(
        f"no endpoint for remote:{name}",
        hint="set LOCALMODELS_REMOTE_BASE_URL (and LOCALMODELS_REMOTE_API_KEY), or name a provider: "
             f"remote:<provider>/<model> with provider one of {', '.join(PRESETS)}",
    )


def _preset_endpoint(p: Provider, **common: Any) -> RemoteEndpoint:
    base = (os.environ.get(p.base_url_env, "") if p.base_url_env else "").strip() or p.base_url
    key, key_env = None, (p.key_envs[0] if p.key_envs else None)
    for env in p.key_envs:
        if os.environ.get(env):
            key, key_env = os.environ[env], env
            break
    if p.key_envs and key is None:
        raise AccessError(
            f"no API key for {p.name}: set {' or '.join(p.key_envs)}", repo_id=p.name,
            hint=f"export {p.key_envs[0]}=... (the key is never printed)",
        )
    return RemoteEndpoint(base.rstrip("/"), p.name, key, key_env, **common)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


MAX_WAIT = 60.0  # never sleep longer than this for one retry, whatever Retry-After says


class RemoteModel(RemoteEncoding, RemoteLabels):
    """A model behind an OpenAI-compatible endpoint: an ``LLM`` (chat completions) and an ``Encoder``
    (embeddings, rerank; see :mod:`._remote_encoder`); labels are scored in :mod:`._remote_labels`."""

    def __init__(self, name: str, endpoint: RemoteEndpoint | None = None, model_id: str | None = None) -> None:
        if endpoint is None:
            endpoint, model_id = endpoint_for(name)
        self.name = name if name.startswith("remote:") else f"remote:{name}"
        self.model_id = model_id or name
        self.endpoint = endpoint
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RemoteModel({self.name!r}, endpoint={self.endpoint.display_url!r})"

    # ---------------------------------------------------------------- HTTP

    def _http(self) -> Any:
        import httpx

        with self._lock:
            if self._client is None:
                t = self.endpoint.timeout
                self._client = httpx.Client(timeout=httpx.Timeout(t, connect=min(t, 10.0)), follow_redirects=True)
            return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if self.endpoint.api_key:
            h["Authorization"] = f"Bearer {self.endpoint.api_key}"
        return h

    def _scrub(self, text: str) -> str:
        key = self.endpoint.api_key
        if key:
            text = text.replace(key, "***")
            if len(key) >= 12:  # masked echoes such as 'sk-abc...wxyz'
                text = text.replace(key[:8], "***").replace(key[-6:], "***")
        return text[:500]

    def post(self, path: str, payload: dict[str, Any], *, stream: bool = False) -> Any:
        """POST with retries on 429 (honouring Retry-After), 5xx, timeouts and dropped connections."""
        import httpx

        ep = self.endpoint
        url = f"{ep.base_url}/{path.lstrip('/')}"
        where = f"{ep.display_url}/{path.lstrip('/')}"
        client = self._http()
        last = ""
        for attempt in range(ep.max_retries + 1):
            wait = min(MAX_WAIT, ep.backoff * (2 ** attempt)) * (1 + random.random() * 0.1)
            try:
                req = client.build_request("POST", url, json=payload, headers=self._headers())
                resp = client.send(req, stream=stream)
            except httpx.TimeoutException:
                last = f"timed out after {ep.timeout:g} s"
            except httpx.TransportError as e:
                last = f"connection failed ({type(e).__name__})"
            else:
                status = resp.status_code
                if status < 400:
                    return resp
                body = self._error_text(resp)
                if status == 429 or status >= 500:
                    last = f"HTTP {status}" + (f": {body}" if body else "")
                    after = _retry_after(resp.headers.get("Retry-After"))
                    if after is not None:
                        wait = min(MAX_WAIT, after)
                else:
                    self._raise_for(status, body, where)
            if attempt < ep.max_retries:
                time.sleep(wait)
        raise NetworkError(
            f"{where} failed after {ep.max_retries + 1} attempt(s): {last}",
            hint="check that the endpoint is up; raise LOCALMODELS_REMOTE_TIMEOUT or LOCALMODELS_REMOTE_MAX_RETRIES",
        )

    def _error_text(self, resp: Any) -> str:
        try:
            resp.read()
            data = resp.json()
            err = data.get("error", data) if isinstance(data, dict) else data
            msg = err.get("message") if isinstance(err, dict) else err
            text = msg if isinstance(msg, str) else json.dumps(msg)
        except Exception:  # noqa: BLE001 - not JSON
            try:
                text = resp.text
            except Exception:  # noqa: BLE001
                text = ""
        finally:
            resp.close()
        return self._scrub(" ".join(str(text).split()))

    def _raise_for(self, status: int, body: str, where: str) -> None:
        ep = self.endpoint
        if status in (401, 403):
            key_hint = f"check {ep.key_env}" if ep.key_env else "set the API key for this endpoint"
            what = "rejected the API key" if status == 401 else "refused access"
            raise AccessError(
                f"{where} {what} (HTTP {status}) for remote:{self.model_id}"
                + ("" if ep.api_key else "; no API key was sent"),
                repo_id=self.name, status=status, hint=f"{key_hint} (the key is never printed)",
            )
        if status == 404:
            raise ModelNotFoundError(
                f"{where}: not found (HTTP 404) for model {self.model_id!r}" + (f": {body}" if body else ""),
                ref=self.name, hint="check the model name and the base URL (it usually ends in /v1)",
            )
        raise UsageError(
            f"{where} refused the request (HTTP {status})" + (f": {body}" if body else ""),
            hint="check the request options for this endpoint",
        )

    # ---------------------------------------------------------------- chat completions

    def chat_completion(self, payload: dict[str, Any]) -> dict[str, Any]:
        resp = self.post("chat/completions", {"model": self.model_id, **payload, "stream": False})
        try:
            data = resp.json()
        except ValueError:
            raise RuntimeFailure(f"{self.endpoint.display_url} returned a response that is not JSON") from None
        if not isinstance(data, dict) or not data.get("choices"):
            raise RuntimeFailure(f"{self.endpoint.display_url} returned no choices: {self._scrub(str(data))[:200]}")
        return data

    def stream_chat(self, payload: dict[str, Any], state: dict[str, Any]) -> Iterator[str]:
        """Send the request now; the iterator yields content pieces from the server-sent events.

        ``state`` receives the finish reason and, when the server sends it, the usage.
        """
        resp = self.post("chat/completions", {"model": self.model_id, **payload, "stream": True}, stream=True)
        return self._events(resp, state)

    def _events(self, resp: Any, state: dict[str, Any]) -> Iterator[str]:
        try:
            for line in resp.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    event = json.loads(data)
                except ValueError:
                    continue
                if "error" in event:
                    raise RuntimeFailure(f"the stream from {self.endpoint.display_url} failed: "
                                         f"{self._scrub(json.dumps(event['error']))}")
                if event.get("usage"):
                    state["usage"] = event["usage"]
                for choice in event.get("choices") or []:
                    if choice.get("finish_reason"):
                        state["finish"] = choice["finish_reason"]
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except Exception as e:
            import httpx

            if isinstance(e, httpx.HTTPError):
                raise NetworkError(
                    f"the stream from {self.endpoint.display_url} broke off ({type(e).__name__})") from None
            raise
        finally:
            resp.close()

    def generate(self, *, prompt: str | None = None, messages: Sequence[dict[str, Any]] | None = None,
                 max_tokens: int = 128, temperature: float = 0.0, stop: str | Sequence[str] | None = None,
                 seed: int | None = None, json_schema: dict[str, Any] | str | None = None,
                 grammar: str | None = None, stream: bool = False, model_name: str | None = None,
                 top_p: float | None = None, top_k: int | None = None) -> Generation | GenerationStream:
        if top_k is not None:
            raise UsageError("top_k is not part of the OpenAI API; a remote endpoint would ignore it",
                             hint="use top_p (or temperature) with a remote model")
        if grammar is not None:
            raise UsageError(
                "GBNF grammars are not part of the OpenAI API; a remote endpoint would ignore it",
                hint="use json_schema= for structured output from a remote model",
            )
        msgs = list(messages) if messages is not None else [{"role": "user", "content": prompt}]
        payload: dict[str, Any] = {"messages": msgs, "max_tokens": max_tokens, "temperature": temperature}
        if stop:
            payload["stop"] = [stop] if isinstance(stop, str) else list(stop)
        if seed is not None:
            payload["seed"] = seed
        if top_p is not None:
            payload["top_p"] = top_p
        if json_schema is not None:
            schema = json.loads(json_schema) if isinstance(json_schema, str) else json_schema
            payload["response_format"] = json_schema_format(schema)
        t0 = time.perf_counter()
        if not stream:
            data = self.chat_completion(payload)
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return Generation(
                text=(choice.get("message") or {}).get("content") or "", model=self.name,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                finish_reason=choice.get("finish_reason") or "stop", seconds=time.perf_counter() - t0,
            )
        state: dict[str, Any] = {"finish": "stop", "usage": {}}

        def finish(text: str) -> Generation:
            usage = state["usage"] or {}
            return Generation(
                text=text, model=self.name, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0), finish_reason=state["finish"],
                seconds=time.perf_counter() - t0,
            )

        return GenerationStream(self.stream_chat(payload, state), finish)

    def chat(self, messages: Sequence[dict[str, Any]], **options: Any) -> Generation | GenerationStream:
        return self.generate(messages=messages, **options)


_REMOTES: dict[str, RemoteModel] = {}
_REMOTES_LOCK = threading.Lock()


def get_remote(ref: str) -> RemoteModel:
    """A :class:`RemoteModel` for ``remote:<name>``; one client per endpoint, model and settings."""
    endpoint, model_id = endpoint_for(ref)
    key = (f"{ref}|{endpoint.base_url}|{hash(endpoint.api_key)}|{endpoint.timeout}|{endpoint.max_retries}"
           f"|{endpoint.backoff}")
    with _REMOTES_LOCK:
        m = _REMOTES.get(key)
        if m is None:
            m = _REMOTES[key] = RemoteModel(ref, endpoint, model_id)
        return m
