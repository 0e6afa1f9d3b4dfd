"""Everything ``localmodels serve`` can be told, in one frozen record (the CLI fills it in)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..config import settings as env_settings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Limits:
    """What one request may ask for. Over a size limit: 413; over ``max_tokens``: 422."""

    max_body_bytes: int = 8 * 1024 * 1024
    max_inputs: int = 2048  # texts per embeddings / ner / classify request, documents per rerank
    max_input_chars: int = 32_768  # characters per text (and per chat message / prompt)
    max_tokens: int = 2048  # completion tokens per generation request
    max_labels: int = 256  # labels per classify / ner request
    request_timeout_s: float = 120.0  # a request that takes longer gets 504
    max_queue: int = 4096  # queued inputs per model before the server answers 503 (backpressure)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Served models: {"public name": "model reference"}. Empty: any model the store resolves by
    # alias or Hub id (local paths and remote: refs must be listed explicitly).
    models: dict[str, str] = field(default_factory=dict)
    api_key: str | None = None
    keep_alive_s: float = 300.0  # unload a model idle this long; < 0 keeps models loaded forever
    batching: bool = True
    max_batch: int = 32
    batch_wait_ms: float = 5.0
    workers: int = 2  # threads running encoder batches (generation has its own thread per model)
    # batches per model at once (LOCALMODELS_BATCH_INFLIGHT when the record is made)
    batch_inflight: int = field(default_factory=lambda: env_settings().batch_inflight)
    # seconds a client has to send a request's headers, then its body (LOCALMODELS_SERVER_HEADER_TIMEOUT,
    # LOCALMODELS_SERVER_BODY_TIMEOUT when the record is made)
    header_timeout_s: float = field(default_factory=lambda: env_settings().server_header_timeout)
    body_timeout_s: float = field(default_factory=lambda: env_settings().server_body_timeout)
    # web origins, besides the server's own page, that may call it (LOCALMODELS_SERVER_ORIGINS; "*": any)
    origins: tuple[str, ...] = field(default_factory=lambda: parse_origins(env_settings().server_origins))
    limits: Limits = field(default_factory=Limits)
    # Models whose embeddings may be truncated (Matryoshka-trained), beyond the built-in list.
    matryoshka: frozenset[str] = frozenset()
    log_bodies: bool = False  # never on by default: bodies may hold private text
    ui: bool = True  # the web dashboard at / (--no-ui turns it off)

    @property
    def is_loopback(self) -> bool:
        """True for localhost and loopback addresses (127.0.0.0/8, ::1): reachable from this machine only."""
        if self.host in LOOPBACK_HOSTS:
            return True
        import ipaddress

        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


def parse_origins(spec: str | None) -> tuple[str, ...]:
    """``"http://a.example:3000, https://b.example/"`` -> ``("http://a.example:3000", "https://b.example")``."""
    return tuple(dict.fromkeys(o.strip().rstrip("/").lower() for o in (spec or "").split(",") if o.strip()))


def parse_models(spec: str | None) -> dict[str, str]:
    """``"minilm,rr=./tiny-reranker"`` -> ``{"minilm": "minilm", "rr": "./tiny-reranker"}``."""
    out: dict[str, str] = {}
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, ref = part.partition("=")
        name, ref = name.strip(), ref.strip()
        if sep and (not name or not ref):
            from ..errors import UsageError

            raise UsageError(f"bad --models item {part!r}", hint="use NAME or PUBLIC_NAME=REFERENCE, comma-separated")
        out[name] = ref if sep else name
    return out


def api_key_from_env(var: str | None) -> str | None:
    """The key named by ``--api-key-env``; an unset or empty variable is an error, never "no auth"."""
    if not var:
        return None
    value = os.environ.get(var, "")
    if not value:
        from ..errors import UsageError

        raise UsageError(f"environment variable {var} is empty or not set",
                         hint=f"export {var}=<a long random key>, or drop --api-key-env")
    return value
