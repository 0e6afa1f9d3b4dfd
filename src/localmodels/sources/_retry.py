"""Our own retry for Hub calls: exponential backoff with jitter, honouring ``Retry-After``.

``huggingface_hub`` retries some calls and not others (2.4: not the model-info call, not a 5xx on the
file GET; see ``notes/hub-protocol.md``), so every Hub call goes through :func:`call_with_retry`.

This is the one retry layer: nothing retries around it. Settings (``config.settings()``, read per
call, so tests can make the sleeps tiny): ``retry_attempts`` (total attempts per call, default 5),
``retry_base`` (first backoff in seconds, default 1.0; doubles each time, +-50% jitter),
``retry_max_wait`` (longest single wait in seconds, Retry-After included, default 60).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from .. import config
from ..errors import LocalModelsError, NetworkError

T = TypeVar("T")
log = logging.getLogger("localmodels.sources.hub")

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
# Errors that a second try cannot fix, whatever caused them.
_PERMANENT_NAMES = {
    "RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError", "RemoteEntryNotFoundError",
    "EntryNotFoundError", "DisabledRepoError", "OfflineModeIsEnabled", "HFValidationError", "BadRequestError",
    "ProxyError", "LocalTokenNotFoundError",
}
_TRANSIENT_MESSAGES = ("Consistency check failed", "Connection reset", "Connection aborted", "timed out")


@dataclass
class RetryPolicy:
    """What a caller asks of the Hub calls made inside :func:`retry_policy` (e.g. ``sync --retries``)."""

    attempts: int | None = None  # None: the setting retry_attempts
    base: float | None = None  # None: the setting retry_base
    used: int = 0  # the most attempts one call needed so far


_POLICY: ContextVar[RetryPolicy | None] = ContextVar("localmodels_retry_policy", default=None)


@contextmanager
def retry_policy(attempts: int | None = None, base: float | None = None) -> Iterator[RetryPolicy]:
    """Hub calls made in this block (this thread) try ``attempts`` times, first backoff ``base``;
    the yielded policy's ``used`` says how many attempts the hardest call needed."""
    policy = RetryPolicy(attempts, base)
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


def attempts() -> int:
    policy = _POLICY.get()
    if policy is not None and policy.attempts is not None:
        return max(1, policy.attempts)
    return max(1, int(config.settings().retry_attempts))


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out and len(out) < 12:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` or ``RateLimit: ...;t=N``), if any."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - time.time())
            except (TypeError, ValueError):
                return None
    ratelimit = headers.get("ratelimit")
    if ratelimit and "t=" in ratelimit:
        try:
            return max(0.0, float(ratelimit.split("t=")[1].split(";")[0].split(",")[0]))
        except ValueError:
            return None
    return None


def classify(exc: BaseException) -> tuple[bool, float | None]:
    """(worth another try?, seconds the server asked to wait) for an error raised by a Hub call."""
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, LocalModelsError):
            return False, None
        if type(e).__name__ in _PERMANENT_NAMES or any(
                c.__name__ in _PERMANENT_NAMES - {"EntryNotFoundError"} for c in type(e).__mro__):
            return False, None
        status = _status(e)
        if status is not None:
            return (status in _RETRY_STATUS or status >= 500), retry_after(e)
    for e in chain:
        mod = type(e).__module__ or ""
        if mod.startswith(("httpx", "httpcore", "h11", "anyio")) and any(
                c.__name__ in ("TransportError", "NetworkError", "TimeoutException", "RemoteProtocolError",
                               "ProtocolError", "ReadError", "ConnectError", "WriteError")
                for c in type(e).__mro__):
            return True, None
        if isinstance(e, (ConnectionError, TimeoutError)):
            return True, None
        if isinstance(e, OSError) and any(m in str(e) for m in _TRANSIENT_MESSAGES):
            return True, None
    return False, None


def backoff(attempt: int) -> float:
    """Wait before try ``attempt + 1`` (attempt counts from 0): base * 2**attempt, +-50% jitter."""
    policy = _POLICY.get()
    base = policy.base if policy is not None and policy.base is not None else config.settings().retry_base
    return base * (2 ** attempt) * random.uniform(0.5, 1.5)


def call_with_retry(fn: Callable[[], T], *, what: str, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``fn`` until it succeeds, retrying transient Hub errors; :class:`NetworkError` when they persist.

    Permanent errors (not found, gated, bad revision, offline...) propagate unchanged at once.
    """
    total = attempts()
    max_wait = config.settings().retry_max_wait
    policy = _POLICY.get()
    for attempt in range(total):
        if policy is not None:
            policy.used = max(policy.used, attempt + 1)
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below
            transient, asked = classify(exc)
            if not transient:
                raise
            if attempt + 1 >= total:
                raise NetworkError(
                    f"{what} failed after {total} attempts: {_short(exc)}",
                    hint="check the connection and HF_ENDPOINT, then run the command again",
                ) from exc
            wait = min(max_wait, max(asked or 0.0, backoff(attempt)) if asked is not None else backoff(attempt))
            log.warning("%s failed (%s); retry %d/%d in %.2fs", what, _short(exc), attempt + 1, total - 1, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
