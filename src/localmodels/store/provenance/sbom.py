"""An AI-BOM: a CycloneDX 1.6 document with one ``machine-learning-model`` component per model.

    facts = facts_from_lock(read_lock("localmodels.lock"), root)   # or [facts_from_model(m), ...]
    text = bom_json(facts)                                           # validated against the 1.6 schema

Each model component carries its purl (``pkg:huggingface/org/name@commit``, ``pkg:pypi/pkg@version``),
its licence, and properties ``localmodels:source``, ``:served_by``, ``:gated``, ``:signature``,
``:signer``, ``:license_status``; each of its files is a nested ``file`` component with its
SHA-256 and size. Built with ``cyclonedx-python-lib`` and checked with its JSON schema validator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import MissingDependencyError, RuntimeFailure
from .gate import licence_status

if TYPE_CHECKING:
    from .. import LocalModel
    from ..lockfile import Lock

PROPERTY_PREFIX = "localmodels:"


@dataclass
class ModelFacts:
    """What the BOM says about one model."""

    name: str
    source: str  # hub | pypi | local | ollama ...
    served_by: str = ""
    repo_id: str | None = None
    commit: str | None = None
    package: str | None = None
    version: str | None = None
    license: str | None = None
    restricts_commercial: bool | None = None
    gated: bool | None = None
    signature: str = "not checked"  # verified | unsigned | tampered | ... | signed (not verified) | not in store
    signer: str | None = None
    files: list[tuple[str, int, str | None]] = field(default_factory=list)  # path, size, sha256


def _entry(name: str):
    from ...registry import find_entry

    try:
        return find_entry(name)
    except Exception:  # noqa: BLE001 - an unknown name simply has no catalog entry
        return None


def facts_from_model(model: LocalModel, signature: Callable[[LocalModel], tuple[str, str | None]] | None = None
                     ) -> ModelFacts:
    """Facts of a model in the store; ``signature(model)`` returns (status, signer)."""
    e = model.entry
    meta = model.metadata
    status, signer = signature(model) if signature else _presence(model.path)
    return ModelFacts(
        name=model.name, source=model.source, served_by=model.served_by,
        repo_id=meta.get("repo_id"), commit=model.commit,
        package=meta.get("package"), version=meta.get("version"),
        license=model.license or (e.license if e else None),
        restricts_commercial=e.license_restricts_commercial if e else None, gated=e.gated if e else None,
        signature=status, signer=signer,
        files=[(f.path, f.size, f.sha256) for f in model.files])


def facts_from_lock(lock: Lock, root: Path,
                    signature: Callable[[LocalModel], tuple[str, str | None]] | None = None) -> list[ModelFacts]:
    """Facts of every locked model: pins and digests from the lock; licence from the catalog or
    the store; signature status from the store copy when there is one."""
    from ... import store
    from ...errors import LocalModelsError
    from ..sync import locked_ref

    out = []
    for m in lock.model:
        e = _entry(m.ref.partition("@")[0]) or (_entry(m.repo_id) if m.repo_id else None)
        facts = ModelFacts(
            name=m.name, source=m.source, served_by=m.resolved, repo_id=m.repo_id, commit=m.commit,
            package=m.package, version=m.package_version, license=e.license if e else None,
            restricts_commercial=e.license_restricts_commercial if e else None, gated=e.gated if e else None,
            signature="not in store", files=[(f.path, f.size, f.sha256) for f in m.file])
        try:
            present = store.resolve(locked_ref(m, root))
        except LocalModelsError:
            present = None
        if present is not None:
            facts.license = facts.license or present.license
            facts.signature, facts.signer = signature(present) if signature else _presence(present.path)
        out.append(facts)
    return out


def _presence(path: Path) -> tuple[str, str | None]:
    from .signing import SIGNATURE_NAME

    return ("signed (not verified)" if (Path(path) / SIGNATURE_NAME).is_file() else "unsigned"), None


def _cdx():
    try:
        import cyclonedx  # noqa: F401
    except ImportError as e:
        raise MissingDependencyError("cyclonedx-python-lib", "provenance", purpose="to write an AI-BOM") from e


def purl(f: ModelFacts) -> Any:
    from packageurl import PackageURL

    if f.repo_id:
        org, _, name = f.repo_id.rpartition("/")
        return PackageURL(type="huggingface", namespace=org or None, name=name, version=f.commit)
    if f.package:
        return PackageURL(type="pypi", name=f.package.lower(), version=f.version)
    return None


def _component(f: ModelFacts, index: int) -> Any:
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component, ComponentType

    group, _, short = (f.repo_id or "").rpartition("/") if f.repo_id else ("", "", f.package or f.name)
    ref = f"model-{index}-{f.name}"
    props = {
        "name": f.name, "source": f.source, "served_by": f.served_by,
        "gated": "unknown" if f.gated is None else str(f.gated).lower(),
        "signature": f.signature, "signer": f.signer,
        "license_status": licence_status(f.license, f.restricts_commercial),
        "commit": f.commit, "files": str(len(f.files)),
    }
    files = [Component(type=ComponentType.FILE, name=path, bom_ref=f"{ref}/{path}",
                       hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha)] if sha else [],
                       properties=[Property(name=PROPERTY_PREFIX + "size", value=str(size))])
             for path, size, sha in sorted(f.files)]
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL, name=short or f.name, group=group or None,
        version=f.commit or f.version, bom_ref=ref, purl=purl(f),
        licenses=[LicenseFactory().make_from_string(f.license)] if f.license else [],
        properties=[Property(name=PROPERTY_PREFIX + k, value=v) for k, v in props.items() if v],
        components=files,
    )


def bom_json(models: list[ModelFacts]) -> str:
    """The CycloneDX 1.6 JSON document, validated against the schema.

    Raises:
        RuntimeFailure: the document does not validate (a bug: please report it).
    """
    _cdx()
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from ... import __version__ as ours

    bom = Bom(components=[_component(f, i) for i, f in enumerate(models)])
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="localmodels", version=ours))
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise RuntimeFailure(f"the AI-BOM does not validate against CycloneDX 1.6: {error}",
                             hint="report this bug with the command you ran")
    return text + "\n"


def validate_bom(text: str) -> Any:
    """The library's validation error for a CycloneDX 1.6 JSON text, or None when it is valid."""
    _cdx()
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
