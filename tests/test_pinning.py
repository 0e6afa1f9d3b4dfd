"""Strict pinning for CI: ``check --strict [--scan src/]`` names every unpinned model use with
file:line, and ``lock --upgrade NAME`` moves one pin on purpose (local Hub on 127.0.0.1)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import run_cli
from hub_server import hub, hub_session, weight_bytes  # noqa: F401  (fixtures)
from localmodels.store.provenance.pinning import scan_paths

SHA = "0123456789abcdef0123456789abcdef01234567"

PINNED = f'''\
import localmodels as lm
from transformers import AutoModel
from huggingface_hub import hf_hub_download, snapshot_download
from sentence_transformers import SentenceTransformer
from transformers import pipeline

REV = "{SHA}"
model = AutoModel.from_pretrained("bert-base-uncased", revision="{SHA}")
st = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2", revision=REV)
path = hf_hub_download("acme/tiny", "config.json", revision=REV)
snap = snapshot_download(repo_id="acme/tiny", revision="{SHA}")
local = AutoModel.from_pretrained("./my-finetuned-model")
vecs = lm.embed(["hi"], model="acme/tiny@{SHA}")
ents = lm.ner("x", model="./folder")
ner = pipeline("ner", model="dslim/bert-base-NER", revision=REV)
'''

UNPINNED = f'''\
import localmodels as models
from localmodels import embed
from transformers import AutoTokenizer


def load(name):
    tok = AutoTokenizer.from_pretrained("bert-base-uncased")
    other = AutoTokenizer.from_pretrained(name, revision="main")
    return tok, other


vecs = models.embed(["hi"], model="minilm")
more = embed(["hi"], model="acme/tiny@{SHA[:7]}")
default = pipeline("sentiment-analysis")
'''


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    proj = tmp_path / "proj"
    for rel, text in files.items():
        (proj / rel).parent.mkdir(parents=True, exist_ok=True)
        (proj / rel).write_text(textwrap.dedent(text))
    return proj


def test_scan_finds_unpinned_calls_with_their_lines(tmp_path):
    proj = _project(tmp_path, {"src/ok.py": PINNED, "src/app/bad.py": UNPINNED})
    findings = scan_paths([proj / "src"])
    got = sorted((Path(f.path).name, f.line, f.what) for f in findings)
    assert got == [
        ("bad.py", 7, "from_pretrained('bert-base-uncased')"),
        ("bad.py", 8, "from_pretrained(...)"),
        ("bad.py", 12, "embed(model='minilm')"),
        ("bad.py", 13, f"embed(model='acme/tiny@{SHA[:7]}')"),
        ("bad.py", 14, "pipeline(...)"),
    ], findings
    reasons = {f.line: f.reason for f in findings}
    assert "branch or tag" in reasons[8] and "short sha" in reasons[13]
    # a manifest name the lock pins is pinned
    assert [f.line for f in scan_paths([proj / "src"], pinned={"minilm"})] == [7, 8, 13, 14]


def test_check_strict_scan_exit_codes_and_file_line(tmp_path):
    proj = _project(tmp_path, {"src/ok.py": PINNED})
    p = run_cli("check", "--strict", "--scan", "src", cwd=proj)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "every model is pinned" in p.stdout

    (proj / "src" / "bad.py").write_text(UNPINNED)
    p = run_cli("check", "--strict", "--scan", "src", cwd=proj)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    for line in (7, 8, 12, 13, 14):
        assert f"src/bad.py:{line}: " in p.stderr, p.stderr
    assert "ok.py" not in p.stderr and "5 model use(s) without a commit pin" in p.stderr
    p = run_cli("check", "--strict", "--scan", "src", "--json", cwd=proj)
    data = json.loads(p.stdout)
    assert p.returncode == 1 and len(data["unpinned"]) == 5


def test_check_strict_manifest_needs_a_commit_per_model(hub, tmp_path):
    files = {"config.json": b"{}", "model.safetensors": weight_bytes(5_000, b"p")}
    commit = hub.add_repo("acme/tiny", files)
    proj = _project(tmp_path, {"localmodels.toml": '[models.tiny]\nref = "acme/tiny"\n\n'
                               f'[models.pinned]\nref = "acme/tiny@{commit}"\n'})
    p = run_cli("check", "--strict", cwd=proj)
    assert p.returncode == 1 and "localmodels.toml:1: models.tiny: no commit pin" in p.stderr, p.stderr
    assert "models.pinned" not in p.stderr
    assert run_cli("lock", cwd=proj).returncode == 0
    assert run_cli("sync", cwd=proj).returncode == 0
    p = run_cli("check", "--strict", cwd=proj)
    assert p.returncode == 0, p.stdout + p.stderr  # the lock pins it, and the files match the lock
    # code using the manifest name is pinned through the lock
    (proj / "src").mkdir()
    (proj / "src" / "use.py").write_text('import localmodels as lm\nlm.embed(["x"], model="tiny")\n')
    assert run_cli("check", "--strict", "--scan", "src", cwd=proj).returncode == 0
    # a table changed after locking is no longer pinned
    (proj / "localmodels.toml").write_text('[models.tiny]\nref = "acme/tiny"\ninclude = ["*.json"]\n')
    p = run_cli("check", "--strict", cwd=proj)
    assert p.returncode == 1 and "out of date" in p.stderr


def test_lock_upgrade_name_moves_one_pin(hub, tmp_path):
    a1 = hub.add_repo("acme/alpha", {"config.json": b'{"v": 1}'})
    b1 = hub.add_repo("acme/beta", {"config.json": b'{"v": 1}'})
    manifest = '[models.alpha]\nref = "acme/alpha"\n\n[models.beta]\nref = "acme/beta"\n'
    proj = _project(tmp_path, {"localmodels.toml": manifest})
    assert run_cli("lock", cwd=proj).returncode == 0
    a2 = hub.add_repo("acme/alpha", {"config.json": b'{"v": 2}'})
    b2 = hub.add_repo("acme/beta", {"config.json": b'{"v": 2}'})
    p = run_cli("lock", "--upgrade", "alpha", cwd=proj)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"alpha: moved {a1} -> {a2}" in " ".join(p.stdout.split())
    text = (proj / "localmodels.lock").read_text()
    assert f'commit = "{a2}"' in text and f'commit = "{b1}"' in text and b2 not in text
    p = run_cli("lock", "--upgrade", "alpha", "--json", cwd=proj)
    assert json.loads(p.stdout)["upgraded"] == [{"name": "alpha", "old": a2, "new": a2}]
    p = run_cli("lock", "--upgrade", "nope", cwd=proj)
    assert p.returncode == 2 and "'nope' is not a model" in p.stderr
    p = run_cli("lock", "beta", cwd=proj)
    assert p.returncode == 2 and "--upgrade" in p.stderr
