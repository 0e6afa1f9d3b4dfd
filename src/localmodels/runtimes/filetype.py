"""A file's content type from Google's Magika (the ``filetype`` extra), as evidence for ``classify``.

Magika's ONNX model (``standard_v3_3``, about 3 MB) ships inside its PyPI wheel and runs on
ONNX Runtime: nothing is downloaded. :func:`detect` gives a label (``python``, ``markdown``,
``yaml`` ...), Magika's group (``code``, ``text``, ...) and a score; :func:`category_evidence`
maps a label to one of the default categories with a likelihood ratio, like the name rules.

    ft = FileTypes()
    ft.detect([Path("setup.py")])[0]   # FileType(label='python', group='code', score=0.99)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError

# A type says less than a name rule: a weak likelihood ratio, given only when Magika is sure.
RATIO = 2.0
MIN_SCORE = 0.8
# Files per Magika call: one call amortises ONNX Runtime's per-run cost, but its activations grow with the
# batch (about 3 MB a file: 256 files a call took 600 MB more peak memory than 4 on the 10,000-file benchmark).
BATCH = 8
_CATEGORY_OF: dict[str, str] = {
    **{t: "code" for t in ("python", "javascript", "typescript", "c", "cpp", "go", "rust", "java", "kotlin", "ruby",
                           "php", "cs", "swift", "scala", "shell", "powershell", "lua", "perl", "r", "julia",
                           "sql", "batch", "vba", "asm", "objectivec", "dart", "haskell", "clojure", "erlang",
                           "elixir", "ocaml", "groovy", "coffeescript", "cython", "zig", "nim")},
    **{t: "documentation" for t in ("markdown", "rst", "asciidoc", "latex", "rtf", "org")},
    **{t: "configuration" for t in ("ini", "toml", "yaml", "ignorefile", "gitattributes", "gitmodules",
                                    "editorconfig", "npmrc", "properties", "hcl")},
    **{t: "data" for t in ("json", "jsonl", "csv", "tsv", "xml", "parquet", "sqlite", "proto")},
    **{t: "build" for t in ("makefile", "dockerfile", "cmake", "gradle", "bazel", "requirements")},
}


@dataclass(frozen=True)
class FileType:
    label: str
    group: str
    score: float
    is_text: bool = True


def category_evidence(ft: FileType | None, names: Sequence[str]) -> tuple[str, float, str] | None:
    """(category, likelihood ratio, why) this type supports among ``names``, or None."""
    if ft is None or ft.score < MIN_SCORE:
        return None
    cat = _CATEGORY_OF.get(ft.label)
    if cat is None or cat not in names:
        return None
    return cat, RATIO, f"content type {ft.label} (Magika {ft.score:.2f})"


_shared: Any = None
_shared_lock = threading.Lock()


def available() -> bool:
    try:
        import magika  # noqa: F401
    except ImportError:
        return False
    return True


def _one_thread(m: Any) -> Any:
    """Magika's ONNX session on one intra-op thread (``LOCALMODELS_THREADS`` if set): its small model gains
    little from more, and classify runs it beside the static stage, which has the other core (measured here:
    6.9 ms of CPU a file on one thread, 11.9 ms on ONNX Runtime's default pool). magika==1.0.3 (pinned by the
    extra) keeps its session in ``_onnx_session``; another version keeps its own session."""
    import onnxruntime as rt

    from ..config import num_threads

    path = getattr(m, "_model_path", None)
    if path is None or not hasattr(m, "_onnx_session"):
        return m
    so = rt.SessionOptions()
    so.intra_op_num_threads = num_threads() or 1
    so.inter_op_num_threads = 1
    m._onnx_session = rt.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return m


class FileTypes:
    """Magika, loaded once per process (its model from the wheel; offline)."""

    def __init__(self) -> None:
        self._m: Any = None

    def _magika(self) -> Any:
        global _shared
        if self._m is None:
            with _shared_lock:
                if _shared is None:
                    try:
                        from magika import Magika
                    except ImportError as e:
                        raise MissingDependencyError("magika", "filetype", purpose="to detect file types") from e
                    _shared = _one_thread(Magika())
                self._m = _shared
        return self._m

    @property
    def model_name(self) -> str:
        return str(self._magika().get_model_name())

    def _one(self, r: Any) -> FileType | None:
        if not getattr(r, "ok", True):
            return None
        out = r.output
        return FileType(str(out.label), str(out.group), float(r.score), bool(out.is_text))

    def detect(self, paths: Sequence[Path]) -> list[FileType | None]:
        """One :class:`FileType` per path (None where Magika could not read it)."""
        out: list[FileType | None] = []
        for start in range(0, len(paths), BATCH):
            got = self._magika().identify_paths([Path(p) for p in paths[start:start + BATCH]])
            out += [self._one(r) for r in got]
        return out

    def detect_bytes(self, data: bytes) -> FileType | None:
        return self._one(self._magika().identify_bytes(data))
