"""``localmodels bench``: quality, speed, memory, size and cost of models side by side.

Each (model, method, quantization) runs in its own child process, so a model's peak memory is
its own and one model's loaded state cannot help another. In the child:

1. the dataset's files are read; one file is classified to load the model (``load_s``);
2. all files are classified in one batched pass, as ``localmodels classify`` does: accuracy,
   macro-F1, per-category precision/recall/F1 and the confusion matrix come from this pass, and
   throughput (files/s) is files / wall time of the pass;
3. ``latency_sample`` files spread over the dataset are classified one at a time: p50/p95
   latency per file (the time a single-file request takes with the model loaded);
4. peak memory is the child's peak RSS (``getrusage`` ru_maxrss, and psutil samples where
   getrusage is not available), model included.

Cost per 1,000 files is 0 for local models; for ``remote:`` models it is estimated from the
characters sent (4 characters a token) and ``price_per_mtok`` (USD per million tokens, from the
option or ``LOCALMODELS_PRICE_PER_MTOK``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import child_env, settings
from ..errors import LocalModelsError, MissingDependencyError, UsageError
from .metrics import classification_report, percentile

CHARS_PER_TOKEN = 4


# -- dataset ---------------------------------------------------------------------------------------
def dataset_roots() -> list[Path]:
    """Folders that hold datasets: ``LOCALMODELS_DATASETS``, ./datasets, the source tree's datasets/."""
    configured = settings().datasets
    return [*([configured] if configured else []), Path.cwd() / "datasets",
            Path(__file__).resolve().parents[3] / "datasets"]


def dataset_dir(name: str) -> Path:
    """The folder of a dataset: a path with MANIFEST.json, or ``datasets/<name>`` of the repository
    (``LOCALMODELS_DATASETS``, the working directory, or the source tree this module lives in)."""
    p = Path(name).expanduser()
    if (p / "MANIFEST.json").is_file():
        return p
    for root in dataset_roots():
        if (root / name / "MANIFEST.json").is_file():
            return root / name
    raise UsageError(f"dataset {name!r} not found (looked for datasets/{name}/MANIFEST.json)",
                     hint="run from the repository root, set LOCALMODELS_DATASETS, or pass a folder with MANIFEST.json")


def load_dataset(name: str = "files", limit: int | None = None) -> tuple[Path, list[dict[str, Any]], list[str]]:
    """(folder, items with ``path`` and ``label``, labels). ``limit`` keeps a stratified subset:
    labels take turns, so ``limit=14`` gives two files of each of seven labels."""
    root = dataset_dir(name)
    manifest = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    items = [{"path": f["path"], "label": f["label"]} for f in manifest["files"]]
    labels = list(manifest.get("labels") or sorted({i["label"] for i in items}))
    if limit is not None:
        if limit < 1:
            raise UsageError("--limit must be at least 1")
        by_label = {lab: [i for i in items if i["label"] == lab] for lab in labels}
        picked: list[dict[str, Any]] = []
        depth = 0
        while len(picked) < min(limit, len(items)):
            for lab in labels:
                if depth < len(by_label[lab]) and len(picked) < limit:
                    picked.append(by_label[lab][depth])
            depth += 1
        items = picked
    return root, items, labels


# -- one run (in the child process) ---------------------------------------------------------------
class _PeakRSS:
    """Samples this process's RSS every 20 ms (psutil); ``peak`` also reads getrusage's maximum."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.samples = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.samples = max(self.samples, self._proc.memory_info().rss)

    def peak(self) -> int:
        self._stop.set()
        self._thread.join(timeout=1)
        peak = self.samples
        try:
            import resource

            ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            peak = max(peak, ru if sys.platform == "darwin" else ru * 1024)
        except (ImportError, OSError):
            pass
        return peak


def _model_bytes(model: str) -> int | None:
    """Size of the weights actually loaded (files named in the loaded-model cache), else the model folder."""
    try:
        from ..tasks.loaded import loaded_info

        total = 0
        for info in loaded_info():
            for part in str(info.get("key", "")).split(":"):
                if part.startswith("/") and Path(part).is_file():
                    total += Path(part).stat().st_size
                    break
        if total:
            return total
    except Exception:  # noqa: BLE001 - best effort: fall back to the store's size
        pass
    try:
        from ..store import resolve

        lm = resolve(model)
        return lm.size or sum(f.stat().st_size for f in Path(lm.path).rglob("*") if f.is_file())
    except Exception:  # noqa: BLE001
        return None


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """Benchmark one model/method on the dataset, in this process."""
    from ._walk import Found
    from .classify import FileClassifier, read_documents

    rss = _PeakRSS()
    root = Path(spec["root"])
    items = spec["items"]
    found = [Found(root / i["path"], i["path"], (root / i["path"]).stat().st_size) for i in items]
    docs, skipped = read_documents(found)
    if skipped:
        raise UsageError(f"dataset files could not be read: {skipped[0].path}: {skipped[0].reason}")
    from .fastbench import FAST_METHODS, bench_classifier

    clf = (bench_classifier(spec) if spec["method"] in FAST_METHODS
           else FileClassifier(model=spec["model"], method=spec["method"], quantize=spec.get("quantize")))
    t0 = time.perf_counter()
    clf.classify(docs[:1])
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = clf.classify(docs)
    batch_s = time.perf_counter() - t0
    n_lat = min(spec.get("latency_sample", 30), len(docs))
    step = len(docs) / n_lat if n_lat else 1
    latencies = []
    for k in range(n_lat):
        d = docs[int(k * step)]
        t = time.perf_counter()
        clf.classify([d])
        latencies.append((time.perf_counter() - t) * 1000)
    chars = 0
    for d in docs:
        from .classify import chunk_text

        chunks = chunk_text(d.text, clf.chunk_chars, clf.max_chunks) or [""]
        chars += sum(len(c) + len(d.path) + 8 for c in chunks)
    return {
        "predictions": {r.path: r.category for r in results},
        "confidence": {r.path: r.confidence for r in results},
        "load_s": load_s, "batch_s": batch_s, "latencies_ms": latencies,
        "peak_rss_bytes": rss.peak(), "model_bytes": _model_bytes(spec["model"]),
        "input_chars": chars,
    }


def _run_child(spec: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lm-bench-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "localmodels.apps.bench", str(spec_path), str(out_path)],
                              capture_output=True, text=True, timeout=timeout, env=child_env())
        if proc.returncode != 0 or not out_path.is_file():
            return {"error": _failure(proc)}
        return json.loads(out_path.read_text(encoding="utf-8"))


# -- the benchmark ----------------------------------------------------------------------------------
def _price(model: str, price_per_mtok: float | None) -> float | None:
    if not model.startswith("remote:"):
        return 0.0
    return settings().price_per_mtok if price_per_mtok is None else price_per_mtok


def run_bench(models: Sequence[str], *, dataset: str = "files", methods: Sequence[str] = ("embedding",),
              limit: int | None = None, quantize: Sequence[str | None] = (None,), latency_sample: int = 30,
              price_per_mtok: float | None = None, isolate: bool = True, timeout: float | None = None
              ) -> dict[str, Any]:
    """Benchmark every model × method (× quantization for encoder methods) on a labelled dataset.

    Returns a JSON-ready report: ``runs`` (one per combination, with the metrics or an ``error``).
    """
    from .classify import METHODS

    if not models:
        raise UsageError("no models to benchmark", hint="e.g. --models minilm")
    for m in methods:
        from .fastbench import FAST_METHODS  # issue 14: filetype, fewshot, fewshot5, cascade

        if m not in METHODS and m not in FAST_METHODS:
            raise UsageError(f"unknown method {m!r}", hint=f"use one of: {', '.join(METHODS)}")
    for q in quantize:
        if q not in (None, "int8"):
            raise UsageError(f"unknown quantization {q!r}", hint="use none or int8")
    root, items, labels = load_dataset(dataset, limit)
    truth = {i["path"]: i["label"] for i in items}
    runs = []
    for model in models:
        for method in methods:
            for q in (quantize if method != "llm" else [None]):
                spec = {"root": str(root), "items": items, "model": model, "method": method, "quantize": q,
                        "latency_sample": latency_sample}
                raw = _run_child(spec, timeout) if isolate else run_one(spec)
                runs.append(_summarise(model, method, q, raw, truth, labels, _price(model, price_per_mtok)))
    return {
        "dataset": dataset, "root": str(root), "n": len(items), "labels": labels, "limit": limit,
        "machine": _machine(), "runs": runs,
    }


def _summarise(model: str, method: str, quantize: str | None, raw: dict[str, Any], truth: dict[str, str],
               labels: list[str], price: float | None) -> dict[str, Any]:
    run: dict[str, Any] = {"model": model, "method": method, "quantize": quantize,
                           "label": f"{model} ({quantize})" if quantize else model}
    if "error" in raw:
        return {**run, "error": raw["error"]}
    paths = sorted(truth)
    pred = [raw["predictions"].get(p, "") for p in paths]
    report = classification_report([truth[p] for p in paths], pred, labels)
    n = len(paths)
    per_file_tokens = raw["input_chars"] / CHARS_PER_TOKEN / max(n, 1)
    lat = raw["latencies_ms"]
    run.update({
        "accuracy": report["accuracy"], "macro_f1": report["macro_f1"], "per_label": report["per_label"],
        "confusion_matrix": report["confusion_matrix"],
        "latency_ms": {"p50": percentile(lat, 50), "p95": percentile(lat, 95), "n": len(lat)},
        "files_per_s": n / raw["batch_s"] if raw["batch_s"] > 0 else None,
        "load_s": raw["load_s"], "peak_rss_mb": raw["peak_rss_bytes"] / 2**20,
        "model_mb": raw["model_bytes"] / 2**20 if raw.get("model_bytes") else None,
        "tokens_per_file": per_file_tokens,
        "cost_per_1000": None if price is None else per_file_tokens * 1000 * price / 1e6,
        "predictions": {p: raw["predictions"].get(p) for p in paths},
        "errors": [{"path": p, "truth": truth[p], "predicted": raw["predictions"].get(p)}
                   for p in paths if raw["predictions"].get(p) != truth[p]],
    })
    return run


def _machine() -> dict[str, Any]:
    import platform

    import psutil

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)}


# -- reports ----------------------------------------------------------------------------------------
def _f(v: float | None, fmt: str) -> str:
    return "n/a" if v is None or v != v else format(v, fmt)


def markdown_table(report: dict[str, Any]) -> str:
    """The summary table, one row per model/method (failed runs say why)."""
    head = ("| Model | Method | Accuracy | Macro-F1 | p50 ms | Files/s | Peak MB | Cost/1000 | p95 ms | Size MB |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [head]
    for r in report["runs"]:
        if "error" in r:
            rows.append(f"| {r['label']} | {r['method']} | error: {r['error'][:80]} | | | | | | | |")
            continue
        cost = r["cost_per_1000"]
        rows.append(
            f"| {r['label']} | {r['method']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
            f"{_f(r['latency_ms']['p50'], '.1f')} | {_f(r['files_per_s'], '.1f')} | {r['peak_rss_mb']:.0f} | "
            f"{'n/a' if cost is None else f'${cost:.4f}'} | {_f(r['latency_ms']['p95'], '.1f')} | "
            f"{_f(r['model_mb'], '.1f')} |")
    return "\n".join(rows)


def markdown_details(report: dict[str, Any]) -> str:
    """Per-category precision/recall/F1 and the confusion matrix of every run."""
    out = []
    labels = report["labels"]
    for r in report["runs"]:
        if "error" in r:
            continue
        out.append(f"\n### {r['label']} · {r['method']}\n")
        out.append("| Category | Precision | Recall | F1 | Support |\n|---|---:|---:|---:|---:|")
        for lab in labels:
            v = r["per_label"][lab]
            out.append(f"| {lab} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
        out.append("\nConfusion matrix (rows: true, columns: predicted)\n")
        out.append("| | " + " | ".join(labels) + " |\n|---|" + "---:|" * len(labels))
        for lab, row in zip(labels, r["confusion_matrix"]):
            out.append(f"| {lab} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(out)


def write_chart(report: dict[str, Any], path: str | Path) -> Path:
    """A PNG: accuracy (y) against p50 latency per file (x, log scale), one point per model/method."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise MissingDependencyError("matplotlib", "bench", purpose="to draw the chart") from e
    runs = [r for r in report["runs"] if "error" not in r and r["latency_ms"]["p50"] == r["latency_ms"]["p50"]]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for r in runs:
        x, y = max(r["latency_ms"]["p50"], 1e-3), r["accuracy"]
        ax.scatter([x], [y], s=60)
        ax.annotate(f"{r['label']} · {r['method']}", (x, y), textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax.set_xscale("log")
    ax.margins(x=0.35)  # room for the labels
    ax.set_xlabel("p50 latency per file (ms, log scale)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"localmodels bench · {report['dataset']} ({report['n']} files)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _failure(proc: subprocess.CompletedProcess) -> str:
    """One line for a child that died before writing its result: the exception line, never a traceback."""
    if proc.returncode < 0:
        return f"the run was killed by signal {-proc.returncode} (a crash in native code, or out of memory)"
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines()
             if ln.strip() and not ln.startswith((" ", "\t", "Traceback"))]
    return lines[-1][:300] if lines else f"exit code {proc.returncode}"


def _child_main(argv: list[str]) -> int:
    spec_path, out_path = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    try:
        result = run_one(spec)
    except LocalModelsError as e:  # the table cell says what happened and what to do, in one line
        result = {"error": e.message + (f" (hint: {e.hint})" if e.hint else "")}
    except Exception as e:  # noqa: BLE001 - any failure of this run is one cell of the table
        result = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".rstrip(": ")}
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":  # the child process of run_bench
    sys.exit(_child_main(sys.argv[1:]))
