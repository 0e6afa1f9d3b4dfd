"""The manifest ``localmodels.toml``: parsing, validation, and errors that point to the line."""

from __future__ import annotations

import pytest

from localmodels.errors import ManifestError
from localmodels.store.manifest import find_manifest, load_manifest, parse_manifest

GOOD = """\
version = 1

[models.minilm]            # ref defaults to the table name

[models."acme/tiny"]
ref = "acme/tiny@v1"
include = ["*.json", "*.safetensors"]
exclude = ["*.bin"]
required = false

[models.gemma]
ref = "gemma3-270m"
quant = "Q4_K_M"

[models.mine]
ref = "./models/mine"
"""


def test_parses_every_field(tmp_path):
    path = tmp_path / "localmodels.toml"
    path.write_text(GOOD)
    m = load_manifest(path)
    assert [s.name for s in m.models] == ["minilm", "acme/tiny", "gemma", "mine"]
    minilm, tiny, gemma, mine = m.models
    assert (minilm.ref, minilm.required, minilm.revision) == ("minilm", True, None)
    assert tiny.pull_ref == "acme/tiny" and tiny.pinned_revision == "v1" and tiny.required is False
    assert tiny.include == ["*.json", "*.safetensors"] and tiny.exclude == ["*.bin"]
    assert gemma.quant == "Q4_K_M"
    assert m.local_path(mine) == (tmp_path / "models" / "mine").resolve()
    assert m.local_path(minilm) is None


def test_find_manifest_walks_up(tmp_path):
    (tmp_path / "localmodels.toml").write_text(GOOD)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert find_manifest(sub) == tmp_path / "localmodels.toml"


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("[models.minilm]\nrequired = true\nrevison = 'main'\n", 3,
         ["unknown key", "models.minilm.revison", "revision"]),
        ("version = 1\nverson = 2\n", 2, ["unknown key", "verson"]),
        ("[models.a]\nref = 'acme/x'\n\n[models.b]\nref = 'not a ref!'\n", 5, ["models.b.ref", "not a ref!"]),
        ("[models.a]\nref = 'org//x'\n", 2, ["models.a.ref"]),
        ("[models.a]\nrequired = 'yes'\n", 2, ["models.a.required", "boolean"]),
        ("[models.a]\ninclude = '*.json'\n", 2, ["models.a.include"]),
        ("[models.a]\nref = 'acme/x@v1'\nrevision = 'v2'\n", 3, ["models.a.revision", "not both"]),
        ("[models.a]\nref = 'remote:gpt'\n", 2, ["models.a.ref", "remote"]),
        ("models.a = { ref = 'acme/x', bogus = 1 }\n", 1, ["models.a.bogus"]),
        ("[models.a]\nref = \"unterminated\n", 2, ["invalid TOML"]),
        ("version = 2\n", 1, ["version"]),
        ("\n\n[models.'bad name!']\n", 3, ["bad model name"]),
    ],
)
def test_errors_point_to_the_line(tmp_path, text, line, words):
    path = tmp_path / "localmodels.toml"
    path.write_text(text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    err = info.value
    assert err.line == line, str(err)
    assert str(err).startswith(f"{path}:{line}: ")
    for w in words:
        assert w in str(err)


def test_missing_manifest_has_a_hint(tmp_path):
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "localmodels.toml")
    assert "not found" in str(info.value) and info.value.hint


def test_line_found_with_quoted_and_dotted_headers():
    text = '# comment\n[models]\n\n[models."org/name"]\nref = "org/name"\nbogus = 1\n'
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, path="x.toml")
    assert info.value.line == 6


def test_cli_reports_manifest_error_without_traceback(cli, tmp_path):
    (tmp_path / "localmodels.toml").write_text("[models.minilm]\n\nrevison = 'main'\n")
    r = cli("lock", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "localmodels.toml:3:" in r.stderr and "revison" in r.stderr
