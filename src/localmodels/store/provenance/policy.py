"""The trust policy: which keys and certificate identities may sign which models.

A TOML file (paths are relative to it)::

    allow_unsigned = false            # or true, or a list of model globs: ["internal/*", "minilm"]

    [[key]]
    name = "acme-release"
    public_key = "keys/acme.pub"      # PEM (elliptic curve: P-256, P-384 or P-521)
    models = ["acme/*"]               # globs over a model's names (repo id, alias, catalog id, package)

    [[identity]]
    name = "acme-ca"
    certificate_chain = ["ca.pem"]    # the roots (and intermediates) to trust, PEM
    subject = "release@acme.example"  # the signing certificate's SAN e-mail/URI/DNS or CN; a glob
    models = ["acme/*"]

A model matches a rule when any of its names matches any glob (``fnmatch``, case-insensitive).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ManifestError
from ..manifest import TomlLocator, load_toml

_HINT = ('a trust policy reads: allow_unsigned = false, then [[key]] tables with public_key = "k.pub" and '
         'models = ["org/*"] (and/or [[identity]]: certificate_chain, subject, models)')


def matches_any(names: Iterable[str], globs: Iterable[str]) -> bool:
    """Whether any of ``names`` matches any of ``globs`` (case-insensitive)."""
    lowered = [n.lower() for n in names if n]
    return any(fnmatch.fnmatchcase(n, g.lower()) for g in globs for n in lowered)


@dataclass(frozen=True)
class KeyRule:
    name: str
    public_key: Path
    models: tuple[str, ...]

    @property
    def hint(self) -> str:
        """What model-signing writes as the key's id in a bundle: sha256 of the PEM public key."""
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_public_key(self.public_key.read_bytes())
        pem = key.public_bytes(encoding=serialization.Encoding.PEM,
                               format=serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(pem).hexdigest()


@dataclass(frozen=True)
class IdentityRule:
    name: str
    certificate_chain: tuple[Path, ...]
    subject: str
    models: tuple[str, ...]


@dataclass
class TrustPolicy:
    path: Path | None = None
    allow_unsigned: bool | tuple[str, ...] = False
    keys: list[KeyRule] = field(default_factory=list)
    identities: list[IdentityRule] = field(default_factory=list)

    def unsigned_allowed(self, names: Iterable[str]) -> bool:
        if isinstance(self.allow_unsigned, bool):
            return self.allow_unsigned
        return matches_any(names, self.allow_unsigned)

    def keys_for(self, names: Iterable[str]) -> list[KeyRule]:
        names = list(names)
        return [k for k in self.keys if matches_any(names, k.models)]

    def identities_for(self, names: Iterable[str]) -> list[IdentityRule]:
        names = list(names)
        return [i for i in self.identities if matches_any(names, i.models)]


def load_policy(path: str | Path) -> TrustPolicy:
    """Read and check a trust policy; errors name the file and the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ManifestError(f"cannot read the trust policy: {e.strerror or e}", path=str(path),
                            hint="pass an existing file: --trust trust.toml") from None
    return parse_policy(text, path=path)


def parse_policy(text: str, *, path: Path) -> TrustPolicy:
    data = load_toml(text, path=path, what=" in trust policy", hint=_HINT)
    loc = TomlLocator(text)

    def fail(msg: str, key: tuple[str, ...] = (), index: int | None = None) -> ManifestError:
        line = _array_line(text, key[0], index, key[1] if len(key) > 1 else None) if index is not None \
            else (loc.line_of(key) if key else None)
        return ManifestError(msg, path=str(path), line=line, hint=_HINT)

    unknown = sorted(set(data) - {"allow_unsigned", "key", "identity"})
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} in the trust policy (known: allow_unsigned, key, identity)",
                   (unknown[0],))
    allow = data.get("allow_unsigned", False)
    if isinstance(allow, list) and all(isinstance(g, str) for g in allow):
        allow = tuple(allow)
    elif not isinstance(allow, bool):
        raise fail("allow_unsigned must be true, false or a list of model globs", ("allow_unsigned",))
    base = path.parent
    policy = TrustPolicy(path=path, allow_unsigned=allow)
    for i, table in enumerate(_tables(data, "key", fail)):
        fields = _fields(table, "key", i, {"name", "public_key", "models"}, {"public_key", "models"}, fail)
        key_path = base / str(fields["public_key"])
        if not key_path.is_file():
            raise fail(f"key[{i}]: public key file {key_path} does not exist", ("key", "public_key"), i)
        policy.keys.append(KeyRule(str(fields.get("name") or key_path.stem), key_path,
                                   _globs(fields["models"], "key", i, fail)))
    for i, table in enumerate(_tables(data, "identity", fail)):
        fields = _fields(table, "identity", i, {"name", "certificate_chain", "subject", "models"},
                         {"certificate_chain", "subject", "models"}, fail)
        chain = fields["certificate_chain"]
        chain = [chain] if isinstance(chain, str) else chain
        if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
            raise fail(f"identity[{i}].certificate_chain must be a list of PEM files",
                       ("identity", "certificate_chain"), i)
        paths = tuple(base / c for c in chain)
        for p in paths:
            if not p.is_file():
                raise fail(f"identity[{i}]: certificate file {p} does not exist", ("identity", "certificate_chain"), i)
        if not isinstance(fields["subject"], str) or not fields["subject"]:
            raise fail(f"identity[{i}].subject must be a non-empty string", ("identity", "subject"), i)
        policy.identities.append(IdentityRule(str(fields.get("name") or fields["subject"]), paths,
                                              fields["subject"],
                                              _globs(fields["models"], "identity", i, fail)))
    return policy


def _tables(data: dict[str, Any], name: str, fail) -> list[dict[str, Any]]:
    tables = data.get(name, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise fail(f"{name} must be an array of tables: [[{name}]]", (name,))
    return tables


def _fields(table: dict[str, Any], kind: str, i: int, known: set[str], required: set[str], fail) -> dict[str, Any]:
    extra = sorted(set(table) - known)
    if extra:
        raise fail(f"{kind}[{i}]: unknown key {extra[0]!r} (known: {', '.join(sorted(known))})", (kind, extra[0]),
                   i)
    missing = sorted(required - set(table))
    if missing:
        raise fail(f"{kind}[{i}]: missing {missing[0]!r}", (kind,), i)
    return table


def _globs(value: Any, kind: str, i: int, fail) -> tuple[str, ...]:
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not value or not all(isinstance(g, str) and g for g in value):
        raise fail(f"{kind}[{i}].models must be a non-empty list of model globs, e.g. [\"acme/*\"]",
                   (kind, "models"), i)
    return tuple(value)


def _array_line(text: str, table: str, index: int, key: str | None) -> int | None:
    """The line of ``key`` in the ``index``-th ``[[table]]`` (or of that table's header)."""
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, 1) if line.strip() == f"[[{table}]]"]
    if index >= len(headers):
        return None
    start = headers[index]
    end = next((n for n in range(start + 1, len(lines) + 1) if lines[n - 1].lstrip().startswith("[")),
               len(lines) + 1)
    for n in range(start + 1, end):
        if key and re.match(rf"\s*{re.escape(key)}\s*=", lines[n - 1]):
            return n
    return start
