"""The fast methods of ``bench --dataset files`` (issue 14), each scored honestly:

    bench --models minilm,derived:minilm-static --methods embedding,filetype,fewshot,fewshot5,cascade

- ``filetype``: the model's prototypes + name prior + Magika's content type for every file;
- ``fewshot`` / ``fewshot5``: a head on the model's embeddings, k-fold BY PROJECT (a file is scored
  by the head trained on the other folds' projects: all their files, or 5 per category);
- ``cascade``: the same out-of-fold head as the cheap stage (so no file is scored by a head that saw
  it), Magika where the name says nothing, MiniLM for files below the default (cross-validated) margin.

:func:`bench_classifier` builds the classifier for one bench run; :mod:`.bench` calls it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._categories import DEFAULT_CATEGORIES
from .fewshot import Example, _read_file
from .fewshot_eval import ChunkEmbeddings, project_folds

FAST_METHODS = ("filetype", "fewshot", "fewshot5", "cascade")
FOLDS = 5
_FILE = re.compile(r"^File: (?P<path>[^\n]*)\n")


class FoldedHead:
    """Routes each text (``File: <project>/...``) to the head trained without its project's fold."""

    def __init__(self, model: str, root: Path, items: Sequence[dict[str, Any]], *, per_label: int | None,
                 seed: int = 0) -> None:
        from ..tasks.embed import embed

        self.model = model
        self.names = [c.name for c in DEFAULT_CATEGORIES]
        self.categories = list(DEFAULT_CATEGORIES)
        exs = [Example(i["label"], _read_file(root / i["path"], i["path"]), i["path"], i["path"].split("/", 1)[0])
               for i in items]
        self.emb = ChunkEmbeddings(exs, lambda t: embed(t, model=model, batch_size=256), self.names)
        folds = project_folds([e.group for e in exs], FOLDS)
        rng = __import__("random").Random(seed)
        self.heads: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for test in folds:
            held = set(test)
            train = [i for i in range(len(exs)) if i not in held]
            if per_label is not None:
                by: dict[str, list[int]] = {}
                for i in train:
                    by.setdefault(exs[i].label, []).append(i)
                train = [i for lab in sorted(by) for i in rng.sample(by[lab], min(per_label, len(by[lab])))]
            coef, bias = self.emb.fit(train, self.names)
            for i in test:
                self.heads[exs[i].group] = (coef, bias)
        self.meta = {"categories": [{"name": c.name} for c in self.categories], "base": {"ref": model}}

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        from ..tasks.embed import embed

        x = np.asarray(embed(list(texts), model=self.model, batch_size=256), dtype=np.float32)
        z = np.zeros((len(texts), len(self.names)), dtype=np.float32)
        for k, t in enumerate(texts):
            m = _FILE.match(t)
            coef, bias = self.heads[(m.group("path") if m else "").split("/", 1)[0]]
            z[k] = x[k] @ coef + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)


def bench_classifier(spec: dict[str, Any]) -> Any:
    """The classifier of one bench run for a fast method (``spec``: root, items, model, method, quantize)."""
    from .cascade import CascadeClassifier
    from .classify import FileClassifier

    method, model = spec["method"], spec["model"]
    if method == "filetype":
        cheap = model if model != "minilm" else "derived:minilm-static"
        return CascadeClassifier(stage=FileClassifier, model=cheap, threshold=0.0, filetype="always",
                                 escalate_to="minilm")
    per_label = 5 if method == "fewshot5" else None
    folded = FoldedHead(model, Path(spec["root"]), spec["items"], per_label=per_label)
    if method in ("fewshot", "fewshot5"):
        clf = FileClassifier(model=model, method="embedding", quantize=spec.get("quantize"))
        clf.head = folded
        return clf
    from .cascade import FALLBACK_THRESHOLD, SHIPPED_HEAD

    threshold = FALLBACK_THRESHOLD
    meta = SHIPPED_HEAD / "head.json"
    if meta.is_file():
        import json

        threshold = float(json.loads(meta.read_text(encoding="utf-8")).get("cascade", {}).get("threshold", threshold))
    cas = CascadeClassifier(stage=FileClassifier, model=model, threshold=threshold, escalate_to="minilm",
                            quantize=spec.get("quantize"))
    cas.cheap.head = folded
    return cas
