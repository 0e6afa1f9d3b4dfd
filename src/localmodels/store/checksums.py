"""``SHA256SUMS`` files in the format ``sha256sum -c`` reads, written from recorded digests.

The digests come from the store's record (checked when the files were fetched) or the lock file,
never from hashing the files again: a checksum made after the fact proves nothing. A machine
without localmodels checks a folder with ``cd models/NAME && sha256sum -c SHA256SUMS``.

GNU format: ``<64 hex>  <path>`` per line (two spaces: text mode, the same bytes on POSIX). A path
holding a backslash or a newline is escaped and its line starts with ``\\``, as coreutils does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import IntegrityError
from ..sources._files import write_atomic

SUMS_NAME = "SHA256SUMS"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_LINE = re.compile(r"^(\\?)([0-9a-fA-F]{64}) [ *](.+)$")


def line(path: str, sha256: str) -> str:
    """One line (without the newline) for ``path`` with digest ``sha256``."""
    if not _HEX64.match(sha256 or ""):
        raise IntegrityError(f"{path}: no recorded sha256 to write to {SUMS_NAME}", path=path,
                             hint="run: localmodels verify MODEL (it records every file's digest)")
    if "\\" in path or "\n" in path or "\r" in path:
        escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{sha256}  {escaped}"
    return f"{sha256}  {path}"


def render(entries: Iterable[tuple[str, str]]) -> str:
    """The file's text for ``(path, sha256)`` pairs, sorted by path."""
    return "".join(line(p, d) + "\n" for p, d in sorted(entries))


def write(folder: str | Path, entries: Iterable[tuple[str, str]], *, mode: int | None = None) -> Path:
    """Write ``folder/SHA256SUMS`` atomically (leaving it untouched when the text is the same)."""
    import os

    target = Path(folder) / SUMS_NAME
    text = render(entries)
    try:
        same = target.read_text(encoding="utf-8") == text and not target.is_symlink()
    except (OSError, UnicodeDecodeError):
        same = False
    if not same:
        write_atomic(target, text.encode("utf-8"))
    if mode is not None:
        os.chmod(target, mode)
    return target


def parse(text: str) -> dict[str, str]:
    """``{path: sha256}`` from a ``SHA256SUMS`` text; malformed lines raise IntegrityError."""
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        m = _LINE.match(raw)
        if not m:
            raise IntegrityError(f"{SUMS_NAME}:{number}: not a sha256sum line", hint="write it again: "
                                 "localmodels verify --dir FOLDER --repair")
        path = m.group(3)
        if m.group(1):
            path = re.sub(r"\\(.)", lambda x: {"n": "\n", "r": "\r", "\\": "\\"}.get(x.group(1), x.group(1)), path)
        out[path] = m.group(2).lower()
    return out


def read(folder: str | Path) -> dict[str, str] | None:
    """The digests of ``folder/SHA256SUMS``, or None when there is no such file."""
    try:
        return parse((Path(folder) / SUMS_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
