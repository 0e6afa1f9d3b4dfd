"""NER benchmark: entity-level precision / recall / F1, latency and throughput, per model.

    run_ner_bench(["spacy-en-sm", "./gliner_small"])      # the shipped set datasets/ner/ner_en_v1.jsonl
    print(format_ner_bench(result))

Metrics (computed per label and overall, micro-averaged):

- **exact**: a prediction is correct when its ``(start, end, label)`` equals a gold entity's;
- **partial**: a prediction matches a gold entity of the same label whose span overlaps it (each
  gold and each prediction is matched at most once, largest overlap first). Partial F1 forgives
  boundary errors ("the fourth quarter" vs "fourth quarter"), never label errors.

Only labels that occur in the data set are scored: predictions of other labels (spaCy's CARDINAL,
ORDINAL, QUANTITY, which the shipped set does not annotate) are ignored. Zero-shot models (GLiNER)
are asked for exactly the data set's labels.

Speed: ``load_s`` is the first call (loading the model); ``latency_ms`` times one text per call
(mean, p50, p95); ``throughput`` is one batched call over the whole set (texts/s, characters/s).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError

Span = tuple[int, int, str]  # (start, end, label)

DATASET_NAME = "ner_en_v1.jsonl"


def default_dataset() -> Path:
    """The hand-labelled set shipped in the repository (``datasets/ner/ner_en_v1.jsonl``)."""
    return Path(__file__).resolve().parents[3] / "datasets" / "ner" / DATASET_NAME


def load_dataset(path: Path | None = None) -> list[dict[str, Any]]:
    """Items ``{"id", "text", "entities": [{"start", "end", "label"}], ...}``; every offset is checked."""
    path = Path(path) if path is not None else default_dataset()
    if not path.is_file():
        raise UsageError(f"NER data set not found: {path}", hint="pass --dataset FILE.jsonl (id, text, entities)")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"]
            ents = item.get("entities", [])
            for e in ents:
                if text[e["start"] : e["end"]] != e.get("text", text[e["start"] : e["end"]]):
                    raise ValueError(f"entity {e!r} does not slice back")
        except (ValueError, KeyError, TypeError) as err:
            raise UsageError(f"{path}:{n}: bad NER item: {err}",
                             hint='each line: {"text": ..., "entities": [{"start", "end", "label"}]}') from err
        item.setdefault("id", str(n))
        items.append(item)
    if not items:
        raise UsageError(f"{path} holds no items")
    return items


# ------------------------------------------------------------------------------------------------ metrics

@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def to_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def match_exact(gold: Sequence[Span], pred: Sequence[Span]) -> dict[str, Counts]:
    """Per-label counts for exact ``(start, end, label)`` matches (multisets)."""
    out: dict[str, Counts] = {}
    g, p = Counter(gold), Counter(pred)
    for span in g | p:
        c = out.setdefault(span[2], Counts())
        hit = min(g[span], p[span])
        c.tp += hit
        c.fn += g[span] - hit
        c.fp += p[span] - hit
    return out


def match_partial(gold: Sequence[Span], pred: Sequence[Span]) -> dict[str, Counts]:
    """Per-label counts where a prediction overlapping a same-label gold entity counts (one-to-one)."""
    out: dict[str, Counts] = {}
    pairs = []
    for gi, (gs, ge, gl) in enumerate(gold):
        for pi, (ps, pe, pl) in enumerate(pred):
            overlap = min(ge, pe) - max(gs, ps)
            if gl == pl and overlap > 0:
                pairs.append((-overlap, gi, pi))
    used_g: set[int] = set()
    used_p: set[int] = set()
    for _, gi, pi in sorted(pairs):
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            out.setdefault(gold[gi][2], Counts()).tp += 1
    for gi, span in enumerate(gold):
        if gi not in used_g:
            out.setdefault(span[2], Counts()).fn += 1
    for pi, span in enumerate(pred):
        if pi not in used_p:
            out.setdefault(span[2], Counts()).fp += 1
    return out


def score(gold: Iterable[Sequence[Span]], pred: Iterable[Sequence[Span]]) -> dict[str, Any]:
    """Micro-averaged exact and partial P/R/F1, overall and per label, over aligned documents."""
    per_label: dict[str, dict[str, Counts]] = {}
    overall = {"exact": Counts(), "partial": Counts()}
    for g, p in zip(gold, pred, strict=True):
        for kind, fn in (("exact", match_exact), ("partial", match_partial)):
            for label, c in fn(list(g), list(p)).items():
                per_label.setdefault(label, {"exact": Counts(), "partial": Counts()})[kind].add(c)
                overall[kind].add(c)
    return {
        "overall": {k: v.to_dict() for k, v in overall.items()},
        "per_label": {label: {k: v.to_dict() for k, v in kinds.items()} for label, kinds in sorted(per_label.items())},
    }


# ------------------------------------------------------------------------------------------------ runs

def run_ner_bench(models: list[str], dataset: Path | None = None, *, threshold: float = 0.5,
                  batch_size: int = 8) -> dict[str, Any]:
    """Score every model on the data set; see the module docstring for what is measured."""
    from ..tasks.ner import backend_for, ner, resolve_model

    if not models:
        raise UsageError("no models to benchmark", hint="--models spacy-en-sm")
    items = load_dataset(dataset)
    texts = [it["text"] for it in items]
    gold = [[(e["start"], e["end"], e["label"]) for e in it["entities"]] for it in items]
    labels = sorted({span[2] for doc in gold for span in doc})
    result: dict[str, Any] = {
        "dataset": {"path": str(dataset or default_dataset()), "items": len(items),
                    "entities": sum(map(len, gold)), "labels": labels,
                    "characters": sum(map(len, texts))},
        "models": [],
    }
    for model in models:
        zero_shot = backend_for(resolve_model(model)) == "gliner"
        kwargs: dict[str, Any] = {"model": model, "threshold": threshold, "batch_size": batch_size}
        if zero_shot:
            kwargs["labels"] = labels
        t0 = time.perf_counter()
        ner(texts[0], **kwargs)
        load_s = time.perf_counter() - t0
        latencies = []
        for text in texts:
            t = time.perf_counter()
            ner(text, **kwargs)
            latencies.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        found = ner(texts, **kwargs)
        batch_s = time.perf_counter() - t
        pred = [[(e.start, e.end, e.label) for e in ents if e.label in labels] for ents in found]
        scores = score(gold, pred)
        by_domain: dict[str, dict[str, Any]] = {}
        for domain in sorted({it.get("domain", "") for it in items}):
            idx = [i for i, it in enumerate(items) if it.get("domain", "") == domain]
            by_domain[domain] = score([gold[i] for i in idx], [pred[i] for i in idx])["overall"]
        lat = sorted(latencies)
        result["models"].append({
            "model": model,
            "zero_shot": zero_shot,
            **scores,
            "per_domain": by_domain,
            "load_s": round(load_s, 3),
            "latency_ms": {"mean": round(statistics.fmean(lat), 2), "p50": round(_pct(lat, 50), 2),
                           "p95": round(_pct(lat, 95), 2)},
            "throughput": {"texts_per_s": round(len(texts) / batch_s, 1),
                           "chars_per_s": round(sum(map(len, texts)) / batch_s, 1)},
        })
    return result


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = (len(sorted_values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def format_ner_bench(result: dict[str, Any]) -> str:
    """The benchmark as Markdown: one overall table, then per-label F1 per model."""
    ds = result["dataset"]
    lines = [
        f"## NER benchmark: {ds['items']} texts, {ds['entities']} entities ({Path(ds['path']).name})",
        "",
        "| model | exact P | exact R | exact F1 | partial F1 | latency p50 (ms) | p95 (ms) | texts/s | load (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in result["models"]:
        ex, pa = m["overall"]["exact"], m["overall"]["partial"]
        lines.append(
            f"| {m['model']} | {ex['precision']:.3f} | {ex['recall']:.3f} | {ex['f1']:.3f} | {pa['f1']:.3f} | "
            f"{m['latency_ms']['p50']:.1f} | {m['latency_ms']['p95']:.1f} | {m['throughput']['texts_per_s']:.1f} | "
            f"{m['load_s']:.2f} |"
        )
    for m in result["models"]:
        lines += ["", f"### {m['model']}: per label", "",
                  "| label | gold | exact P | exact R | exact F1 | partial F1 |", "|---|---|---|---|---|---|"]
        for label, kinds in m["per_label"].items():
            ex, pa = kinds["exact"], kinds["partial"]
            lines.append(f"| {label} | {ex['tp'] + ex['fn']} | {ex['precision']:.3f} | {ex['recall']:.3f} | "
                         f"{ex['f1']:.3f} | {pa['f1']:.3f} |")
        lines += ["", "| domain | exact F1 | partial F1 |", "|---|---|---|"]
        for domain, kinds in m["per_domain"].items():
            lines.append(f"| {domain} | {kinds['exact']['f1']:.3f} | {kinds['partial']['f1']:.3f} |")
    return "\n".join(lines) + "\n"


markdown_table = format_ner_bench  # the name the other benchmarks use (cli/apps.py looks for it)
