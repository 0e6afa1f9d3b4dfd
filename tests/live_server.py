"""A real server subprocess for tests: start it on a free 127.0.0.1 port, wait until it answers, stop it.

    port = free_port()
    proc = start_process(localmodels("serve", "--port", str(port)), env,
                         f"http://127.0.0.1:{port}/health", tmp / f"server-{port}.log")
    ...
    stop_process(proc)

``start_process`` raises RuntimeError with the server's log when the process exits or does not
answer in time; ``stop_process`` terminates, waits, then kills.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def localmodels(*args: str) -> list[str]:
    """The command line of ``localmodels ARGS`` with this interpreter."""
    return [sys.executable, "-m", "localmodels", *args]


def start_process(args: Sequence[str], env: Mapping[str, str], ready_url: str, log_path: Path, *,
                  timeout_s: float = 60) -> subprocess.Popen:
    """Run ``args`` (stdout and stderr to ``log_path``) until ``ready_url`` answers 200."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(list(args), env=dict(env), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log_path.read_text()}")
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"server did not start within {timeout_s:.0f} s: {log_path.read_text()}")


def stop_process(proc: subprocess.Popen, wait_s: float = 10) -> None:
    """Terminate ``proc``; kill it when it has not exited after ``wait_s`` seconds."""
    proc.terminate()
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
