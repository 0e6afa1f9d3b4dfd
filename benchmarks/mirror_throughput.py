"""Throughput of ``localmodels mirror`` on loopback, against the disk read speed of the same run.

Puts a 1 GiB "model" (one LFS file) into a throwaway store, starts ``localmodels mirror serve``,
lets it verify the file, then measures in one run:

* ``cat FILE > /dev/null`` with the file in the page cache (the warm read speed: the ceiling);
* one client downloading the file (``curl -o /dev/null``; a Python client if there is no curl);
* 8 clients downloading it at once (aggregate bytes / wall time);

and prints each as GB/s and as a ratio to ``cat``. The issue's goal: one client at >= 70 % of cat.

    python benchmarks/mirror_throughput.py                  # 1 GiB, 8 clients, 5 rounds (best kept)
    python benchmarks/mirror_throughput.py --size-mb 256 --clients 4 --rounds 1 --json out.json

Nothing leaves 127.0.0.1. Clients and server share this machine's CPUs, so on a small machine the
8-client figure measures the CPUs as much as the server.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = "bench/weights-1g"
FILE = "model.safetensors"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_model(size: int) -> Path:
    """A Hub-shaped cached repo holding one LFS file of ``size`` bytes, adopted by the store."""
    from localmodels import store
    from localmodels.server.mirror.inventory import pointer_blob_id
    from localmodels.sources.hfcache import RepoFolder

    folder = RepoFolder(REPO)
    tmp = folder.path / "incoming.tmp"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(tmp, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    sha256 = digest.hexdigest()
    blob = folder.blob(sha256)
    blob.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, blob)
    commit = hashlib.sha1(f"{REPO}\0{sha256}".encode()).hexdigest()
    link = folder.snapshot(commit) / FILE
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(folder.blob_link(sha256))
    folder.write_tree(commit, {FILE: {"size": size, "blob_id": pointer_blob_id(sha256, size),
                                      "lfs_sha256": sha256, "lfs_size": size}})
    folder.write_ref("main", commit)
    model = store.resolve(REPO)  # the store checks it and records it, as for any cached download
    return model.path / FILE


class BareSendfile:
    """The loopback ceiling: a bare stdlib server that only ``sendfile``s the file (no HTTP parsing,
    no checks), measured with the same client."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/file"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        size = self.path.stat().st_size
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn, size), daemon=True).start()

    def _one(self, conn: socket.socket, size: int) -> None:
        with conn, open(self.path, "rb") as f:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % size)
            conn.sendfile(f)

    def close(self) -> None:
        self.sock.close()


def cat_speed(path: Path, rounds: int) -> float:
    """Warm ``cat FILE > /dev/null``: bytes per second, best of ``rounds`` (after one warm-up)."""
    size = path.stat().st_size
    subprocess.run(f"cat '{path}' > /dev/null", shell=True, check=True)
    best = 0.0
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run(f"cat '{path}' > /dev/null", shell=True, check=True)
        best = max(best, size / (time.perf_counter() - t))
    return best


def download(url: str) -> int:
    """One client: curl into /dev/null when there is curl, else a Python reader. Returns bytes."""
    if shutil.which("curl"):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download}", url],
                             capture_output=True, text=True, check=True)
        return int(float(out.stdout))
    host, _, rest = url.removeprefix("http://").partition("/")
    conn = http.client.HTTPConnection(host, timeout=60)
    conn.request("GET", "/" + rest)
    resp = conn.getresponse()
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    total = 0
    while n := resp.readinto(view):
        total += n
    conn.close()
    return total


def clients_speed(url: str, clients: int, rounds: int, size: int) -> float:
    best = 0.0
    for _ in range(rounds):
        t = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            got = list(pool.map(download, [url] * clients))
        elapsed = time.perf_counter() - t
        assert all(g == size for g in got), f"short download: {got}"
        best = max(best, sum(got) / elapsed)
    return best


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the mirror exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(base + "/api/mirror/status", timeout=5) as r:
                doc = json.loads(r.read())
            snaps = [s for repo in doc["repos"] if repo["repo_id"] == REPO for s in repo["snapshots"]]
            if snaps and snaps[0]["verified"] == snaps[0]["files"]:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the mirror did not verify the file in time")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (default 1024)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5, help="rounds per measurement; the best is kept")
    ap.add_argument("--dir", type=Path, help="work folder (default: a temp folder, removed after)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    size = args.size_mb * 1024 * 1024
    work = args.dir or Path(tempfile.mkdtemp(prefix="mirror-bench-"))
    os.environ.update({"LOCALMODELS_HOME": str(work / "lm"), "HF_HOME": str(work / "hf"),
                       "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"})
    proc = None
    try:
        t = time.perf_counter()
        path = make_model(size)
        print(f"made and recorded a {size / 1e9:.2f} GB file in {time.perf_counter() - t:.1f} s", flush=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([sys.executable, "-m", "localmodels", "mirror", "serve", "--port", str(port),
                                 "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        wait_ready(base, proc)
        url = f"{base}/{REPO}/resolve/main/{FILE}"
        cat = cat_speed(path, args.rounds)
        bare = BareSendfile(path)
        clients_speed(url, 1, 1, size)  # warm-up
        one = bare_one = many = 0.0
        for _ in range(args.rounds):  # interleaved, so a busy moment on a shared machine hits both alike
            cat = max(cat, cat_speed(path, 1))
            one = max(one, clients_speed(url, 1, 1, size))
            bare_one = max(bare_one, clients_speed(bare.url, 1, 1, size))
            many = max(many, clients_speed(url, args.clients, 1, size))
        bare.close()
        client = "curl" if shutil.which("curl") else "python"
        n = args.clients
        figures = {"size_bytes": size, "cpus": os.cpu_count(), "client": client, "cat_GBps": cat / 1e9,
                   "bare_sendfile_GBps": bare_one / 1e9, "one_client_GBps": one / 1e9, f"{n}_clients_GBps": many / 1e9,
                   "one_client_vs_cat": one / cat, "one_client_vs_bare_sendfile": one / bare_one,
                   f"{n}_clients_vs_cat": many / cat}
        print(f"cat FILE > /dev/null (warm)          {cat / 1e9:6.2f} GB/s")
        print(f"bare sendfile server, 1 client       {bare_one / 1e9:6.2f} GB/s   {bare_one / cat:5.0%} of cat  "
              "(the loopback ceiling here)")
        print(f"mirror, 1 client ({client})           {one / 1e9:6.2f} GB/s   {one / cat:5.0%} of cat  "
              f"{one / bare_one:5.0%} of bare sendfile  (goal: >= 70 % of cat)")
        print(f"mirror, {n} clients at once           {many / 1e9:6.2f} GB/s   {many / cat:5.0%} of cat  "
              f"(aggregate; {os.cpu_count()} CPUs shared by server and clients)")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
