"""Where the store meets provenance: a pull that refuses unsigned models, and the signature and
licence status ``info`` and ``list --json`` show (cheap: no hashing, no key needed)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import IntegrityError, LocalModelsError
from .policy import TrustPolicy
from .signing import SIGNATURE_NAME, SignatureCheck, check_signature

if TYPE_CHECKING:
    from .. import LocalModel

# cc-by-nc-4.0, "non-commercial", research-only licences
_RESTRICTED = re.compile(r"(^|[-_ .])nc([-_ .]|$)|non-?commercial|research", re.I)


def pull_signed(ref: str, policy: TrustPolicy, *, allow_patterns: Sequence[str] | None = None,
                signature: str | Path | None = None, **pull_kwargs: Any) -> tuple[LocalModel, SignatureCheck]:
    """``store.pull`` and then :func:`check_signature`; a model the policy refuses is removed again
    (unless it was in the store before this call), so a refused pull leaves nothing behind.

    Raises:
        IntegrityError: unsigned (and not allowed), badly signed, untrusted or tampered.
    """
    from ... import store

    before = _present(ref)
    names_before = {m.name for m in store.list_models()}
    allow = [*allow_patterns, SIGNATURE_NAME] if allow_patterns else None
    model = store.pull(ref, allow_patterns=allow, **pull_kwargs)
    patterns = model.metadata.get("allow_patterns")
    if signature is None and not (model.path / SIGNATURE_NAME).exists() and patterns \
            and SIGNATURE_NAME not in patterns:
        # fetched through the catalog's file patterns: ask for the signature too (the files are cached)
        model = store.pull(ref, allow_patterns=[*patterns, SIGNATURE_NAME], **pull_kwargs)
    try:
        check = check_signature(model, policy, signature=signature)
    except LocalModelsError:
        if before is None:
            _undo(ref, model, names_before)
        raise
    if check.ok:
        return model, check
    if before is None:
        _undo(ref, model, names_before)
        left = "nothing was kept in the store"
    else:
        left = "the copy that was already in the store is left as it was"
    raise IntegrityError(
        f"refusing {ref}: {check.status}: {check.detail} ({left})",
        path=(check.problems[0]["path"] if check.problems else check.signature),
        hint="ask the publisher for a model.sig signed by a key in your trust policy, or allow it there "
             "(allow_unsigned, [[key]] models = [...])")


def _present(ref: str) -> LocalModel | None:
    from ... import store

    try:
        return store.resolve(ref)
    except LocalModelsError:
        return None


def _undo(ref: str, model: LocalModel, names_before: set[str]) -> None:
    """Remove what the pull added: only the fetched commit when the store held other copies of the
    model, else everything of it (for a folder or a package: our record only)."""
    from ... import store

    target = ref
    if model.commit and model.name in names_before:
        target = f"{ref.partition('@')[0]}@{model.commit}"
    try:
        store.remove(target)
    except LocalModelsError:
        pass


def licence_status(license: str | None, restricts_commercial: bool | None = None) -> str:
    """``restricts commercial use`` | ``no known restriction`` | ``unknown`` (no licence recorded)."""
    if not license:
        return "unknown"
    if restricts_commercial:
        return "restricts commercial use"
    if _RESTRICTED.search(license):
        return "restricts commercial use"
    return "no known restriction"


def provenance_status(path: str | Path, *, license: str | None = None, restricts_commercial: bool | None = None,
                      gated: bool | None = None) -> dict[str, Any]:
    """What ``info`` and ``list --json`` show: whether a signature is there (``signed`` means a
    model.sig is present, not that it verified: ``localmodels verify --signatures`` checks it),
    and the licence status."""
    sig = Path(path) / SIGNATURE_NAME
    signed = sig.is_file()
    out: dict[str, Any] = {
        "signature": "signed (run: localmodels verify --signatures)" if signed else "unsigned",
        "signature_file": str(sig) if signed else None,
        "license": license,
        "license_status": licence_status(license, restricts_commercial),
    }
    if gated is not None:
        out["gated"] = gated
    return out


def model_status(model: LocalModel) -> dict[str, Any]:
    """:func:`provenance_status` of a resolved model (uses its catalog entry for licence and gating)."""
    e = model.entry
    return provenance_status(model.path, license=model.license or (e.license if e else None),
                             restricts_commercial=e.license_restricts_commercial if e else None,
                             gated=e.gated if e else None)


def info_status(data: dict[str, Any]) -> dict[str, Any]:
    """:func:`provenance_status` from what ``store.info`` returns (its path, licence and catalog)."""
    cat = data.get("catalog") or {}
    return provenance_status(data["path"], license=data.get("license") or cat.get("license"),
                             restricts_commercial=cat.get("license_restricts_commercial"), gated=cat.get("gated"))
