"""What the store hands to every layer above it: a verified model on local disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import ModelEntry


@dataclass(frozen=True)
class FileRecord:
    path: str  # relative to the model folder, '/'-separated
    size: int
    sha256: str | None = None


@dataclass
class LocalModel:
    """A model whose files are all present (and were verified when they were fetched).

    ``path`` is the folder to load from: a Hub snapshot folder, a local folder used in place, or
    the model folder inside an installed PyPI package (or, for a model assembled from PyPI chunk
    packages, the folder under ``LOCALMODELS_HOME/models/pypi/<package>/``).
    """

    ref: str  # what the user asked for
    name: str  # canonical name: repo id, alias target, package or folder
    path: Path
    source: str  # "hub" | "local" | "pypi"
    commit: str | None = None
    revision: str | None = None
    files: list[FileRecord] = field(default_factory=list)
    entry: "ModelEntry | None" = None
    license: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    served_by: str = ""  # which source served it: "hub:org/name", "pypi:package", "local:/path"
    key: str = ""  # the store's record key (records/<key>.json)
    pulled_at: str | None = None
    last_used: str | None = None

    def file(self, relative: str) -> Path:
        return self.path / relative

    def has(self, relative: str) -> bool:
        return (self.path / relative).is_file()

    def find(self, pattern: str) -> list[Path]:
        return sorted(self.path.glob(pattern))

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def task(self) -> str | None:
        return self.entry.task if self.entry else None

    def sha256(self, relative: str) -> str | None:
        for f in self.files:
            if f.path == relative:
                return f.sha256
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (``localmodels info --json``)."""
        return {
            "ref": self.ref,
            "name": self.name,
            "path": str(self.path),
            "source": self.source,
            "served_by": self.served_by,
            "commit": self.commit,
            "revision": self.revision,
            "license": self.license,
            "task": self.task,
            "size": self.size,
            "pulled_at": self.pulled_at,
            "last_used": self.last_used,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
            **({"metadata": self.metadata} if self.metadata else {}),
        }
