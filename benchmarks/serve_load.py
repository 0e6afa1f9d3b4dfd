"""Load test of ``localmodels serve`` on loopback: micro-batching on vs off, in one run.

Starts two servers (``--no-batching`` and the default micro-batching), warms each up, then sends
the same fixed number of short-text embedding requests from N concurrent clients to each, one
server at a time, and prints requests/s, p50 and p99 latency and the throughput ratio. Then it times
the model alone in this process (tokenize, ONNX Runtime, pool; no HTTP), one text per call and a
batch per call: the batched server can't beat the latter, which caps the ratio any server could show.

    python benchmarks/serve_load.py                     # 32 clients, 1024 requests per server, minilm
    python benchmarks/serve_load.py --clients 32 --requests 2000 --model minilm --json out.json

Nothing leaves 127.0.0.1. The goal in the issue: >= 3x throughput with batching at 32 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

WORDS = ("river stone cloud quiet market engine paper garden silver window music orbit "
         "coffee harbor lantern meadow planet signal winter yellow").split()


def short_texts(n: int, lo: int = 5, hi: int = 12) -> list[str]:
    """Deterministic short sentences of ``lo``-``hi`` words (plus a number)."""
    out = []
    for i in range(n):
        k = lo + (i * 7) % (hi - lo + 1)
        out.append(" ".join(WORDS[(i * 3 + j * 5) % len(WORDS)] for j in range(k)) + f" {i}")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(model: str, *, batching: bool, extra: list[str]):
    port = free_port()
    cmd = [sys.executable, "-m", "localmodels", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--models", model, "--log-level", "warning", *extra]
    if not batching:
        cmd.append("--no-batching")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise SystemExit("server did not start in 120 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: a load generator should cost the
    2-core machine as little CPU as possible, so that the server's speed is what gets measured."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(url: str, model: str, texts: list[str], clients: int, encoding: str = "base64") -> list[float]:
    """Send every text once from ``clients`` concurrent connections; the latency of each request."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for t in texts:
        queue.put_nowait(t)

    async def worker() -> None:
        conn = Connection(host, int(port))
        try:
            while True:
                try:
                    text = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                body = json.dumps({"model": model, "input": text, "encoding_format": encoding}).encode()
                t0 = time.perf_counter()
                status, answer = await conn.post("/v1/embeddings", body)
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"HTTP {status}: {answer[:200]!r}")
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=100)
    return {"requests": len(lat), "seconds": seconds, "rps": len(lat) / seconds,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


async def timed_load(url: str, model: str, texts: list[str], clients: int, encoding: str):
    t0 = time.perf_counter()
    lat = await load(url, model, texts, clients, encoding)
    return lat, time.perf_counter() - t0


def mean_batch(url: str) -> float:
    """Inputs per embed call, from the server's own /metrics (warm-up included)."""
    text = httpx.get(url + "/metrics", timeout=10).text
    values = {}
    for line in text.splitlines():
        for part in ("sum", "count"):
            if line.startswith(f'localmodels_batch_size_{part}{{task="embed"}}'):
                values[part] = float(line.split()[-1])
    return values.get("sum", 0.0) / max(values.get("count", 1.0), 1.0)


def model_alone(model: str, texts: list[str], batch: int, rounds: int = 3) -> dict[str, float]:
    """Texts/s of the model itself (tokenize, ONNX Runtime, pool) in this process, without HTTP:
    one text per call, as the unbatched server runs it, and ``batch`` texts per call. The batched
    server can't be faster than the latter, so ``batched / unbatched server`` caps its ratio."""
    import localmodels as lm
    from localmodels.runtimes.onnx import embed_texts, load_encoder

    encoder = load_encoder(lm.resolve(model))
    embed_texts(encoder, texts[:batch], batch_size=batch)
    rates = {"b1": 0.0, f"b{batch}": 0.0}
    for _ in range(rounds):
        for size in (1, batch):
            t0 = time.perf_counter()
            for i in range(0, len(texts), size):
                embed_texts(encoder, texts[i:i + size], batch_size=size)
            rates[f"b{size}"] = max(rates[f"b{size}"], len(texts) / (time.perf_counter() - t0))
    return rates


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--requests", type=int, default=1024, help="requests per server (split over the rounds)")
    ap.add_argument("--rounds", type=int, default=4, help="alternating off/on rounds")
    ap.add_argument("--min-words", type=int, default=5)
    ap.add_argument("--max-words", type=int, default=12)
    ap.add_argument("--max-batch", type=int, default=32)
    ap.add_argument("--batch-wait-ms", type=float, default=5.0)
    ap.add_argument("--encoding", choices=("base64", "float"), default="base64",
                    help="encoding_format of the answers (the openai client asks for base64)")
    ap.add_argument("--workers", type=int, default=2, help="server encoder threads (both modes)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts = short_texts(args.requests, args.min_words, args.max_words)
    extra = ["--max-batch", str(args.max_batch), "--batch-wait-ms", str(args.batch_wait_ms),
             "--workers", str(args.workers)]
    modes = (("no-batching", False), ("micro-batching", True))
    lat: dict[str, list[float]] = {m: [] for m, _ in modes}
    secs: dict[str, float] = {m: 0.0 for m, _ in modes}
    rounds: dict[str, list[float]] = {m: [] for m, _ in modes}
    with server(args.model, batching=False, extra=extra) as off_url, \
            server(args.model, batching=True, extra=extra) as on_url:
        urls = {"no-batching": off_url, "micro-batching": on_url}
        for name, _ in modes:
            asyncio.run(load(urls[name], args.model, short_texts(args.clients * 2), args.clients, args.encoding))
        # Alternate the modes round by round so that a change in background load hits both alike.
        per_round = max(1, args.requests // args.rounds)
        for r in range(args.rounds):
            part = texts[r * per_round:(r + 1) * per_round]
            for name, _ in modes:
                got, seconds = asyncio.run(timed_load(urls[name], args.model, part, args.clients, args.encoding))
                lat[name] += got
                secs[name] += seconds
                rounds[name].append(len(got) / seconds)
        results = {name: {**summary(lat[name], secs[name]), "mean_batch": mean_batch(urls[name]),
                          "rps_rounds": rounds[name]} for name, _ in modes}

    print(f"model {args.model}, {args.clients} concurrent clients, {args.requests} requests each, "
          f"short texts ({args.min_words}-{args.max_words} words), {args.encoding} answers, loopback, {os.cpu_count()} CPUs")
    print(f"{'mode':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'seconds':>10}{'batch':>8}")
    for name, r in results.items():
        print(f"{name:<16}{r['rps']:>10.1f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{r['seconds']:>10.2f}"
              f"{r['mean_batch']:>8.1f}   rounds: {' '.join(f'{x:.0f}' for x in r['rps_rounds'])}")
    ratio = results["micro-batching"]["rps"] / results["no-batching"]["rps"]
    per_round_ratios = [a / b for a, b in zip(results["micro-batching"]["rps_rounds"],
                                              results["no-batching"]["rps_rounds"])]
    print(f"throughput ratio (micro-batching / no-batching): {ratio:.2f}x (goal >= 3x); "
          f"per round: {' '.join(f'{x:.2f}x' for x in per_round_ratios)}")
    batch = max(1, round(results["micro-batching"]["mean_batch"]))
    alone = model_alone(args.model, texts[:512], batch)
    cap = alone[f"b{batch}"] / results["no-batching"]["rps"]
    print(f"the model alone (this process, no HTTP): {alone['b1']:.1f} texts/s one per call, "
          f"{alone[f'b{batch}']:.1f} at {batch} per call ({alone[f'b{batch}'] / alone['b1']:.2f}x); "
          f"so the batched server's ratio is at most {cap:.2f}x over the unbatched one here")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "results": results, "ratio": ratio, "model_alone": alone,
                                         "ratio_cap": cap}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
