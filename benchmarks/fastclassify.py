"""Fast classification (issue 14): static embeddings, few-shot heads and the cascade, in one run.

    .venv/bin/python benchmarks/fastclassify.py [--folds 5] [--ship] [--tree DIR --tree-files 10000]

On the 401-file bench (``datasets/files``; k-fold BY PROJECT, no project in both train and test):

1. ``--method embedding`` with MiniLM fp32 (today's default): accuracy, files/s.
2. The cheap stage: a head on static embeddings (``derived:minilm-static``) + the name prior,
   out-of-fold; the cascade's threshold chosen by cross-validation (on the other folds), its
   accuracy and share escalated; the cascade's files/s measured end to end (cheap pass over every
   file + MiniLM over the escalated share) and the ratio to (1).
3. Few-shot: 5 labelled files per category from the training projects, scored on the held-out ones.
4. Static vs sentence-transformers sentences/s on ``benchmarks/data/sentences.txt``; recall@5 of
   both on the retrieval bench.
5. ``--tree``: classify up to ``--tree-files`` real files end to end with the cascade in a child
   process: seconds, files/s, share escalated, peak RSS.

``--ship`` trains the default head on all 401 files and writes it, with the CV threshold and
figures, to ``src/localmodels/apps/heads/files-head``. Prints JSON (and writes ``--out``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STATIC = "derived:minilm-static"


def bench_set():
    from localmodels.apps.bench import load_dataset
    from localmodels.apps.fewshot import read_examples

    root, items, labels = load_dataset("files")
    exs = read_examples(root)
    by_path = {e.name: e for e in exs}
    exs = [by_path[i["path"]] for i in items]
    return root, exs, labels


def minilm_embedding(root: Path, exs) -> tuple[list[str], float]:
    from localmodels.apps._walk import Found
    from localmodels.apps.classify import FileClassifier, read_documents

    docs, _ = read_documents([Found(root / e.name, e.name, (root / e.name).stat().st_size) for e in exs])
    clf = FileClassifier(model="minilm", method="embedding")
    clf.classify(docs[:2])
    t0 = time.perf_counter()
    res = clf.classify(docs)
    return [r.category for r in res], len(docs) / (time.perf_counter() - t0)


def cascade_speed(root: Path, exs, head_ref: str, threshold: float) -> dict:
    from localmodels.apps._walk import Found
    from localmodels.apps.cascade import CascadeClassifier
    from localmodels.apps.classify import FileClassifier, read_documents

    docs, _ = read_documents([Found(root / e.name, e.name, (root / e.name).stat().st_size) for e in exs])
    clf = CascadeClassifier(stage=FileClassifier, model=head_ref, threshold=threshold)
    clf.classify(docs[:2])
    clf.expensive.classify(docs[:2])
    t0 = time.perf_counter()
    clf.classify(docs)
    dt = time.perf_counter() - t0
    return {"files_per_s": len(docs) / dt, "escalated": clf.last_escalated}


def embed_speed() -> dict:
    from sentence_transformers import SentenceTransformer

    from localmodels import resolve
    from localmodels.apps.retrieval_bench import evaluate, load_retrieval
    from localmodels.tasks.embed import embed

    texts = (ROOT / "benchmarks" / "data" / "sentences.txt").read_text(encoding="utf-8").splitlines()[:2000]
    st = SentenceTransformer(str(resolve("minilm").path), device="cpu")
    st.encode(texts[:64], batch_size=32)
    t0 = time.perf_counter()
    st.encode(texts, batch_size=32)
    st_rate = len(texts) / (time.perf_counter() - t0)
    embed(texts[:64], model=STATIC)
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        embed(texts, model=STATIC, batch_size=1024)
        best = max(best, len(texts) / (time.perf_counter() - t0))
    passages, queries = load_retrieval(None)
    r_static = evaluate(STATIC, passages, queries)
    r_minilm = evaluate("minilm", passages, queries)
    return {"sentences": len(texts), "st_sentences_per_s": st_rate, "static_sentences_per_s": best,
            "ratio": best / st_rate, "recall@5_static": r_static["recall@5"], "recall@5_minilm": r_minilm["recall@5"]}


def tree_run(tree: str, n: int, threshold: float | None = None) -> dict:
    code = f"""
import json, resource, time, itertools
from pathlib import Path
from localmodels.apps.classify import classify_paths
files = [str(p) for p in itertools.islice((p for p in sorted(Path({tree!r}).rglob('*'))
         if '__pycache__' not in p.parts and p.is_file() and not p.is_symlink()), {n})]
t0 = time.perf_counter()
r = classify_paths(files, method='cascade', threshold={threshold!r})
dt = time.perf_counter() - t0
esc = sum(1 for f in r.files if f.method.startswith('cascade>'))
print(json.dumps({{'inputs': len(files), 'classified': len(r.files), 'skipped': len(r.skipped), 'seconds': dt,
  'files_per_s': len(r.files) / dt, 'escalated': esc, 'escalated_share': esc / max(len(r.files), 1),
  'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["process_seconds"] = time.perf_counter() - t0
    return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--ship", action="store_true")
    ap.add_argument("--tree")
    ap.add_argument("--tree-files", type=int, default=10_000)
    ap.add_argument("--skip-embed", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--tree-only", action="store_true", help="only the --tree runs (another process may run the rest)")
    a = ap.parse_args()
    if a.tree_only:
        out = {"tree": tree_run(a.tree, a.tree_files), "tree_head_only": tree_run(a.tree, a.tree_files, threshold=0.0)}
        print(json.dumps(out, indent=1))
        if a.out:
            a.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        return
    from localmodels.apps import fewshot_eval as ev
    from localmodels.tasks.embed import embed

    root, exs, names = bench_set()
    labels = [names.index(e.label) for e in exs]
    groups = [e.group for e in exs]
    folds = ev.project_folds(groups, a.folds)
    emb = ev.ChunkEmbeddings(exs, lambda t: embed(t, model=STATIC, batch_size=1024), names)
    paths = [e.name for e in exs]
    cheap = ev.with_prior(ev.oof_rows(emb, names, folds), paths, names)
    fews = [ev.oof_rows(emb, names, folds, per_label=5, seed=s) for s in range(3)]  # 3 draws of 5 files
    few = fews[0]
    out: dict = {"files": len(exs), "projects": len(set(groups)), "folds": a.folds}
    out["head_cv_accuracy"] = float((cheap.argmax(1) == np.asarray(labels)).mean())
    out["fewshot5_cv_accuracy"] = [float((f.argmax(1) == np.asarray(labels)).mean()) for f in fews]
    out["fewshot5_prior_cv_accuracy"] = [float((ev.with_prior(f, paths, names).argmax(1)
                                                == np.asarray(labels)).mean()) for f in fews]
    del few
    mini_pred, mini_rate = minilm_embedding(root, exs)
    mini = [names.index(p) for p in mini_pred]
    out["minilm_embedding"] = {"accuracy": float((np.asarray(mini) == np.asarray(labels)).mean()),
                               "files_per_s": mini_rate}
    cv = ev.cv_threshold(cheap, mini, labels, folds)
    out["cascade_cv"] = cv
    if a.ship:
        from localmodels.apps.fewshot import train_classifier

        head = train_classifier(exs, model=STATIC, name="files-head", extra_meta={
            "trained_on": "datasets/files (401 files of 20 PyPI sdists), all files",
            "evaluation": {"method": f"{a.folds}-fold leave-projects-out", "head_accuracy": out["head_cv_accuracy"],
                           "cascade_accuracy": cv["cv_accuracy"], "cascade_escalated": cv["cv_escalated"]},
            "cascade": {"threshold": cv["threshold"], "escalate_to": "minilm", "chosen_by": "cross-validation"}})
        dest = ROOT / "src" / "localmodels" / "apps" / "heads" / "files-head"
        dest.mkdir(parents=True, exist_ok=True)
        head.save(dest)
    out["cascade_speed"] = cascade_speed(root, exs, "derived:files-head", cv["threshold"])
    out["cascade_speed"]["ratio_to_embedding"] = out["cascade_speed"]["files_per_s"] / mini_rate
    if not a.skip_embed:
        out["static_embed"] = embed_speed()
    if a.tree:
        out["tree"] = tree_run(a.tree, a.tree_files)  # the cascade as shipped (its CV threshold)
        out["tree_head_only"] = tree_run(a.tree, a.tree_files, threshold=0.0)  # no escalation
    text = json.dumps(out, indent=1)
    print(text)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
