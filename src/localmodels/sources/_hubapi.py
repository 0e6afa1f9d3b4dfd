"""The Hub's remote calls: commit of a revision, file listing, download; each retried once by
:func:`._retry.call_with_retry` (the one retry layer) and its errors turned into ours."""

from __future__ import annotations

import errno
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .. import config
from ..errors import (
    AccessError,
    InvalidReferenceError,
    LocalModelsError,
    ModelNotFoundError,
    NetworkError,
    OfflineError,
    from_os_error,
)
from ._hflayout import escape_pattern, is_commit
from ._hubnames import check_repo_id
from ._retry import call_with_retry
from .hfcache import RepoFolder


def hub_module():
    """Import ``huggingface_hub`` (after making sure no telemetry call can leave the machine), its
    HTTP client bounded by our timeouts (see :func:`install_client`)."""
    config.prepare_hf_env()
    import huggingface_hub
    from huggingface_hub import constants

    # Our offline switch is the source of truth (huggingface_hub read its env only at import).
    constants.HF_HUB_OFFLINE = config.offline()
    install_client(huggingface_hub)
    return huggingface_hub


def hub_client_timeouts() -> dict[str, float]:
    """Connect and read timeouts (seconds) of every Hub request, from the settings."""
    s = config.settings()
    return {"connect": s.hub_connect_timeout, "read": s.hub_read_timeout,
            "write": s.hub_read_timeout, "pool": s.hub_connect_timeout}


_client_lock = threading.Lock()
_client_timeouts: dict[str, float] | None = None


def install_client(hf: Any) -> None:
    """Give ``huggingface_hub`` an HTTP client whose every request has our timeouts.

    Its own client has ``timeout=None``, and ``model_info`` / ``list_repo_tree`` pass
    ``timeout=None`` per request: a Hub that accepts the connection and never answers would hang
    a pull forever. The timeouts are set in the transport, so no per-request value undoes them;
    a shorter one a request asks for stays (huggingface_hub's 10 s for downloads, or its
    ``HF_HUB_DOWNLOAD_TIMEOUT``). The retry policy (:mod:`._retry`) then decides what a timed-out
    attempt is worth.
    """
    global _client_timeouts
    timeouts = hub_client_timeouts()
    if timeouts == _client_timeouts:
        return
    with _client_lock:
        if timeouts != _client_timeouts:
            hf.set_client_factory(lambda: _bounded_client(timeouts))
            _client_timeouts = timeouts


class _BoundedTransport:
    """An httpx transport that bounds the timeouts of every request, then hands it on."""

    def __init__(self, inner: Any, timeouts: dict[str, float]) -> None:
        self.inner = inner
        self.timeouts = timeouts

    def handle_request(self, request: Any) -> Any:
        asked = request.extensions.get("timeout") or {}
        bounded = {k: v if asked.get(k) is None else min(v, asked[k]) for k, v in self.timeouts.items()}
        request.extensions = {**request.extensions, "timeout": bounded}
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> _BoundedTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _bounded_client(timeouts: dict[str, float]) -> Any:
    """huggingface_hub's default client (its request hook: offline guard, request ids), bounded."""
    import httpx2
    from huggingface_hub.utils import _http

    base = _http.default_client_factory()
    hooks = base.event_hooks
    base.close()
    client = httpx2.Client(event_hooks=hooks, follow_redirects=True, timeout=httpx2.Timeout(**timeouts),
                           transport=_BoundedTransport(httpx2.HTTPTransport(), timeouts))
    mounts = getattr(client, "_mounts", None)  # proxies from the environment get their own transports
    if isinstance(mounts, dict):
        for pattern, transport in list(mounts.items()):
            if transport is not None:
                mounts[pattern] = _BoundedTransport(transport, timeouts)
    return client


def token_of(token: str | bool | None) -> str | bool | None:
    if token is not None:
        return token
    return config.hf_token()


@contextmanager
def hub_errors(repo_id: str, revision: str | None, *, token_sent: bool = False) -> Iterator[None]:
    """Turn ``huggingface_hub`` errors into ours, each with a hint."""
    from huggingface_hub import errors as hf_errors

    endpoint = config.hf_endpoint()
    shown = f"{repo_id}@{revision}" if revision and revision != "main" else repo_id
    try:
        yield
    except LocalModelsError:
        raise
    except hf_errors.GatedRepoError as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        if status == 403:
            raise AccessError(
                f"your Hugging Face token has no access to the gated repo {repo_id}",
                repo_id=repo_id, status=403,
                hint=f"request access at {endpoint}/{repo_id} (with the account of your HF_TOKEN), then pull again",
            ) from None
        if token_sent:
            raise AccessError(
                f"the Hugging Face token was refused for the gated repo {repo_id} (401: invalid or expired)",
                repo_id=repo_id, status=401,
                hint=f"set HF_TOKEN to a valid token of an account with access (request it at {endpoint}/{repo_id})",
            ) from None
        raise AccessError(
            f"{repo_id} is a gated repo and no Hugging Face token was sent",
            repo_id=repo_id, status=status or 401,
            hint=f"set HF_TOKEN to a token of an account with access (request it at {endpoint}/{repo_id})",
        ) from None
    except hf_errors.RepositoryNotFoundError:
        raise ModelNotFoundError(
            f"repo {repo_id} was not found on {endpoint}", ref=shown,
            hint="check the name (localmodels catalog lists known models); a private repo needs HF_TOKEN",
        ) from None
    except hf_errors.RevisionNotFoundError:
        raise ModelNotFoundError(
            f"revision {revision!r} was not found in {repo_id}", ref=shown,
            hint=f"use a branch, tag or commit of {repo_id} that exists (see {endpoint}/{repo_id}/commits/main)",
        ) from None
    except hf_errors.RemoteEntryNotFoundError as e:
        raise ModelNotFoundError(
            f"a file of {shown} was not found on the Hub: {str(e).splitlines()[0]}", ref=shown,
            hint="the repo changed while pulling; pull again",
        ) from None
    except hf_errors.OfflineModeIsEnabled:
        raise OfflineError(f"{shown} needs the network, and offline mode is on") from None
    except hf_errors.HFValidationError as e:
        raise InvalidReferenceError(shown, str(e).splitlines()[0]) from None
    except hf_errors.IncompleteSnapshotError as e:
        raise NetworkError(f"could not complete {shown}: {str(e).splitlines()[0]}",
                           hint="check the connection and HF_ENDPOINT, then pull again") from None
    except hf_errors.HfHubHTTPError as e:
        raise NetworkError(f"the Hub refused {shown}: {str(e).splitlines()[0]}",
                           hint="check HF_ENDPOINT and HF_TOKEN, then pull again") from e
    except (ConnectionError, TimeoutError) as e:
        raise NetworkError(f"could not reach the Hub for {shown}: {e}",
                           hint="check the connection and HF_ENDPOINT, then pull again") from e
    except OSError as e:
        if e.errno not in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            raise
        # A full disk: the partial files only take space now (no resume can finish): remove them.
        removed = RepoFolder(repo_id).clean_incomplete()
        mapped = from_os_error(e, folders=config.store_folders())
        mapped.message = (f"the disk is full: no space left to download {shown} into {config.hub_cache()}"
                          + (f"; its {len(removed)} partial file(s) were removed" if removed else ""))
        raise mapped from None
    except Exception as e:  # httpx2 transport errors and the like
        if type(e).__module__.startswith(("httpx", "httpcore")):
            raise NetworkError(f"could not reach the Hub for {shown}: {type(e).__name__}: {e}",
                               hint="check the connection and HF_ENDPOINT, then pull again") from e
        raise


def _api(token):
    hf = hub_module()
    return hf.HfApi(endpoint=config.hf_endpoint(), token=token)


def remote_commit(repo_id: str, revision: str | None = None, *, token: str | bool | None = None) -> str:
    """The commit a revision points to on the Hub (one request, retried)."""
    check_repo_id(repo_id)
    revision = revision or "main"
    if is_commit(revision):
        return revision
    if config.offline():
        raise OfflineError(f"resolving {repo_id}@{revision} needs the network, and offline mode is on")
    tok = token_of(token)
    with hub_errors(repo_id, revision, token_sent=bool(tok)):
        api = _api(tok)
        info = call_with_retry(lambda: api.model_info(repo_id, revision=revision),
                               what=f"model info for {repo_id}@{revision}")
    if not info.sha:
        raise NetworkError(f"the Hub gave no commit for {repo_id}@{revision}")
    return info.sha


def remote_tree(repo_id: str, commit: str, *, token: str | bool | None = None) -> dict[str, dict]:
    """The file listing at a commit: from the cache when present, else from the Hub (then cached)."""
    tree = RepoFolder(repo_id).read_tree(commit)
    if tree is not None:
        return tree
    if config.offline():
        raise OfflineError(f"listing {repo_id}@{commit[:12]} needs the network, and offline mode is on")
    tok = token_of(token)
    with hub_errors(repo_id, commit, token_sent=bool(tok)):
        hf = hub_module()
        api = _api(tok)

        def listing() -> dict[str, dict]:
            out: dict[str, dict] = {}
            for item in api.list_repo_tree(repo_id, recursive=True, revision=commit):
                if not isinstance(item, hf.hf_api.RepoFile):
                    continue
                info: dict[str, Any] = {"size": item.size, "blob_id": item.blob_id}
                if item.lfs is not None:
                    info["lfs_sha256"] = item.lfs.sha256
                    info["lfs_size"] = item.lfs.size
                out[item.path] = info
            return out

        tree = call_with_retry(listing, what=f"file list of {repo_id}@{commit[:12]}")
    RepoFolder(repo_id).write_tree(commit, tree)
    return tree


class _QuietBar:
    """A tqdm stand-in that shows nothing (``huggingface_hub`` accepts any tqdm-like class)."""

    def __init__(self, iterable=None, *args, **kwargs):
        self.iterable = iterable
        self.total = kwargs.get("total")
        self.n = 0
        self.disable = True

    def __iter__(self):
        return iter(self.iterable or ())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        self.n += n or 0

    def __getattr__(self, name):  # refresh, close, set_description, set_postfix_str, ...
        return lambda *a, **k: None


def bar_class(progress: bool):
    if progress and sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm
    return _QuietBar


def download(repo_id: str, commit: str, names: Sequence[str], *, token, progress: bool, force: bool,
              patterns: tuple[list[str] | None, list[str] | None] | None = None) -> None:
    """``snapshot_download`` of exactly ``names`` at ``commit`` (tree already cached), retried."""
    hf = hub_module()
    allow, ignore = patterns or ([escape_pattern(n) for n in names], None)

    def go() -> None:
        hf.snapshot_download(
            repo_id,
            revision=commit,
            cache_dir=str(config.hub_cache()),
            endpoint=config.hf_endpoint(),
            token=token,
            allow_patterns=allow,
            ignore_patterns=ignore,
            force_download=force,
            tqdm_class=bar_class(progress),
            max_workers=8,
        )

    with hub_errors(repo_id, commit, token_sent=bool(token)):
        call_with_retry(go, what=f"download of {repo_id}@{commit[:12]}")

