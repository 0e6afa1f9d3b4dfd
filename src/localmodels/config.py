"""Settings read from the environment, once per call (tests change the environment freely).

localmodels' own variables start with ``LOCALMODELS_``; the Hugging Face ones are honoured as
``huggingface_hub`` reads them, so a model another tool downloaded is found.
"""

from __future__ import annotations

import os
from pathlib import Path

TRUE_VALUES = {"1", "on", "yes", "true"}


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_VALUES


def home() -> Path:
    """Our metadata, derived artifacts and locks: ``LOCALMODELS_HOME`` or the platform data dir."""
    env = os.environ.get("LOCALMODELS_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("localmodels", appauthor=False))


def hf_home() -> Path:
    env = os.environ.get("HF_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg).expanduser() / "huggingface" if xdg else Path.home() / ".cache" / "huggingface"


def hub_cache() -> Path:
    """The standard Hugging Face hub cache (``HF_HUB_CACHE`` > ``HF_HOME/hub``)."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    return Path(env).expanduser() if env else hf_home() / "hub"


def offline() -> bool:
    """True when no network request may be made at all."""
    return any(is_true(os.environ.get(v)) for v in ("LOCALMODELS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def set_offline(value: bool = True) -> None:
    """Turn offline mode on for this process (the CLI's ``--offline``)."""
    if value:
        os.environ["LOCALMODELS_OFFLINE"] = "1"
        os.environ["HF_HUB_OFFLINE"] = "1"


def hf_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hf_token() -> str | None:
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None


def num_threads() -> int | None:
    """Intra-op threads for runtimes (``LOCALMODELS_THREADS``); None lets the runtime decide."""
    v = os.environ.get("LOCALMODELS_THREADS")
    return int(v) if v and v.isdigit() and int(v) > 0 else None


def allow_pickle() -> bool:
    return is_true(os.environ.get("LOCALMODELS_ALLOW_PICKLE"))


def strict() -> bool:
    return is_true(os.environ.get("LOCALMODELS_STRICT"))


def prepare_hf_env() -> None:
    """Call before importing huggingface_hub: no telemetry call that could leave the machine."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
