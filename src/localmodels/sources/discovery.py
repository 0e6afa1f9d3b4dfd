"""Models other tools keep on this machine, used where they lie (never copied, never written to).

    Found         one model found in another tool's store: its ref, files, licence, details
    FoundFile     one of its files: the real path, the name the runtime sees, stat, digest if known
    Discovery     what a store's scan found, and notes on what it skipped (junk, missing blobs)
    FoundSource   the Source every such store shares: ``present`` links the files into a folder of
                  ours (``LOCALMODELS_HOME/links/<kind>/<key>/``) so the runtimes find ``*.gguf``
                  there and records them; ``pull`` hashes them and hard-links them into our own
                  HF-shaped folder (:mod:`.found_copy`), which export / import carry; ``rm``
                  deletes only that copy of ours, never the tool's files

:mod:`.other_stores` lists the built-in ones; :func:`discover_all` runs the scans it is given.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config
from ..errors import IntegrityError, ModelNotFoundError, NotInStoreError, UsageError
from . import _records as rec
from . import found_copy, gguf_meta, hashcache
from ._serve import SourceBase, check_record, save_if_changed, to_model
from .base import FileProblem, LocalModel, ProblemKind, Spec, StoredModel
from .hfcache import RepoFolder
from .verify import CheckResult

MODEL_SUFFIXES = (".gguf", ".onnx", ".safetensors")


@dataclass
class FoundFile:
    path: Path  # the real file
    name: str  # what the runtime sees in our link folder (a GGUF ends in .gguf)
    st: os.stat_result
    digest: str | None = None  # sha256 the store guarantees (an Ollama blob's name, a RECORD line)

    @property
    def size(self) -> int:
        return self.st.st_size


@dataclass
class Found:
    store: str  # "ollama", "lmstudio", ...
    ref: str  # what runs it: ollama:gemma3:270m
    name: str
    files: list[FoundFile] = field(default_factory=list)
    format: str = "gguf"
    license: str | None = None
    modified: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)  # shown by info (Ollama's template, params...)
    problem: str | None = None  # why it cannot run (a missing blob...)
    hint: str | None = None

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass
class Discovery:
    found: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # "skipped PATH: why"


def file_of(path: Path, name: str | None = None, digest: str | None = None) -> FoundFile | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return FoundFile(path.resolve(), name or path.name, st, digest)


def gguf_strings(f: FoundFile) -> dict[str, str]:
    """A GGUF's name / licence / template keys, cached by size + mtime + inode."""
    cache = hashcache.extra("gguf")
    stamp = hashcache.stamp(f.st)
    hit = cache.get(str(f.path))
    if hit and hit[0] == stamp:
        return hit[1]
    strings = gguf_meta.read_strings(f.path) or {}
    kept = {k: (v if k != "tokenizer.chat_template" else "yes") for k, v in strings.items()}
    cache[str(f.path)] = [stamp, kept]
    hashcache.mark_dirty()
    return kept


def format_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    return suffix if f".{suffix}" in MODEL_SUFFIXES else (suffix or "file")


def walk_files(root: Path, suffixes: Sequence[str] = (".gguf",), depth: int = 4) -> list[Path]:
    """Files under ``root`` ending in ``suffixes`` (at most ``depth`` folders down; hidden skipped)."""
    out: list[Path] = []
    base = len(root.parts)
    for folder, dirs, files in os.walk(root, followlinks=True):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if len(here.parts) - base < depth else []
        out += [here / n for n in sorted(files) if n.lower().endswith(tuple(suffixes)) and not n.startswith(".")]
    return out


def links_dir() -> Path:
    return config.home() / "links"


def _link(target: Path, link: Path) -> None:
    """``link`` -> ``target`` (a symlink, replaced atomically when it points elsewhere)."""
    try:
        if os.readlink(link) == str(target):
            return
    except OSError:
        pass
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


class FoundSource(SourceBase):
    """One other tool's store (or loose files) as a Source: discover, present in place, never delete.

    A subclass sets ``kind``, ``owner`` and implements :meth:`discover` and :meth:`name_of`
    (the canonical name of a reference, or None when it does not claim it); :meth:`find` looks the
    name up (override it when a store can find one model without a full scan).
    """

    kind = ""
    owner = ""  # "Ollama", "LM Studio": who owns the files
    problem_kind: ProblemKind = "changed"  # a file that differs from our record
    guaranteed = False  # digests are the store's own (Ollama blobs): a difference is corruption

    def discover(self) -> Discovery:
        raise NotImplementedError

    def name_of(self, ref: str) -> str | None:
        prefix = f"{self.kind}:"
        if not ref.startswith(prefix):
            return None
        name = ref[len(prefix):].strip().strip("/")
        if not name or ".." in name.split("/"):
            raise UsageError(f"invalid reference {ref!r}: a name after {prefix!r} is needed",
                             hint=f"see what is there: localmodels list --all   (refs look like {prefix}NAME)")
        return name

    def find(self, spec: Spec) -> Found | None:
        want = spec.name
        for found in self.discover().found:
            if found.name == want or found.ref == spec.ref:
                return found
        return None

    def remove_hint(self, spec: Spec) -> str:
        return f"delete it with {self.owner} itself; localmodels only reads {self.owner}'s files"

    # ---- Source -------------------------------------------------------------------------------
    def parse(self, ref: str) -> Spec | None:
        name = self.name_of(ref.strip())
        return Spec(self.kind, name, ref.strip()) if name is not None else None

    def key(self, spec: Spec) -> str:
        import hashlib

        digest = hashlib.sha1(f"{self.kind}:{spec.name}".encode()).hexdigest()[:12]
        return f"{self.kind}--{rec.safe_name(spec.name, limit=40)}-{digest}"

    def missing_hint(self, spec: Spec) -> str | None:
        return "see what is there: localmodels list --all"

    def not_present(self, spec: Spec) -> NotInStoreError:
        err = NotInStoreError(spec.ref, detail=f"no such model in {self.owner}'s folders")
        err.hint = self.missing_hint(spec)
        return err

    def present(self, spec: Spec) -> LocalModel | None:
        """The tool's model in place, or our copy of it (a pull's hard links, an imported bundle)
        when the tool no longer has it or has the same files."""
        found = self.find(spec)
        copy = self._copy(spec)
        if copy is not None and (found is None or found.problem or found_copy.same(copy, found.files)):
            return self._copy_model(copy, spec, found)
        if found is None:
            return None
        return self._record(spec, found, hashed=False)

    def display_name(self, spec: Spec) -> str:
        """How ``list`` and records name the model (Ollama shortens its names)."""
        return spec.name

    def _copy(self, spec: Spec) -> rec.Record | None:
        """Our record of our copy when its files are all there (adopting a copy an import placed)."""
        key = self.key(spec)
        r = rec.load(key)
        if r is None and self.adopt(spec):
            r = rec.load(key)
        return r if r is not None and found_copy.is_copy(r) and not r.missing_or_changed() else None

    def _copy_model(self, r: rec.Record, spec: Spec, found: Found | None) -> LocalModel:
        r.touch()
        model = to_model(r, spec.ref, None)
        usable = found is not None and not found.problem
        model.metadata["weights"] = str(found.files[0].path if usable and found is not None
                                        else Path(r.path) / r.files[0]["path"])
        model.metadata["details"] = found.details if usable and found is not None else r.extra.get("details", {})
        return model

    def adopt(self, spec: Spec) -> str | None:
        """Record our copy of ``spec`` (an import placed it); its key, or None when there is none or
        its files do not add up to its commit."""
        key = self.key(spec)
        got = found_copy.adoptable(self.kind, key)
        if got is None:
            return None
        repo, commit, files = got
        name = self.display_name(spec)
        rec.Record(key=key, ref=spec.ref, name=name, source=self.kind, path=str(repo.snapshot(commit)), files=files,
                   served_by=f"{self.kind}:{name}", repo_id=repo.repo_id, commit=commit, pulled_at=rec.now_iso(),
                   extra={"store": self.kind, "copy": "bundle"}).try_save()
        return key

    def copy_repo(self, ref: str) -> RepoFolder | None:
        """Where our copy of ``ref`` lives (an import places a bundle's files there)."""
        spec = self.parse(ref)
        return found_copy.repo_of(self.kind, self.key(spec)) if spec is not None else None

    def copy_for_bundle(self, model: LocalModel) -> LocalModel:
        """The model with every file's sha256 and its content commit (hashed now where not known)."""
        if model.commit and model.metadata.get("repo_id") and all(f.sha256 for f in model.files):
            return model
        spec = self.parse(model.ref)
        found = self.find(spec) if spec is not None else None
        if spec is None or found is None:
            raise self.not_present(spec or Spec(self.kind, model.name, model.ref))
        return self._record(spec, found, hashed=True)

    def _record(self, spec: Spec, found: Found, *, hashed: bool, link: bool = False,
                fresh: bool = False) -> LocalModel:
        if found.problem:
            raise ModelNotFoundError(f"{spec.ref}: {found.problem}", ref=spec.ref, hint=found.hint)
        key = self.key(spec)
        folder = links_dir() / self.kind / key
        old = rec.load(key)
        previous = old.files_by_path() if old else {}
        files = []
        for f in found.files:
            sha = f.digest or hashcache.known(f.path, f.st)
            prev = previous.get(f.name)
            if sha is None and prev and prev.get("mtime_ns") == f.st.st_mtime_ns and prev.get("size") == f.size:
                sha = prev.get("sha256")
            if hashed:  # pull --force reads every byte again; else an unchanged file's remembered digest
                actual = hashcache.sha256(f.path, fresh=fresh)
                if f.digest and actual != f.digest:
                    raise IntegrityError(
                        f"{spec.ref}: {f.path} has sha256 {actual[:12]}..., {self.owner} names it {f.digest[:12]}...",
                        path=str(f.path), expected=f.digest, actual=actual, hint=self.corrupt_hint(spec))
                sha = actual
            files.append({"path": f.name, "size": f.size, "sha256": sha, "mtime_ns": f.st.st_mtime_ns})
        extra: dict[str, Any] = {"store": self.kind, "store_paths": {f.name: str(f.path) for f in found.files}}
        if any(f["sha256"] is None for f in files):
            extra["unverified"] = True
        repo_id = commit = None
        if hashed:  # our content id; with ``link``, hard links of the verified files in our HF layout
            commit = found_copy.content_commit([(f["path"], f["sha256"]) for f in files])
            repo = found_copy.repo_of(self.kind, key)
            repo_id = repo.repo_id
            if link and found_copy.link_in(repo, commit, [(f.name, f.path, f.st, x["sha256"])
                                                          for f, x in zip(found.files, files, strict=True)]):
                folder = repo.snapshot(commit)
                extra.update(copy="hard link", details=found.details)
        if not extra.get("copy"):
            for f in found.files:
                _link(f.path, folder / f.name)
        else:  # the reference folder (symlinks only) is no longer needed
            shutil.rmtree(links_dir() / self.kind / key, ignore_errors=True)
        r = rec.Record(key=key, ref=spec.ref, name=found.name, source=self.kind, path=str(folder), files=files,
                       served_by=f"{self.kind}:{found.name}", license=found.license, repo_id=repo_id, commit=commit,
                       pulled_at=(old.pulled_at if old else rec.now_iso()),
                       last_used=(old.last_used if old else ""), extra=extra)
        save_if_changed(r, old)
        hashcache.flush()
        model = to_model(r, spec.ref, None)
        model.metadata["weights"] = str(found.files[0].path)  # the real file the link names
        model.metadata["details"] = found.details
        return model

    def corrupt_hint(self, spec: Spec) -> str:
        return f"fetch it again with {self.owner}"

    def fetch(self, spec: Spec, *, force: bool = False, install: bool = False, progress: bool = False,
              offline: bool = False) -> LocalModel:
        """Record the model (every file hashed, and held to the store's own digest), hard-linked into our
        HF-shaped folder when it can be (else where it lies); our copy when the tool no longer has it."""
        found = self.find(spec)
        if found is None or found.problem:
            copy = self._copy(spec)
            if copy is not None:
                return self._copy_model(copy, spec, None)
            if found is None:
                raise self.not_present(spec)
        return self._record(spec, found, hashed=True, link=True, fresh=force)

    def check(self, record: rec.Record, *, deep: bool = True) -> CheckResult:
        return check_record(record, deep=deep, kind=self.problem_kind)

    def repair(self, record: rec.Record, problems: Sequence[FileProblem]) -> None:
        spec = self.parse(record.ref)
        if self.guaranteed or spec is None:
            raise IntegrityError(f"{record.name}: {self.owner}'s copy is damaged; localmodels does not write "
                                 f"into {self.owner}'s store", hint=self.corrupt_hint(spec or Spec("", "", record.ref)))
        rec.delete(record.key)  # the user's files: accept them as they are now
        self.fetch(spec)

    def remove(self, spec: Spec, *, dry_run: bool) -> list[dict[str, Any]]:
        """Our copy (hard links, imported bytes) and its record; never the tool's own files."""
        key = self.key(spec)
        r = rec.load(key)
        if r is None or not found_copy.is_copy(r):
            raise UsageError(f"localmodels does not delete {spec.ref}: the files belong to {self.owner}",
                             hint=self.remove_hint(spec))
        out = found_copy.remove(self.kind, key, dry_run=dry_run) + self.forget(key, r.name, dry_run=dry_run)
        theirs = [p for p in (r.extra.get("store_paths") or {}).values() if os.path.exists(p)]
        if theirs:
            out.append({"kind": "kept", "path": theirs[0], "bytes": 0, "name": r.name,
                        "note": f"{self.owner}'s copy stays ({theirs[0]}); {self.remove_hint(spec)}"})
        return out

    def describe(self, model: LocalModel) -> dict[str, Any]:
        data = model.to_dict()
        data.pop("metadata", None)
        details = dict(model.metadata.get("details") or {})
        data["store"] = self.kind
        data["weights"] = model.metadata.get("weights")
        weights = Path(str(data["weights"] or ""))
        strings = gguf_meta.read_strings(weights) if weights.suffix == ".gguf" or self.kind == "ollama" else None
        if strings is not None:
            data["license"] = data.get("license") or strings.get("general.license")
            has = bool(strings.get("tokenizer.chat_template"))
            details["chat template"] = "in the GGUF (used for chat)" if has else "none in the GGUF"
        data["details"] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in details.items()}
        return data

    def in_place(self, record: rec.Record) -> bool:
        return not found_copy.is_copy(record)

    def stored(self, records: Sequence[rec.Record]) -> list[StoredModel]:
        """Our copies (an LRU ``prune`` may drop them; the tool's own files are never touched)."""
        return found_copy.stored(self.kind, records, lambda ref, dry: self.remove(self.parse(ref), dry_run=dry))

    def prune_orphans(self, dry_run: bool) -> list[dict[str, Any]]:
        """Our link folders whose record is gone (only symlinks live there), and copies no record names."""
        base = links_dir() / self.kind
        out: list[dict[str, Any]] = []
        for folder in sorted(base.iterdir()) if base.is_dir() else []:
            if folder.is_dir() and rec.load(folder.name) is None:
                out.append({"kind": "links", "path": str(folder), "bytes": 0, "name": folder.name})
                if not dry_run:
                    shutil.rmtree(folder, ignore_errors=True)
        return out + found_copy.orphans(dry_run, [self.kind])


def discover_all(scans: Sequence[tuple[str, Callable[[], Discovery]]]) -> tuple[list[Found], list[str]]:
    """Everything the ``(store, scan)`` pairs find, and notes on what was skipped; nothing is hashed."""
    found: list[Found] = []
    notes: list[str] = []
    for store, scan in scans:
        try:
            d = scan()
        except OSError as e:  # an unreadable folder: say so, keep the others
            notes.append(f"{store}: cannot read ({e})")
            continue
        found += d.found
        notes += d.notes
    return found, notes
