"""Issue 20, defect 5: local-folder models never hang, explode or hash the whole disk.

Only regular files count, linked folders are walked once (loops detected), a folder over the
file-count or size limit is refused with a clear message, and ``/``, ``~`` and the store itself
are refused as model folders. The CLI runs as a subprocess with a short timeout: a hang fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli


def _error(p, *words: str) -> None:
    assert p.returncode != 0, p.stdout
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    assert "error:" in p.stderr, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr


def _model(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.onnx").write_bytes(b"onnx" * 10)
    return folder


@pytest.mark.parametrize("verb", [["info", "--", "/"], ["pull", "/"], ["where", "/"], ["verify", "/"],
                                  ["embed", "--model", "/", "hello"]])
def test_the_root_folder_is_refused_at_once(verb):
    _error(run_cli(*verb, timeout=60), "/", "model folder")


def test_home_and_the_store_are_refused(tmp_path):
    home = tmp_path / "user"
    _model(home)  # even a home folder that holds model files
    _error(run_cli("pull", "~", env={"HOME": str(home)}, timeout=60), "home")
    store = Path(os.environ["LOCALMODELS_HOME"])
    store.mkdir(parents=True, exist_ok=True)
    (store / "config.json").write_text("{}")
    _error(run_cli("pull", str(store), timeout=60), "store")
    _error(run_cli("pull", str(store.parent), timeout=60), "store")  # a folder holding the store


def test_a_fifo_and_a_link_to_a_device_do_not_hang_pull(tmp_path):
    folder = _model(tmp_path / "m")
    os.mkfifo(folder / "pipe")
    (folder / "zeros.bin").symlink_to("/dev/zero")
    p = run_cli("pull", str(folder), "--json", timeout=60)
    assert p.returncode == 0, p.stderr
    files = sorted(f["path"] for f in json.loads(p.stdout)["files"])
    assert files == ["config.json", "model.onnx"]


def test_links_to_the_folder_itself_are_walked_once(tmp_path):
    folder = _model(tmp_path / "m")
    for i in range(4):
        (folder / f"d{i}").mkdir()
        (folder / f"d{i}" / "w.safetensors").write_bytes(b"w")
    (folder / "a").symlink_to(".", target_is_directory=True)
    (folder / "b").symlink_to(".", target_is_directory=True)
    (folder / "d0" / "up").symlink_to("..", target_is_directory=True)
    (folder / "loop").symlink_to("loop")  # ELOOP
    p = run_cli("pull", str(folder), "--json", timeout=60)
    assert p.returncode == 0, p.stderr
    files = sorted(f["path"] for f in json.loads(p.stdout)["files"])
    assert files == ["config.json", "d0/w.safetensors", "d1/w.safetensors", "d2/w.safetensors",
                     "d3/w.safetensors", "model.onnx"]
    _error(run_cli("pull", str(folder / "loop"), timeout=60), "loop")  # the loop itself as the folder


def test_a_linked_subfolder_still_counts(tmp_path):
    """Links are followed (a model folder made of links into a cache is common), each folder once."""
    real = _model(tmp_path / "real")
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "onnx").symlink_to(real, target_is_directory=True)
    (folder / "config.json").symlink_to(real / "config.json")
    p = run_cli("pull", str(folder), "--json", timeout=60)
    assert p.returncode == 0, p.stderr
    assert sorted(f["path"] for f in json.loads(p.stdout)["files"]) == ["config.json", "onnx/config.json",
                                                                         "onnx/model.onnx"]


def test_a_folder_over_the_limits_is_refused_with_the_setting_to_change(tmp_path):
    folder = _model(tmp_path / "m")
    for i in range(10):
        (folder / f"f{i}.txt").write_text("x")
    _error(run_cli("pull", str(folder), env={"LOCALMODELS_FOLDER_MAX_FILES": "5"}, timeout=60),
           "LOCALMODELS_FOLDER_MAX_FILES")
    (folder / "big.safetensors").write_bytes(b"\0" * 5000)
    _error(run_cli("pull", str(folder), env={"LOCALMODELS_FOLDER_MAX_BYTES": "1000"}, timeout=60),
           "LOCALMODELS_FOLDER_MAX_BYTES")
    assert run_cli("pull", str(folder), timeout=60).returncode == 0  # within the defaults


def test_pull_of_a_folder_without_a_model_file_is_an_error(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a model")
    (folder / "todo.md").write_text("# nothing here")
    _error(run_cli("pull", str(folder), timeout=60), "no model file")
    assert not list((Path(os.environ["LOCALMODELS_HOME"]) / "records").glob("*.json")) \
        if (Path(os.environ["LOCALMODELS_HOME"]) / "records").is_dir() else True
