"""What ``sync`` and ``check`` report per model, and the exit code of a run.

Exit codes (:attr:`Report.exit_code`): 0 all required models good, 1 a required model missing or not
fetchable, 2 a required model corrupt (a file whose size or sha256 differs from the lock).
Problems with optional models (``required = false``) are warnings and never change the exit code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..sources.base import FileProblem

Status = Literal["ok", "fetched", "missing", "corrupt", "failed"]


def lock_problem(p: FileProblem) -> str:
    """A file problem as ``check`` words it: ``missing``, ``size N, lock says M`` or
    ``sha256 abc..., lock says def...``."""
    if p.kind == "missing":
        return "missing"
    if p.what == "size":
        return f"size {p.actual}, lock says {p.expected}"
    return f"{p.what} {str(p.actual)[:12]}..., lock says {str(p.expected)[:12]}..."


@dataclass
class SyncStatus:
    """One model's line in a ``sync`` or ``check`` report."""

    name: str
    ref: str
    required: bool
    status: Status
    source: str = ""
    detail: str = ""
    files: int = 0
    size: int = 0
    seconds: float = 0.0
    attempts: int = 0
    path: str | None = None
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def good(self) -> bool:
        return self.status in ("ok", "fetched")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        d["problems"] = [{"path": p.path, "problem": lock_problem(p)} for p in self.problems]
        return d


@dataclass
class Report:
    results: list[SyncStatus]
    offline: bool = False

    @property
    def exit_code(self) -> int:
        required = [r for r in self.results if r.required]
        if any(r.status == "corrupt" for r in required):
            return 2
        if any(not r.good for r in required):
            return 1
        return 0

    @property
    def warnings(self) -> list[SyncStatus]:
        return [r for r in self.results if not r.required and not r.good]

    def as_dict(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "offline": self.offline,
                "models": [r.as_dict() for r in self.results]}
