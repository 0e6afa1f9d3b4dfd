"""A small GGUF header reader: metadata, tensor table, expected file size, memory estimate.

llama.cpp may crash or misbehave on a damaged file, so we check a GGUF ourselves before handing it
over: the magic, the version, and that the file is at least as long as its tensor table says.
The metadata also gives what the memory estimate needs (layers, heads, embedding width).
Only GGUF v2/v3 (64-bit counts) are read; v1 files are refused.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...errors import IntegrityError, RuntimeFailure

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# GGUF metadata value types -> struct format (scalars); 8 = string, 9 = array.
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9

# ggml tensor types -> (elements per block, bytes per block); from gguf-py's GGML_QUANT_SIZES.
_QK_K = 256
GGML_BLOCK = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 2 + 2 + _QK_K // 16 + _QK_K // 4), 11: (256, 2 + _QK_K // 4 + _QK_K // 8 + 12),
    12: (256, 2 + 2 + _QK_K // 2 + 12), 13: (256, 2 + 2 + _QK_K // 2 + _QK_K // 8 + 12),
    14: (256, 2 + _QK_K // 2 + _QK_K // 4 + _QK_K // 16), 15: (256, 4 + _QK_K + _QK_K // 8),
    16: (256, 2 + _QK_K // 4), 17: (256, 2 + _QK_K // 4 + _QK_K // 32), 18: (256, 2 + _QK_K // 4 + _QK_K // 8),
    19: (256, 2 + _QK_K // 8 + _QK_K // 16), 20: (32, 18),
    21: (256, 2 + _QK_K // 4 + _QK_K // 8 + _QK_K // 32 + 4), 22: (256, 2 + _QK_K // 4 + _QK_K // 16),
    23: (256, 2 + 2 + _QK_K // 2 + _QK_K // 64), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, _QK_K // 8 + _QK_K // 16 + _QK_K // 32), 30: (1, 2), 34: (256, 2 + 4 * 13), 35: (256, 2 + 64),
    39: (32, 17), 40: (64, 36), 41: (128, 18), 42: (64, 18),
}

# Arrays longer than this (token lists, merges, scores) are skipped, not kept in memory.
_KEEP_ARRAY_MAX = 1024


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    type: int
    offset: int  # relative to the start of the data section

    @property
    def nbytes(self) -> int | None:
        block = GGML_BLOCK.get(self.type)
        if block is None:
            return None
        n = 1
        for d in self.shape:
            n *= d
        return n // block[0] * block[1]


@dataclass
class GGUFInfo:
    """What the header says. ``metadata`` holds scalars, strings and short arrays."""

    path: Path
    version: int
    file_size: int
    metadata: dict[str, Any]
    tensors: list[TensorInfo] = field(default_factory=list)
    data_offset: int = 0
    array_lengths: dict[str, int] = field(default_factory=dict)  # every array, kept or skipped

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    def arch_value(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(f"{self.architecture}.{key}", default)

    @property
    def expected_size(self) -> int:
        """The smallest file size that holds every tensor the header lists."""
        end = self.data_offset
        for t in self.tensors:
            n = t.nbytes
            if n is not None:
                end = max(end, self.data_offset + t.offset + n)
        return end

    @property
    def chat_template(self) -> str | None:
        tpl = self.metadata.get("tokenizer.chat_template")
        return tpl if isinstance(tpl, str) and tpl.strip() else None

    @property
    def context_length(self) -> int | None:
        v = self.arch_value("context_length")
        return int(v) if v else None

    @property
    def n_vocab(self) -> int:
        return self.array_lengths.get("tokenizer.ggml.tokens", 0)

    def kv_cache_bytes(self, n_ctx: int, *, bytes_per_value: int = 2) -> int:
        """K and V for every layer at ``n_ctx`` positions (f16 by default, llama.cpp's default)."""
        n_layer = int(self.arch_value("block_count", 0) or 0)
        n_embd = int(self.arch_value("embedding_length", 0) or 0)
        n_head = _as_max(self.arch_value("attention.head_count", 0))
        n_head_kv = _as_max(self.arch_value("attention.head_count_kv", n_head)) or n_head
        head_dim = n_embd // n_head if n_head else 0
        k_dim = int(self.arch_value("attention.key_length", head_dim) or head_dim)
        v_dim = int(self.arch_value("attention.value_length", head_dim) or head_dim)
        return n_layer * n_ctx * n_head_kv * (k_dim + v_dim) * bytes_per_value

    def estimate_memory(self, n_ctx: int, *, n_batch: int = 512) -> int:
        """Bytes to load and run: weights + KV cache + logits and compute buffers (a rough bound)."""
        logits = self.n_vocab * 4 * 2  # the output row(s) llama.cpp keeps, plus our copy
        compute = max(64 << 20, n_batch * (int(self.arch_value("embedding_length", 0) or 0)) * 4 * 16)
        return self.file_size + self.kv_cache_bytes(n_ctx) + logits + compute


def _as_max(v: Any) -> int:
    if isinstance(v, (list, tuple)):
        return max((int(x) for x in v), default=0)
    return int(v or 0)


class _Reader:
    def __init__(self, buf: mmap.mmap, size: int, path: Path) -> None:
        self.buf, self.size, self.pos, self.path = buf, size, 0, path

    def _need(self, n: int) -> None:
        if self.pos + n > self.size:
            raise _Truncated()

    def unpack(self, fmt: str) -> Any:
        n = struct.calcsize(fmt)
        self._need(n)
        (v,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return v

    def string(self) -> str:
        n = self.unpack("<Q")
        self._need(n)
        s = bytes(self.buf[self.pos:self.pos + n]).decode("utf-8", errors="replace")
        self.pos += n
        return s

    def skip_string(self) -> None:
        n = self.unpack("<Q")
        self._need(n)
        self.pos += n

    def value(self, vtype: int, keep: bool = True) -> Any:
        if vtype in _SCALAR:
            return self.unpack(_SCALAR[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.unpack("<I")
            count = self.unpack("<Q")
            if item_type in _SCALAR and not keep:
                n = struct.calcsize(_SCALAR[item_type]) * count
                self._need(n)
                self.pos += n
                return count
            if item_type == _STRING and not keep:
                for _ in range(count):
                    self.skip_string()
                return count
            return [self.value(item_type) for _ in range(count)]
        raise ValueError(f"unknown GGUF value type {vtype}")


class _Truncated(Exception):
    pass


def read_gguf(path: str | Path) -> GGUFInfo:
    """Parse a GGUF header; raises :class:`IntegrityError` for a file that is not a whole GGUF."""
    p = Path(path)
    st = p.stat()
    return _read_cached(str(p.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _read_cached(path: str, size: int, mtime_ns: int) -> GGUFInfo:
    p = Path(path)
    if size < 24:
        raise _bad(p, f"the file is {size} bytes long: too short to be a GGUF model")
    with open(p, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        if buf[:4] != MAGIC:
            raise _bad(p, f"not a GGUF file (magic {bytes(buf[:4])!r}, expected b'GGUF')")
        r = _Reader(buf, size, p)
        r.pos = 4
        try:
            version = r.unpack("<I")
            if version not in (2, 3):
                raise _bad(p, f"unsupported GGUF version {version} (2 and 3 are supported)")
            n_tensors = r.unpack("<Q")
            n_kv = r.unpack("<Q")
            if n_tensors > 1 << 24 or n_kv > 1 << 24:
                raise _bad(p, "the GGUF header is corrupt (absurd tensor or key count)")
            metadata: dict[str, Any] = {}
            lengths: dict[str, int] = {}
            for _ in range(n_kv):
                key = r.string()
                vtype = r.unpack("<I")
                if vtype == _ARRAY:
                    count = struct.unpack_from("<Q", buf, r.pos + 4)[0] if r.pos + 12 <= size else 0
                    lengths[key] = count
                    value = r.value(vtype, keep=count <= _KEEP_ARRAY_MAX)
                    if count <= _KEEP_ARRAY_MAX:
                        metadata[key] = value
                else:
                    metadata[key] = r.value(vtype)
            tensors = []
            for _ in range(n_tensors):
                name = r.string()
                n_dims = r.unpack("<I")
                if n_dims > 8:
                    raise _bad(p, f"the GGUF tensor table is corrupt ({name!r} has {n_dims} dimensions)")
                shape = tuple(r.unpack("<Q") for _ in range(n_dims))
                ttype = r.unpack("<I")
                offset = r.unpack("<Q")
                tensors.append(TensorInfo(name, shape, ttype, offset))
        except _Truncated:
            raise _bad(p, f"the file ends inside its GGUF header ({size} bytes): truncated download?") from None
        except (ValueError, UnicodeDecodeError, struct.error) as e:
            raise _bad(p, f"the GGUF header is corrupt: {e}") from None
        align = int(metadata.get("general.alignment", DEFAULT_ALIGNMENT) or DEFAULT_ALIGNMENT)
        data_offset = (r.pos + align - 1) // align * align
    return GGUFInfo(p, version, size, metadata, tensors, data_offset, lengths)


def check_gguf(path: str | Path) -> GGUFInfo:
    """Read the header and check that the file holds all the tensor data it announces."""
    p = Path(path)
    if not p.is_file():
        raise RuntimeFailure(f"GGUF file not found: {p}", hint="run: localmodels pull <model> (or check the path)")
    info = read_gguf(p)
    expected = info.expected_size
    if info.file_size < expected:
        raise IntegrityError(
            f"GGUF file {p} is truncated: {info.file_size} bytes, its header needs at least {expected}",
            path=str(p), expected=str(expected), actual=str(info.file_size),
            hint="delete it and pull the model again (localmodels verify --repair)",
        )
    return info


def _bad(p: Path, reason: str) -> IntegrityError:
    return IntegrityError(f"{p}: {reason}", path=str(p), hint="delete the file and pull the model again")
