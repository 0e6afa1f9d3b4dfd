"""The Source contract: a source registered by a test (like an llm plugin) serves the store's verbs.

``fake:NAME`` serves the files of ``<upstream>/NAME`` by copying them under LOCALMODELS_HOME, with
their sha256 recorded. Nothing in the store knows about it: pull, resolve, list, info, verify
(and repair), du, prune and rm all reach it through ``source_for``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from localmodels import errors, store
from localmodels.config import home
from localmodels.sources import FileProblem, SourceBase, Spec, StoredModel, register_source, unregister_source
from localmodels.sources import _records as rec
from localmodels.sources._files import sha256_file
from localmodels.sources._serve import to_model


class FakeSource(SourceBase):
    kind = "fake"

    def __init__(self, upstream: Path) -> None:
        self.upstream = upstream
        self.fetched: list[str] = []

    def parse(self, ref: str) -> Spec | None:
        if not ref.startswith("fake:"):
            return None
        return Spec(self.kind, ref[len("fake:"):], ref)

    def key(self, spec: Spec) -> str:
        return f"fake--{rec.safe_name(spec.name)}"

    def folder(self, name: str) -> Path:
        return home() / "fake" / name

    def present(self, spec: Spec):
        r = rec.load(self.key(spec))
        if r is None or r.missing_or_changed():
            return None
        return to_model(r, spec.ref, None)

    def fetch(self, spec: Spec, *, force=False, install=False, progress=False, offline=False):
        if not force and (m := self.present(spec)) is not None:
            return m
        if offline:
            raise errors.NotInStoreError(spec.ref)
        src = self.upstream / spec.name
        if not src.is_dir():
            raise errors.ModelNotFoundError(f"no fake model {spec.name}", ref=spec.ref)
        self.fetched.append(spec.name)
        dest = self.folder(spec.name)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
        files = [{"path": p.relative_to(dest).as_posix(), "size": p.stat().st_size, "sha256": sha256_file(p),
                  "mtime_ns": p.stat().st_mtime_ns} for p in sorted(dest.rglob("*")) if p.is_file()]
        r = rec.Record(key=self.key(spec), ref=spec.ref, name=spec.name, source=self.kind, path=str(dest),
                       files=files, served_by=f"fake:{spec.name}", pulled_at=rec.now_iso(), last_used=rec.now_iso())
        r.save()
        return to_model(r, spec.ref, None)

    def repair(self, record: rec.Record, problems: list[FileProblem]) -> None:
        self.fetch(Spec(self.kind, record.name, record.ref), force=True)

    def remove(self, spec: Spec, *, dry_run: bool) -> list[dict[str, Any]]:
        folder = self.folder(spec.name)
        out = self.forget(self.key(spec), spec.name, dry_run=dry_run)
        if folder.is_dir():
            out.append({"kind": "fake folder", "path": str(folder), "bytes": 0, "name": spec.name})
            if not dry_run:
                shutil.rmtree(folder)
        return out

    def stored(self, records) -> list[StoredModel]:
        return [StoredModel(r.name, r.size, rec.parse_iso(r.last_used),
                            lambda dry, r=r: self.remove(Spec(self.kind, r.name, r.ref), dry_run=dry))
                for r in records if r.source == self.kind]


@pytest.fixture
def fake(tmp_path):
    upstream = tmp_path / "upstream"
    (upstream / "tiny" / "sub").mkdir(parents=True)
    (upstream / "tiny" / "model.onnx").write_bytes(b"\x08\x01" * 500)
    (upstream / "tiny" / "sub" / "config.json").write_text('{"dims": 4}')
    source = register_source(FakeSource(upstream))
    yield source
    unregister_source("fake")


def test_a_registered_source_serves_pull_list_verify_and_rm(fake):
    with pytest.raises(errors.NotInStoreError):
        store.resolve("fake:tiny")
    m = store.pull("fake:tiny")
    assert m.source == "fake" and m.served_by == "fake:tiny" and fake.fetched == ["tiny"]
    assert {f.path for f in m.files} == {"model.onnx", "sub/config.json"} and m.size == 1011
    assert store.pull("fake:tiny").path == m.path and fake.fetched == ["tiny"]  # present: not fetched again
    assert store.resolve("fake:tiny").key == m.key
    assert store.info("fake:tiny")["served_by"] == "fake:tiny"

    [line] = [s for s in store.list_models() if s.source == "fake"]
    assert (line.name, line.status, line.size) == ("tiny", "ok", 1011)

    [check] = store.verify("fake:tiny")
    assert check.ok and check.source == "fake" and check.files == 2
    weights = m.path / "model.onnx"
    weights.write_bytes(b"\x09\x01" * 500)  # same size, other bytes
    [check] = store.verify("fake:tiny")
    assert [(p.path, p.kind) for p in check.problems] == [("model.onnx", "corrupt")]
    assert "sha256 is" in check.problems[0].detail
    [check] = store.verify("fake:tiny", repair=True)
    assert check.repaired and weights.read_bytes() == b"\x08\x01" * 500 and fake.fetched == ["tiny", "tiny"]
    assert all(c.ok for c in store.verify())

    assert store.disk_usage()["records_bytes"] > 0
    report = store.prune(keep=0, dry_run=True)
    assert any(x.get("name") == "tiny" and x["reason"] == "lru" for x in report.removed)

    removed = store.remove("fake:tiny")
    assert {x["kind"] for x in removed} == {"record", "fake folder"} and not m.path.exists()
    assert not [s for s in store.list_models() if s.source == "fake"]
    with pytest.raises(errors.NotInStoreError):
        store.resolve("fake:tiny")
    with pytest.raises(errors.NotInStoreError):
        store.remove("fake:tiny")


def test_the_store_says_what_a_source_raises(fake):
    with pytest.raises(errors.ModelNotFoundError, match="no fake model"):
        store.pull("fake:nothing")
    with pytest.raises(errors.NotInStoreError):
        store.pull("fake:tiny", offline=True)


def test_an_unregistered_scheme_is_not_a_reference():
    with pytest.raises(errors.InvalidReferenceError):
        store.resolve("fake:tiny")
