"""Prometheus metrics, written in the text exposition format by hand (no extra dependency).

    localmodels_requests_total{endpoint,method,status}      counter
    localmodels_request_duration_seconds{endpoint}          histogram
    localmodels_batch_size{task}                            histogram (inputs per task call)
    localmodels_inflight_requests                           gauge
    localmodels_loaded_models / localmodels_loaded_model{model}  gauges, from the loaded models (tasks.loaded)
    localmodels_process_resident_memory_bytes               gauge
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, labels: str) -> list[str]:
        out, running = [], 0
        sep = "," if labels else ""
        for bound, count in zip([*self.buckets, float("inf")], self.counts):
            running += count
            le = "+Inf" if bound == float("inf") else _num(bound)
            out.append(f'{name}_bucket{{{labels}{sep}le="{le}"}} {running}')
        lab = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{lab} {_num(self.total)}")
        out.append(f"{name}_count{lab} {self.n}")
        return out


def _num(v: float) -> str:
    return repr(float(v)) if not float(v).is_integer() else str(int(v)) if abs(v) < 1e15 else repr(float(v))


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, Histogram] = {}
        self.batches: dict[str, Histogram] = {}
        self.inflight = 0
        self.started = time.time()

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(endpoint, method, status)] += 1
            self.latency.setdefault(endpoint, Histogram(LATENCY_BUCKETS)).observe(seconds)

    def observe_batch(self, task: str, size: int) -> None:
        with self._lock:
            self.batches.setdefault(task, Histogram(BATCH_BUCKETS)).observe(size)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            lines += ["# HELP localmodels_requests_total HTTP requests by endpoint, method and status.",
                      "# TYPE localmodels_requests_total counter"]
            for (ep, method, status), n in sorted(self.requests.items()):
                lines.append(f'localmodels_requests_total{{endpoint="{_esc(ep)}",method="{method}",'
                             f'status="{status}"}} {n}')
            lines += ["# HELP localmodels_request_duration_seconds Time to answer a request.",
                      "# TYPE localmodels_request_duration_seconds histogram"]
            for ep, h in sorted(self.latency.items()):
                lines += h.lines("localmodels_request_duration_seconds", f'endpoint="{_esc(ep)}"')
            lines += ["# HELP localmodels_batch_size Inputs per task call (micro-batches).",
                      "# TYPE localmodels_batch_size histogram"]
            for task, h in sorted(self.batches.items()):
                lines += h.lines("localmodels_batch_size", f'task="{_esc(task)}"')
            lines += ["# HELP localmodels_inflight_requests Requests being answered now.",
                      "# TYPE localmodels_inflight_requests gauge", f"localmodels_inflight_requests {self.inflight}"]
        lines += self._models() + self._process()
        return "\n".join(lines) + "\n"

    @staticmethod
    def _models() -> list[str]:
        from ..tasks.loaded import loaded_info

        info = loaded_info()
        lines = ["# HELP localmodels_loaded_models Models held in memory by the loaded-model cache.",
                 "# TYPE localmodels_loaded_models gauge", f"localmodels_loaded_models {len(info)}",
                 "# HELP localmodels_loaded_model_bytes Estimated memory of each loaded model.",
                 "# TYPE localmodels_loaded_model_bytes gauge"]
        lines += [f'localmodels_loaded_model_bytes{{model="{_esc(str(m["key"]))}"}} {int(m["bytes"])}' for m in info]
        return lines

    def _process(self) -> list[str]:
        import psutil

        proc = psutil.Process()
        mem = proc.memory_info()
        return [
            "# HELP localmodels_process_resident_memory_bytes Resident memory of the server process.",
            "# TYPE localmodels_process_resident_memory_bytes gauge",
            f"localmodels_process_resident_memory_bytes {mem.rss}",
            "# HELP localmodels_process_virtual_memory_bytes Virtual memory of the server process.",
            "# TYPE localmodels_process_virtual_memory_bytes gauge",
            f"localmodels_process_virtual_memory_bytes {mem.vms}",
            "# HELP localmodels_process_start_time_seconds Start time of the process (Unix time).",
            "# TYPE localmodels_process_start_time_seconds gauge",
            f"localmodels_process_start_time_seconds {_num(self.started)}",
        ]


class MetricsMiddleware:
    """Counts every HTTP request by its route template (not the raw path: bounded label values)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        self.metrics.inflight += 1

        async def send_tracking(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        finally:
            self.metrics.inflight -= 1
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or ("unmatched" if status == 404 else "other")
            self.metrics.observe_request(endpoint, scope.get("method", "?"), status, time.perf_counter() - start)
