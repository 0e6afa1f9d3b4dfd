"""Categories for ``classify`` and the evidence a file's name and path give about them.

The name rules are a *prior*, not an answer: each rule that matches multiplies the odds of its
category by a likelihood ratio (strong rules 6, extension rules 2), and the classifier combines
that prior with the model's probabilities by Bayes' rule (``posterior ∝ p_model × prior^w``, with
``w = prior_weight``; ``w = 0`` turns names off). A confident model overrules a name (a
``test_data.csv`` full of rows stays data), a hesitant one is tipped by it. Rules only apply to
categories with the same name as the rule's target, so custom category sets get no prior unless
they reuse these names.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import UsageError


@dataclass(frozen=True)
class Category:
    """A category; ``examples`` are short made-up specimens (not taken from any benchmark) that
    the embedding method averages with the description into the category's prototype."""

    name: str
    description: str
    examples: tuple[str, ...] = ()

    def prototype_texts(self) -> tuple[str, ...]:
        """The texts that stand for this category: its description and its examples."""
        return (f"A {self.name} file: {self.description}", *self.examples)


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("code", "source code of a program or library: modules, functions, classes, scripts", (
        "File: mylib/storage.py\n\n\"\"\"Read and write records on disk.\"\"\"\n\nimport json\nfrom pathlib import "
        "Path\n\n\ndef load(path: Path) -> list[dict]:\n    with open(path) as fh:\n        return json.load(fh)\n\n\n"
        "def save(path: Path, records: list[dict]) -> None:\n    path.write_text(json.dumps(records))",
        "File: src/app/session.py\n\nclass Session:\n    def __init__(self, url):\n        self.url = url\n\n"
        "    def get(self, path):\n        return self._request('GET', path)",
        "File: lib/util.js\n\nexport function debounce(fn, ms) {\n  let timer;\n  return (...args) => "
        "{ clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };\n}",
    )),
    Category("documentation", "documentation for people: a README, guide, tutorial, API reference or changelog", (
        "File: docs/guide.md\n\n# Getting started\n\nThis guide explains how to install the library and use "
        "its main features, with examples.",
        "File: docs/api.rst\n\nAPI reference\n=============\n\n.. autofunction:: mylib.parse\n\nThe parse "
        "function reads a document and returns ...",
    )),
    Category("configuration", "settings for a tool, editor, linter or CI pipeline: YAML, INI, TOML or dotfiles", (
        "File: config/settings.yaml\n\nserver:\n  host: 0.0.0.0\n  port: 8080\nlogging:\n  level: info",
        "File: .github/workflows/ci.yml\n\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4",
        "File: setup.cfg\n\n[flake8]\nmax-line-length = 100\nignore = E203\n\n[coverage:run]\nbranch = true",
    )),
    Category("data", "data records: CSV tables, JSON or YAML fixtures, datasets and sample inputs", (
        "File: data/prices.csv\n\nid,name,price,date\n1,apple,0.50,2024-01-02\n2,pear,0.75,2024-01-03\n"
        "3,plum,1.20,2024-01-04",
        "File: fixtures/users.json\n\n[\n  {\"id\": 1, \"name\": \"Alice\", \"active\": true},\n  "
        "{\"id\": 2, \"name\": \"Bob\", \"active\": false}\n]",
    )),
    Category("test", "automated tests: test cases with assertions, pytest or unittest code, test fixtures", (
        "File: tests/test_parser.py\n\nimport pytest\n\nfrom mylib import parse\n\ndef test_parse_number():\n"
        "    assert parse('1') == 1\n\ndef test_parse_rejects_garbage():\n    with pytest.raises(ValueError):\n"
        "        parse('x')",
        "File: tests/test_client.py\n\nclass TestClient(unittest.TestCase):\n    def test_get(self):\n"
        "        self.assertEqual(client.get('/').status, 200)",
    )),
    Category("build", "build, packaging and dependency definitions: setup.py, pyproject.toml, Makefile, requirements", (
        "File: setup.py\n\nfrom setuptools import setup, find_packages\n\nsetup(name='mylib', version='1.0', "
        "packages=find_packages(), install_requires=['requests'])",
        "File: pyproject.toml\n\n[build-system]\nrequires = [\"setuptools\", \"wheel\"]\nbuild-backend = "
        "\"setuptools.build_meta\"\n\n[project]\nname = \"mylib\"",
        "File: Makefile\n\nall: build\n\nbuild:\n\tpython -m build\n\ntest:\n\tpytest -q",
        "File: requirements.txt\n\nrequests==2.32.3\nclick>=8.1\npytest==8.3.3",
    )),
    Category("other", "anything else: a licence text, a notice, an authors list, a code of conduct", (
        "File: LICENSE\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this "
        "software, to deal in the Software without restriction.",
        "File: AUTHORS\n\nThe following people have contributed to this project:\n\n- Jane Doe\n- John Smith",
    )),
)

STRONG = 6.0
WEAK = 2.0

CODE_EXT = {".py", ".pyi", ".pyx", ".c", ".h", ".cc", ".cpp", ".hpp", ".js", ".mjs", ".ts", ".tsx", ".jsx",
            ".go", ".rs", ".java", ".kt", ".rb", ".php", ".cs", ".swift", ".scala", ".sh", ".bash", ".ps1",
            ".lua", ".r", ".jl", ".m", ".sql"}
DOC_EXT = {".md", ".rst", ".adoc", ".txt", ".markdown"}
CONFIG_EXT = {".yml", ".yaml", ".toml", ".ini", ".cfg", ".conf", ".env", ".properties"}
DATA_EXT = {".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".xml", ".data", ".canonical", ".parquet", ".arff"}

# (category, likelihood ratio, glob on the file name, or on the path when it contains a '/')
NAME_RULES: tuple[tuple[str, float, str], ...] = (
    ("test", STRONG, "test_*.py"), ("test", STRONG, "*_test.py"), ("test", STRONG, "conftest.py"),
    ("test", STRONG, "*_test.go"), ("test", STRONG, "*.test.[jt]s"), ("test", STRONG, "*.spec.[jt]s"),
    ("build", STRONG, "setup.py"), ("build", STRONG, "pyproject.toml"), ("build", STRONG, "Makefile"),
    ("build", STRONG, "GNUmakefile"), ("build", STRONG, "make.bat"), ("build", STRONG, "CMakeLists.txt"),
    ("build", STRONG, "MANIFEST.in"), ("build", STRONG, "noxfile.py"), ("build", STRONG, "tox.ini"),
    ("build", STRONG, "requirements*.txt"), ("build", STRONG, "requirements*.in"),
    ("build", STRONG, "*/requirements/*.txt"), ("build", STRONG, "*/requirements/*.in"),
    ("build", STRONG, "Dockerfile"), ("build", STRONG, "Cargo.toml"), ("build", STRONG, "go.mod"),
    ("build", STRONG, "package.json"), ("build", STRONG, "pom.xml"), ("build", STRONG, "build.gradle*"),
    ("build", WEAK, "setup.cfg"),
    ("configuration", WEAK, "setup.cfg"), ("configuration", STRONG, ".*rc"),
    ("configuration", STRONG, ".editorconfig"), ("configuration", STRONG, ".pre-commit-config.yaml"),
    ("configuration", STRONG, ".readthedocs.y*ml"), ("configuration", STRONG, "*/.github/*.y*ml"),
    ("configuration", STRONG, "*/docs/conf.py"), ("configuration", STRONG, "codecov.y*ml"),
    ("configuration", STRONG, ".flake8"), ("configuration", STRONG, "mypy.ini"),
    ("configuration", STRONG, "pytest.ini"), ("configuration", STRONG, ".gitignore"),
    ("configuration", STRONG, ".gitattributes"), ("configuration", STRONG, ".dockerignore"),
    ("other", STRONG, "LICEN[CS]E*"), ("other", STRONG, "COPYING*"), ("other", STRONG, "NOTICE*"),
    ("other", STRONG, "AUTHORS*"), ("other", STRONG, "CONTRIBUTORS*"), ("other", STRONG, "CODE_OF_CONDUCT*"),
    ("other", STRONG, "CITATION*"),
    ("documentation", STRONG, "README*"), ("documentation", STRONG, "CHANGELOG*"),
    ("documentation", STRONG, "CHANGES*"), ("documentation", STRONG, "HISTORY*"),
    ("documentation", STRONG, "CONTRIBUTING*"), ("documentation", STRONG, "*/docs/*.md"),
    ("documentation", STRONG, "*/docs/*.rst"),
)
TEST_DIRS = {"tests", "test", "testing", "__tests__", "spec"}
SOURCE_DIRS = {"src", "lib", "pkg", "internal", "app"}


def name_evidence(rel: str, names: Sequence[str]) -> dict[str, tuple[float, str]]:
    """For each category in ``names`` the name gives evidence for: (likelihood ratio, rule).

    Per category the strongest matching rule counts (rules are not multiplied together).
    """
    p = PurePosixPath("/" + rel.lstrip("/"))
    name = p.name
    ext = p.suffix.lower()
    full = p.as_posix()
    found: dict[str, tuple[float, str]] = {}

    def add(cat: str, ratio: float, why: str) -> None:
        if cat in names and ratio > found.get(cat, (0.0, ""))[0]:
            found[cat] = (ratio, why)

    for cat, ratio, pattern in NAME_RULES:
        target = full if "/" in pattern else name
        if fnmatch.fnmatchcase(target, pattern):
            add(cat, ratio, f"name matches {pattern}")
    parts = set(p.parts[:-1])
    if ext in CODE_EXT and parts & TEST_DIRS:
        add("test", STRONG, f"code in a {sorted(parts & TEST_DIRS)[0]}/ folder")
    elif ext in CODE_EXT and parts & SOURCE_DIRS and not fnmatch.fnmatchcase(name, "test*"):
        add("code", STRONG, f"code in a {sorted(parts & SOURCE_DIRS)[0]}/ folder")
    if ext in CODE_EXT:
        add("code", WEAK, f"extension {ext}")
    elif ext in DOC_EXT:
        add("documentation", WEAK, f"extension {ext}")
    elif ext in CONFIG_EXT:
        add("configuration", WEAK, f"extension {ext}")
    elif ext in DATA_EXT:
        add("data", WEAK, f"extension {ext}")
    return found


def parse_categories(spec: str | None = None, file: str | Path | None = None) -> list[Category]:
    """Categories from ``--categories a,b,c`` (``name=description`` allowed) or a file, else the defaults.

    The file is JSON (``{"name": "description"}`` or a list of names / ``{"name":..,"description":..}``)
    or text, one ``name: description`` or ``name`` per line (``#`` comments).
    """
    if spec and file:
        raise UsageError("give --categories or --categories-file, not both")
    items: list[tuple[str, str]] = []
    if file:
        path = Path(file)
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read categories file {path}: {e.strerror or e}") from e
        except UnicodeDecodeError as e:
            raise UsageError(f"categories file {path} is not UTF-8 text (byte {e.start}): a binary file?",
                             hint="give a .json or text file: one 'name: description' per line") from None
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as e:
                raise UsageError(f"{path}: not valid JSON: {e}") from e
            if isinstance(data, dict):
                items = [(str(k), str(v or "")) for k, v in data.items()]
            elif isinstance(data, list):
                for d in data:
                    if isinstance(d, str):
                        items.append((d, ""))
                    elif isinstance(d, dict) and "name" in d:
                        items.append((str(d["name"]), str(d.get("description") or "")))
                    else:
                        raise UsageError(f"{path}: each category is a name or {{'name':..., 'description':...}}")
            else:
                raise UsageError(f"{path}: expected an object or a list of categories")
        else:
            for line in raw.splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    name, _, desc = line.partition(":")
                    items.append((name.strip(), desc.strip()))
    elif spec:
        for part in spec.split(","):
            if part.strip():
                name, _, desc = part.partition("=")
                items.append((name.strip(), desc.strip()))
    else:
        return list(DEFAULT_CATEGORIES)
    defaults = {c.name: c for c in DEFAULT_CATEGORIES}
    names = [n for n, _ in items]
    if len(names) < 2:
        raise UsageError("classification needs at least two categories",
                         hint="e.g. --categories code,documentation,data")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes or any(not n for n in names):
        raise UsageError(f"category names must be unique and non-empty (repeated: {', '.join(dupes) or 'empty name'})")
    out = []
    for n, d in items:
        known = defaults.get(n)
        if d or known is None:
            out.append(Category(n, d or n))
        else:
            out.append(known)  # a default name without a description keeps its description and examples
    return out
