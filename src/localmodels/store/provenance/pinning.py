"""Strict pinning: every model a project uses names a commit, so CI can refuse ``main``.

    findings = manifest_findings(manifest, lock)      # entries without a commit (or version) pin
    findings += scan_paths([Path("src")], pinned_names={"minilm"})

The code scan reads Python files with ``ast`` (nothing is imported or run) and reports, with
file and line, calls that download a model by name without a commit pin:
``*.from_pretrained(...)``, ``SentenceTransformer(...)``, ``CrossEncoder(...)``, ``pipeline(...)``,
``hf_hub_download(...)``, ``snapshot_download(...)`` without ``revision=`` (a literal revision must be
a 40-hex commit), and
``localmodels`` calls (``lm.embed(..., model=...)``) whose model is neither ``name@<commit>``
nor a name the lock pins. Local paths (``./model``, ``/abs``) are not downloads and pass.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..lockfile import Lock
    from ..manifest import Manifest

COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", "node_modules", ".tox", ".mypy_cache", "build", "dist"}
# Callee -> (index of the model argument, its keyword name)
_HF_CALLS = {
    "from_pretrained": (0, "pretrained_model_name_or_path"),
    "SentenceTransformer": (0, "model_name_or_path"),
    "CrossEncoder": (0, "model_name_or_path"),
    "hf_hub_download": (0, "repo_id"),
    "snapshot_download": (0, "repo_id"),
    "pipeline": (1, "model"),  # transformers.pipeline(task, model=...): no model means a default download
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str  # the call or the manifest entry
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}: {self.reason}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def is_commit(value: str | None) -> bool:
    return bool(value and COMMIT.match(value))


def _is_local(name: str) -> bool:
    return name.startswith(("./", "../", "/", "~")) or os.path.isabs(name)


# ---- manifest -----------------------------------------------------------------------------------

def manifest_findings(manifest: Manifest, lock: Lock | None, lock_path: Path | None = None) -> list[Finding]:
    """Manifest entries that no commit pins: neither a commit in the table nor an up-to-date lock
    entry with one (PyPI carriers: a version; local folders: the lock's file digests)."""
    from ..manifest import TomlLocator

    try:
        loc = TomlLocator(manifest.path.read_text(encoding="utf-8"))
    except OSError:
        loc = None
    out = []
    lock_name = lock_path.name if lock_path else "the lock file"
    for spec in manifest.models:
        line = (loc.line_of(("models", spec.name)) if loc else None) or 1
        where = str(manifest.path)
        if is_commit(spec.revision) or is_commit(spec.ref.partition("@")[2] if "@" in spec.ref else None):
            continue
        locked = lock.get(spec.name) if lock else None
        if locked is None:
            out.append(Finding(where, line, f"models.{spec.name}",
                               f"no commit pin: not in {lock_name} (run: localmodels lock)"))
        elif locked.spec_key() != spec.spec_key():
            out.append(Finding(where, line, f"models.{spec.name}",
                               f"{lock_name} is out of date for it (run: localmodels lock)"))
        elif _lock_pin(locked) is None:
            out.append(Finding(where, line, f"models.{spec.name}",
                               f"{lock_name} holds no commit (or package version, or file digests) for it"))
    return out


def pinned_names(lock: Lock | None) -> set[str]:
    """Manifest names whose lock entry pins a commit, a version or the files' digests."""
    if lock is None:
        return set()
    return {m.name for m in lock.model if _lock_pin(m) is not None}


def _lock_pin(m: Any) -> str | None:
    """What pins a lock entry: a Hub commit, a package version, or (a folder) its files' digests."""
    if m.repo_id:
        return m.commit if is_commit(m.commit) else None
    if m.package:
        return m.package_version
    return "file digests" if m.file else None


# ---- code -----------------------------------------------------------------------------------------

def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_file():
            yield p
            continue
        for dirpath, dirnames, filenames in os.walk(p):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(".py"):
                    yield Path(dirpath) / name


def scan_paths(paths: Iterable[Path], *, pinned: set[str] = frozenset()) -> list[Finding]:  # type: ignore[assignment]
    """Unpinned model downloads in the Python files under ``paths``."""
    out: list[Finding] = []
    for f in python_files(paths):
        try:
            tree = ast.parse(f.read_text(encoding="utf-8", errors="replace"), filename=str(f))
        except SyntaxError as e:
            out.append(Finding(str(f), e.lineno or 1, "file", f"cannot parse it ({e.msg}); not scanned"))
            continue
        out += _Scanner(str(f), pinned).run(tree)
    return out


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str, pinned: set[str]) -> None:
        self.path = path
        self.pinned = pinned
        self.lm_modules = {"lm"}  # names bound to the localmodels package (lm by convention)
        self.lm_functions: set[str] = set()  # from localmodels import embed
        self.constants: dict[str, str] = {}
        self.found: list[Finding] = []

    def run(self, tree: ast.Module) -> list[Finding]:
        for node in tree.body:  # module-level string constants: REVISION = "..."
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        self.constants[t.id] = node.value.value
        self.visit(tree)
        return self.found

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.name == "localmodels" or a.name.startswith("localmodels."):
                self.lm_modules.add((a.asname or a.name).split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and (node.module == "localmodels" or node.module.startswith("localmodels.")):
            for a in node.names:
                self.lm_functions.add(a.asname or a.name)

    def _value(self, node: ast.AST | None) -> str | None:
        """A string literal or a module-level string constant; None for anything computed."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        return None

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        callee = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if callee is None:
            return
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if callee in _HF_CALLS:
            index, key = _HF_CALLS[callee]
            model = kw.get(key) or (node.args[index] if len(node.args) > index else None)
            self._check_hf(node, callee, model, kw.get("revision"))
        elif "model" in kw and self._is_lm_call(func):
            self._check_lm(node, callee, kw["model"])

    def _is_lm_call(self, func: ast.AST) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.lm_functions
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id in self.lm_modules

    def _add(self, node: ast.Call, what: str, reason: str) -> None:
        self.found.append(Finding(self.path, node.lineno, what, reason))

    def _check_hf(self, node: ast.Call, callee: str, model: ast.AST | None, revision: ast.AST | None) -> None:
        name = self._value(model)
        if name is not None and _is_local(name):
            return
        what = f"{callee}({name!r})" if name is not None else f"{callee}(...)"
        if revision is None:
            self._add(node, what, "no revision: pin a commit, e.g. revision=\"<40-hex commit>\" (Bandit B615)")
            return
        rev = self._value(revision)
        if rev is not None and not is_commit(rev):
            self._add(node, what, f"revision={rev!r} is a branch or tag, not a commit: it can move")

    def _check_lm(self, node: ast.Call, callee: str, model: ast.AST) -> None:
        name = self._value(model)
        what = f"{callee}(model={name!r})" if name is not None else f"{callee}(model=...)"
        if name is None:
            self._add(node, what, "the model is computed here, so its pin cannot be checked: "
                                  "use a manifest name or name@<commit>")
            return
        if _is_local(name) or name.startswith("remote:") or name in self.pinned:
            return
        base, _, rev = name.partition("@")
        if name.startswith("pypi:"):
            if "==" not in name:
                self._add(node, what, "no version pin: use pypi:package==version")
            return
        if not rev:
            self._add(node, what, "no commit pin: use name@<40-hex commit>, or a name from localmodels.toml "
                                  "that localmodels.lock pins")
        elif not is_commit(rev):
            self._add(node, what, f"@{rev} is a branch, tag or short sha, not a full commit")
