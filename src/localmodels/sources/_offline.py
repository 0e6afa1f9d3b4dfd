"""The error for a model that is not here while offline mode is on: what turned it on, and how to
get the model without running the same command again."""

from __future__ import annotations

from .. import config
from ..errors import NotInStoreError


def offline_missing(ref: str, *, also: str = "") -> NotInStoreError:
    """NotInStoreError for ``ref``: offline mode is on (naming the flag or variable), so nothing was
    downloaded; the hint names a bundle, a mirror and going online (``also``: one more way)."""
    reason = config.offline_reason() or "offline mode"
    undo = "drop --offline" if reason == "--offline" else f"unset {reason.split('=')[0]}"
    err = NotInStoreError(ref, detail=f"offline mode is on ({reason}), so nothing was downloaded")
    err.hint = (f"get it without the Hub: localmodels import BUNDLE (a bundle written by `localmodels export` "
                f"on a machine that has it); from a mirror: {undo}, then HF_ENDPOINT=http://MIRROR "
                f"localmodels pull {ref}; or {undo} to pull it from the Hub"
                + (f"; {also}" if also else ""))
    return err
