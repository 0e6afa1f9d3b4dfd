"""``classify --method cascade``: a cheap model for every file, a transformer only for the unsure ones.

1. Every file is scored by the cheap stage: a few-shot head on static embeddings (the shipped
   ``derived:files-head`` for the default categories), or a static model's prototypes for custom
   categories, times the name/path prior, times Magika's content type where the name says nothing
   (``filetype="auto"``; ``"always"``, ``"off"``).
2. Files whose top-two margin (p1 - p2 of the posterior) is below ``threshold`` go to the
   escalation model (``escalate_to``: ``minilm``, ``embedding:MODEL``, ``nli:MODEL``, ``llm:MODEL``),
   whose result replaces the cheap one; the file's ``evidence`` says it was escalated and why.

The default threshold is the one stored with the head, chosen on the files bench by
leave-projects-out cross-validation (``benchmarks/fastclassify.py``), never by hand. It came out 0:
the default cascade escalates nothing unless ``threshold`` is given.

:func:`choose_method` makes the cascade ``classify``'s default wherever it can run (the static twin
in the store, or distillable once), else ``embedding`` with a notice.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ._categories import Category
from ._report import Document, FileResult

DEFAULT_HEAD = "derived:files-head"
DEFAULT_STATIC = "derived:minilm-static"
FALLBACK_THRESHOLD = 0.5
FILETYPE_MODES = ("auto", "always", "off")
JOURNAL_FILES = 256  # the cheap stage does 256 files in well under a second: what a Ctrl-C can lose
SHIPPED_HEAD = Path(__file__).resolve().parent / "heads" / "files-head"


def ensure_default_head() -> str:
    """Install the shipped default head as ``derived:files-head`` on first use; its reference."""
    from ..sources.derived import derived_folder
    from .distill import install_folder

    dest = derived_folder(DEFAULT_HEAD.split(":", 1)[1])
    shipped = (SHIPPED_HEAD / "head.json").read_bytes() if (SHIPPED_HEAD / "head.json").is_file() else None
    if shipped is None:
        raise UsageError("the default classifier head is not installed with this package",
                         hint="train one: localmodels train-classifier --examples datasets/files --name files-head")
    if dest.is_dir() and (dest / "head.json").is_file() and (dest / "head.json").read_bytes() == shipped:
        return DEFAULT_HEAD
    import json
    import tempfile

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".files-head.tmp-", dir=dest.parent))
    for f in ("head.json", "head.safetensors"):
        shutil.copyfile(SHIPPED_HEAD / f, tmp / f)
    meta = json.loads(shipped)
    install_folder(tmp, dest.name, {"kind": "classifier-head", "made_by": "shipped with localmodels",
                                    "parent": {k: meta["base"].get(k) for k in ("ref", "digest")},
                                    "examples_digest": meta.get("examples_digest")})
    return DEFAULT_HEAD


def parse_escalation(value: str | None) -> tuple[str, str]:
    """(method, model) from ``minilm``, ``embedding:minilm``, ``nli:MODEL``, ``llm:MODEL``."""
    value = (value or "minilm").strip()
    method, sep, model = value.partition(":")
    if sep and method in ("embedding", "nli", "llm"):
        return method, model or "minilm"
    return "embedding", value


class CascadeClassifier:
    """Same interface as :class:`~.classify.FileClassifier` (``classify``, ``names``, ``model_label``)."""

    method = "cascade"

    def __init__(self, *, stage: Any, model: str | None = None, escalate_to: str | None = None,
                 threshold: float | None = None, categories: Sequence[Category] | None = None, filetype: str = "auto",
                 quantize: str | None = None, **options: Any) -> None:
        """``stage``: the class of one stage (:class:`~.classify.FileClassifier`, passed in by its module)."""
        from .fewshot import is_head, load_head

        if filetype not in FILETYPE_MODES:
            raise UsageError(f"unknown --filetype {filetype!r}", hint=f"use one of: {', '.join(FILETYPE_MODES)}")
        if model in (None, "", "minilm") and (categories is None or _default_names(categories)):
            model = ensure_default_head()
        elif model in (None, "", "minilm"):  # custom categories: the static twin's prototypes, not MiniLM itself
            model = DEFAULT_STATIC
        head = load_head(model) if is_head(model) else None
        if threshold is None:
            threshold = float((head.meta.get("cascade") or {}).get("threshold", FALLBACK_THRESHOLD)) if head \
                else FALLBACK_THRESHOLD
        if not 0 <= threshold <= 1:
            raise UsageError("--threshold is a margin between 0 and 1")
        self.threshold = threshold
        self.cheap = stage(model=str(model), method="embedding", categories=categories, **options)
        self.categories = self.cheap.categories
        self.names = self.cheap.names
        self.esc_method, self.esc_model = parse_escalation(escalate_to)
        self.expensive = stage(model=self.esc_model, method=self.esc_method, categories=self.categories,
                                        quantize=quantize, **options)
        self.filetype = filetype
        self.model = str(model)
        self.model_label = f"{model}>{self.expensive.model_label}"
        self.last_escalated = 0
        self.journal_files = JOURNAL_FILES  # files per call: per-call costs (Magika, the tokenizer) amortised
        self._types: Any = None
        self._pool: Any = None
        self.chunk_chars, self.max_chunks = self.cheap.chunk_chars, self.cheap.max_chunks

    def _start_types(self, docs: Sequence[Document]) -> Callable[[], dict[int, Any]] | None:
        """Magika's content types of the files that need one (``auto``: those whose name says nothing), computed
        in a worker thread while the cheap stage runs; returns the call that waits for them."""
        if self.filetype == "off":
            return None
        from ..runtimes import filetype as ft

        if not ft.available():
            if self.filetype == "always":
                ft.FileTypes().detect_bytes(b"")  # raises MissingDependencyError with the extra to install
            return None
        if self._types is None:
            self._types = ft.FileTypes()
        types, cheap = self._types, self.cheap

        def named(d: Document) -> bool:  # the name rules say something (what the cheap stage's evidence shows)
            return cheap.prior_weight != 0 and bool(cheap._prior(d.shown_name)[1])

        todo = [i for i, d in enumerate(docs) if d.text.strip() and not (self.filetype == "auto" and named(d))]

        def run() -> dict[int, Any]:
            # Files on disk by path (Magika reads their head and tail), texts without a file by their first 4 KB.
            on_disk = [i for i in todo if docs[i].disk]
            got = dict(zip(on_disk, types.detect([Path(docs[i].disk) for i in on_disk])))
            for i in todo:
                if i not in got:
                    got[i] = types.detect_bytes(docs[i].text[:4096].encode("utf-8", "replace"))
            return got

        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="magika")
        return self._pool.submit(run).result

    def _type_evidence(self, results: list[FileResult], types: dict[int, Any]) -> None:
        from ..runtimes import filetype as ft

        for i, found in types.items():
            r = results[i]
            got = ft.category_evidence(found, self.names)
            if got is None:
                continue
            cat, ratio, why = got
            post = {k: v * (ratio if k == cat else 1.0) for k, v in r.scores.items()}
            s = sum(post.values()) or 1.0
            r.scores = {k: v / s for k, v in post.items()}
            r.category = max(r.scores, key=r.scores.__getitem__)
            r.confidence = r.scores[r.category]
            r.evidence.append(f"{cat}: {why} (x{ratio:g})")

    def classify(self, docs: Sequence[Document], progress: Callable[[int, int], None] | None = None
                 ) -> list[FileResult]:
        types = self._start_types(docs)  # Magika in a worker thread, beside the cheap stage
        results = self.cheap.classify(docs)
        if types is not None:
            self._type_evidence(results, types())
        by_path = {d.path: d for d in docs}
        low = [i for i, r in enumerate(results) if margin(r.scores) < self.threshold]
        self.last_escalated = len(low)
        for r in results:
            r.method = "cascade"
            r.model = self.model
        if progress:
            progress(len(results) - len(low), len(docs))
        if low:
            done0 = len(results) - len(low)
            step = (lambda k, n: progress(done0 + k, len(docs))) if progress else None
            again = self.expensive.classify([by_path[results[i].path] for i in low], progress=step)
            for i, new in zip(low, again):
                old = results[i]
                new.evidence = [*old.evidence, f"escalated to {self.expensive.model_label} ({self.esc_method}): "
                                f"margin {margin(old.scores):.3f} < {self.threshold:g} (cheap guess {old.category})"]
                new.method = f"cascade>{self.esc_method}"
                new.seconds += old.seconds
                results[i] = new
        return results


def margin(scores: dict[str, float]) -> float:
    """Top-two margin of a probability row."""
    top = sorted(scores.values(), reverse=True)
    return top[0] - (top[1] if len(top) > 1 else 0.0)


def _default_names(categories: Sequence[Category]) -> bool:
    from ._categories import DEFAULT_CATEGORIES

    return [c.name for c in categories] == [c.name for c in DEFAULT_CATEGORIES]


def _can_distill() -> bool:
    from importlib.util import find_spec

    return all(find_spec(m) is not None for m in ("torch", "transformers", "skeletoken", "model2vec"))


def _static_present(ref: str = DEFAULT_STATIC) -> bool:
    from ..runtimes.static import is_static_folder
    from ..sources.derived import derived_folder

    return is_static_folder(derived_folder(ref.split(":", 1)[1]))


def choose_method(model: str | None, *, notify: Callable[[str], None] | None = None) -> str:
    """The method ``classify`` uses when none is given (``auto``): the fast cascade wherever it can run.

    - a classifier head (``derived:NAME``) or a static model given with ``--model``: ``cascade``;
    - another model given with ``--model``: ``embedding``, as before;
    - no model (or ``minilm``): ``cascade`` when ``derived:minilm-static`` is in the store; else, where
      torch and model2vec's distillation are installed (and ``LOCALMODELS_AUTO_DISTILL`` is not off),
      it is distilled once from MiniLM first (a few minutes) and then ``cascade``; else ``embedding``.
    ``notify`` gets one line saying what was chosen and why, when it is not the fast path or costs time.
    """
    from ..config import settings
    from .fewshot import is_head

    if model not in (None, "", "minilm"):
        if is_head(model) or (str(model).startswith("derived:") and _static_present(str(model))):
            return "cascade"
        return "embedding"
    from importlib.util import find_spec

    say = notify or (lambda line: None)
    if find_spec("model2vec") is None:
        say("note: using --method embedding (slow on big trees); the fast default needs static embeddings: "
            "pip install 'localmodels[static,filetype]', then run once: localmodels distill minilm")
        return "embedding"
    if _static_present():
        return "cascade"
    if settings().auto_distill and _can_distill():
        from filelock import FileLock

        from ..sources.derived import derived_folder
        from .distill import distill

        folder = derived_folder(DEFAULT_STATIC.split(":", 1)[1])
        folder.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder.parent / f".{folder.name}.lock")):  # two classify runs distill once
            if not _static_present():
                say(f"note: distilling {DEFAULT_STATIC} from minilm once for the fast default (model2vec, a few "
                    "minutes; LOCALMODELS_AUTO_DISTILL=0 skips this and uses --method embedding)")
                distill("minilm")
        return "cascade"
    why = ("LOCALMODELS_AUTO_DISTILL=0" if _can_distill()
           else "distilling needs pip install 'localmodels[torch,distill]'")
    say(f"note: using --method embedding (slow on big trees): {DEFAULT_STATIC} is not in the store ({why}); "
        "for the fast default run once: localmodels distill minilm")
    return "embedding"


def make_classifier(stage: Any, *, model: str | None, method: str, categories: Sequence[Category] | None = None,
                    **options: Any) -> Any:
    """A :class:`CascadeClassifier` of ``stage`` classifiers for ``method="cascade"``, else a ``stage``;
    ``method="auto"``: the one :func:`choose_method` picks (its notice goes to the log)."""
    if method == "auto":
        import logging

        method = choose_method(model, notify=logging.getLogger("localmodels.classify").warning)
    if method == "cascade":
        return CascadeClassifier(stage=stage, model=model, categories=categories, **options)
    options.pop("escalate_to", None)
    options.pop("threshold", None)
    options.pop("filetype", None)
    return stage(model=model, method=method, categories=categories, **options)
