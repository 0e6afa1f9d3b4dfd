"""Who may read what: bearer tokens from a file, and which repos are gated.

The token file holds one token per line, optionally followed by the gated repos it may read
(fnmatch patterns; ``*`` for all)::

    # token                   gated repos it may read
    team-7f3a9c2e
    ml-admins-91b2d4          *
    vision-5c1e               acme/* meta-llama/Llama-3.2-*

With a token file every request needs ``Authorization: Bearer <token>`` (clients send ``HF_TOKEN``).
A repo is gated when the catalog says so, when it matches a ``--gated`` pattern, or when the
upstream said so when the mirror pulled it through; a gated repo's files go only to a token allowed
for it (its metadata stays readable, as on the Hub). Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from ...errors import UsageError
from ...sources._files import write_atomic


@dataclass(frozen=True)
class Token:
    secret: bytes
    gated: tuple[str, ...] = ()  # fnmatch patterns of the gated repos it may read

    def may_read(self, repo_id: str) -> bool:
        rid = repo_id.lower()
        return any(fnmatchcase(rid, p.lower()) for p in self.gated)


def read_token_file(path: str | Path) -> list[Token]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read the token file {p}: {e.strerror}",
                         hint="give a file with one token per line (--token-file)") from None
    tokens = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        if len(parts[0]) < 8:
            raise UsageError(f"{p}:{number}: a token must be at least 8 characters",
                             hint="generate one: python -c 'import secrets; print(secrets.token_urlsafe(24))'")
        tokens.append(Token(parts[0].encode("utf-8"), tuple(parts[1:])))
    if not tokens:
        raise UsageError(f"the token file {p} holds no token", hint="one token per line; '#' starts a comment")
    return tokens


def bearer(header: str | None) -> bytes | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip().encode("utf-8", "surrogateescape")


class Access:
    """The token check and the gate list."""

    def __init__(self, tokens: list[Token] | None, gated_patterns: Iterable[str] = (),
                 state_file: Path | None = None) -> None:
        self.tokens = tokens
        self.gated_patterns = tuple(p.lower() for p in gated_patterns)
        self.state_file = state_file
        self._upstream_gated: set[str] = set()
        self._guard = threading.Lock()
        if state_file is not None:
            try:
                self._upstream_gated = {str(r).lower() for r in json.loads(state_file.read_text())["gated"]}
            except (OSError, ValueError, KeyError, TypeError):
                pass

    @property
    def required(self) -> bool:
        return self.tokens is not None

    def identify(self, header: str | None) -> Token | None:
        """The token the request carries, compared with every known token in constant time."""
        given = bearer(header)
        if given is None or not self.tokens:
            return None
        found = None
        for t in self.tokens:  # no early exit: the time does not depend on which token matched
            if hmac.compare_digest(given, t.secret):
                found = t
        return found

    def is_gated(self, repo_id: str) -> bool:
        rid = repo_id.lower()
        if rid in self._upstream_gated or any(fnmatchcase(rid, p) for p in self.gated_patterns):
            return True
        from ...registry import find_entry

        entry = find_entry(repo_id)
        return bool(entry is not None and entry.gated and entry.id.lower() == rid)

    def remember_gated(self, repo_id: str) -> None:
        with self._guard:
            if repo_id.lower() in self._upstream_gated:
                return
            self._upstream_gated.add(repo_id.lower())
            data = json.dumps({"gated": sorted(self._upstream_gated)}).encode()
        if self.state_file is not None:
            write_atomic(self.state_file, data)
