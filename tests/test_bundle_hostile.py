"""Hostile bundles (issue 20, defects 4 and 8), met where users meet them: ``localmodels import``.

- a consistently forged bundle (a flipped byte, with the index's sha256 and blob name rewritten to
  match) must not change a file of a commit the store already holds; into an empty store the
  summary says the bytes are only as trustworthy as the bundle;
- damaged archives (truncated tar or .tar.gz, a member header declaring 50 GB, an index nested
  100,000 deep) are refused with ``error:`` + ``hint:``, a non-zero exit and no traceback.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub_server import Hub

REPO = "acme/forge"
FAST_RETRY = {"LOCALMODELS_RETRY_BASE": "0.01", "LOCALMODELS_RETRY_MAX_WAIT": "0.05"}


@dataclass
class Source:
    hub: Hub
    commit: str
    bundle: Path  # genuine, exported from a store that pulled REPO from the Hub
    hub_env: dict[str, str]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("forge-source")
    with Hub() as hub, pytest.MonkeyPatch.context() as mp:
        commit = hub.add_repo(REPO, {"config.json": '{"hidden_size": 8}', "model.safetensors": os.urandom(6000)})
        env = {**hub.env(**FAST_RETRY), "LOCALMODELS_HOME": str(root / "lm"), "HF_HOME": str(root / "hf")}
        for k, v in env.items():
            mp.setenv(k, v)
        from localmodels.store import pull
        from localmodels.store.bundle import bundle_models_from_refs, export_bundle

        pull(REPO)
        bundle = root / "genuine.tar"
        export_bundle(bundle, bundle_models_from_refs([REPO]))
        yield Source(hub, commit, bundle, hub.env(**FAST_RETRY))


def _state(base: Path) -> dict[str, str]:
    """Every path under ``base``: file digest, link target, or dir."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(base):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(base))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _forge(src: Path, dst: Path) -> str:
    """Flip a byte of model.safetensors and rewrite the index (sha256, blob) and SHA256SUMS to match."""
    with tarfile.open(src) as tin:
        members = [(m, tin.extractfile(m).read()) for m in tin.getmembers()]
    weights = next(d for m, d in members if m.name.endswith("/model.safetensors"))
    old = hashlib.sha256(weights).hexdigest()
    forged = bytearray(weights)
    forged[100] ^= 0x01
    new = hashlib.sha256(bytes(forged)).hexdigest()
    with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for info, data in members:
            if info.name.endswith("/model.safetensors"):
                data = bytes(forged)
            elif info.name == "localmodels-bundle.json":
                index = json.loads(data)
                for f in index["models"][0]["files"]:
                    if f["path"] == "model.safetensors":
                        assert f["sha256"] == old
                        f["sha256"] = f["blob"] = new
                data = json.dumps(index).encode()
            elif info.name == "SHA256SUMS":
                data = data.replace(old.encode(), new.encode())
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))
    return new


def test_forged_bundle_cannot_replace_a_file_of_a_commit_we_hold(cli, source, tmp_path, isolated_home):
    r = cli("pull", REPO, env=source.hub_env)
    assert r.returncode == 0, r.stderr
    hf = Path(os.environ["HF_HOME"])
    lm = Path(os.environ["LOCALMODELS_HOME"])
    before, records_before = _state(hf), _state(lm)

    forged = tmp_path / "forged.tar"
    _forge(source.bundle, forged)
    offline = {"HF_HUB_OFFLINE": "1"}
    r = cli("import", str(forged), env=offline)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "error:" in r.stderr and "model.safetensors" in r.stderr and source.commit[:10] in r.stderr
    assert "hint:" in r.stderr
    assert _state(hf) == before and _state(lm) == records_before

    r = cli("verify", REPO, env=offline)
    assert r.returncode == 0, r.stdout + r.stderr

    # the genuine bundle is still welcome there: it changes nothing and says it matched
    r = cli("import", str(source.bundle), env=offline)
    assert r.returncode == 0, r.stderr
    assert _state(hf) == before
    assert "only as trustworthy as the bundle" not in r.stdout


def test_forged_bundle_over_an_imported_copy_is_refused_too(source, tmp_path):
    """A store that got the commit from a bundle (no Hub listing cached): the snapshot's links decide."""
    from localmodels.errors import IntegrityError
    from localmodels.store.bundle import import_bundle

    import_bundle(source.bundle)
    hf = Path(os.environ["HF_HOME"])
    before = _state(hf)
    forged = tmp_path / "forged.tar"
    _forge(source.bundle, forged)
    with pytest.raises(IntegrityError, match="model.safetensors"):
        import_bundle(forged)
    assert _state(hf) == before


def test_import_into_an_empty_store_says_what_vouches_for_the_bytes(cli, source):
    r = cli("import", str(source.bundle), env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    out = " ".join((r.stdout + r.stderr).split())
    assert "only as trustworthy as the bundle" in out
    assert REPO in out

    r = cli("import", str(source.bundle), "--json", env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["unvouched"] == []  # a second time: every file matched what we hold


# ---- damaged archives (defect 8) ------------------------------------------------------------------

def _index_bytes(source: Source) -> bytes:
    with tarfile.open(source.bundle) as tar:
        return tar.extractfile("localmodels-bundle.json").read()


def _truncated_tar(source: Source, dst: Path) -> None:
    data = source.bundle.read_bytes()
    with tarfile.open(source.bundle) as tar:
        weights = next(m for m in tar.getmembers() if m.name.endswith("/model.safetensors"))
    dst.write_bytes(data[: weights.offset_data + 3000])  # cut in the middle of the weights


def _truncated_tgz(source: Source, dst: Path) -> None:
    gz = gzip.compress(source.bundle.read_bytes())
    dst.write_bytes(gz[: len(gz) // 2])


def _header_50gb(source: Source, dst: Path) -> None:
    """The weights' header declares 50 GB (and the index agrees); the body is the real 6000 bytes."""
    index = json.loads(_index_bytes(source))
    for f in index["models"][0]["files"]:
        if f["path"] == "model.safetensors":
            f["size"] = 50 * 10**9
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tout:
        data = json.dumps(index).encode()
        info = tarfile.TarInfo("localmodels-bundle.json")
        info.size = len(data)
        tout.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue().rstrip(b"\0"))
    raw += b"\0" * (-len(raw) % 512)
    with tarfile.open(source.bundle) as tar:
        weights = next(m for m in tar.getmembers() if m.name.endswith("/model.safetensors"))
        body = tar.extractfile(weights).read()
    info = tarfile.TarInfo(weights.name)
    info.size = 50 * 10**9
    raw += info.tobuf(format=tarfile.GNU_FORMAT) + body
    dst.write_bytes(bytes(raw))


def _header_50gb_index_small(source: Source, dst: Path) -> None:
    """The weights' header declares 50 GB, the index the true size: the tar lies about itself."""
    buf = bytearray()
    with tarfile.open(source.bundle) as tar:
        for m in tar.getmembers():
            body = tar.extractfile(m).read()
            info = tarfile.TarInfo(m.name)
            info.size = 50 * 10**9 if m.name.endswith("/model.safetensors") else len(body)
            buf += info.tobuf(format=tarfile.GNU_FORMAT) + body + b"\0" * (-len(body) % 512)
    dst.write_bytes(bytes(buf))


def _deep_index(source: Source, dst: Path) -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    with tarfile.open(dst, "w") as tout:
        info = tarfile.TarInfo("localmodels-bundle.json")
        info.size = len(data)
        tout.addfile(info, io.BytesIO(data))


def _deep_index_object(source: Source, dst: Path) -> None:
    data = b'{"models": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}"
    with tarfile.open(dst, "w:gz") as tout:
        info = tarfile.TarInfo("localmodels-bundle.json")
        info.size = len(data)
        tout.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("make, name", [
    (_truncated_tar, "cut.tar"),
    (_truncated_tgz, "cut.tar.gz"),
    (_header_50gb, "huge.tar"),
    (_header_50gb_index_small, "huge-lie.tar"),
    (_deep_index, "deep.tar"),
    (_deep_index_object, "deep.tar.gz"),
])
def test_damaged_bundles_are_refused_with_a_clear_error(cli, source, tmp_path, isolated_home, make, name):
    bad = tmp_path / name
    make(source, bad)
    r = cli("import", str(bad), env={"HF_HUB_OFFLINE": "1"}, timeout=120)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "Aborted" not in r.stderr, r.stderr
    assert r.stderr.startswith("error: "), r.stderr
    assert "hint: " in r.stderr, r.stderr
    hf = Path(os.environ["HF_HOME"])
    assert not list(hf.rglob("models--*")) and not list(hf.rglob(".localmodels-import-*"))
