"""The Hub source against our local Hub (tests/hub_server.py): real sockets on 127.0.0.1 only.

``sources.hub`` passes the endpoint and cache folder to ``huggingface_hub`` on every call, so these
tests run in-process; each test gets a fresh HF_HOME (conftest) and the server's env (``hub``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC

import pytest

from hub_server import GOOD_TOKEN, hub, hub_session, sha256_hex, weight_bytes  # noqa: F401  (fixtures)
from localmodels import config
from localmodels.errors import (
    AccessError,
    InsufficientResourcesError,
    IntegrityError,
    ModelNotFoundError,
    NetworkError,
    NotInStoreError,
    OfflineError,
    UnsafeFileError,
)
from localmodels.sources import hub as H


def _files(weights: int = 300_000, seed: bytes = b"w") -> dict[str, bytes]:
    return {
        "config.json": b'{"model_type": "bert", "hidden_size": 8}',
        "tokenizer.json": b'{"version": "1.0", "model": {}}',
        "README.md": b"# tiny\n",
        "model.safetensors": weight_bytes(weights, seed),
    }


def _assert_matches(snap: H.HubSnapshot, files: dict[str, bytes]) -> None:
    assert sorted(f.path for f in snap.files) == sorted(files)
    for rec in snap.files:
        assert rec.sha256 == sha256_hex(files[rec.path])
        assert rec.size == len(files[rec.path])
        assert (snap.path / rec.path).read_bytes() == files[rec.path]


@pytest.fixture
def small_chunks(monkeypatch):
    """huggingface_hub writes 10 MiB chunks: small ones let a few-hundred-kB file resume with Range."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 16 * 1024)


# ------------------------------------------------------------------------------------------ pull
def test_pull_downloads_verifies_and_uses_the_cdn(hub):
    files = _files()
    commit = hub.add_repo("acme/tiny", files)
    snap = H.fetch_snapshot("acme/tiny", token=GOOD_TOKEN)
    assert snap.commit == commit and snap.revision == "main"
    assert snap.path == config.hub_cache() / "models--acme--tiny" / "snapshots" / commit
    _assert_matches(snap, files)
    assert sorted(snap.downloaded) == sorted(files)
    # standard cache layout: refs, blobs named by digest, tree listing
    base = config.hub_cache() / "models--acme--tiny"
    assert (base / "refs" / "main").read_text() == commit
    assert (base / "blobs" / sha256_hex(files["model.safetensors"])).is_file()
    assert H.read_tree("acme/tiny", commit)["model.safetensors"]["lfs_sha256"] == sha256_hex(files["model.safetensors"])
    # the LFS file came from the second origin (CDN), without the token
    cdn = [r for r in hub.requests("GET") if "/cdn-lfs/" in r.path]
    assert len(cdn) == 1 and cdn[0].host == hub.cdn_url.split("//")[1] and not cdn[0].auth
    assert all(r.auth for r in hub.requests() if "/cdn-lfs/" not in r.path)


def test_repull_makes_one_request_online_and_none_offline(hub, monkeypatch):
    files = _files()
    hub.add_repo("acme/tiny", files)
    H.fetch_snapshot("acme/tiny")
    hub.clear_log()
    snap = H.fetch_snapshot("acme/tiny")
    assert [r.line for r in hub.requests()] == ["GET /api/models/acme/tiny/revision/main"]
    assert snap.downloaded == []
    _assert_matches(snap, files)

    hub.clear_log()
    monkeypatch.setenv("LOCALMODELS_OFFLINE", "1")
    snap = H.fetch_snapshot("acme/tiny")
    assert hub.requests() == []
    _assert_matches(snap, files)
    assert H.find_cached("acme/tiny").commit == snap.commit


def test_offline_with_empty_cache_says_what_to_run(hub, monkeypatch):
    hub.add_repo("acme/tiny", _files())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(NotInStoreError) as ei:
        H.fetch_snapshot("acme/tiny")
    assert "localmodels pull acme/tiny" in ei.value.hint
    assert hub.requests() == []
    with pytest.raises(OfflineError):
        H.remote_commit("acme/tiny")


def test_pinned_revision_and_tag(hub):
    old = _files(seed=b"old")
    old_commit = hub.add_repo("acme/tiny", old, tags=["v1"])
    new = {**old, "config.json": b'{"model_type": "bert", "hidden_size": 16}'}
    new_commit = hub.add_repo("acme/tiny", new)
    assert old_commit != new_commit

    hub.clear_log()
    snap = H.fetch_snapshot("acme/tiny", revision=old_commit)
    assert snap.commit == old_commit
    _assert_matches(snap, old)
    assert not hub.requests(pattern=r"/revision/"), "a commit sha needs no resolution"

    snap = H.fetch_snapshot("acme/tiny", revision="v1")
    assert snap.commit == old_commit and snap.revision == "v1"
    assert (config.hub_cache() / "models--acme--tiny" / "refs" / "v1").read_text() == old_commit

    latest = H.fetch_snapshot("acme/tiny")
    assert latest.commit == new_commit
    _assert_matches(latest, new)
    # only the changed small file was fetched: the weights blob is shared between the commits
    assert latest.downloaded == ["config.json"]


def test_allow_and_ignore_patterns(hub, monkeypatch):
    files = _files()
    hub.add_repo("acme/tiny", files)
    snap = H.fetch_snapshot("acme/tiny", allow_patterns=["*.json"])
    assert sorted(f.path for f in snap.files) == ["config.json", "tokenizer.json"]
    assert not hub.requests(pattern=r"model\.safetensors")
    assert H.find_cached("acme/tiny", allow_patterns=["*.json"]) is not None
    assert H.find_cached("acme/tiny") is None, "a partial snapshot is not the full model"
    monkeypatch.setenv("LOCALMODELS_OFFLINE", "1")
    with pytest.raises(NotInStoreError):
        H.fetch_snapshot("acme/tiny")
    monkeypatch.delenv("LOCALMODELS_OFFLINE")

    snap = H.fetch_snapshot("acme/tiny", ignore_patterns=["README.md"])
    assert sorted(f.path for f in snap.files) == ["config.json", "model.safetensors", "tokenizer.json"]
    with pytest.raises(ModelNotFoundError, match="matches the patterns"):
        H.fetch_snapshot("acme/tiny", allow_patterns=["*.gguf"])


def test_tree_paging(hub):
    files = {f"shard/part-{i}.json": f'{{"i": {i}}}'.encode() for i in range(7)} | _files()
    hub.tree_page_size = 2
    hub.add_repo("acme/paged", files)
    snap = H.fetch_snapshot("acme/paged")
    _assert_matches(snap, files)
    tree_calls = hub.requests("GET", r"/tree/")
    assert len(tree_calls) >= 5 and any("cursor=" in r.path for r in tree_calls)


# ---------------------------------------------------------------------------------------- faults
def test_429_with_retry_after_on_model_info_is_retried(hub):
    hub.add_repo("acme/tiny", _files())
    hub.fail(r"GET /api/models/acme/tiny/revision/", status=429, headers={"Retry-After": "1"})
    snap = H.fetch_snapshot("acme/tiny")
    assert snap.files
    calls = hub.requests("GET", r"/revision/main")
    assert [r.status for r in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 0.9, "Retry-After was not honoured"


def test_5xx_on_file_get_is_retried(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /acme/tiny/resolve/.*/config\.json", status=500)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", status=503)
    snap = H.fetch_snapshot("acme/tiny")
    _assert_matches(snap, files)
    assert [r.status for r in hub.requests("GET", r"resolve/.*config\.json")] == [500, 200]
    assert [r.status for r in hub.requests("GET", r"cdn-lfs/")] == [503, 200]


def test_persistent_errors_give_up_with_a_network_error(hub, monkeypatch):
    hub.add_repo("acme/tiny", _files())
    monkeypatch.setenv("LOCALMODELS_RETRY_ATTEMPTS", "3")
    hub.fail(r"GET /api/models/acme/tiny/revision/", status=503, times=10)
    with pytest.raises(NetworkError, match="after 3 attempts"):
        H.fetch_snapshot("acme/tiny")
    assert len(hub.requests("GET", r"/revision/")) == 3


def test_dropped_connection_mid_file_resumes_with_range(hub, small_chunks):
    files = _files(weights=400_000)
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "drop", after=150_000)
    snap = H.fetch_snapshot("acme/tiny")
    _assert_matches(snap, files)
    gets = hub.requests("GET", r"cdn-lfs/")
    assert gets[0].fault == "drop"
    assert gets[-1].range and gets[-1].range.startswith("bytes=") and gets[-1].range != "bytes=0-"


def test_stalled_body_times_out_and_resumes(hub, small_chunks, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", 1)
    files = _files(weights=200_000)
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "stall", after=64_000, seconds=3)
    _assert_matches(H.fetch_snapshot("acme/tiny"), files)
    assert len(hub.requests("GET", r"cdn-lfs/")) >= 2


def test_corrupted_bytes_of_the_right_length_are_detected_and_fetched_again(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "corrupt", nbytes=8)
    hub.fail(r"GET /acme/tiny/resolve/.*/config\.json", "corrupt", nbytes=2)
    snap = H.fetch_snapshot("acme/tiny")
    _assert_matches(snap, files)
    assert len(hub.requests("GET", r"cdn-lfs/")) == 2
    assert len(hub.requests("GET", r"resolve/.*config\.json")) == 2


def test_corruption_that_persists_raises_and_leaves_nothing(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "corrupt", times=5)
    with pytest.raises(IntegrityError) as ei:
        H.fetch_snapshot("acme/tiny")
    assert ei.value.path == "model.safetensors" and ei.value.expected == sha256_hex(files["model.safetensors"])
    assert not (config.hub_cache() / "models--acme--tiny" / "blobs" / sha256_hex(files["model.safetensors"])).exists()
    assert H.find_cached("acme/tiny") is None
    assert not (config.hub_cache() / "models--acme--tiny" / "refs" / "main").exists()


def test_short_body_is_retried(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "short", nbytes=1000)
    _assert_matches(H.fetch_snapshot("acme/tiny"), files)
    assert hub.requests("GET", r"cdn-lfs/")[0].fault == "short"


# ------------------------------------------------------------------------------- access, errors
def test_gated_repo_401_403_and_good_token(hub, monkeypatch):
    files = _files()
    hub.add_repo("acme/gated", files, gated=True, tokens=[GOOD_TOKEN])
    with pytest.raises(AccessError) as ei:
        H.fetch_snapshot("acme/gated")
    assert ei.value.status == 401 and "HF_TOKEN" in ei.value.hint
    with pytest.raises(AccessError) as ei:
        H.fetch_snapshot("acme/gated", token="hf_wrong")
    assert ei.value.status == 403 and f"{hub.url}/acme/gated" in ei.value.hint
    monkeypatch.setenv("HF_TOKEN", GOOD_TOKEN)
    _assert_matches(H.fetch_snapshot("acme/gated"), files)


def test_unknown_repo_and_revision(hub):
    hub.add_repo("acme/tiny", _files())
    with pytest.raises(ModelNotFoundError, match="not found"):
        H.fetch_snapshot("acme/nope")
    with pytest.raises(ModelNotFoundError, match="revision 'nope'") as ei:
        H.fetch_snapshot("acme/tiny", revision="nope")
    assert ei.value.hint
    assert len(hub.requests("GET", r"/revision/")) == 2, "not-found errors are not retried"


def test_pickle_weights_are_skipped_unless_allowed(hub):
    files = {**_files(), "pytorch_model.bin": b"\x80\x04pickle", "training_args.pt": b"\x80\x04x"}
    hub.add_repo("acme/both", files)
    snap = H.fetch_snapshot("acme/both")
    assert sorted(snap.skipped) == ["pytorch_model.bin", "training_args.pt"]
    assert "pytorch_model.bin" not in {f.path for f in snap.files}
    assert not hub.requests(pattern=r"pytorch_model\.bin")

    hub.add_repo("acme/pickled", {"config.json": b"{}", "pytorch_model.bin": b"\x80\x04pickle"})
    with pytest.raises(UnsafeFileError) as ei:
        H.fetch_snapshot("acme/pickled")
    assert "--allow-pickle" in ei.value.hint
    snap = H.fetch_snapshot("acme/pickled", allow_pickle=True)
    assert (snap.path / "pytorch_model.bin").read_bytes() == b"\x80\x04pickle"


@pytest.mark.parametrize("name", ["../evil.json", "a/../../evil.json", "a\\..\\evil.json", "/etc/evil.json"])
def test_file_names_escaping_the_folder_are_refused(hub, name):
    hub.add_repo("acme/evil", {"config.json": b"{}", name: b"boom"})
    with pytest.raises(UnsafeFileError, match="escape"):
        H.fetch_snapshot("acme/evil")
    assert not hub.requests("HEAD") and not hub.requests(pattern=r"/resolve/")
    assert not list(config.hub_cache().rglob("evil.json"))


def test_disk_space_is_checked_before_downloading(hub, monkeypatch):
    hub.add_repo("acme/tiny", _files())
    monkeypatch.setattr(H, "_disk_free", lambda path: 1000)
    with pytest.raises(InsufficientResourcesError) as ei:
        H.fetch_snapshot("acme/tiny")
    assert ei.value.what == "disk space" and ei.value.needed > 300_000
    assert not hub.requests(pattern=r"/resolve/")


def test_orphan_incomplete_files_are_removed(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    blobs = config.hub_cache() / "models--acme--tiny" / "blobs"
    blobs.mkdir(parents=True)
    orphan = blobs / (sha256_hex(files["model.safetensors"]) + ".0badc0de.incomplete")
    orphan.write_bytes(b"x" * 1000)
    _assert_matches(H.fetch_snapshot("acme/tiny"), files)
    assert not orphan.exists()
    assert not list(blobs.glob("*.incomplete"))


# ------------------------------------------------------------------------ cache written by others
def test_find_cached_sees_a_snapshot_written_by_huggingface_hub_itself(hub, monkeypatch):
    files = _files()
    commit = hub.add_repo("acme/theirs", files)
    script = textwrap.dedent("""
        import sys
        from huggingface_hub import snapshot_download
        print(snapshot_download("acme/theirs"))
    """)
    env = {**os.environ}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert commit in out.stdout
    hub.clear_log()
    monkeypatch.setenv("LOCALMODELS_OFFLINE", "1")
    snap = H.find_cached("acme/theirs")
    assert snap is not None and snap.commit == commit
    _assert_matches(snap, files)
    _assert_matches(H.fetch_snapshot("acme/theirs"), files)
    assert H.verify_snapshot("acme/theirs") == []
    assert hub.requests() == []


# ----------------------------------------------------------------------------- verify and repair
def test_verify_finds_a_corrupted_blob_and_repair_fixes_it(hub, monkeypatch):
    files = _files()
    hub.add_repo("acme/tiny", files)
    snap = H.fetch_snapshot("acme/tiny")
    assert H.verify_snapshot(snap) == []
    blob = (snap.path / "model.safetensors").resolve()
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    monkeypatch.setenv("LOCALMODELS_OFFLINE", "1")
    with pytest.raises(IntegrityError):  # offline pull must not hand out a damaged copy
        H.fetch_snapshot("acme/tiny")
    (snap.path / "README.md").resolve().unlink()  # a small file's blob gone too
    with pytest.raises(NotInStoreError):
        H.fetch_snapshot("acme/tiny")

    problems = H.verify_snapshot("acme/tiny")
    assert {(p.path, p.kind) for p in problems} == {("model.safetensors", "corrupt"), ("README.md", "missing")}
    assert H.verify_snapshot(snap) == problems

    with pytest.raises(OfflineError):
        H.repair("acme/tiny")
    monkeypatch.delenv("LOCALMODELS_OFFLINE")

    hub.clear_log()
    assert H.repair("acme/tiny") == []
    assert H.verify_snapshot(snap) == []
    _assert_matches(H.fetch_snapshot("acme/tiny"), files)
    assert len(hub.requests("GET", r"model\.safetensors")) == 1


def test_verify_with_patterns_reports_missing_files(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    H.fetch_snapshot("acme/tiny", allow_patterns=["*.json"])
    problems = H.verify_snapshot("acme/tiny", allow_patterns=["*"])
    assert sorted(p.path for p in problems if p.kind == "missing") == ["README.md", "model.safetensors"]
    assert H.verify_snapshot("acme/tiny") == []  # the files that are there are fine


def test_kill_during_pull_then_pull_again(hub, tmp_path):
    """A client killed mid-file leaves nothing that counts as present; the next pull completes."""
    files = _files(weights=2_000_000)
    hub.add_repo("acme/big", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "stall", after=500_000, seconds=30)
    script = textwrap.dedent("""
        from huggingface_hub import constants
        constants.DOWNLOAD_CHUNK_SIZE = 16 * 1024
        from localmodels.sources import hub
        hub.fetch_snapshot("acme/big")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    blobs = config.hub_cache() / "models--acme--big" / "blobs"
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = list(blobs.glob("*.incomplete")) if blobs.is_dir() else []
        if parts and parts[0].stat().st_size >= 400_000:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the download never started: " + proc.stderr.read().decode())
    proc.kill()
    proc.wait()
    assert list(blobs.glob("*.incomplete")), "the killed client left its partial file"
    assert H.find_cached("acme/big") is None
    hub.reset()
    _assert_matches(H.fetch_snapshot("acme/big"), files)
    assert not list(blobs.glob("*.incomplete"))


def test_unreachable_hub_falls_back_to_a_complete_cached_copy(hub, monkeypatch):
    files = _files()
    hub.add_repo("acme/tiny", files)
    H.fetch_snapshot("acme/tiny")
    monkeypatch.setenv("LOCALMODELS_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    _assert_matches(H.fetch_snapshot("acme/tiny"), files)
    with pytest.raises(NetworkError, match="after 2 attempts"):
        H.fetch_snapshot("acme/other")


def test_offline_pickle_only_copy_needs_the_opt_in(hub, monkeypatch):
    hub.add_repo("acme/pickled", {"config.json": b"{}", "pytorch_model.bin": b"\x80\x04pickle"})
    H.fetch_snapshot("acme/pickled", allow_pickle=True)
    monkeypatch.setenv("LOCALMODELS_OFFLINE", "1")
    assert H.fetch_snapshot("acme/pickled", allow_pickle=True).files
    with pytest.raises(UnsafeFileError, match="pickle"):
        H.fetch_snapshot("acme/pickled")
    assert H.find_cached("acme/pickled") is None


def test_bad_references_and_tokens(hub):
    from localmodels.errors import InvalidReferenceError

    hub.add_repo("acme/gated", _files(), gated=True)
    for bad in ("no-slash", "a/b/c", "../x", "a/..", ""):
        with pytest.raises(InvalidReferenceError):
            H.fetch_snapshot(bad)
    with pytest.raises(InvalidReferenceError):
        H.fetch_snapshot("acme/gated", revision="../../etc")
    assert hub.requests() == []
    hub.add_repo("acme/gated", _files(), gated=True, tokens=["only-this"])
    with pytest.raises(AccessError) as ei:
        H.fetch_snapshot("acme/gated", token="hf_other")
    assert ei.value.status == 403


def test_progress_bars_only_on_a_terminal(hub, monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    hub.add_repo("acme/tiny", _files())
    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    H.fetch_snapshot("acme/tiny", progress=True)  # not a TTY: silent
    assert quiet.getvalue() == ""
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    H.fetch_snapshot("acme/tiny", progress=True, force=True)
    assert "Fetching 4 files" in tty.getvalue() or "%|" in tty.getvalue()


def test_two_processes_pulling_at_once_end_with_one_good_copy(hub):
    files = _files(weights=1_000_000)
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "slow", seconds=0.03)
    script = "from localmodels.sources import hub; print(hub.fetch_snapshot('acme/tiny').commit)"
    procs = [subprocess.Popen([sys.executable, "-c", script], env={**os.environ}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    assert outs[0][0] == outs[1][0]
    blobs = config.hub_cache() / "models--acme--tiny" / "blobs"
    assert sorted(p.name for p in blobs.iterdir()) == sorted(
        {sha256_hex(files["model.safetensors"]), *(H.read_tree("acme/tiny", outs[0][0].strip())[n]["blob_id"]
                                            for n in files if n != "model.safetensors")})
    assert H.verify_snapshot("acme/tiny") == []


def test_many_files_and_odd_names(hub):
    files = {f"shards/{i:04d}.json": b"{}" for i in range(300)} | _files()
    files |= {"weird [1]*?.json": b"[1]", "PYTORCH_MODEL.BIN": b"\x80\x04"}
    hub.add_repo("acme/many", files)
    snap = H.fetch_snapshot("acme/many")
    _assert_matches(snap, {k: v for k, v in files.items() if k != "PYTORCH_MODEL.BIN"})
    assert snap.skipped == ["PYTORCH_MODEL.BIN"] and not hub.requests(pattern="PYTORCH")
    snap = H.fetch_snapshot("acme/many", allow_patterns=["weird*", "config.json"])
    assert sorted(f.path for f in snap.files) == ["config.json", "weird [1]*?.json"]


def test_connection_dropped_again_and_again_is_retried_by_us(hub, caplog, monkeypatch):
    import time

    monkeypatch.setattr(time, "sleep", lambda s: None)  # huggingface_hub sleeps 1 s per own retry
    files = _files()
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "drop", after=0, times=8)
    with caplog.at_level("WARNING", logger="localmodels.sources.hub"):
        _assert_matches(H.fetch_snapshot("acme/tiny"), files)
    assert "retry 1/" in caplog.text
    assert len(hub.requests("GET", r"cdn-lfs/")) == 9


def test_retry_classification_and_waits(monkeypatch):
    from datetime import datetime, timedelta
    from email.utils import format_datetime

    from huggingface_hub import errors as hf_errors

    from localmodels.sources import _retry

    class Resp:
        def __init__(self, status, headers=None):
            self.status_code, self.headers = status, headers or {}

    def http_error(status, headers=None):
        e = OSError(f"HTTP {status}")
        e.response = Resp(status, headers)
        return e

    assert _retry.classify(http_error(429, {"retry-after": "3"})) == (True, 3.0)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    ok, wait = _retry.classify(http_error(503, {"retry-after": when}))
    assert ok and 25 <= wait <= 31
    assert _retry.classify(http_error(429, {"ratelimit": '"api";r=0;t=12'})) == (True, 12.0)
    assert _retry.classify(http_error(404)) == (False, None)
    assert _retry.classify(http_error(502))[0]
    wrapped = hf_errors.LocalEntryNotFoundError("could not reach")
    wrapped.__cause__ = http_error(500)
    assert _retry.classify(wrapped)[0], "a LocalEntryNotFoundError caused by a 5xx is transient"
    assert not _retry.classify(hf_errors.LocalEntryNotFoundError("not cached"))[0]
    assert _retry.classify(ConnectionResetError())[0]
    assert not _retry.classify(ValueError("bad"))[0]

    monkeypatch.setenv("LOCALMODELS_RETRY_BASE", "2")
    waits = [_retry.backoff(i) for i in range(4)]
    assert all(2 * 2 ** i * 0.5 <= w <= 2 * 2 ** i * 1.5 for i, w in enumerate(waits))

    slept, calls = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise http_error(429, {"retry-after": "7"})
        return "ok"

    monkeypatch.setenv("LOCALMODELS_RETRY_MAX_WAIT", "60")
    assert _retry.call_with_retry(flaky, what="x", sleep=slept.append) == "ok"
    assert len(slept) == 2 and slept[0] >= 7, "Retry-After is a floor"
    monkeypatch.setenv("LOCALMODELS_RETRY_ATTEMPTS", "2")
    calls.clear()
    with pytest.raises(NetworkError):
        _retry.call_with_retry(flaky, what="x", sleep=slept.append)
