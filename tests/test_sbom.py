"""The AI-BOM: ``localmodels sbom`` writes CycloneDX 1.6 that the library's validator accepts, one
machine-learning-model component per model with every file's sha256 (store refs and a lock)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import run_cli
from hub_server import hub, hub_session, weight_bytes  # noqa: F401  (fixtures)


def _ok(p):
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    return p


def _validate(text: str) -> dict:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    return json.loads(text)


def _props(component: dict) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


def _file_hashes(component: dict) -> dict[str, str]:
    return {c["name"]: c["hashes"][0]["content"] for c in component.get("components", [])
            if c["type"] == "file" and c.get("hashes")}


def test_sbom_of_store_models_lists_every_file_hash(hub, tmp_path):
    files = {"config.json": b'{"model_type": "bert"}', "tokenizer.json": b"{}",
             "model.safetensors": weight_bytes(50_000, b"b"), "sub/vocab.txt": b"a\nb\n"}
    commit = hub.add_repo("acme/tiny", files)
    _ok(run_cli("pull", "acme/tiny"))
    local = tmp_path / "mine"
    local.mkdir()
    (local / "model.onnx").write_bytes(b"\x08\x01" * 100)
    _ok(run_cli("pull", str(local)))

    out = tmp_path / "bom.cdx.json"
    p = _ok(run_cli("sbom", "acme/tiny", str(local), "-o", str(out)))
    assert "2 model(s), 5 files" in p.stdout
    bom = _validate(out.read_text())
    assert bom["specVersion"] == "1.6" and bom["bomFormat"] == "CycloneDX"
    hub_model, local_model = bom["components"]
    assert hub_model["type"] == local_model["type"] == "machine-learning-model"
    assert hub_model["purl"] == f"pkg:huggingface/acme/tiny@{commit}"
    assert hub_model["version"] == commit and hub_model["group"] == "acme" and hub_model["name"] == "tiny"
    assert _file_hashes(hub_model) == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    props = _props(hub_model)
    assert props["localmodels:source"] == "hub" and props["localmodels:signature"] == "unsigned"
    assert props["localmodels:gated"] == "unknown" and props["localmodels:served_by"] == "hub:acme/tiny"
    assert "purl" not in local_model and _props(local_model)["localmodels:source"] == "local"
    assert _file_hashes(local_model) == {"model.onnx": hashlib.sha256(b"\x08\x01" * 100).hexdigest()}
    tools = bom["metadata"]["tools"]["components"]
    assert tools[0]["name"] == "localmodels"


def test_sbom_from_a_lock_file_to_stdout(hub, tmp_path):
    files = {"config.json": b"{}", "model.safetensors": weight_bytes(10_000, b"l")}
    commit = hub.add_repo("acme/locked", files)
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.toml").write_text('[models.enc]\nref = "acme/locked"\n')
    _ok(run_cli("lock", cwd=proj))
    p = _ok(run_cli("sbom", "-o", "-", cwd=proj))
    bom = _validate(p.stdout)
    [component] = bom["components"]
    assert component["purl"] == f"pkg:huggingface/acme/locked@{commit}"
    assert _props(component)["localmodels:name"] == "enc"
    assert _file_hashes(component) == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    # the same through --lock, from anywhere
    p = _ok(run_cli("sbom", "--lock", str(proj / "localmodels.lock"), "-o", str(tmp_path / "b.json")))
    assert _validate((tmp_path / "b.json").read_text())["components"][0]["purl"] == component["purl"]


def test_sbom_of_a_model_that_is_not_there_says_what_to_run(tmp_path):
    p = run_cli("sbom", "acme/absent", "-o", str(tmp_path / "x.json"))
    assert p.returncode == 1 and p.stderr.startswith("error: ") and "localmodels pull acme/absent" in p.stderr
    assert not (tmp_path / "x.json").exists()


def test_licence_status_in_the_bom_and_in_list(tmp_path):
    from localmodels.store.provenance.gate import licence_status

    assert licence_status("cc-by-nc-4.0") == "restricts commercial use"
    assert licence_status("apache-2.0") == "no known restriction"
    assert licence_status(None) == "unknown"
    assert licence_status("gemma", restricts_commercial=True) == "restricts commercial use"
    local = tmp_path / "m"
    local.mkdir()
    (local / "model.onnx").write_bytes(b"x")
    _ok(run_cli("pull", str(local)))
    listed = json.loads(_ok(run_cli("list", "--json")).stdout)
    mine = [m for m in listed if m["path"] == str(local)]
    assert mine and mine[0]["provenance"]["signature"] == "unsigned"
    assert mine[0]["provenance"]["license_status"] == "unknown"


def test_sbom_needs_no_network(tmp_path: Path):
    local = tmp_path / "m"
    local.mkdir()
    (local / "model.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    _ok(run_cli("pull", str(local)))
    p = _ok(run_cli("--offline", "sbom", str(local), "-o", "-"))
    assert _validate(p.stdout)["components"][0]["components"][0]["name"] == "model.gguf"
