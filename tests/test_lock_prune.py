"""Locks and prune (issue 20, defect 14), through the CLI as users run them.

- ``lock`` leaving out an optional model it cannot resolve must not make ``lock --check`` fail
  forever afterwards (the lock records what it left out, for which manifest table);
- ``prune`` keeps every model a lock of the current project references (``localmodels.lock``
  here, the lock next to the manifest, or ``--lock F``), and says so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hub_server import hub, hub_session  # noqa: F401

MANIFEST = """[models.main]
ref = "acme/locked"

[models.extra]
ref = "acme/not-yet"
{extra}
"""
FAST = ("--retries", "1", "--backoff", "0")


def _project(tmp_path: Path, extra: str = "required = false") -> Path:
    proj = tmp_path / "proj"
    proj.mkdir(exist_ok=True)
    (proj / "localmodels.toml").write_text(MANIFEST.format(extra=extra))
    return proj


def test_lock_check_passes_after_lock_left_out_an_optional_model(cli, hub, tmp_path):
    hub.add_repo("acme/locked", {"config.json": "{}", "model.safetensors": os.urandom(2000)})
    proj = _project(tmp_path)
    r = cli("lock", *FAST, cwd=proj)
    assert r.returncode == 0, r.stderr
    assert "optional model 'extra' left out of the lock" in r.stderr
    lock_text = (proj / "localmodels.lock").read_text()

    r = cli("lock", "--check", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "up to date" in r.stdout and "left out when locking: extra" in " ".join(r.stdout.split())
    r = cli("lock", "--check", "--json", cwd=proj)
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["up_to_date"] is True and json.loads(r.stdout)["left_out"] == ["extra"]

    # locking again while it still cannot be resolved changes nothing
    r = cli("lock", *FAST, cwd=proj)
    assert r.returncode == 0, r.stderr
    assert (proj / "localmodels.lock").read_text() == lock_text

    # the lock is about that manifest table: change it, or make the model required, and it is stale
    _project(proj.parent, 'required = false\nrevision = "v2"')
    assert cli("lock", "--check", cwd=proj).returncode == 1
    _project(proj.parent, "required = true")
    r = cli("lock", "--check", cwd=proj)
    assert r.returncode == 1 and "extra" in r.stderr, r.stderr

    # once it can be resolved, the next lock pins it
    hub.add_repo("acme/not-yet", {"config.json": '{"x": 1}'})
    _project(proj.parent)
    r = cli("lock", *FAST, cwd=proj)
    assert r.returncode == 0 and "left out" not in r.stderr, r.stderr
    assert cli("lock", "--check", cwd=proj).returncode == 0
    from localmodels.store.lockfile import read_lock

    assert {m.name for m in read_lock(proj / "localmodels.lock").model} == {"main", "extra"}


def _snapshots(repo_id: str) -> list[Path]:
    folder = Path(os.environ["HF_HOME"]) / "hub" / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_prune_keeps_what_the_project_lock_references(cli, hub, tmp_path):
    hub.add_repo("acme/locked", {"config.json": "{}", "model.safetensors": os.urandom(3000)})
    hub.add_repo("acme/not-yet", {"config.json": "{}", "model.safetensors": os.urandom(3000)})
    hub.add_repo("acme/other", {"config.json": "{}", "model.safetensors": os.urandom(3000)})
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.toml").write_text('[models.main]\nref = "acme/locked"\n')
    assert cli("lock", *FAST, cwd=proj).returncode == 0
    assert cli("pull", "acme/other").returncode == 0
    assert _snapshots("acme/locked") and _snapshots("acme/other")

    # in the project: the locked model stays, whatever the limits say, and prune says why
    r = cli("prune", "--keep", "0", "--dry-run", cwd=proj)
    assert r.returncode == 0, r.stderr
    r = cli("prune", "--keep", "0", cwd=proj)
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "acme/locked" in out and "localmodels.lock" in out and "kept" in out, out
    assert _snapshots("acme/locked") and not _snapshots("acme/other")
    assert cli("check", "--offline", cwd=proj).returncode == 0

    r = cli("prune", "--max-size", "1K", "--json", cwd=proj)
    assert r.returncode == 0, r.stderr
    kept = json.loads(r.stdout)["kept"]
    assert [k["name"] for k in kept] == [f"acme/locked@{_snapshots('acme/locked')[0].name[:10]}"]
    assert kept[0]["lock"] == str(proj / "localmodels.lock")
    assert _snapshots("acme/locked")

    # a lock named with --lock from elsewhere protects too; without it, nothing does
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert cli("pull", "acme/not-yet").returncode == 0
    r = cli("prune", "--keep", "0", "--lock", str(proj / "localmodels.lock"), cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert _snapshots("acme/locked") and not _snapshots("acme/not-yet")
    r = cli("prune", "--keep", "0", cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert not _snapshots("acme/locked")


def test_prune_refuses_when_the_project_lock_is_unreadable(cli, hub, tmp_path):
    hub.add_repo("acme/locked", {"config.json": "{}"})
    assert cli("pull", "acme/locked").returncode == 0
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "localmodels.lock").write_text("this is [not a lock\n")
    r = cli("prune", "--keep", "0", cwd=proj)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "localmodels.lock" in r.stderr and "hint:" in r.stderr
    assert _snapshots("acme/locked")


def test_skipped_tables_round_trip_and_are_validated():
    import pytest

    from localmodels.errors import ManifestError
    from localmodels.store.lock_format import SkippedModel
    from localmodels.store.lockfile import Lock, parse_lock

    lock = Lock(skipped=[SkippedModel(name="b", ref="acme/b"), SkippedModel(name="a", ref="acme/a", quant="Q4")])
    text = lock.dumps()
    assert text.index('name = "a"') < text.index('name = "b"') and "skipped = [" in text
    assert parse_lock(text) == Lock(skipped=sorted(lock.skipped, key=lambda m: m.name))
    assert "skipped" not in Lock().dumps()  # locks with nothing left out keep their old bytes
    with pytest.raises(ManifestError, match="skipped"):
        parse_lock('version = 1\n\n[[skipped]]\nname = "a"\nref = "acme/a"\nrequired = true\n')
    with pytest.raises(ManifestError, match="locked twice"):
        parse_lock('version = 1\nskipped = [{name = "a", ref = "acme/a"}, {name = "a", ref = "x/y"}]\n')
