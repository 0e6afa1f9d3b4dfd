"""Installed pip distributions that carry model files (``.gguf``, ``.onnx``, ``.safetensors`` in their
RECORD), for ``list --all`` and ``du --all``. They run as ``pypi:NAME`` (the pypi source).

Each RECORD line gives the file's sha256 (urlsafe base64), so a carrier's digests cost nothing;
what a RECORD lists is cached by the RECORD's size + mtime.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import sys
from pathlib import Path

from .. import config
from . import hashcache
from .discovery import MODEL_SUFFIXES, Discovery, Found, file_of, format_of


def site_dirs() -> list[Path]:
    named = config.settings().pip_paths
    raw = named.split(os.pathsep) if named else sys.path
    out: list[Path] = []
    for p in raw:
        path = Path(p or ".").expanduser()
        if path.is_dir() and path not in out:
            out.append(path)
    return out


def _hex(record_hash: str) -> str | None:
    algo, _, value = record_hash.partition("=")
    if algo != "sha256" or not value:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    except ValueError:
        return None


def _metadata(dist_info: Path) -> tuple[str, str | None]:
    """(name, licence) from METADATA's headers."""
    name, lic = dist_info.name.split("-", 1)[0], None
    try:
        with open(dist_info / "METADATA", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                if key == "Name":
                    name = value.strip()
                elif key in ("License-Expression", "License") and not lic and value.strip():
                    lic = value.strip().splitlines()[0][:60]
    except OSError:
        pass
    return name, lic


def carried(dist_info: Path) -> tuple[str, str | None, list[tuple[str, int, str | None]]]:
    """(name, licence, [(path relative to the site folder, size, sha256)]) of one distribution."""
    record = dist_info / "RECORD"
    st = record.stat()
    cache = hashcache.extra("pip")
    stamp = [st.st_size, st.st_mtime_ns]
    hit = cache.get(str(record))
    if hit and hit[0] == stamp:
        return hit[1], hit[2], [tuple(x) for x in hit[3]]  # type: ignore[misc]
    files: list[tuple[str, int, str | None]] = []
    text = record.read_text(encoding="utf-8", errors="replace")
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 3 and row[0].lower().endswith(MODEL_SUFFIXES):
            files.append((row[0], int(row[2]) if row[2].isdigit() else -1, _hex(row[1])))
    name, lic = _metadata(dist_info) if files else (dist_info.name.split("-", 1)[0], None)
    cache[str(record)] = [stamp, name, lic, files]
    hashcache.mark_dirty()
    return name, lic, files


def discover() -> Discovery:
    out = Discovery()
    seen: set[str] = set()
    for site in site_dirs():
        for dist_info in sorted(site.glob("*.dist-info")):
            if not (dist_info / "RECORD").is_file():
                continue
            name, lic, files = carried(dist_info)
            key = name.lower().replace("_", "-")
            if not files or key in seen:
                continue
            seen.add(key)
            found = Found(store="pypi", ref=f"pypi:{key}", name=key, license=lic)
            for rel, _size, digest in files:
                f = file_of(site / rel, rel, digest)
                if f is not None:
                    found.files.append(f)
            if not found.files:
                continue
            found.files.sort(key=lambda f: -f.size)
            found.format = format_of(found.files[0].name)
            found.modified = max(f.st.st_mtime for f in found.files)
            out.found.append(found)
    return out
