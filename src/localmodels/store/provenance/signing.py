"""OpenSSF model signatures (the ``model-signing`` library), checked offline against a trust policy.

    check = check_signature(model, policy)         # SignatureCheck: status, signer, files, problems
    sign_model(model, private_key=Path("k.pem"))   # writes <model folder>/model.sig

A signature is a Sigstore bundle (``model.sig`` next to the model's files, or given explicitly)
whose DSSE payload lists every signed file's digest. Two kinds are verified without any network:
a bundle signed with an elliptic-curve key (the key must be in the policy) and one signed with a
certificate whose chain the bundle carries (the chain must end at a root in the policy and the
certificate's subject must match). Keyless Sigstore bundles need the transparency log's trust
root and are reported as ``unsupported``.

Every file of the model is hashed again (Hub snapshots are symlinks into the blob store: they are
followed) and compared with the signed digest; the signature file itself is never signed.
Files of the signature that the store did not fetch (a pull with ``--include``) are listed in
``not_fetched``; a fetched file the signature does not cover fails.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import IntegrityError, MissingDependencyError, UsageError
from .policy import KeyRule, TrustPolicy, matches_any

if TYPE_CHECKING:
    from .. import LocalModel

SIGNATURE_NAME = "model.sig"


@dataclass
class SignatureCheck:
    """The signature verdict for one model. ``status``: verified | unsigned | invalid | untrusted |
    tampered | unsupported; ``ok`` says whether the policy accepts the model."""

    name: str
    status: str
    ok: bool
    signature: str | None = None
    kind: str | None = None  # key | certificate | sigstore
    signer: str | None = None  # the policy's name for the key or identity that verified it
    detail: str = ""
    problems: list[dict[str, str]] = field(default_factory=list)  # {"path", "problem", "detail"}
    not_fetched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_names(model: LocalModel) -> list[str]:
    """Every name a policy glob may use for ``model``: canonical name, repo id, ref, catalog names."""
    names = [model.name, model.ref, str(model.metadata.get("repo_id") or ""),
             str(model.metadata.get("package") or "")]
    if model.entry is not None:
        names += model.entry.names
    if model.metadata.get("package"):
        names.append(f"pypi:{model.metadata['package']}")
    out: list[str] = []
    for n in names:
        n = n.partition("@")[0] if n and not n.startswith(("./", "/", "../")) else n
        if n and n not in out:
            out.append(n)
    return out


def _ms():
    try:
        import model_signing  # noqa: F401
        from model_signing._signing import sign_certificate, sign_ec_key, sign_sigstore_pb
    except ImportError as e:
        raise MissingDependencyError("model-signing", "provenance", purpose="to sign and verify models") from e
    logging.getLogger("model_signing").setLevel(logging.ERROR)
    return sign_ec_key, sign_certificate, sign_sigstore_pb


def signature_path(model: LocalModel, given: str | Path | None = None) -> Path:
    return Path(given) if given else model.path / SIGNATURE_NAME


def bundle_kind(bundle: dict[str, Any]) -> str:
    material = bundle.get("verificationMaterial") or {}
    if "x509CertificateChain" in material:
        return "certificate"
    if "certificate" in material or material.get("tlogEntries"):
        return "sigstore"
    return "key"


def check_signature(model: LocalModel, policy: TrustPolicy | None, *,
                    signature: str | Path | None = None) -> SignatureCheck:
    """Verify ``model`` against its signature and the trust policy (no network)."""
    names = model_names(model)
    sig = signature_path(model, signature)
    if not sig.is_file():
        if signature is not None:
            raise UsageError(f"signature file {sig} does not exist", hint="pass the bundle: --signature PATH")
        allowed = policy is not None and policy.unsigned_allowed(names)
        return SignatureCheck(model.name, "unsigned", allowed,
                              detail="no model.sig" + ("; the trust policy allows unsigned models here" if allowed
                                                       else "; the trust policy does not allow unsigned models"))
    try:
        bundle = json.loads(sig.read_text(encoding="utf-8"))
        kind = bundle_kind(bundle)
    except (OSError, ValueError, AttributeError) as e:
        return SignatureCheck(model.name, "invalid", False, str(sig), detail=f"not a Sigstore bundle: {e}")
    result = SignatureCheck(model.name, "invalid", False, str(sig), kind)
    if kind == "sigstore":
        result.status, result.detail = "unsupported", (
            "a keyless Sigstore bundle: offline verification needs the transparency log's trust root; "
            "sign with a key or a certificate chain instead")
        return result
    if policy is None:
        raise UsageError("checking a signature needs a trust policy (which keys may sign which models)",
                         hint="pass --trust trust.toml")
    if kind == "key":
        manifest, signer, why = _verify_key(bundle, sig, policy, names)
    else:
        manifest, signer, why = _verify_certificate(bundle, sig, policy, names)
    if manifest is None:
        result.status = "untrusted" if why.startswith("untrusted: ") else "invalid"
        result.detail = why.removeprefix("untrusted: ")
        return result
    result.signer = signer
    _compare_files(model, sig, manifest, result)
    return result


def _verify_key(bundle: dict[str, Any], sig: Path, policy: TrustPolicy, names: list[str]):
    ec_key, _, pb = _ms()
    hint = ((bundle.get("verificationMaterial") or {}).get("publicKey") or {}).get("hint")
    allowed = policy.keys_for(names)
    known: list[KeyRule] = [k for k in policy.keys if hint and k.hint == hint]
    candidates = [k for k in allowed if not hint or k.hint == hint]
    if not candidates:
        if known:
            k = known[0]
            return None, None, (f"untrusted: signed by key {k.name!r}, which the trust policy allows only for "
                                f"{', '.join(k.models)}")
        return None, None, (f"untrusted: signed by a key the trust policy does not know (key id "
                            f"{(hint or '?')[:16]}...)")
    last = ""
    for k in candidates:
        try:
            return ec_key.Verifier(k.public_key).verify(pb.Signature.read(sig)), f"key:{k.name}", ""
        except Exception as e:  # noqa: BLE001 - cryptography and model-signing raise several types
            last = f"the signature does not verify with key {k.name!r}: {type(e).__name__} {e}".strip()
    return None, None, last


def _verify_certificate(bundle: dict[str, Any], sig: Path, policy: TrustPolicy, names: list[str]):
    _, cert_mod, pb = _ms()
    chain = (bundle.get("verificationMaterial") or {}).get("x509CertificateChain", {}).get("certificates") or []
    if not chain:
        return None, None, "the bundle carries no certificate"
    subjects = certificate_subjects(base64.b64decode(chain[0]["rawBytes"]))
    rules = policy.identities_for(names)
    if not rules:
        return None, None, (f"untrusted: signed by {', '.join(subjects) or 'a certificate'}; the trust policy "
                            f"names no identity for {names[0]}")
    last = ""
    for rule in rules:
        if not any(matches_any([s], [rule.subject]) for s in subjects):
            last = (f"untrusted: signed by {', '.join(subjects) or 'a certificate without a subject'}, "
                    f"not by {rule.subject!r} (identity {rule.name!r})")
            continue
        try:
            verifier = cert_mod.Verifier(list(rule.certificate_chain))
            return verifier.verify(pb.Signature.read(sig)), f"identity:{rule.name}", ""
        except Exception as e:  # noqa: BLE001 - OpenSSL, cryptography and model-signing errors
            last = f"untrusted: the certificate chain does not verify against {rule.name!r}: {e}".strip()
    return None, None, last


def certificate_subjects(der: bytes) -> list[str]:
    """The names a certificate vouches for: SAN e-mails, URIs and DNS names, then the CN."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    out: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for kind in (x509.RFC822Name, x509.UniformResourceIdentifier, x509.DNSName):
            out += [str(v) for v in san.get_values_for_type(kind)]
    except x509.ExtensionNotFound:
        pass
    out += [str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    return out


def _hashing_config(serialization: dict[str, Any]):
    from model_signing import hashing

    method = serialization.get("method")
    if method == "files":
        cfg = hashing.Config().use_file_serialization(hashing_algorithm=serialization["hash_type"],
                                                      allow_symlinks=True)
    elif method == "shards":
        cfg = hashing.Config().use_shard_serialization(hashing_algorithm=serialization["hash_type"],
                                                       shard_size=serialization["shard_size"], allow_symlinks=True)
    else:
        raise IntegrityError(f"unknown serialization {method!r} in the signature",
                             hint="re-sign the model with model-signing >= 1.0")
    return cfg.set_allow_symlinks(True)


def _compare_files(model: LocalModel, sig: Path, expected: Any, result: SignatureCheck) -> None:
    """Hash the model's files as the signature did and compare, file by file."""
    signed: dict[str, dict[str, str]] = {}
    for rd in expected.resource_descriptors():
        path = rd.identifier if expected.serialization_type.get("method") == "files" \
            else rd.identifier.rsplit(":", 2)[0]
        signed.setdefault(path, {})[rd.identifier] = rd.digest.digest_hex
    sig_rel = _relative(sig, model.path)
    mine = sorted(f.path for f in model.files if f.path != sig_rel)
    problems: list[dict[str, str]] = []
    unsigned = [p for p in mine if p not in signed]
    for p in unsigned:
        problems.append({"path": p, "problem": "not signed", "detail": "the signature does not cover this file"})
    to_hash = [p for p in mine if p in signed]
    missing = [p for p in to_hash if not (model.path / p).is_file()]
    for p in missing:
        problems.append({"path": p, "problem": "missing", "detail": "the file is gone"})
    present = [p for p in to_hash if p not in missing]
    actual = _hashing_config(expected.serialization_type).hash(
        model.path, files_to_hash=[model.path / p for p in present])
    got: dict[str, dict[str, str]] = {}
    for rd in actual.resource_descriptors():
        path = rd.identifier if rd.identifier in signed else rd.identifier.rsplit(":", 2)[0]
        got.setdefault(path, {})[rd.identifier] = rd.digest.digest_hex
    for p in present:
        if got.get(p) != signed[p]:
            problems.append({"path": p, "problem": "tampered",
                             "detail": "its digest differs from the signed one"})
    result.problems = problems
    result.not_fetched = sorted(set(signed) - set(mine))
    if problems:
        result.status, result.ok = "tampered", False
        result.detail = "; ".join(f"{x['path']}: {x['problem']}" for x in problems)
    else:
        result.status, result.ok = "verified", True
        result.detail = f"{len(present)} files verified, signed by {result.signer}"
        if result.not_fetched:
            result.detail += f" ({len(result.not_fetched)} signed files not fetched)"


def _relative(path: Path, base: Path) -> str | None:
    """``path`` relative to ``base`` (the file itself may be a symlink out of it), or None."""
    try:
        return (path.absolute().parent.resolve() / path.name).relative_to(base.resolve()).as_posix()
    except ValueError:
        return None


def sign_model(model: LocalModel, *, private_key: str | Path, output: str | Path | None = None,
               certificate: str | Path | None = None, chain: list[str | Path] | None = None,
               password: str | None = None) -> Path:
    """Sign every file of ``model``'s folder (symlinks followed); returns the signature path.

    With ``certificate`` (and its ``chain``), the bundle carries the certificates so it can be
    checked offline against a trusted root; otherwise a verifier needs the public key.
    """
    _ms()
    from model_signing import hashing, signing

    out = Path(output) if output else model.path / SIGNATURE_NAME
    if out.is_symlink():  # a Hub snapshot's model.sig links to a shared, content-addressed blob
        raise UsageError(f"{out} is a file the model came with (a link into the cache); not overwriting it",
                         hint=f"write your signature elsewhere: localmodels sign {model.ref} --key K -o model.sig")
    inside = _relative(out, model.path)
    ignored = [inside] if inside else []
    cfg = signing.Config()
    if certificate is not None:
        cfg.use_certificate_signer(private_key=private_key, signing_certificate=certificate,
                                   certificate_chain=[Path(c) for c in chain or []])
    else:
        cfg.use_elliptic_key_signer(private_key=private_key, password=password)
    cfg.set_hashing_config(hashing.Config().set_ignored_paths(paths=ignored).set_allow_symlinks(True))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        cfg.sign(model.path, out)
    except PermissionError:
        raise UsageError(f"cannot write {out}: the model folder is read-only",
                         hint="write the signature elsewhere: localmodels sign REF --key K -o model.sig") from None
    except ValueError as e:
        raise UsageError(f"cannot sign {model.name}: {e}",
                         hint="use an elliptic-curve private key (P-256, P-384 or P-521) in PEM") from None
    return out
