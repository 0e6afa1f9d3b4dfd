"""Find the files to classify and read them safely.

- Directories are walked with ``os.scandir``; ``.gitignore`` files (in the walked folders and in
  their parents up to the repository root) are honoured with ``pathspec``; ``--include`` /
  ``--exclude`` are gitignore-style globs on the path relative to the folder given.
- Directory symlinks are followed once: a link back into a folder already being walked is a
  *symlink loop*, reported and not entered. Links that point nowhere or to themselves are skipped.
- Never opened: FIFOs, sockets, devices (``open`` on a FIFO would block).
- Skipped with a reason: binary files (a NUL byte or mostly control bytes in the first 8 KB, read
  before anything else), files over the size limit, unreadable files, and what ``.gitignore``
  leaves out (a folder counts once, with a trailing ``/``).
- Read in bounded memory: the rest of a file is streamed through sha256; a file over
  ``KEEP_BYTES`` keeps evenly spaced pieces of its text (:func:`read_text`).
- Text is decoded safely: a BOM decides (UTF-8/16/32); else strict UTF-8; else UTF-8 with
  replacement characters when they are rare, else cp1252 (latin-1 as the last resort), so reading
  never fails on an encoding.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BYTES = 1_000_000
SNIFF_BYTES = 8192
KEEP_BYTES = 1 << 20  # text kept per file; a longer file keeps evenly spaced pieces of it
_BLOCK = 1 << 20
ALWAYS_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_TEXT_CONTROL = {7, 8, 9, 10, 12, 13, 27}


@dataclass(frozen=True)
class Found:
    """A regular file to classify: ``path`` on disk, ``rel`` the name shown in results."""

    path: Path
    rel: str
    size: int
    name: str = ""  # what the model reads as the file's name: path inside the folder given, with its name


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class Text:
    text: str
    encoding: str
    sha256: str


class _Ignore:
    """gitignore rules of one folder (patterns relative to that folder)."""

    def __init__(self, base: Path, lines: Sequence[str]) -> None:
        from pathspec import GitIgnoreSpec

        self.base = base
        self.spec = GitIgnoreSpec.from_lines(lines)

    def ignores(self, path: Path, is_dir: bool) -> bool:
        try:
            rel = path.relative_to(self.base).as_posix()
        except ValueError:
            return False
        return self.spec.match_file(rel + "/" if is_dir else rel)


def _read_gitignore(folder: Path) -> _Ignore | None:
    f = folder / ".gitignore"
    try:
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _Ignore(folder, lines) if lines else None


def _parent_ignores(folder: Path) -> list[_Ignore]:
    """``.gitignore`` files above ``folder`` up to the repository root (the folder with ``.git``)."""
    chain: list[Path] = []
    cur = folder.parent
    while True:
        chain.append(cur)
        if (cur / ".git").exists() or cur.parent == cur:
            break
        cur = cur.parent
    if not (chain[-1] / ".git").exists():
        return []  # not inside a repository: parent folders' .gitignore files do not apply
    out = [ig for ig in (_read_gitignore(p) for p in reversed(chain)) if ig is not None]
    return out


def _globs(patterns: Iterable[str]):
    from pathspec import GitIgnoreSpec

    pats = [p for p in patterns if p]
    return GitIgnoreSpec.from_lines(pats) if pats else None


def walk(inputs: Sequence[str | Path], *, include: Sequence[str] = (), exclude: Sequence[str] = (),
         gitignore: bool = True, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Found], list[Skipped]]:
    """Expand files and folders into (files to classify, skipped files with the reason).

    A file named on the command line is always taken (no gitignore, no globs); files found in a
    folder pass the gitignore rules and the include/exclude globs. Paths in results are relative
    to the folder given (prefixed with that folder's name as typed), or as typed for files.
    """
    inc, exc = _globs(include), _globs(exclude)
    found: list[Found] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()

    def take(path: Path, rel: str, name: str) -> None:
        key = os.path.realpath(path)
        if key in seen:
            return
        seen.add(key)
        status = check_file(path, max_bytes)
        if isinstance(status, str):
            skipped.append(Skipped(rel, status))
        else:
            found.append(Found(path, rel, status, name))

    for given in inputs:
        p = Path(given)
        shown = str(given)
        try:
            st = p.stat()
        except OSError as e:
            skipped.append(Skipped(shown, _os_reason(p, e)))
            continue
        if stat.S_ISDIR(st.st_mode):
            ignores = _parent_ignores(p.resolve()) if gitignore else []
            for path, rel, problem in _walk_dir(p, shown, ignores, gitignore):
                if problem:
                    skipped.append(Skipped(rel, problem))
                    continue
                inner = rel[len(shown.rstrip("/")) + 1:] if rel.startswith(shown.rstrip("/") + "/") else rel
                if inc is not None and not inc.match_file(inner):
                    continue
                if exc is not None and exc.match_file(inner):
                    continue
                take(path, rel, f"{p.resolve().name or 'root'}/{inner}")
        else:
            take(p, shown, f"{p.resolve().parent.name}/{p.name}" if p.resolve().parent.name else p.name)
    return found, skipped


def _join(rel: str, name: str) -> str:
    return name if rel in ("", ".") else f"{rel.rstrip('/')}/{name}"


def _walk_dir(root: Path, shown: str, ignores: list[_Ignore], gitignore: bool
              ) -> Iterator[tuple[Path, str, str | None]]:
    """Yield (path, shown path, skip reason or None) for every non-directory entry under ``root``."""
    active = {os.path.realpath(root)}
    yield from _walk_inner(root, shown.rstrip("/") or shown, list(ignores), gitignore, active)


def _walk_inner(folder: Path, rel: str, ignores: list[_Ignore], gitignore: bool, active: set[str]
                ) -> Iterator[tuple[Path, str, str | None]]:
    if gitignore:
        own = _read_gitignore(folder)
        if own is not None:
            ignores = [*ignores, own]
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        yield folder, rel, _os_reason(folder, e)
        return
    for entry in entries:
        path = Path(entry.path)
        shown = _join(rel, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False
        if is_dir and entry.name in ALWAYS_SKIP_DIRS:
            continue
        if any(ig.ignores(path, is_dir) for ig in ignores):  # left out, and counted as skipped
            yield path, shown + "/" if is_dir else shown, "gitignored"
            continue
        if is_dir:
            real = os.path.realpath(path)
            if entry.is_symlink() and any(a == real or a.startswith(real + os.sep) for a in active):
                yield path, shown + "/", "symlink loop: links back to a folder being walked"
                continue
            active.add(real)
            try:
                yield from _walk_inner(path, shown, ignores, gitignore, active)
            finally:
                active.discard(real)
        else:
            yield path, shown, None


def _os_reason(path: Path, e: OSError) -> str:
    import errno

    if e.errno == errno.ELOOP:
        return "symlink loop"
    if e.errno == errno.ENOENT and path.is_symlink():
        return "broken symlink"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "unreadable: permission denied"
    return f"unreadable: {e.strerror or e}"


def check_file(path: Path, max_bytes: int) -> int | str:
    """The size of a regular file we can classify, or the reason to skip it (never opens a FIFO)."""
    try:
        st = path.stat()
    except OSError as e:
        return _os_reason(path, e)
    if not stat.S_ISREG(st.st_mode):
        kind = "fifo" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "device"
        return f"not a regular file ({kind})"
    if st.st_size > max_bytes:
        return f"too large: {st.st_size} bytes > limit {max_bytes}"
    return st.st_size


def looks_binary(head: bytes) -> bool:
    """NUL bytes (outside a UTF-16/32 BOM) or more than 30% control bytes in the first 8 KB."""
    if not head:
        return False
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROL)
    return control / len(head) > 0.30


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding used); never raises."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") <= max(2, len(text) // 100):
        return text, "utf-8 (with replacements)"
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def read_text(found: Found, max_bytes: int = DEFAULT_MAX_BYTES, *, keep_bytes: int = KEEP_BYTES) -> Text | str:
    """The decoded text of a file, or the reason it cannot be classified.

    The first 8 KB are sniffed before anything else is read (a binary file costs one small read);
    the rest is streamed through sha256 in 1 MiB blocks. A file over ``keep_bytes`` keeps only
    ``keep_bytes`` of text: evenly spaced pieces cut on line ends (the chunks the model reads are
    spread over the file anyway), so memory stays bounded whatever ``--max-size`` allows.
    """
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(found.path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
            if looks_binary(head):
                return "binary"
            digest.update(head)
            size = len(head)
            pieces = _Sampler(found.size, keep_bytes, head)
            while block := fh.read(_BLOCK):
                size += len(block)
                if size > max_bytes:
                    return f"too large: more than limit {max_bytes} bytes"
                digest.update(block)
                pieces.feed(block)
    except OSError as e:
        return _os_reason(found.path, e)
    text, encoding = decode(pieces.data())
    return Text(text, encoding, digest.hexdigest())


class _Sampler:
    """Keeps a whole file up to ``keep`` bytes, else ``keep`` bytes in evenly spaced pieces."""

    PIECES = 16

    def __init__(self, size: int, keep: int, head: bytes) -> None:
        # UTF-16/32 (a BOM) cannot be cut on b"\n": such a file keeps its head up to ``keep``.
        self.whole = size <= keep or any(head.startswith(bom) for bom, enc in _BOMS if enc != "utf-8-sig")
        self.keep = keep
        self.pos = 0
        self.buf = bytearray()
        width = keep // self.PIECES
        step = max(size - width, 0) / (self.PIECES - 1)  # the first piece is the head, the last the tail
        self.windows = [] if self.whole else [(int(i * step), int(i * step) + width) for i in range(self.PIECES)]
        self.pieces = [bytearray() for _ in self.windows]
        self.feed(head)

    def feed(self, block: bytes) -> None:
        start, self.pos = self.pos, self.pos + len(block)
        if self.whole:
            room = self.keep - len(self.buf)
            if room > 0:
                self.buf += block[:room]
            return
        for (a, b), piece in zip(self.windows, self.pieces):
            lo, hi = max(a, start), min(b, self.pos)
            if lo < hi:
                piece += block[lo - start:hi - start]

    def data(self) -> bytes:
        if self.whole:
            return bytes(self.buf)
        out = []
        for (_, end), piece in zip(self.windows, self.pieces):
            p = bytes(piece)
            if out and b"\n" in p:  # each later piece starts on a line of its own ...
                p = p[p.index(b"\n") + 1:]
            if end < self.pos and b"\n" in p:  # ... and ends at a line end (the file's end stays)
                p = p[:p.rindex(b"\n") + 1]
            out.append(p)
        return b"".join(out)
