"""``ollama:NAME[:TAG]``: a model Ollama downloaded, run from its blob where it lies.

Ollama's store (``$OLLAMA_MODELS``, else ``~/.ollama/models`` and
``/usr/share/ollama/.ollama/models``)::

    manifests/<registry>/<namespace>/<model>/<tag>   JSON: layers with mediaType, digest, size
    blobs/sha256-<hex>                               each layer, named by its sha256

``ollama:gemma3:270m`` is ``registry.ollama.ai/library/gemma3/270m``; ``ollama:NAME`` means tag
``latest``; ``ollama:user/name:tag`` another namespace; ``ollama:host/user/name:tag`` another
registry. The model layer is the GGUF; template / params / system / license layers are shown by
``info`` (we do not run Ollama's Go templates: the GGUF's own chat template is used).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .. import config
from ..errors import InvalidReferenceError
from .base import LocalModel, Spec
from .discovery import Discovery, Found, FoundFile, FoundSource, file_of

DEFAULT_REGISTRY = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
MEDIA = "application/vnd.ollama.image."
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}(:[0-9]{1,5})?$")
_DIGEST = re.compile(r"^sha256[:-]([0-9a-f]{64})$")
_TEXT_LAYERS = ("template", "system", "params", "license", "messages")


def roots() -> list[Path]:
    named = config.ollama_models()
    if named is not None:
        return [named]
    home = Path.home()
    return [p for p in (home / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models")) if p.is_dir()]


def split_name(name: str, ref: str) -> tuple[str, str, str, str]:
    """``[host/][namespace/]model[:tag]`` -> (registry, namespace, model, tag)."""
    parts = name.split("/")
    model, colon, tag = parts[-1].partition(":")
    tag = tag or ("" if colon else "latest")  # "name:" names no tag: refused below
    if len(parts) == 1:
        registry, namespace = DEFAULT_REGISTRY, DEFAULT_NAMESPACE
    elif len(parts) == 2:
        registry, namespace = DEFAULT_REGISTRY, parts[0]
    elif len(parts) == 3:
        registry, namespace = parts[0], parts[1]
    else:
        raise InvalidReferenceError(ref, "an Ollama name is [host/][namespace/]model[:tag]",
                                    hint="e.g. ollama:gemma3:270m, ollama:user/name:tag")
    if not (_HOST.match(registry) and _PART.match(namespace) and _PART.match(model) and _PART.match(tag)):
        raise InvalidReferenceError(ref, "an Ollama name is [host/][namespace/]model[:tag] (letters, digits, "
                                    "'.', '_', '-')", hint="e.g. ollama:gemma3:270m; see: localmodels list --all")
    return registry, namespace, model, tag


def short_name(registry: str, namespace: str, model: str, tag: str) -> str:
    """How Ollama itself shows a name: ``gemma3:270m``, ``user/name:tag``, ``host/ns/name:tag``."""
    if registry != DEFAULT_REGISTRY:
        return f"{registry}/{namespace}/{model}:{tag}"
    return f"{model}:{tag}" if namespace == DEFAULT_NAMESPACE else f"{namespace}/{model}:{tag}"


def _blob(root: Path, digest: str) -> Path:
    return root / "blobs" / f"sha256-{digest}"


def _small_text(path: Path, limit: int = 1 << 20) -> str | None:
    try:
        if path.stat().st_size > limit:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def read_manifest(root: Path, manifest: Path, parts: tuple[str, str, str, str]) -> Found:
    """The model a manifest describes; a ``problem`` (not an exception) when it is junk or incomplete."""
    name = short_name(*parts)
    found = Found(store="ollama", ref=f"ollama:{name}", name=name, hint=f"run: ollama pull {name}")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        layers = data["layers"]
        if not isinstance(layers, list):
            raise TypeError("layers is not a list")
        found.modified = manifest.stat().st_mtime
    except (OSError, ValueError, KeyError, TypeError) as e:
        found.problem = f"{manifest} is not an Ollama manifest ({type(e).__name__}: {e})"
        return found
    for layer in layers:
        kind = str(layer.get("mediaType", "")) if isinstance(layer, dict) else ""
        m = _DIGEST.match(str(layer.get("digest", ""))) if kind else None
        if not kind.startswith(MEDIA) or m is None:
            continue
        kind, digest = kind[len(MEDIA):], m.group(1)
        path = _blob(root, digest)
        if kind in ("model", "projector"):
            stem = f"{parts[2]}-{parts[3]}"
            f = file_of(path, f"{stem}.gguf" if kind == "model" else f"mmproj-{stem}.gguf", digest)
            if f is None:
                found.problem = (f"the manifest {manifest} names the {kind} blob sha256-{digest[:12]}..., which is "
                                 f"missing from {root / 'blobs'}")
                found.hint = f"fetch it again: ollama pull {name}"
                return found
            found.files.append(f)
        elif kind in _TEXT_LAYERS:
            text = _small_text(path)
            if text is None:
                continue
            if kind == "license":
                found.license = text.strip().splitlines()[0][:60] if text.strip() else None
            else:
                found.details[kind] = _parsed(kind, text)
    found.files.sort(key=lambda f: f.name.startswith("mmproj-"))  # the model first
    if not found.files:
        found.problem = f"the manifest {manifest} has no model layer"
    return found


def _parsed(kind: str, text: str) -> Any:
    if kind in ("params", "messages"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class OllamaSource(FoundSource):
    kind = "ollama"
    owner = "Ollama"
    problem_kind = "corrupt"
    guaranteed = True

    def name_of(self, ref: str) -> str | None:
        name = super().name_of(ref)
        if name is None:
            return None
        registry, namespace, model, tag = split_name(name, ref)
        return f"{registry}/{namespace}/{model}:{tag}"

    def display_name(self, spec: Spec) -> str:
        return short_name(*self._parts(spec))

    def remove_hint(self, spec: Spec) -> str:
        registry, namespace, model, tag = self._parts(spec)
        return f"run: ollama rm {short_name(registry, namespace, model, tag)}"

    def corrupt_hint(self, spec: Spec) -> str:
        if not spec.name:
            return "fetch it again: ollama pull NAME"
        return f"fetch it again: ollama pull {short_name(*self._parts(spec))}"

    def missing_hint(self, spec: Spec) -> str | None:
        return f"run: ollama pull {short_name(*self._parts(spec))}   (see what is there: localmodels list --all)"

    def _parts(self, spec: Spec) -> tuple[str, str, str, str]:
        path, _, tag = spec.name.rpartition(":")
        registry, namespace, model = path.split("/")
        return registry, namespace, model, tag

    def find(self, spec: Spec) -> Found | None:
        registry, namespace, model, tag = parts = self._parts(spec)
        for root in roots():
            manifest = root / "manifests" / registry / namespace / model / tag
            if manifest.is_file():
                return read_manifest(root, manifest, parts)
        return None

    def describe(self, model: LocalModel) -> dict[str, Any]:
        data = super().describe(model)
        details = data["details"]
        if "template" in details and details.get("chat template") == "none in the GGUF":
            details["chat template"] = ("none in the GGUF; Ollama's template layer is a Go template, which "
                                        "localmodels does not run (chat falls back to a plain prompt)")
        return data

    def key(self, spec: Spec) -> str:
        return super().key(Spec(spec.kind, short_name(*self._parts(spec)), spec.ref))

    def discover(self) -> Discovery:
        out = Discovery()
        for root in roots():
            base = root / "manifests"
            if not base.is_dir():
                continue
            for path in sorted(base.rglob("*")):
                if path.is_dir():
                    continue
                rel = path.relative_to(base).parts
                if len(rel) != 4 or any(p.startswith(".") for p in rel):
                    out.notes.append(f"ollama: skipped {path}: not a manifest (expected "
                                     "manifests/<registry>/<namespace>/<model>/<tag>)")
                    continue
                found = read_manifest(root, path, (rel[0], rel[1], rel[2], rel[3]))
                if found.problem and not found.files and "not an Ollama manifest" in found.problem:
                    out.notes.append(f"ollama: skipped {found.problem}")
                    continue
                out.found.append(found)
        return out


__all__ = ["FoundFile", "OllamaSource", "read_manifest", "roots", "short_name", "split_name"]
