"""The Hub misbehaving, met through ``localmodels pull`` (issue 20, defects 1 and 15).

- a Hub that accepts the connection and never answers: every call has connect and read timeouts
  (``LOCALMODELS_HUB_CONNECT_TIMEOUT`` / ``LOCALMODELS_HUB_READ_TIMEOUT``), then the retry
  policy; the pull ends in seconds with a clear network error;
- a killed pull resumes the interrupted file with an HTTP Range request from its partial file,
  still verified by sha256 at the end; a partial whose prefix is corrupt is caught by that hash
  and the file is fetched again whole.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hub_server import hub, hub_session  # noqa: F401

FAST = {"LOCALMODELS_RETRY_BASE": "0.01", "LOCALMODELS_RETRY_MAX_WAIT": "0.05",
        "LOCALMODELS_HUB_CONNECT_TIMEOUT": "1", "LOCALMODELS_HUB_READ_TIMEOUT": "1"}


@pytest.fixture
def silent_endpoint():
    """A socket on 127.0.0.1 that accepts every connection and never sends a byte."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}", held
    srv.close()
    for c in held:
        c.close()


def test_pull_from_a_hub_that_never_answers_fails_in_seconds(cli, silent_endpoint):
    url, held = silent_endpoint
    env = {**FAST, "HF_ENDPOINT": url, "LOCALMODELS_RETRY_ATTEMPTS": "2"}
    start = time.monotonic()
    r = cli("pull", "acme/silent", env=env, timeout=90)
    elapsed = time.monotonic() - start
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr
    assert any(line.startswith("error: ") for line in r.stderr.splitlines()), r.stderr
    assert "failed after 2 attempts" in r.stderr and "timed out" in r.stderr.lower(), r.stderr
    assert "hint: " in r.stderr and "HF_ENDPOINT" in r.stderr
    assert len(held) >= 2  # it did connect, twice: one per attempt
    assert elapsed < 30, elapsed


def test_the_timeouts_have_finite_defaults_and_reach_the_http_client():
    from localmodels import config
    from localmodels.sources._hubapi import hub_client_timeouts

    s = config.settings()
    assert 0 < s.hub_connect_timeout < 120 and 0 < s.hub_read_timeout < 600
    t = hub_client_timeouts()
    assert t == {"connect": s.hub_connect_timeout, "read": s.hub_read_timeout,
                 "write": s.hub_read_timeout, "pool": s.hub_connect_timeout}


def test_a_silent_file_list_and_a_stalled_download_are_retried(cli, hub):
    weights = os.urandom(300_000)
    hub.add_repo("acme/stall", {"config.json": "{}", "model.safetensors": weights})
    hub.fail(r"GET /api/models/acme/stall/tree", "status", status=503, seconds=20)  # silent for 20 s
    hub.fail(r"GET /cdn-lfs/.*model.safetensors", "stall", after=1000, seconds=20)  # stops after 1000 bytes
    start = time.monotonic()
    r = cli("pull", "acme/stall", env=FAST, timeout=120)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - start < 30
    assert len(hub.requests("GET", r"/api/models/acme/stall/tree")) >= 2
    snap = next((Path(os.environ["HF_HOME"]) / "hub" / "models--acme--stall" / "snapshots").iterdir())
    assert (snap / "model.safetensors").read_bytes() == weights


# ---- resuming a killed pull (defect 15) ------------------------------------------------------------

BIG = 24 << 20  # huggingface_hub writes a download in 10 MiB chunks: the partial grows in those steps


def _blobs(repo_id: str) -> Path:
    return Path(os.environ["HF_HOME"]) / "hub" / ("models--" + repo_id.replace("/", "--")) / "blobs"


def _file_gets(hub, name: str) -> list:
    return [r for r in hub.requests("GET") if r.path.split("?")[0].endswith("/" + name)]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_killed_pull_resumes_with_a_range_request(hub, tmp_path, sig):
    data = os.urandom(BIG)
    sha = hashlib.sha256(data).hexdigest()
    hub.add_repo("acme/big", {"config.json": "{}", "model.safetensors": data})
    hub.fail(r"GET /cdn-lfs/.*model.safetensors", "slow", seconds=0.4)  # 20 pieces, 8 s in all
    env = {**os.environ, **FAST}
    proc = subprocess.Popen([sys.executable, "-m", "localmodels", "pull", "acme/big"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    blobs = _blobs("acme/big")
    got = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        parts = list(blobs.glob("*.incomplete")) if blobs.is_dir() else []
        got = max([p.stat().st_size for p in parts] + [0])
        if got >= 10 << 20:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert not (blobs / sha).exists()
    parts = list(blobs.glob("*.incomplete"))
    assert parts and max(p.stat().st_size for p in parts) >= got  # the partial file survived

    hub.clear_log()
    r = subprocess.run([sys.executable, "-m", "localmodels", "pull", "acme/big"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    gets = _file_gets(hub, "model.safetensors")
    assert gets and all(g.range for g in gets), [(g.path, g.range) for g in gets]
    start = int(gets[0].range.split("=")[1].split("-")[0])
    assert start >= got
    assert hashlib.sha256((blobs / sha).read_bytes()).hexdigest() == sha
    assert not list(blobs.glob("*.incomplete"))
    r = subprocess.run([sys.executable, "-m", "localmodels", "verify", "acme/big"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_partial_with_a_corrupt_prefix_is_caught_and_fetched_whole(cli, hub):
    data = os.urandom(3 << 20)
    sha = hashlib.sha256(data).hexdigest()
    hub.add_repo("acme/part", {"config.json": "{}", "model.safetensors": data})
    blobs = _blobs("acme/part")
    blobs.mkdir(parents=True)
    prefix = bytearray(data[: 2 << 20])
    prefix[1000] ^= 0xFF  # the bytes already on disk are wrong
    (blobs / f"{sha}.incomplete").write_bytes(bytes(prefix))

    r = cli("pull", "acme/part", env=FAST)
    assert r.returncode == 0, r.stderr
    gets = _file_gets(hub, "model.safetensors")
    ranges = [g.range for g in gets]
    assert ranges[0] == f"bytes={2 << 20}-", ranges  # resumed first...
    assert None in ranges[1:], ranges  # ...then, the hash being wrong, fetched again whole
    assert hashlib.sha256((blobs / sha).read_bytes()).hexdigest() == sha
    assert not list(blobs.glob("*.incomplete"))
