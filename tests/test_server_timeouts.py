"""Slow clients (slowloris) cannot hold the servers' connections: ``serve`` and ``mirror serve`` as real
subprocesses on 127.0.0.1, with 1-second read timeouts (``LOCALMODELS_SERVER_HEADER_TIMEOUT`` and
``LOCALMODELS_SERVER_BODY_TIMEOUT``), against sockets that send part of a request and stall.

Bounded: every socket wait has a timeout, the whole module runs in seconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live_server import free_port, localmodels, start_process, stop_process

TIMEOUT_S = 1.0
CLOSED_WITHIN_S = 5.0  # the timeout, plus slack for a loaded machine


def _start(tmp: Path, args: list[str], ready_path: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "LOCALMODELS_HOME": str(tmp / "lm"), "HF_HOME": str(tmp / "hf"), "HF_HUB_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "LOCALMODELS_SERVER_HEADER_TIMEOUT": str(TIMEOUT_S),
           "LOCALMODELS_SERVER_BODY_TIMEOUT": str(TIMEOUT_S)}
    proc = start_process(localmodels(*args, "--port", str(port)), env, f"http://127.0.0.1:{port}{ready_path}",
                         tmp / f"server-{port}.log")
    return proc, port


@pytest.fixture(scope="module")
def serve(tmp_path_factory) -> Iterator[int]:
    proc, port = _start(tmp_path_factory.mktemp("serve-timeouts"), ["serve", "--no-ui"], "/health")
    yield port
    stop_process(proc)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Iterator[int]:
    proc, port = _start(tmp_path_factory.mktemp("mirror-timeouts"), ["mirror", "serve", "--no-preverify"],
                        "/api/mirror/status")
    yield port
    stop_process(proc)


def _open(port: int, data: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=CLOSED_WITHIN_S)
    if data:
        s.sendall(data)
    return s


def _closed_after(s: socket.socket, started: float) -> float | None:
    """Seconds until the server closed ``s`` (reading whatever it answered first); None when it did not
    within the bound."""
    s.settimeout(max(0.1, started + CLOSED_WITHIN_S - time.monotonic()))
    try:
        while s.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return time.monotonic() - started


PARTIAL_HEADERS = b"POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
PARTIAL_BODY = (b"POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n{\"model\": ")


def _stalled_clients_are_cut(port: int, normal_path: str) -> None:
    started = time.monotonic()
    stalled = [_open(port, PARTIAL_HEADERS) for _ in range(20)]
    stalled += [_open(port, b"G")]  # one byte of a request line
    stalled += [_open(port, b"")]  # a connection that never says anything
    stalled += [_open(port, PARTIAL_BODY) for _ in range(3)]  # a declared body that never comes
    # a slowloris that keeps trickling: one header line every 0.3 s, never the blank line
    trickle = _open(port, b"GET /health HTTP/1.1\r\n")
    # meanwhile the server answers
    r = httpx.get(f"http://127.0.0.1:{port}{normal_path}", timeout=5)
    assert r.status_code == 200
    for i in range(int(CLOSED_WITHIN_S / 0.3)):
        try:
            trickle.sendall(f"X-Pad-{i}: a\r\n".encode())
        except OSError:
            break  # cut
        time.sleep(0.3)
    trickle_closed = _closed_after(trickle, started)
    times = [_closed_after(s, started) for s in stalled]
    assert None not in times, f"connections still open after {CLOSED_WITHIN_S} s: {times}"
    assert trickle_closed is not None, "a client trickling header lines kept its connection"
    assert min(times) >= TIMEOUT_S * 0.8  # not cut before the timeout
    # and it still answers afterwards
    assert httpx.get(f"http://127.0.0.1:{port}{normal_path}", timeout=5).status_code == 200


def _read_all(s: socket.socket, timeout_s: float) -> bytes:
    """Everything the server sends until it closes the connection (each read waits at most ``timeout_s``)."""
    s.settimeout(timeout_s)
    data = b""
    try:
        while chunk := s.recv(4096):
            data += chunk
    finally:
        s.close()
    return data


def test_serve_cuts_slow_headers_and_bodies(serve):
    _stalled_clients_are_cut(serve, "/health")


def test_serve_answers_408_to_a_request_whose_headers_stall(serve):
    data = _read_all(_open(serve, PARTIAL_HEADERS), CLOSED_WITHIN_S)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in data.lower()


def test_serve_keep_alive_request_then_stall_is_cut(serve):
    """The deadline starts again with the next request's first byte on a kept-alive connection."""
    s = _open(serve, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    first = s.recv(4096)
    assert first.startswith(b"HTTP/1.1 200 ")
    started = time.monotonic()
    s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # the second request never ends its headers
    assert _closed_after(s, started) is not None


def test_serve_slow_but_timely_request_is_answered(serve):
    """A request whose parts arrive with pauses, all within the limits, gets its answer."""
    s = _open(serve, b"GET /health HTTP/1.1\r\n")
    time.sleep(TIMEOUT_S * 0.4)
    s.sendall(b"Host: 127.0.0.1\r\n")
    time.sleep(TIMEOUT_S * 0.4)
    s.sendall(b"Connection: close\r\n\r\n")
    assert _read_all(s, 5).startswith(b"HTTP/1.1 200 ")


def test_mirror_cuts_slow_headers_and_bodies(mirror):
    _stalled_clients_are_cut(mirror, "/api/mirror/status")
