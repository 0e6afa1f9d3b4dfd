"""Provenance commands: ``sign`` and ``sbom``, and the helpers behind ``verify --signatures``,
``pull --require-signature``, ``check --strict [--scan DIR]`` and ``lock --upgrade NAME``.

Exit codes: 0 good; 1 an unpinned model (``check --strict``); 2 a signature refused
(unsigned where the policy does not allow it, untrusted, invalid or tampered).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

_TRUST_HELP = "Trust policy (TOML): which keys and identities may sign which models, allow_unsigned."


def _policy(trust: Path | None):
    from ..store.provenance.policy import load_policy

    return load_policy(trust) if trust is not None else None


def sign(
    ref: str = typer.Argument(..., help="A model in the store (alias, org/name[@rev], ./folder, pypi:pkg)."),
    key: Path = typer.Option(..., "--key", "-k", help="Elliptic-curve private key (PEM) to sign with."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Where to write the signature "
                                       "(default: model.sig in the model's folder)."),
    certificate: Path | None = typer.Option(None, "--certificate", help="Signing certificate (PEM) for --key: "
                                            "the bundle then carries it, for certificate-based verification."),
    chain: list[Path] | None = typer.Option(None, "--chain", help="Intermediate/root certificates to carry "
                                            "(repeatable; with --certificate)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sign a model in the store with OpenSSF model signing (for teams that publish internally)."""
    from .. import store
    from ..errors import UsageError
    from ..store.provenance.signing import sign_model
    from .output import console, print_json

    if chain and certificate is None:
        raise UsageError("--chain goes with --certificate", hint="localmodels sign REF --key k.pem "
                         "--certificate cert.pem --chain ca.pem")
    model = store.resolve(ref)
    out = sign_model(model, private_key=key, output=output, certificate=certificate, chain=list(chain or []))
    if as_json:
        print_json({"name": model.name, "signature": str(out), "kind": "certificate" if certificate else "key"})
        return
    console().print(f"[green]signed[/] {model.name}: {out}", highlight=False, soft_wrap=True)


def sbom(
    refs: list[str] | None = typer.Argument(None, help="Models in the store (default: every model of the lock)."),
    lock_file: Path | None = typer.Option(None, "--lock", "-l", help="A lock file: one component per locked model "
                                          "(default: localmodels.lock next to localmodels.toml)."),
    output: Path = typer.Option(Path("bom.cdx.json"), "--output", "-o", help="The CycloneDX JSON to write "
                                "('-' for stdout)."),
    trust: Path | None = typer.Option(None, "--trust", help=_TRUST_HELP + " With it, signatures are verified."),
) -> None:
    """Write an AI-BOM: CycloneDX 1.6, one machine-learning-model component per model, every file's sha256."""
    from .. import store
    from ..errors import UsageError
    from ..store.provenance import sbom as bom
    from .output import console

    signature = _signature_fn(_policy(trust)) if trust is not None else None
    if refs and lock_file is not None:
        raise UsageError("name models or pass --lock, not both", hint="localmodels sbom --lock localmodels.lock")
    if refs:
        facts = [bom.facts_from_model(store.resolve(r), signature) for r in refs]
    else:
        from ..store.lockfile import default_lock_path, read_lock
        from ..store.manifest import find_manifest

        mpath = find_manifest() if lock_file is None else None
        lpath = lock_file or default_lock_path(mpath)
        facts = bom.facts_from_lock(read_lock(lpath), mpath.parent if mpath else lpath.parent, signature)
    text = bom.bom_json(facts)
    if str(output) == "-":
        typer.echo(text, nl=False)
        return
    from ..sources._files import write_atomic

    write_atomic(output, text.encode("utf-8"))
    files = sum(len(f.files) for f in facts)
    console().print(f"wrote {output}: CycloneDX 1.6, {len(facts)} model(s), {files} files", highlight=False)


def _signature_fn(policy: Any):
    from ..store.provenance.signing import check_signature

    def fn(model: Any) -> tuple[str, str | None]:
        c = check_signature(model, policy)
        return c.status, c.signer

    return fn


# ---- helpers for options of other commands ------------------------------------------------------

def verify_signatures(ref: str | None, *, trust: Path | None, signature: Path | None, json_out: bool) -> None:
    """``verify --signatures``: digests (as ``verify``) and then signatures; exit 2 on any failure."""
    from .. import store
    from ..errors import UsageError
    from ..store.provenance.signing import check_signature
    from .output import console, err_console, print_json

    if signature is not None and ref is None:
        raise UsageError("--signature belongs to one model", hint="localmodels verify REF --signatures "
                         "--signature model.sig --trust trust.toml")
    policy = _policy(trust)
    digests = store.verify(ref)
    if ref is not None:
        models = [store.resolve(ref)]
    else:
        models = [store.resolve(m.ref or m.name) for m in store.list_models() if m.status == "ok" and m.key]
    rows = []
    for m in models:
        sig = check_signature(m, policy, signature=signature)
        digest = next((c for c in digests if c.key == m.key), None)
        rows.append((m, sig, digest))
    failed = [r for r in rows if not r[1].ok or (r[2] is not None and not r[2].ok)]
    if json_out:
        print_json([{**s.to_dict(), "digests": d.to_dict() if d else None} for _, s, d in rows])
    else:
        for m, s, d in rows:
            for p in (d.problems if d and not d.ok else []):
                err_console().print(f"[red]{p.problem}[/] {m.name}: {p.path} {p.detail}", highlight=False,
                                    soft_wrap=True)
            if s.ok and (d is None or d.ok):
                console().print(f"[green]{s.status}[/] {m.name}: {s.detail}", highlight=False, soft_wrap=True)
            elif not s.ok:
                err_console().print(f"[red]{s.status}[/] {m.name}: {s.detail}", highlight=False, soft_wrap=True)
                for p in s.problems:
                    err_console().print(f"  {p['path']}: {p['problem']} ({p['detail']})", highlight=False,
                                        soft_wrap=True)
    if failed:
        if not json_out:
            err_console().print(f"[bold red]error:[/] {len(failed)} model(s) failed signature verification",
                                highlight=False)
            err_console().print("[yellow]hint:[/] get a model.sig signed by a key of your trust policy, "
                                "or fix the policy (allow_unsigned, [[key]] models)", highlight=False)
        raise typer.Exit(2)
    if not rows and not json_out:
        console().print("nothing to verify", highlight=False)


def signed_puller(trust: Path | None):
    """``pull --require-signature``: a ``store.pull`` that verifies the signature against the trust
    policy and removes what a refused pull fetched (see ``store.provenance.gate.pull_signed``)."""
    from ..errors import UsageError
    from ..store.provenance.gate import pull_signed
    from .output import err_console

    if trust is None:
        raise UsageError("--require-signature needs a trust policy", hint="pass --trust trust.toml")
    policy = _policy(trust)

    def pull(ref: str, **kwargs: Any) -> Any:
        model, check = pull_signed(ref, policy, **kwargs)
        err_console().print(f"[green]signature {check.status}[/] {model.name}: {check.detail}", highlight=False,
                            soft_wrap=True)
        return model

    return pull


def strict_pins(manifest: Path | None, lock_file: Path | None, scan: list[Path] | None, *,
                as_json: bool) -> tuple[bool, bool]:
    """``check --strict``: print unpinned models (manifest and scanned code); returns
    (any found, whether there is a manifest/lock to check afterwards)."""
    from ..store.lockfile import default_lock_path, read_lock
    from ..store.manifest import find_manifest, load_manifest
    from ..store.provenance.pinning import manifest_findings, pinned_names, scan_paths
    from .output import console, err_console, print_json

    mpath = manifest if manifest is not None else (find_manifest() if lock_file is None else None)
    lpath = lock_file or (default_lock_path(mpath) if mpath else None)
    lock = read_lock(lpath) if lpath is not None and lpath.is_file() else None
    findings = []
    if mpath is not None:
        findings += manifest_findings(load_manifest(mpath), lock, lpath)
    for p in scan or []:
        if not p.exists():
            from ..errors import UsageError

            raise UsageError(f"nothing to scan at {p}", hint="pass a folder or file: --scan src/")
    findings += scan_paths(scan or [], pinned=pinned_names(lock))
    if findings:
        if as_json:
            print_json({"strict": False, "unpinned": [f.to_dict() for f in findings]})
        else:
            for f in findings:
                err_console().print(str(f), highlight=False, markup=False, soft_wrap=True)
            err_console().print(f"[bold red]error:[/] {len(findings)} model use(s) without a commit pin",
                                highlight=False)
            err_console().print("[yellow]hint:[/] pin a commit (revision=\"<sha>\", name@<sha>) or lock the "
                                "manifest: localmodels lock", highlight=False)
    elif not as_json:
        scanned = f", {', '.join(map(str, scan))} scanned" if scan else ""
        console().print(f"strict: every model is pinned to a commit{scanned}", highlight=False)
    return bool(findings), lpath is not None and lpath.is_file()


def print_upgrade(moves: list[tuple[str, str | None, str | None]], *, as_json: bool) -> None:
    """``lock --upgrade NAME``: one line per moved pin, old and new."""
    from .output import console

    if as_json:
        return
    for name, old, new in moves:
        verb = "unchanged" if old == new else "moved"
        console().print(f"{name}: {verb} {old or '(not locked)'} -> {new or '(not locked)'}", highlight=False,
                        soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("sign")(sign)
    app.command("sbom")(sbom)
