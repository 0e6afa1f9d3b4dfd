"""The project manifest ``localmodels.toml``: the models a project needs.

One table per model under ``models``, keyed by the name tests and code use::

    version = 1                      # optional; the only version so far

    [models.minilm]                  # ref defaults to the table name
    required = true                  # default: a missing or broken model fails sync/check

    [models.tiny-bert]
    ref = "my-org/tiny-bert"         # alias, org/name[@rev], ./folder (relative to this file), pypi:pkg
    revision = "v1.2"                # branch, tag or commit (or put it in the ref as org/name@rev)
    include = ["*.json", "*.safetensors"]
    exclude = ["*.bin"]
    required = false                 # optional: failures are warnings
    allow_pickle = false             # default; true lets .bin/.pt/.pkl weights through

    [models.gemma]
    ref = "gemma3-270m"
    quant = "Q4_K_M"

Unknown keys, bad references and wrong types raise :class:`~localmodels.errors.ManifestError`
naming the file and the line of the offending key or table.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from ..errors import InvalidReferenceError, ManifestError
from ..refs import parse_ref
from ..sources._hflayout import valid_revision

MANIFEST_NAME = "localmodels.toml"
FOLDER_PREFIXES = ("./", "../", "/", "~")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@:-]{0,199}$")
_NOT_HUB = FOLDER_PREFIXES + ("pypi:", "remote:")


def is_folder_ref(ref: str) -> bool:
    return ref.startswith(FOLDER_PREFIXES)


def ref_name(ref: str) -> str:
    """The reference without its ``@revision`` part (folders, ``pypi:`` and ``remote:`` keep theirs)."""
    return ref if ref.startswith(_NOT_HUB) else ref.partition("@")[0]


def ref_revision(ref: str) -> str | None:
    """The ``@revision`` part of an alias or Hub reference, if any."""
    return None if ref.startswith(_NOT_HUB) else (ref.partition("@")[2] or None)


def _claimed_by_a_source(ref: str) -> bool:
    """Does a registered source (Ollama's, LM Studio's, a plugin's) parse ``ref``?"""
    from ..errors import LocalModelsError
    from ..sources.registry import spec_for

    try:
        return spec_for(ref) is not None
    except InvalidReferenceError:
        return False
    except LocalModelsError as e:  # a source's own refusal ('ollama:gemma3:' has no tag): its words
        raise ValueError(e.message) from None


def load_toml(text: str, *, path: str | Path, what: str, hint: str) -> dict[str, Any]:
    """``tomllib.loads``; a syntax error becomes a ManifestError naming the file and line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        raise ManifestError(f"invalid TOML{what}: {re.sub(r' [(]at line.*[)]$', '', msg)}", path=str(path),
                            line=int(m.group(1)) if m else None, hint=hint) from None


class ModelRequest(BaseModel):
    """What to fetch for one model: a manifest table, and the copy of it each lock entry keeps
    (so a changed table is seen, see :meth:`spec_key`)."""

    name: str
    ref: str
    revision: str | None = None
    include: list[str] | None = None
    exclude: list[str] | None = None
    quant: str | None = None
    allow_pickle: bool | None = None

    def spec_key(self) -> dict[str, Any]:
        """What a lock entry must match to be reused without re-resolving."""
        return {
            "ref": self.ref, "revision": self.revision, "include": self.include,
            "exclude": self.exclude, "quant": self.quant, "allow_pickle": self.allow_pickle or None,
        }


class ModelSpec(ModelRequest):
    """One ``[models.<name>]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    required: bool = True
    allow_pickle: bool = False  # let .bin/.pt/.pkl weights through (they can run code when loaded)

    @field_validator("ref")
    @classmethod
    def _valid_ref(cls, v: str) -> str:
        ref = v.strip()
        if is_folder_ref(ref):
            return ref  # a folder: checked when used (relative to the manifest)
        try:
            parse_ref(ref)
        except InvalidReferenceError as e:
            if not _claimed_by_a_source(ref):  # ollama:, lmstudio:, file: ... (sources/other_stores)
                raise ValueError(e.message.replace("invalid model reference ", "")) from None
        if ref.startswith("remote:"):
            raise ValueError("remote: models live behind an endpoint; they cannot be pinned or synced")
        return ref

    @field_validator("revision")
    @classmethod
    def _valid_revision(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and not valid_revision(v):
            raise ValueError(f"bad revision {v!r} (a branch, tag or commit sha)")
        ref = info.data.get("ref") or ""
        if v and "@" in ref and not ref.startswith(_NOT_HUB):
            raise ValueError("give the revision either in 'ref' (name@rev) or in 'revision', not both")
        return v

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and any(not p.strip() for p in v):
            raise ValueError("empty pattern")
        return v


    @property
    def pull_ref(self) -> str:
        """The reference without its ``@revision`` part (see :attr:`pinned_revision`)."""
        return ref_name(self.ref)

    @property
    def pinned_revision(self) -> str | None:
        return self.revision or ref_revision(self.ref)


class _ManifestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=1, ge=1, le=1)
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass
class Manifest:
    path: Path
    models: list[ModelSpec]

    @property
    def root(self) -> Path:
        return self.path.parent

    def get(self, name: str) -> ModelSpec | None:
        return next((m for m in self.models if m.name == name), None)

    def local_path(self, spec: ModelSpec) -> Path | None:
        """For a folder reference, the folder (relative refs are relative to the manifest)."""
        if not is_folder_ref(spec.ref):
            return None
        p = Path(spec.ref).expanduser()
        return p if p.is_absolute() else (self.root / p).resolve()


def find_manifest(start: Path | None = None) -> Path | None:
    """``localmodels.toml`` in ``start`` (default: the current folder) or a parent folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    return None


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest; raises :class:`ManifestError` with file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError("manifest not found", path=str(path),
                            hint=f"create {MANIFEST_NAME} with a [models.<name>] table per model") from None
    except IsADirectoryError:
        inside = path / MANIFEST_NAME
        raise ManifestError("this is a folder, not a manifest file", path=str(path),
                            hint=f"give the file: --manifest {inside}" if inside.is_file()
                            else f"give the path of a {MANIFEST_NAME} file") from None
    except UnicodeDecodeError:
        raise ManifestError("not UTF-8 text", path=str(path), hint=f"a {MANIFEST_NAME} is TOML text") from None
    return parse_manifest(text, path=path)


def parse_manifest(text: str, *, path: str | Path = MANIFEST_NAME) -> Manifest:
    path = Path(path)
    data = load_toml(text, path=path, what="", hint="fix the TOML syntax at that line")
    locator = TomlLocator(text)
    try:
        top = _ManifestModel.model_validate(data)
    except ValidationError as e:
        raise _to_manifest_error(e, (), locator, path) from None
    models: list[ModelSpec] = []
    for name, table in top.models.items():
        if not _NAME.match(name):
            raise ManifestError(f"bad model name {name!r}", path=str(path), line=locator.line_of(("models", name)),
                                hint="use letters, digits, '.', '_', '-', '/'")
        if not isinstance(table, dict):
            raise ManifestError(f"models.{name} must be a table", path=str(path),
                                line=locator.line_of(("models", name)))
        try:
            models.append(ModelSpec.model_validate({"ref": name, **table, "name": name}))
        except ValidationError as e:
            raise _to_manifest_error(e, ("models", name), locator, path) from None
    return Manifest(path=path, models=models)


def _to_manifest_error(e: ValidationError, prefix: tuple[str, ...], locator: TomlLocator,
                       path: Path) -> ManifestError:
    err = e.errors()[0]
    loc = tuple(str(p) for p in err["loc"] if not isinstance(p, int))
    full = prefix + loc
    where = ".".join(full) or "(top level)"
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(ModelSpec.model_fields) if prefix else "version, models"
        msg = f"unknown key {where!r} (allowed: {allowed.replace('name, ', '')})"
    elif err["type"] == "missing":
        msg = f"missing key {where!r}"
    else:
        msg = f"{where}: {err['msg'].removeprefix('Value error, ')}"
    line = locator.line_of(full) or locator.line_of(prefix)
    return ManifestError(msg, path=str(path), line=line, hint="see docs/ci.md for the manifest format")


_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = rf"(?:{_BARE_KEY}|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEYLINE = re.compile(rf"^\s*({_DOTTED})\s*=")


def _split_key(dotted: str) -> tuple[str, ...]:
    """``models."a/b".ref`` -> ("models", "a/b", "ref"), using tomllib to unquote."""
    data = tomllib.loads(f"{dotted} = 0")
    parts: list[str] = []
    while isinstance(data, dict) and len(data) == 1:
        key, data = next(iter(data.items()))
        parts.append(key)
    return tuple(parts)


class TomlLocator:
    """Finds the line (1-based) where a key path is defined in TOML text."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            try:
                header = _HEADER.match(line)
                if header:
                    table = _split_key(header.group(1))
                    self.lines.setdefault(table, number)
                    continue
                key = _KEYLINE.match(line)
                if key:
                    full = table + _split_key(key.group(1))
                    for i in range(len(table) + 1, len(full) + 1):
                        self.lines.setdefault(full[:i], number)
                    rest = line[key.end():]
                    for quote in ('"""', "'''"):
                        if rest.count(quote) == 1:
                            in_multiline = quote
                    self._inline_keys(full, rest, number)
            except tomllib.TOMLDecodeError:
                continue

    def _inline_keys(self, prefix: tuple[str, ...], rest: str, number: int) -> None:
        """``name = { ref = "x", bad = 1 }``: every key of a one-line inline table is on this line."""
        if "{" not in rest:
            return
        try:
            value = tomllib.loads(f"v = {rest}")["v"]
        except tomllib.TOMLDecodeError:
            return

        def walk(p: tuple[str, ...], v: Any) -> None:
            if isinstance(v, dict):
                for k, sub in v.items():
                    self.lines.setdefault(p + (k,), number)
                    walk(p + (k,), sub)

        walk(prefix, value)

    def line_of(self, key: tuple[str, ...]) -> int | None:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None
