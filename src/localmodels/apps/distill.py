"""``localmodels distill MODEL``: a static twin of a sentence transformer, kept as a derived model.

    lm = distill("minilm")                  # -> derived:minilm-static (model2vec format)
    embed(["text"], model="derived:minilm-static")

model2vec's ``distill_from_model`` runs the teacher once over each token of its vocabulary and keeps
the (PCA-reduced, SIF-weighted) token vectors: no training data, a few minutes on a CPU. It needs
the torch extra (torch + transformers) and model2vec's distill dependency (skeletoken). The result
lives under ``LOCALMODELS_HOME/derived/models/NAME`` with a ``derived.json`` naming the teacher's
reference and digest and the recipe, and is recorded in the store like a local folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError, UsageError
from ..sources.derived import MANIFEST, PREFIX, derived_folder

RECIPE_VERSION = 1


def model_digest(model: Any) -> str:
    """One sha256 over a model's recorded files (path and sha256 of each, sorted)."""
    lines = sorted(f"{f.path}\t{f.sha256}" for f in model.files if f.sha256)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def default_name(ref: str) -> str:
    base = ref.removeprefix(PREFIX).rstrip("/").rsplit("/", 1)[-1].split("@", 1)[0]
    return f"{base}-static"


def _imports() -> tuple[Any, Any, Any]:
    try:
        import torch  # noqa: F401
        from transformers import AutoModel, AutoTokenizer
    except ImportError as e:
        raise MissingDependencyError("torch/transformers", "torch", purpose="to distill a static model") from e
    try:
        from model2vec.distill import distill_from_model
    except ImportError as e:
        raise MissingDependencyError("model2vec[distill] (skeletoken)", "static",
                                     purpose="to distill a static model") from e
    return AutoModel, AutoTokenizer, distill_from_model


def install_folder(tmp: Path, name: str, manifest: dict[str, Any]) -> Path:
    """Write ``derived.json`` into ``tmp`` and move it to the derived model's folder (replacing it)."""
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    dest = derived_folder(name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    old = dest.with_name(f".{name}.old-{os.getpid()}")
    if dest.exists():
        dest.rename(old)
    tmp.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest


def distill(model: str = "minilm", *, name: str | None = None, pca_dims: int | None = 256,
            threads: int | None = None) -> Any:
    """Distill ``model`` (a sentence-transformer in the store) into ``derived:NAME``; returns its LocalModel."""
    from ..store import resolve

    teacher = resolve(model)
    if not any(f.path.endswith(".safetensors") for f in teacher.files):
        raise UsageError(f"{model}: distilling needs the teacher's safetensors weights (none in {teacher.path})",
                         hint="pick a sentence-transformer with model.safetensors, e.g. minilm")
    if pca_dims is not None and pca_dims < 2:
        raise UsageError("--dims must be at least 2 (or leave it out)")
    AutoModel, AutoTokenizer, distill_from_model = _imports()
    name = name or default_name(model)
    derived_folder(name)  # a bad name fails before the work
    import torch

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    hf_model = AutoModel.from_pretrained(str(teacher.path))
    tokenizer = AutoTokenizer.from_pretrained(str(teacher.path))
    hidden = int(getattr(hf_model.config, "hidden_size", 0) or 0)
    dims = pca_dims if pca_dims is None or not hidden else min(pca_dims, hidden)
    static = distill_from_model(hf_model, tokenizer, device="cpu", pca_dims=dims)
    import model2vec

    manifest = {
        "kind": "static", "recipe_version": RECIPE_VERSION, "made_by": "localmodels distill",
        "license": teacher.license,  # a distilled model carries its teacher's licence
        "teacher": {"ref": model, "name": teacher.name, "source": teacher.source, "digest": model_digest(teacher)},
        "recipe": {"library": "model2vec", "version": model2vec.__version__, "pca_dims": dims, "pooling": "mean",
                   "sif_coefficient": 1e-4},
    }
    root = derived_folder(name).parent
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=root))
    try:
        static.save_pretrained(str(tmp))
        install_folder(tmp, name, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return resolve(PREFIX + name)
