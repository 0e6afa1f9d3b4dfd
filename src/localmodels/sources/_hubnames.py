"""Hub names and file filters: repo ids, revisions, safe file names, the pickle policy, patterns."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidReferenceError, UnsafeFileError
from ._files import is_safe_relpath
from ._hflayout import escape_pattern, norm_patterns, select_files, valid_repo_id, valid_revision

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
SAFE_WEIGHT_SUFFIXES = (".safetensors", ".onnx", ".gguf", ".h5", ".msgpack", ".tflite", ".ot", ".mlmodel", ".npz")


def expected_digest(entry: dict) -> str:
    """The blob name ``huggingface_hub`` stores a file under: LFS sha256, else the git blob sha1."""
    return entry.get("lfs_sha256") or entry["blob_id"]


def entry_size(entry: dict) -> int:
    return int(entry.get("lfs_size") or entry.get("size") or 0)


def check_repo_id(repo_id: str) -> None:
    if not valid_repo_id(repo_id):
        raise InvalidReferenceError(str(repo_id), "not a Hub repo id (expected org/name)")


def check_revision(revision: str) -> None:
    """A branch, tag or commit: no path tricks (it names a ref file in the cache)."""
    if not valid_revision(revision):
        raise InvalidReferenceError(str(revision), "not a valid revision (a branch, tag or commit sha)")


def check_safe_name(name: str) -> None:
    """Refuse a repo file name that could escape the snapshot folder (absolute, ``..``, backslash...)."""
    if not is_safe_relpath(name):
        raise UnsafeFileError(
            f"refusing repo file name {name!r}: it would escape the model folder",
            hint="this repo is malformed or malicious; report it, or pick the files you need with allow patterns",
        )


def is_pickle(name: str) -> bool:
    return name.lower().endswith(PICKLE_SUFFIXES)


def apply_pickle_policy(repo_id: str, selected: list[str], allow_pickle: bool) -> tuple[list[str], list[str]]:
    """(files to fetch, pickle files skipped); UnsafeFileError when pickle weights are all there is."""
    if allow_pickle:
        return selected, []
    skipped = [p for p in selected if is_pickle(p)]
    keep = [p for p in selected if not is_pickle(p)]
    if skipped and not any(p.lower().endswith(SAFE_WEIGHT_SUFFIXES) for p in keep):
        raise UnsafeFileError(
            f"{repo_id} only has pickle weights ({', '.join(skipped[:3])}{', ...' if len(skipped) > 3 else ''}); "
            "loading a pickle file can run arbitrary code",
            hint=f"if you trust this repo, run: localmodels pull {repo_id} --allow-pickle",
        )
    return keep, skipped


def _pickle_ignores() -> list[str]:
    """fnmatch patterns (case-insensitive by character classes) for the pickle suffixes."""
    return ["*" + "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in suffix)
            for suffix in PICKLE_SUFFIXES]


def download_patterns(tree: dict[str, dict], names: Sequence[str], allow_patterns, ignore_patterns,
                       allow_pickle: bool) -> tuple[list[str] | None, list[str] | None]:
    """Patterns that make ``snapshot_download`` fetch exactly ``names``.

    Exact (escaped) names for a few files; for many, the user's patterns plus the pickle ignores
    (``huggingface_hub`` matches every file against every pattern, so thousands of names are slow).
    """
    if len(names) > 256:
        allow = norm_patterns(allow_patterns)
        ignore = (norm_patterns(ignore_patterns) or []) + ([] if allow_pickle else _pickle_ignores())
        if select_files(tree, allow, ignore or None) == sorted(names):
            return allow, ignore or None
    return [escape_pattern(n) for n in names], None

