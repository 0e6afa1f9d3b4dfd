"""A few string keys of a GGUF file's header (name, licence, architecture, chat template).

Sources sit below the runtimes, so they read what ``list --all`` and ``info`` show with this small
reader rather than the llama runtime's. Only string values are kept; arrays are skipped.
"""

from __future__ import annotations

import struct
from pathlib import Path

WANTED = ("general.name", "general.license", "general.architecture", "tokenizer.chat_template")
_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
_READ = 32 << 20  # the header (vocabulary included) of a 262k-token model fits in well under this


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self, keep: bool = True) -> str | None:
        n = self.take("<Q")
        start, self.pos = self.pos, self.pos + n
        if self.pos > len(self.data):
            raise struct.error("truncated")
        return self.data[start:self.pos].decode("utf-8", "replace") if keep else None

    def skip(self, kind: int) -> None:
        if kind == _STRING:
            self.string(keep=False)
        elif kind == _ARRAY:
            inner, count = self.take("<I"), self.take("<Q")
            if inner in _SCALAR:
                self.pos += _SCALAR[inner] * count
            else:
                for _ in range(count):
                    self.skip(inner)
        elif kind in _SCALAR:
            self.pos += _SCALAR[kind]
        else:
            raise struct.error(f"unknown GGUF value type {kind}")


def read_strings(path: str | Path, wanted: tuple[str, ...] = WANTED) -> dict[str, str] | None:
    """``{key: value}`` of the ``wanted`` string keys; None when the file is not a readable GGUF."""
    try:
        with open(path, "rb") as f:
            data = f.read(_READ)
    except OSError:
        return None
    if data[:4] != b"GGUF":
        return None
    r = _Reader(data)
    out: dict[str, str] = {}
    try:
        r.pos = 4
        version = r.take("<I")
        if version < 2:
            return None
        r.take("<Q")  # tensors
        for _ in range(r.take("<Q")):
            key = r.string() or ""
            kind = r.take("<I")
            if kind == _STRING and key in wanted:
                out[key] = r.string() or ""
            else:
                r.skip(kind)
            if len(out) == len(wanted):
                break
    except struct.error:
        pass  # a header beyond what was read: keep what was found
    return out
