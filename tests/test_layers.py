"""The shape of src/localmodels, read with ``ast`` (nothing imported): imports only go down a layer,
no import cycles, no module over 400 lines, no ``LOCALMODELS_*`` read outside config.py, and one
lazy-import helper whose users spell their names out for type checkers.

Layers, top to bottom: cli, server (6) > apps (5) > tasks (4) > runtimes (3) > store (2) > sources (1);
the base modules (0) may be imported from anywhere. The package facades (``localmodels/__init__``,
``__main__``, ``pytest_plugin``) sit above everything. Each checker is also run on a small tree made
here with the fault in it, so a checker that finds nothing is known to look.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "localmodels"
MAX_LINES = 400
LAYERS = {"cli": 6, "server": 6, "apps": 5, "tasks": 4, "runtimes": 3, "store": 2, "sources": 1,
          "registry": 0, "config": 0, "errors": 0, "refs": 0, "results": 0, "_lazy": 0}
FACADES = {"__init__", "__main__", "pytest_plugin"}  # top-level modules of the package: above all layers
FORBIDDEN_SIDEWAYS = {("server", "cli")}  # same layer, but the server never reaches into the CLI
ENV_NAME = re.compile(r"LOCALMODELS_[A-Z0-9_]+")
ENV_READ = re.compile(r"(environ(?:\.get)?\s*[\[(]\s*|getenv\(\s*)f?[\"']LOCALMODELS_\w*")


@dataclass
class Module:
    name: str  # dotted, e.g. localmodels.store._pull
    path: Path
    text: str
    tree: ast.Module
    imports: list[tuple[str, int]] = field(default_factory=list)  # (target, line), resolved

    @property
    def top(self) -> str:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else "__init__"

    @property
    def layer(self) -> int | None:
        """None for the facades (and for a top-level name no layer lists: reported separately)."""
        if self.name.count(".") == 1 and self.top in FACADES or self.name.count(".") == 0:
            return None
        return LAYERS.get(self.top)


def load(root: Path) -> dict[str, Module]:
    """Every module under ``root`` (a package folder), with its imports resolved to dotted names."""
    mods: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        text = path.read_text(encoding="utf-8")
        mods[".".join(parts)] = Module(".".join(parts), path, text, ast.parse(text, str(path)))
    for m in mods.values():
        base = m.name.split(".") if m.path.name == "__init__.py" else m.name.split(".")[:-1]
        for node in ast.walk(m.tree):  # module-level, function-local and TYPE_CHECKING imports alike
            if isinstance(node, ast.Import):
                m.imports += [(a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                anchor = base[: len(base) - node.level + 1] if node.level else []
                target = ".".join(anchor + ([node.module] if node.module else []))
                m.imports.append((target, node.lineno))
                m.imports += [(f"{target}.{a.name}", node.lineno) for a in node.names]  # submodules
    return mods


def rel(m: Module) -> str:
    return str(m.path.relative_to(PACKAGE.parent.parent)) if PACKAGE in m.path.parents else str(m.path)


def upward_imports(mods: dict[str, Module]) -> list[str]:
    out = []
    for m in mods.values():
        if m.layer is None:
            continue
        for target, line in m.imports:
            t = mods.get(target)
            if t is None or t.layer is None:
                continue
            if t.layer > m.layer or (m.top, t.top) in FORBIDDEN_SIDEWAYS:
                out.append(f"{rel(m)}:{line} imports {target} ({t.top}, layer {t.layer} > {m.top}, {m.layer})")
    return out


def unlayered(mods: dict[str, Module]) -> list[str]:
    """Top-level modules or packages no layer lists: they must be placed before they can be checked."""
    return sorted({m.top for m in mods.values() if "." in m.name and m.top not in FACADES | LAYERS.keys()})


def cycles(mods: dict[str, Module]) -> list[list[str]]:
    """Groups of modules that import each other (strongly connected components of size > 1).
    A module's import of its own package (``from . import x`` runs the package's __init__) is not an edge."""
    graph = {m.name: {t for t, _ in m.imports if t in mods and t != m.name and not m.name.startswith(t + ".")}
             for m in mods.values()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph is a few hundred nodes, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def long_modules(mods: dict[str, Module]) -> list[str]:
    return [f"{rel(m)}: {n} lines" for m in mods.values() if (n := len(m.text.splitlines())) > MAX_LINES]


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _reads_environment(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
            return True
        if isinstance(node, ast.Name) and node.id in ("environ", "getenv"):
            return True
    return False


def env_reads(mods: dict[str, Module]) -> list[str]:
    """``LOCALMODELS_*`` reads outside config.py: ``os.environ[...]``/``.get``/``getenv`` with the name
    written in, or, in a module that touches the environment at all, the bare name as a string of its
    own that is not a message (not a docstring, not an argument of an exception or other class)."""
    out = []
    for m in mods.values():
        if m.top == "config":
            continue
        for hit in ENV_READ.finditer(m.text):
            out.append(f"{rel(m)}:{m.text.count(chr(10), 0, hit.start()) + 1}: {hit.group(0)}")
        if not _reads_environment(m.tree):
            continue
        skip = _docstrings(m.tree)
        for node in ast.walk(m.tree):  # strings handed to a class (an error, a record) are messages
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
                callee = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                if callee[:1].isupper():
                    skip |= {id(a) for a in ast.walk(node) if isinstance(a, ast.Constant)}
        for node in ast.walk(m.tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                    and ENV_NAME.fullmatch(node.value)):
                out.append(f"{rel(m)}:{node.lineno}: {node.value!r} in a module that reads os.environ")
    return sorted(set(out))


def _lazy_names(tree: ast.Module) -> set[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets) and isinstance(node.value, ast.Dict):
                return {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    return None


def _type_checking_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    names |= {(a.asname or a.name).split(".")[0] for a in sub.names}
    return names


def lazy_problems(mods: dict[str, Module]) -> list[str]:
    """One lazy-import helper (``_lazy.py``): no other module writes its own ``__getattr__``, and each
    module with a ``_LAZY`` table names the same names in an ``if TYPE_CHECKING:`` block."""
    out = []
    for m in mods.values():
        if m.top == "_lazy":
            continue
        if any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in m.tree.body):
            out.append(f"{rel(m)}: defines its own module __getattr__; use localmodels._lazy.attach")
        lazy = _lazy_names(m.tree)
        if lazy is None:
            continue
        seen = _type_checking_names(m.tree)
        if lazy != seen:
            out.append(f"{rel(m)}: TYPE_CHECKING block lacks {sorted(lazy - seen)}, has extra {sorted(seen - lazy)}")
    return out


# -- the package --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def package() -> dict[str, Module]:
    return load(PACKAGE)


def test_every_top_level_module_has_a_layer(package: dict[str, Module]) -> None:
    assert unlayered(package) == []


def test_no_import_runs_up_a_layer(package: dict[str, Module]) -> None:
    assert upward_imports(package) == []


def test_no_import_cycle(package: dict[str, Module]) -> None:
    assert [" <-> ".join(c) for c in cycles(package)] == []


def test_no_module_over_400_lines(package: dict[str, Module]) -> None:
    assert long_modules(package) == []


def test_no_environment_read_of_our_variables_outside_config(package: dict[str, Module]) -> None:
    assert env_reads(package) == []


def test_one_lazy_import_helper_and_names_for_type_checkers(package: dict[str, Module]) -> None:
    assert lazy_problems(package) == []


# -- the checkers find what they look for ----------------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Module]:
    root = tmp_path / "localmodels"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    for folder in {p.parent for p in root.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return load(root)


def test_checkers_see_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    mods = _tree(tmp_path, {
        "store/a.py": "def f():\n    from ..tasks import b\n",  # function-local still counts
        "tasks/b.py": "from ..store import a\nfrom .. import config\n",
        "config.py": "",
        "server/app.py": "from ..cli import main\n",
        "cli/main.py": "from ..server import app\n",
    })
    ups = upward_imports(mods)
    assert any("store/a.py:2 imports localmodels.tasks" in u for u in ups)
    assert any("server/app.py:1 imports localmodels.cli" in u for u in ups)
    assert not any("cli/main.py" in u or "config" in u for u in ups)
    assert ["localmodels.store.a", "localmodels.tasks.b"] in cycles(mods)


def test_checkers_see_a_long_module_an_env_read_and_an_ad_hoc_lazy_loader(tmp_path: Path) -> None:
    mods = _tree(tmp_path, {
        "runtimes/big.py": "x = 1\n" * (MAX_LINES + 1),
        "runtimes/env.py": 'import os\nN = os.environ.get("LOCALMODELS_N_CTX")\n',
        "runtimes/indirect.py": 'import os\n_V = "LOCALMODELS_STRICT"\nS = os.environ.get(_V)\n'
                                'E = Endpoint("LOCALMODELS_REMOTE_API_KEY")\n'
                                'raise ValueError("set LOCALMODELS_STRICT")\n',
        "config.py": 'import os\nH = os.environ.get("LOCALMODELS_HOME")\n',
        "store/__init__.py": "_LAZY = {'pull': '_pull'}\ndef __getattr__(name):\n    pass\n",
        "apps/__init__.py": "from typing import TYPE_CHECKING\n_LAZY = {'run': 'bench', 'x': 'y'}\n"
                            "if TYPE_CHECKING:\n    from .bench import run as run\n",
    })
    assert [s.split(":")[0] for s in long_modules(mods)] == [str(tmp_path / "localmodels/runtimes/big.py")]
    reads = env_reads(mods)
    assert any("env.py:2" in r for r in reads) and any("indirect.py:2" in r for r in reads)
    assert not any("config.py" in r or "indirect.py:4" in r or "indirect.py:5" in r for r in reads)
    problems = lazy_problems(mods)
    assert any("store/__init__.py: defines its own" in p for p in problems)
    assert any("apps/__init__.py: TYPE_CHECKING block lacks ['x']" in p for p in problems)
