"""Which models this server answers for, and what each public name refers to.

With ``--models`` only the listed names are served (``NAME`` or ``PUBLIC=REFERENCE``). Without
it, any catalog alias or name of a source that is ``nameable_in_requests`` (Hub ids) the store
resolves is served; folders, files, packages, other tools' stores and ``remote:`` refs are never
taken from a request (a client must not make the server open arbitrary paths or packages), only
from ``--models``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..errors import InvalidReferenceError, ModelNotFoundError
from ..registry import is_matryoshka

log = logging.getLogger("localmodels.server")

class ModelDirectory:
    def __init__(self, served: dict[str, str], *, matryoshka: frozenset[str] = frozenset()) -> None:
        self.served = dict(served)
        self.matryoshka = matryoshka  # names added with --matryoshka, beyond the catalog's

    def ref(self, name: str) -> str:
        """The model reference behind a public name; 404 (ModelNotFoundError) when it is not served."""
        if self.served:
            if name in self.served:
                return self.served[name]
            raise ModelNotFoundError(
                f"model {name!r} is not served here; served models: {', '.join(sorted(self.served))}",
                ref=name, hint="GET /v1/models lists them; restart `localmodels serve --models ...` to add one")
        from ..sources.registry import source_for, spec_for

        try:
            spec = spec_for(name)  # None: no source claims it (a catalog alias)
        except InvalidReferenceError as e:
            raise ModelNotFoundError(f"model {name!r} does not exist: {e.message}", ref=name) from None
        if spec is not None and not getattr(source_for(spec), "nameable_in_requests", False):
            raise ModelNotFoundError(
                f"model {name!r} is not served here: {spec.kind} models (folders, files, packages, other "
                "tools' stores, remote: endpoints) must be listed at start-up",
                ref=name, hint=f"localmodels serve --models NAME={name}")
        return name

    def is_matryoshka(self, name: str, ref: str) -> bool:
        """Whether ``dimensions`` may truncate this model's vectors (the catalog knows, or --matryoshka)."""
        if name in self.matryoshka or ref in self.matryoshka:
            return True
        entry = _entry(ref)
        if entry and (entry.id in self.matryoshka or set(entry.aliases) & self.matryoshka):
            return True
        try:
            return is_matryoshka(ref)
        except Exception:  # noqa: BLE001 - a catalog problem must not break a request
            return False

    def cards(self, loaded_keys: Sequence[str]) -> list[dict]:
        """What GET /v1/models lists: the served names, or the catalog models present in the store."""
        if self.served:
            names = [(name, ref, _path_of(ref)) for name, ref in self.served.items()]
        else:
            names = _present_catalog_models()
        out = []
        for name, ref, path in names:
            entry = _entry(ref)
            loaded = any((path and path in k) or k.endswith(ref) for k in loaded_keys)
            out.append({"id": name, "task": entry.task if entry else None, "loaded": loaded})
        return out


def _path_of(ref: str) -> str | None:
    try:
        from ..store import resolve

        return str(resolve(ref, offline=True).path)
    except Exception:  # noqa: BLE001 - not resolvable now: listed, not loaded
        return None


def _entry(ref: str):
    try:
        from ..registry import find_entry

        return find_entry(ref)
    except Exception:  # noqa: BLE001 - a catalog problem must not break a listing
        return None


def _present_catalog_models() -> list[tuple[str, str, str | None]]:
    """(name, ref, folder) of the catalog models the store resolves without the network."""
    try:
        from ..registry import catalog
        from ..store import resolve
    except ImportError:
        return []
    names = []
    for entry in catalog().filter():
        name = entry.aliases[0] if entry.aliases else entry.id
        try:
            path = str(resolve(name, offline=True).path)
        except Exception:  # noqa: BLE001 - not present, not resolvable: not listed
            continue
        names.append((name, name, path))
    return names
