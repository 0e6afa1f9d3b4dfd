"""``llamacpp:FILE.gguf``: a GGUF llama.cpp's ``-hf`` / ``--hf-repo`` downloaded into its cache.

The cache (``$LLAMA_CACHE``, else ``~/.cache/llama.cpp``) holds ``<org>_<repo>_<file>.gguf`` with a
``<file>.gguf.json`` sidecar (``url``, ``etag``, ``lastModified``). The sidecar's URL names the
model; an ETag that is a sha256 (the Hub's for LFS files) is the digest ``verify`` holds it to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .. import config
from .appfolders import FolderStore, _existing
from .discovery import Found

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sidecar(path: Path) -> dict:
    try:
        data = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class LlamaCppSource(FolderStore):
    kind = "llamacpp"
    owner = "llama.cpp"
    depth = 2
    problem_kind = "corrupt"
    guaranteed = True  # a file that differs from its ETag digest is damaged, not the user's edit

    def roots(self) -> list[Path]:
        named = config.llama_cache()
        if named is not None:
            return [named]
        return _existing([Path.home() / ".cache" / "llama.cpp", Path.home() / "Library" / "Caches" / "llama.cpp"])

    def annotate(self, found: Found, path: Path) -> None:
        meta = sidecar(path)
        etag = str(meta.get("etag", "")).removeprefix("W/").strip('"').lower()
        if _SHA256.match(etag):
            found.files[0].digest = etag
        if meta.get("url"):
            found.details["url"] = str(meta["url"])
        if meta.get("lastModified"):
            found.details["last modified (server)"] = str(meta["lastModified"])

    def corrupt_hint(self, spec) -> str:  # type: ignore[no-untyped-def]
        return f"download it again with llama.cpp (llama-cli -hf ...), or delete {spec.name} from its cache"
