"""The one verify flow (sources.verify.check_files) and the one owner of the HF cache layout (RepoFolder)."""

from __future__ import annotations

import hashlib
import os

from localmodels.sources import FileRecord, Source, source_for, sources
from localmodels.sources._files import git_blob_sha1
from localmodels.sources.hfcache import RepoFolder, cached_repos
from localmodels.sources.verify import check_files, check_pins


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_check_files_reports_each_kind_of_problem_and_the_digests_it_read(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"a" * 100)
    (tmp_path / "b.txt").write_bytes(b"hello")
    (tmp_path / "c.bin").write_bytes(b"c" * 10)
    files = [FileRecord("a.bin", 100, _sha(b"a" * 100)), FileRecord("b.txt", 5, None),
             FileRecord("c.bin", 11, None), FileRecord("gone", 1, None)]
    result = check_files(tmp_path, files, git_sha1={"b.txt": "0" * 40})
    assert [(p.path, p.kind, p.what) for p in result.problems] == [
        ("b.txt", "corrupt", "git-sha1"), ("c.bin", "corrupt", "size"), ("gone", "missing", "sha256")]
    assert result.digests == {"a.bin": _sha(b"a" * 100)} and not result.ok
    assert result.problems[1].message == "c.bin: corrupt (size is 10, expected 11)"
    sha1 = {"b.txt": git_blob_sha1(tmp_path / "b.txt")}
    good = check_files(tmp_path, [FileRecord("b.txt", 5, _sha(b"hello"))], git_sha1=sha1)
    assert good.ok and good.records == [FileRecord("b.txt", 5, _sha(b"hello"))]


def test_changed_kind_known_digests_memo_and_stat_only(tmp_path, monkeypatch):
    from localmodels.sources import _files

    (tmp_path / "w").write_bytes(b"x" * 64)
    want = [FileRecord("w", 64, _sha(b"x" * 64))]
    hashed: list[str] = []
    real = _files.sha256_file
    monkeypatch.setattr(_files, "sha256_file", lambda p: hashed.append(str(p)) or real(p))
    assert check_files(tmp_path, want, known={"w": _sha(b"x" * 64)}).ok and hashed == []
    assert check_files(tmp_path, want, deep=False).ok and hashed == []
    memo: dict[str, list] = {}
    assert check_files(tmp_path, want, memo=memo).ok and len(hashed) == 1 and memo
    assert check_files(tmp_path, want, memo=memo).ok and len(hashed) == 1  # unchanged: not hashed again
    (tmp_path / "w").write_bytes(b"y" * 64)
    [p] = check_files(tmp_path, want, memo=memo, kind="changed").problems
    assert (p.kind, p.actual) == ("changed", _sha(b"y" * 64))
    [pin] = check_pins(tmp_path, [FileRecord("w", 64, None)], {"w": "f" * 64})
    assert pin.kind == "pin mismatch" and pin.problem == "pin mismatch" and pin.detail.startswith("catalog pins")


def test_repo_folder_reads_refs_snapshots_blobs_and_removes_a_revision(tmp_path):
    repo = RepoFolder("acme/tiny", tmp_path)
    assert repo.path == tmp_path / "models--acme--tiny" and not repo.exists()
    c1, c2 = "1" * 40, "2" * 40
    shared, only1 = repo.blob(_sha(b"shared")), repo.blob(_sha(b"only1"))
    shared.parent.mkdir(parents=True)
    shared.write_bytes(b"shared")
    only1.write_bytes(b"only1")
    for commit, names in ((c1, {"a": shared, "sub/b": only1}), (c2, {"a": shared})):
        for rel, blob in names.items():
            link = repo.snapshot(commit) / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(blob, link.parent), link)
    repo.write_tree(c1, {"a": {"size": 6, "blob_id": "9" * 40, "lfs_sha256": shared.name, "lfs_size": 6}})
    assert repo.tree_commits() == [c1] and repo.blob_sizes() == {shared.name: 6}
    repo.write_ref("main", c2)
    repo.write_ref("refs/pr/1", c1)
    assert repo.read_ref("main") == c2 and repo.resolve(None) == c2 and repo.resolve(c1) == c1
    assert repo.refs() == {"main": c2, "refs/pr/1": c1} and repo.commits() == [c1, c2]
    assert repo.snapshot_files(c1) == ["a", "sub/b"] and repo.blob_of(c1, "sub/b") == only1
    assert repo.blobs_in_use(except_commits=[c1]) == {shared.name} and repo.snapshot_size(c1) == 11
    assert [r.repo_id for r in cached_repos(tmp_path)] == ["acme/tiny"]
    removed = repo.remove_revisions([c1], dry_run=False)
    assert {x["kind"] for x in removed} == {"snapshot", "ref", "blob"}
    assert repo.commits() == [c2] and shared.is_file() and not only1.exists() and repo.refs() == {"main": c2}
    assert repo.remove_revisions(None, dry_run=False)[0]["kind"] == "hub repo" and not repo.exists()


def test_every_built_in_source_implements_the_protocol():
    assert {s.kind for s in sources()} >= {"hub", "local", "pypi", "remote"}
    for s in sources():
        assert isinstance(s, Source) and source_for(s.kind) is s
