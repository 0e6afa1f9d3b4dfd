"""Few-shot classifier heads: a logistic regression on a model's embeddings, kept as a derived model.

    head = train_classifier("labelled.jsonl", model="derived:minilm-static", name="my-head")
    classify_paths(["src/"], model="derived:my-head")     # or: localmodels classify --model derived:my-head
    load_head("derived:my-head").predict(["File: a.py\\n\\nimport os"])

Examples are a JSONL file (``{"text": ..., "label": ...}`` or ``{"path": ..., "label": ...}`` per
line), a folder with ``MANIFEST.json`` (the ``datasets/files`` layout), or a folder with one
sub-folder per category. A file is read as ``classify`` reads it: up to three 500-character chunks,
each shown as ``File: <path>`` + chunk; the head is fitted on the chunks (each file weighing one),
so scoring a file averages its chunks' probabilities exactly as the other methods do.

The head (``head.safetensors``: weights, bias; ``head.json``: categories, the embedding model's
reference and digest, the examples' digest, the training figures) lives under
``LOCALMODELS_HOME/derived/models/NAME``; loading it again gives bit-identical scores.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..sources.derived import PREFIX, derived_folder, read_manifest
from ._categories import DEFAULT_CATEGORIES, Category
from ._report import chunk_text
from ._walk import Found, read_text

HEAD_FILE = "head.safetensors"
HEAD_META = "head.json"
CHUNK_CHARS, MAX_CHUNKS = 500, 3


@dataclass(frozen=True)
class Example:
    label: str
    text: str
    name: str = ""  # the path shown to the model ("" for plain texts)
    group: str = ""  # the project it comes from (leave-projects-out evaluation)


def _model_inputs(ex: Example) -> list[str]:
    if not ex.name:
        return [ex.text]
    chunks = chunk_text(ex.text, CHUNK_CHARS, MAX_CHUNKS) or [""]
    return [f"File: {ex.name}\n\n{ch}".rstrip() + "\n" for ch in chunks]


def _read_file(path: Path, rel: str) -> str:
    got = read_text(Found(path, rel, path.stat().st_size), 1_000_000)
    if isinstance(got, str):
        raise UsageError(f"example {path} cannot be used: {got}",
                         hint="examples must be text files (binary and unreadable files are refused)")
    return got.text


def read_examples(source: str | Path) -> list[Example]:
    """Examples from a JSONL file, a MANIFEST.json folder, or a folder of category sub-folders."""
    src = Path(source).expanduser()
    if src.is_dir() and (src / "MANIFEST.json").is_file():
        manifest = json.loads((src / "MANIFEST.json").read_text(encoding="utf-8"))
        return [Example(f["label"], _read_file(src / f["path"], f["path"]), f["path"],
                        str(f.get("project") or f["path"].split("/", 1)[0])) for f in manifest.get("files", [])]
    if src.is_dir():
        out = []
        for sub in sorted(p for p in src.iterdir() if p.is_dir()):
            for f in sorted(p for p in sub.rglob("*") if p.is_file()):
                rel = f.relative_to(sub).as_posix()
                out.append(Example(sub.name, _read_file(f, rel), rel))
        if not out:
            raise UsageError(f"{src} holds no examples",
                             hint="one sub-folder per category holding its files, or a MANIFEST.json")
        return out
    try:
        raw = src.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"examples not found: {src}", hint="pass a .jsonl file or a folder") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read examples {src}: {e}",
                         hint="a UTF-8 .jsonl file, one {\"text\"|\"path\": ..., \"label\": ...} per line") from None
    if not raw.strip():
        raise UsageError(f"examples file {src} is empty",
                         hint="one JSON object per line: {\"text\": \"...\", \"label\": \"...\"}")
    out = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            raise UsageError(f"{src}:{n}: not valid JSON: {e.msg}") from None
        if not isinstance(d, dict) or not isinstance(d.get("label"), str) or not d["label"].strip():
            raise UsageError(f"{src}:{n}: each line needs a non-empty string \"label\"")
        if isinstance(d.get("text"), str):
            out.append(Example(d["label"].strip(), d["text"], "", str(d.get("group") or "")))
        elif isinstance(d.get("path"), str):
            p = Path(d["path"]) if Path(d["path"]).is_absolute() else src.parent / d["path"]
            if not p.is_file():
                raise UsageError(f"{src}:{n}: no such file {p}")
            out.append(Example(d["label"].strip(), _read_file(p, d["path"]), d["path"], str(d.get("group") or "")))
        else:
            raise UsageError(f"{src}:{n}: each line needs \"text\" or \"path\"")
    return out


def check_examples(examples: Sequence[Example], categories: Sequence[str] | None = None) -> list[str]:
    """The categories (sorted, or in the order given); UsageError when the examples cannot train a head."""
    if not examples:
        raise UsageError("no examples given", hint="at least 2 labelled examples for each of 2+ categories")
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.label] = counts.get(e.label, 0) + 1
    if categories is not None:
        unknown = sorted(set(counts) - set(categories))
        if unknown:
            raise UsageError(f"examples use categories that are not in the category set: {', '.join(unknown)}",
                             hint=f"categories: {', '.join(categories)}; fix the labels or the --categories")
    if len(counts) < 2:
        raise UsageError(f"all examples have one category ({next(iter(counts))}): a classifier needs two or more",
                         hint="add examples of the other categories")
    few = sorted(c for c, k in counts.items() if k < 2)
    if few:
        raise UsageError(f"fewer than 2 examples for: {', '.join(f'{c} ({counts[c]})' for c in few)}",
                         hint="give at least 2 examples per category")
    return list(categories) if categories is not None else sorted(counts)


def category_examples(categories: Sequence[Category] | None, names: Sequence[str]) -> list[Example]:
    """The categories' own description and made-up examples (those the prototypes use) as labelled
    texts: a head is fitted on them too, which steadies it when the user gives only a few examples."""
    described = {c.name: c for c in (categories or DEFAULT_CATEGORIES)}
    out = []
    for n in names:
        c = described.get(n)
        if c is not None:
            out += [Example(n, t) for t in c.prototype_texts()]
    return out


def examples_digest(examples: Sequence[Example]) -> str:
    h = hashlib.sha256()
    for e in sorted(examples, key=lambda e: (e.label, e.name, e.text)):
        for part in (e.label, e.name, e.text):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
    return h.hexdigest()


def fit_softmax(x: np.ndarray, y: np.ndarray, w: np.ndarray, n_classes: int, *, l2: float = 1e-3,
                steps: int = 400, lr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch gradient descent (deterministic, numpy only)."""
    x = x.astype(np.float64)
    coef = np.zeros((x.shape[1], n_classes))
    bias = np.zeros(n_classes)
    onehot = np.eye(n_classes)[y]
    w = w / w.sum()
    vel_c, vel_b = np.zeros_like(coef), np.zeros_like(bias)
    for _ in range(steps):
        z = x @ coef + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * w[:, None]
        gc = x.T @ g + l2 * coef
        gb = g.sum(axis=0)
        vel_c = 0.9 * vel_c - lr * gc
        vel_b = 0.9 * vel_b - lr * gb
        coef += vel_c
        bias += vel_b
    return coef.astype(np.float32), bias.astype(np.float32)


class Head:
    """A fitted head over an embedding model; :meth:`predict` gives one probability row per text."""

    def __init__(self, coef: np.ndarray, bias: np.ndarray, meta: dict[str, Any], *, ref: str = "") -> None:
        self.coef, self.bias, self.meta, self.ref = coef, bias, meta, ref
        self.categories = [Category(c["name"], c.get("description") or c["name"]) for c in meta["categories"]]
        self.names = [c.name for c in self.categories]
        self.base = str(meta["base"]["ref"])

    def features(self, texts: Sequence[str]) -> np.ndarray:
        from ..tasks.embed import embed

        if not texts:
            return np.zeros((0, self.coef.shape[0]), dtype=np.float32)
        return np.asarray(embed(list(texts), model=self.base, batch_size=256), dtype=np.float32)

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] != self.coef.shape[0]:
            raise UsageError(f"{self.ref or 'the head'} takes {self.coef.shape[0]}-dim embeddings; {self.base} gives "
                             f"{x.shape[1]}", hint=f"retrain the head on {self.base}")
        z = x.astype(np.float32) @ self.coef + self.bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_features(self.features(texts))

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        save_file({"coef": self.coef, "bias": self.bias}, str(folder / HEAD_FILE))
        (folder / HEAD_META).write_text(json.dumps(self.meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def fit_head(examples: Sequence[Example], *, model: str, categories: Sequence[Category] | None = None,
             embed_fn: Any = None) -> Head:
    """Fit a head on ``examples`` (checked) with ``model``'s embeddings; ``embed_fn`` may supply cached ones."""
    names = check_examples(examples, [c.name for c in categories] if categories else None)
    index = {n: i for i, n in enumerate(names)}
    texts, ys, ws = [], [], []
    for e in [*examples, *category_examples(categories, names)]:
        chunks = _model_inputs(e)
        texts += chunks
        ys += [index[e.label]] * len(chunks)
        ws += [1.0 / len(chunks)] * len(chunks)
    if embed_fn is None:
        from ..tasks.embed import embed

        x = np.asarray(embed(texts, model=model, batch_size=256), dtype=np.float32)
    else:
        x = np.asarray(embed_fn(texts), dtype=np.float32)
    coef, bias = fit_softmax(x, np.asarray(ys), np.asarray(ws), len(names))
    described = {c.name: c for c in (categories or DEFAULT_CATEGORIES)}
    cats = [{"name": n, "description": described[n].description if n in described else n} for n in names]
    meta = {"categories": cats, "base": {"ref": model}, "examples": len(examples),
            "examples_digest": examples_digest(examples),
            "input": {"chunk_chars": CHUNK_CHARS, "max_chunks": MAX_CHUNKS, "format": "File: <path>"},
            "fit": {"kind": "softmax-regression", "l2": 1e-3, "steps": 400, "plus": "category descriptions+examples"}}
    return Head(coef, bias, meta, ref=model)


def train_classifier(examples: str | Path | Sequence[Example], *, model: str = "derived:minilm-static",
                     name: str | None = None, categories: Sequence[Category] | None = None,
                     extra_meta: dict[str, Any] | None = None) -> Head:
    """Fit a head and save it as ``derived:NAME`` (recorded in the store with the examples' digest)."""
    from ..store import resolve
    from .distill import install_folder, model_digest

    exs = read_examples(examples) if isinstance(examples, (str, Path)) else list(examples)
    check_examples(exs, [c.name for c in categories] if categories else None)  # bad examples: before any work
    base = resolve(model)
    name = name or f"{model.removeprefix(PREFIX).rsplit('/', 1)[-1]}-head"
    derived_folder(name)
    head = fit_head(exs, model=model, categories=categories)
    head.meta["base"]["digest"] = model_digest(base)
    head.meta["base"]["weights_sha256"] = weights_sha256(base)
    made = read_manifest(Path(base.path))
    if made.get("teacher"):
        head.meta["base"]["teacher"] = made["teacher"]
    head.meta.update(extra_meta or {})
    root = derived_folder(name).parent
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=root))
    try:
        head.save(tmp)
        install_folder(tmp, name, {"kind": "classifier-head", "made_by": "localmodels train-classifier",
                                   "parent": {"ref": model, "digest": head.meta["base"]["digest"]},
                                   "examples_digest": head.meta["examples_digest"]})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    head.ref = PREFIX + name
    resolve(head.ref)  # record it in the store
    return head


def weights_sha256(model: Any) -> str | None:
    """The sha256 of a model's weights file (what a head's inputs depend on; distilling is deterministic)."""
    return next((f.sha256 for f in model.files if f.path.endswith(".safetensors") and f.sha256), None)


def check_base(head: Head) -> None:
    """Refuse a head whose embedding model was made from another teacher or recipe; other weights from
    the same teacher and recipe (another CPU's float rounding) only log a warning."""
    base = head.meta.get("base", {})
    if not base.get("weights_sha256") and not base.get("teacher"):
        return
    from ..store import resolve

    lm = resolve(head.base)
    made = (lm.metadata or {}).get("derived") or {}
    want, have = base.get("teacher") or {}, made.get("teacher") or {}
    if want.get("digest") and have.get("digest") != want["digest"]:
        raise UsageError(f"{head.ref or 'the head'} was trained on {head.base} distilled from a teacher with digest "
                         f"{want['digest'][:12]}...; {head.base} here comes from {str(have.get('digest'))[:12]}...",
                         hint=f"distill {head.base} from {want.get('ref', 'the same teacher')}, or retrain the head")
    if base.get("weights_sha256") and weights_sha256(lm) != base["weights_sha256"]:
        import logging

        logging.getLogger("localmodels.fewshot").warning(
            "%s: %s has other weights than the head was trained on (same teacher); scores may differ slightly",
            head.ref, head.base)


def load_head_folder(folder: Path, *, ref: str = "") -> Head:
    from safetensors.numpy import load_file

    meta = json.loads((folder / HEAD_META).read_text(encoding="utf-8"))
    tensors = load_file(str(folder / HEAD_FILE))
    return Head(tensors["coef"], tensors["bias"], meta, ref=ref)


def is_head(model: object) -> bool:
    """True when ``model`` names a classifier head (``derived:NAME`` holding head.json)."""
    if not isinstance(model, str) or not model.startswith(PREFIX):
        return False
    try:
        return (derived_folder(model[len(PREFIX):]) / HEAD_META).is_file()
    except UsageError:
        return False


def load_head(ref: str) -> Head:
    """The head ``ref`` names, from the store (verified like any model)."""
    from ..store import resolve

    lm = resolve(ref)
    if not (Path(lm.path) / HEAD_META).is_file():
        raise UsageError(f"{ref} is not a classifier head (no {HEAD_META})",
                         hint="make one: localmodels train-classifier --examples FILE --name NAME")
    head = load_head_folder(Path(lm.path), ref=ref)
    check_base(head)
    return head


def head_for(model: object, categories: Sequence[Category] | None) -> Head | None:
    """The head ``model`` names (None for any other model); its categories must match ``categories``."""
    if not is_head(model):
        return None
    head = load_head(str(model))
    if categories is not None and [c.name for c in categories] != head.names:
        from ._categories import DEFAULT_CATEGORIES as defaults

        if [c.name for c in categories] != [c.name for c in defaults]:  # the defaults: not chosen by the user
            raise UsageError(f"{model} classifies into {', '.join(head.names)}; the categories given differ",
                             hint="leave --categories out to use the head's categories")
    return head
