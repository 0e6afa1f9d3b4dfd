"""Where the store keeps its own things under ``LOCALMODELS_HOME``.

    records/ locks/ models/   see :mod:`localmodels.sources._records`
    derived/                  derived artifacts (ONNX exports, quantizations), keyed by a hash of their inputs

Hub models are not here: they live in the standard Hugging Face cache (``config.hub_cache()``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .. import config
from ..sources._files import write_atomic  # noqa: F401  (re-exported for the store)
from ..sources._records import locks_dir, models_dir, records_dir, safe_name  # noqa: F401


def derived_root() -> Path:
    return config.home() / "derived"


def derived_dir(*key_parts: str) -> Path:
    """A folder for a derived artifact, keyed by a hash of ``key_parts`` (created if missing).

    Put the digests of the inputs and the recipe in the key, e.g.
    ``derived_dir("onnx-export", weights_sha256, "opset17")``; the same parts always give the
    same folder, so a finished artifact is found again. Write into it atomically (temp + rename).
    """
    if not key_parts:
        raise ValueError("derived_dir needs at least one key part")
    digest = hashlib.sha256(json.dumps([str(p) for p in key_parts]).encode()).hexdigest()[:24]
    path = derived_root() / f"{safe_name(str(key_parts[0]), limit=40)}-{digest}"
    path.mkdir(parents=True, exist_ok=True)
    return path
