"""One registry of sources: a reference's scheme, a record's or a catalog line's kind -> its Source.

    register_source(MySource())          # a plugin or a test adds one
    source_for("hub"); source_for(record); source_for(catalog_source_line)
    spec_for("pypi:pkg")                 # the Spec of the first source that claims the reference

Built-in sources (hub, local, pypi, remote) register on first use; sources registered later are
asked first, so a new scheme needs no change anywhere else.
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import InvalidReferenceError
from .base import Source, Spec

_SOURCES: dict[str, Source] = {}
_builtins_loaded = False
_builtins_lock = threading.Lock()


def _load_builtins() -> None:
    """Register the built-in sources once; threads that pull at the same time wait for it."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _builtins_lock:
        if _builtins_loaded:
            return
        from .derived import DerivedSource  # derived:NAME (distilled models, classifier heads)
        from .hub_source import HubSource
        from .local import LocalFolderSource
        from .other_stores import stores as other_stores  # Ollama, LM Studio, ..., file: (before local paths)
        from .pypi_source import PypiSource
        from .remote import RemoteSource

        for src in (DerivedSource(), *other_stores(), HubSource(), LocalFolderSource(), PypiSource(),
                    RemoteSource()):
            _SOURCES.setdefault(src.kind, src)
        _builtins_loaded = True


def register_source(source: Source, *, replace: bool = False) -> Source:
    """Add ``source`` under ``source.kind`` (asked before the built-ins when parsing references)."""
    _load_builtins()
    if source.kind in _SOURCES and not replace:
        raise ValueError(f"a source of kind {source.kind!r} is already registered")
    _SOURCES.pop(source.kind, None)
    items = list(_SOURCES.items())
    _SOURCES.clear()
    _SOURCES[source.kind] = source
    _SOURCES.update(items)
    return source


def unregister_source(kind: str) -> None:
    _SOURCES.pop(kind, None)


def sources() -> list[Source]:
    """Every registered source, in the order references are offered to them."""
    _load_builtins()
    return list(_SOURCES.values())


def source_for(what: Any) -> Source:
    """The source of a kind string, or of anything with ``source`` (a record, a model), ``kind``
    (a spec) or ``type`` (a catalog source line)."""
    _load_builtins()
    kind = what if isinstance(what, str) else (
        getattr(what, "source", None) or getattr(what, "kind", None) or getattr(what, "type", None))
    try:
        return _SOURCES[str(kind)]
    except KeyError:
        raise InvalidReferenceError(str(kind), f"no source of kind {kind!r} is registered") from None


def spec_for(ref: str) -> Spec | None:
    """The spec of the first source that claims ``ref`` (None: no source does; an alias)."""
    for src in sources():
        spec = src.parse(ref)
        if spec is not None:
            return spec
    return None
