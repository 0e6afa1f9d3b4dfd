"""OpenSSF model signatures as a user meets them: ``sign``, ``verify --signatures``, ``pull
--require-signature`` (against our local Hub on 127.0.0.1), with keys and certificates made here."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import run_cli
from hub_server import hub, hub_session, weight_bytes  # noqa: F401  (fixtures)


def _key(folder: Path, name: str) -> tuple[Path, Path]:
    """A fresh P-256 key pair written as PEM: (private, public)."""
    k = ec.generate_private_key(ec.SECP256R1())
    priv, pub = folder / f"{name}.pem", folder / f"{name}.pub"
    priv.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    pub.write_bytes(k.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def _model(folder: Path, seed: bytes = b"w") -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "tokenizer.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(weight_bytes(20_000, seed))
    return folder


def _trust(folder: Path, body: str) -> Path:
    p = folder / "trust.toml"
    p.write_text(body)
    return p


def _ok(p):
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    return p


def _refused(p, code: int = 2):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    return p.stdout + p.stderr


@pytest.fixture
def signed(tmp_path):
    """A local model in the store, signed by key 'team' through the CLI, and a policy trusting it."""
    priv, pub = _key(tmp_path, "team")
    model = _model(tmp_path / "m")
    _ok(run_cli("pull", str(model)))
    out = _ok(run_cli("sign", str(model), "--key", str(priv), "--json"))
    assert json.loads(out.stdout)["signature"] == str(model / "model.sig")
    trust = _trust(tmp_path, '[[key]]\nname = "team"\npublic_key = "team.pub"\nmodels = ["*"]\n')
    return model, trust, priv


def test_sign_then_verify_then_a_flipped_byte_is_refused_naming_the_file(signed):
    model, trust, _ = signed
    _ok(run_cli("pull", str(model), "--force"))  # the folder now holds model.sig too
    p = _ok(run_cli("verify", str(model), "--signatures", "--trust", str(trust), "--json"))
    [row] = json.loads(p.stdout)
    assert row["status"] == "verified" and row["signer"] == "key:team" and row["kind"] == "key"
    info = json.loads(_ok(run_cli("info", str(model), "--json")).stdout)
    assert info["provenance"]["signature_file"] == str(model / "model.sig")

    weights = model / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[1234] ^= 0x01
    weights.write_bytes(bytes(data))
    out = _refused(run_cli("verify", str(model), "--signatures", "--trust", str(trust)))
    assert "tampered" in out and "model.safetensors" in out
    assert "config.json" not in out.replace(str(model), "")  # only the changed file is named


def test_a_key_the_policy_does_not_allow_is_refused(signed, tmp_path):
    model, _, _ = signed
    _key(tmp_path, "other")
    unknown = _trust(tmp_path, '[[key]]\nname = "other"\npublic_key = "other.pub"\nmodels = ["*"]\n')
    out = _refused(run_cli("verify", str(model), "--signatures", "--trust", str(unknown)))
    assert "untrusted" in out and "does not know" in out
    # the right key, but only allowed for other models
    scoped = _trust(tmp_path, '[[key]]\nname = "team"\npublic_key = "team.pub"\nmodels = ["acme/*"]\n')
    out = _refused(run_cli("verify", str(model), "--signatures", "--trust", str(scoped)))
    assert "allows only for acme/*" in out


def test_a_signature_given_with_signature_from_elsewhere(tmp_path):
    priv, _ = _key(tmp_path, "team")
    model = _model(tmp_path / "m2")
    _ok(run_cli("pull", str(model)))
    sig = tmp_path / "out" / "m2.sig"
    _ok(run_cli("sign", str(model), "--key", str(priv), "-o", str(sig)))
    assert not (model / "model.sig").exists()
    trust = _trust(tmp_path, '[[key]]\npublic_key = "team.pub"\nmodels = ["*m2*"]\n')
    p = _ok(run_cli("verify", str(model), "--signatures", "--trust", str(trust), "--signature", str(sig)))
    assert "verified" in p.stdout


def test_unsigned_model_with_and_without_allow_unsigned(tmp_path):
    model = _model(tmp_path / "plain")
    _ok(run_cli("pull", str(model)))
    _key(tmp_path, "team")
    strict = _trust(tmp_path, '[[key]]\npublic_key = "team.pub"\nmodels = ["*"]\n')
    out = _refused(run_cli("verify", str(model), "--signatures", "--trust", str(strict)))
    assert "unsigned" in out and "does not allow unsigned" in out
    relaxed = _trust(tmp_path, 'allow_unsigned = true\n')
    p = _ok(run_cli("verify", str(model), "--signatures", "--trust", str(relaxed), "--json"))
    assert json.loads(p.stdout)[0]["status"] == "unsigned"
    scoped = _trust(tmp_path, 'allow_unsigned = ["nothing/*"]\n')
    _refused(run_cli("verify", str(model), "--signatures", "--trust", str(scoped)))


def test_a_bad_trust_policy_names_the_line(tmp_path):
    model = _model(tmp_path / "m")
    _ok(run_cli("pull", str(model)))
    bad = _trust(tmp_path, 'allow_unsigned = false\n\n[[key]]\npublic_key = "missing.pub"\nmodels = ["*"]\n')
    p = run_cli("verify", str(model), "--signatures", "--trust", str(bad))
    assert p.returncode == 2 and p.stderr.startswith("error: "), p.stderr
    assert "trust.toml:4: key[0]: public key file" in p.stderr, p.stderr


def _cert(subject_cn: str, key, issuer_name, issuer_key, *, ca: bool, email: str | None = None):
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
         .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca,
                                      content_commitment=False, key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, encipher_only=False, decipher_only=False), critical=True))
    if email:
        b = b.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def test_certificate_signed_model_verifies_offline_against_the_root(tmp_path):
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Acme Test Root")])
    ca = _cert("Acme Test Root", ca_key, ca_name, ca_key, ca=True)
    leaf = _cert("release", leaf_key, ca_name, ca_key, ca=False, email="release@acme.test")
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    model = _model(tmp_path / "m")
    _ok(run_cli("pull", str(model)))
    _ok(run_cli("sign", str(model), "--key", str(tmp_path / "leaf.key"), "--certificate", str(tmp_path / "leaf.pem"),
                "--chain", str(tmp_path / "ca.pem")))
    good = _trust(tmp_path, '[[identity]]\nname = "acme"\ncertificate_chain = ["ca.pem"]\n'
                            'subject = "*@acme.test"\nmodels = ["*"]\n')
    p = _ok(run_cli("verify", str(model), "--signatures", "--trust", str(good), "--json"))
    row = json.loads(p.stdout)[0]
    assert (row["status"], row["kind"], row["signer"]) == ("verified", "certificate", "identity:acme")
    wrong = _trust(tmp_path, '[[identity]]\ncertificate_chain = ["ca.pem"]\nsubject = "ops@acme.test"\n'
                             'models = ["*"]\n')
    out = _refused(run_cli("verify", str(model), "--signatures", "--trust", str(wrong)))
    assert "release@acme.test" in out and "untrusted" in out
    other_root = ec.generate_private_key(ec.SECP256R1())
    other_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other Root")])
    (tmp_path / "other.pem").write_bytes(
        _cert("Other Root", other_root, other_name, other_root, ca=True).public_bytes(serialization.Encoding.PEM))
    foreign = _trust(tmp_path, '[[identity]]\ncertificate_chain = ["other.pem"]\nsubject = "*@acme.test"\n'
                               'models = ["*"]\n')
    out = _refused(run_cli("verify", str(model), "--signatures", "--trust", str(foreign)))
    assert "does not verify" in out


def _signed_repo_files(tmp_path: Path, priv: Path, seed: bytes) -> dict[str, bytes]:
    """Files of a model folder plus the model.sig our CLI wrote for it (what a publisher uploads)."""
    folder = _model(tmp_path / f"publish-{seed.decode()}", seed)
    _ok(run_cli("pull", str(folder)))
    _ok(run_cli("sign", str(folder), "--key", str(priv)))
    _ok(run_cli("rm", str(folder), "-y"))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _nothing_left(repo_id: str) -> None:
    hub_dir = Path(os.environ["HF_HOME"]) / "hub" / ("models--" + repo_id.replace("/", "--"))
    assert not (hub_dir / "snapshots").exists() or not any((hub_dir / "snapshots").iterdir()), \
        list(hub_dir.rglob("*"))
    assert not list(hub_dir.glob("blobs/*")), list(hub_dir.glob("blobs/*"))
    records = Path(os.environ["LOCALMODELS_HOME"]) / "records"
    assert not records.exists() or not list(records.glob("hub--" + repo_id.replace("/", "--") + "--*.json"))
    p = run_cli("where", repo_id)
    assert p.returncode != 0 and "not in the store" in p.stderr


def test_pull_require_signature_from_the_local_hub(hub, tmp_path):
    priv, _ = _key(tmp_path, "team")
    _key(tmp_path, "stranger")
    trust = _trust(tmp_path, '[[key]]\nname = "team"\npublic_key = "team.pub"\nmodels = ["acme/*"]\n')
    files = _signed_repo_files(tmp_path, priv, b"s")
    assert "model.sig" in files
    commit = hub.add_repo("acme/signed", files)
    hub.add_repo("acme/unsigned", {k: v for k, v in files.items() if k != "model.sig"})
    tampered = dict(files, **{"model.safetensors": weight_bytes(20_000, b"evil")})
    hub.add_repo("acme/tampered", tampered)
    stranger_files = _signed_repo_files(tmp_path, tmp_path / "stranger.pem", b"x")
    hub.add_repo("acme/stranger", stranger_files)

    p = _ok(run_cli("pull", "acme/signed", "--require-signature", "--trust", str(trust), "--json"))
    assert json.loads(p.stdout)["commit"] == commit
    assert "signature verified" in p.stderr
    _ok(run_cli("where", "acme/signed"))
    p = run_cli("sign", "acme/signed", "--key", str(priv))  # its model.sig links into the shared blob store
    assert p.returncode == 2 and "not overwriting" in p.stderr, p.stderr
    _ok(run_cli("verify", "acme/signed"))  # the blob is untouched

    for repo, why in [("acme/unsigned", "unsigned"), ("acme/tampered", "tampered"), ("acme/stranger", "untrusted")]:
        out = _refused(run_cli("pull", repo, "--require-signature", "--trust", str(trust)))
        assert f"refusing {repo}: {why}" in out, out
        assert "nothing was kept in the store" in out
        if why == "tampered":
            assert "model.safetensors" in out
        _nothing_left(repo)

    # with --include the signature is fetched too, and a partial pull verifies what it has
    p = _ok(run_cli("pull", "acme/signed", "--include", "*.json", "--require-signature", "--trust", str(trust),
                    "--force"))
    assert "signed files not fetched" in p.stderr
    # without a policy that allows it, an unsigned pull is refused before anything is kept
    relaxed = _trust(tmp_path, 'allow_unsigned = ["acme/unsigned"]\n')
    _ok(run_cli("pull", "acme/unsigned", "--require-signature", "--trust", str(relaxed)))


def test_pull_require_signature_of_a_catalog_alias_fetches_the_signature_too(hub, tmp_path):
    """Catalog entries fetch only their file patterns; the signature is asked for as well."""
    priv, _ = _key(tmp_path, "team")
    folder = tmp_path / "wikineural"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    (folder / "model.safetensors").write_bytes(weight_bytes(9_000, b"n"))
    _ok(run_cli("pull", str(folder)))
    _ok(run_cli("sign", str(folder), "--key", str(priv)))
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    hub.add_repo("Babelscape/wikineural-multilingual-ner", {**files, "pytorch_model.bin": b"not fetched"})
    trust = _trust(tmp_path, '[[key]]\nname = "team"\npublic_key = "team.pub"\nmodels = ["Babelscape/*"]\n')
    p = _ok(run_cli("pull", "wikineural", "--require-signature", "--trust", str(trust)))
    assert "signature verified" in p.stderr and "key:team" in p.stderr
    info = json.loads(_ok(run_cli("info", "wikineural", "--json")).stdout)
    assert info["provenance"]["license_status"] == "restricts commercial use"  # cc-by-nc-sa-4.0
    assert info["provenance"]["signature_file"] and info["provenance"]["gated"] is False
    bom = json.loads(_ok(run_cli("sbom", "wikineural", "--trust", str(trust), "-o", "-")).stdout)
    props = {x["name"]: x["value"] for x in bom["components"][0]["properties"]}
    assert props["localmodels:signature"] == "verified" and props["localmodels:signer"] == "key:team"
    assert props["localmodels:license_status"] == "restricts commercial use"
    assert bom["components"][0]["licenses"][0]["license"]["id"] == "CC-BY-NC-SA-4.0"


def test_policy_errors_point_at_the_table_entry_and_globs_match_every_name(tmp_path):
    from localmodels.errors import ManifestError
    from localmodels.store.provenance.policy import load_policy, matches_any

    _key(tmp_path, "k")
    text = ('[[key]]\npublic_key = "k.pub"\nmodels = ["*"]\n\n[[key]]\nname = "x"\npublic_key = "k.pub"\n'
            'models = []\n')
    with pytest.raises(ManifestError) as e:
        load_policy(_trust(tmp_path, text))
    assert e.value.line == 8 and "key[1].models" in e.value.message
    with pytest.raises(ManifestError) as e:
        load_policy(_trust(tmp_path, 'allow_unsigned = "yes"\n'))
    assert e.value.line == 1
    policy = load_policy(_trust(tmp_path, 'allow_unsigned = ["internal/*"]\n[[key]]\npublic_key = "k.pub"\n'
                                          'models = ["Acme/*", "minilm"]\n'))
    assert policy.unsigned_allowed(["internal/tool"]) and not policy.unsigned_allowed(["acme/x"])
    assert [k.name for k in policy.keys_for(["sentence-transformers/all-MiniLM-L6-v2", "minilm"])] == ["k"]
    assert matches_any(["acme/tiny"], ["ACME/*"]) and not matches_any(["other/tiny"], ["acme/*"])
