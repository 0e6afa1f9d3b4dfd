"""Export a safetensors encoder to ONNX with torch (the ``torch`` extra), once.

The Hugging Face model is wrapped in a small ``nn.Module`` whose ``forward`` takes the inputs
positionally and calls the model with keywords (transformers 5 models reject positional
``token_type_ids``), and returns one tensor: ``last_hidden_state`` for a bare encoder, ``logits``
for a classification head. The legacy TorchScript exporter (``dynamo=False``, opset 17) with dynamic
batch and sequence axes is used: it is fast and writes one self-contained file.
"""

from __future__ import annotations

import inspect
import os
import warnings
from pathlib import Path
from typing import Any, Literal

from ...errors import MissingDependencyError, RuntimeFailure, UnsafeFileError, UsageError

Head = Literal["base", "token-classification", "sequence-classification"]

OPSET = 17
RECIPE = f"torch-onnx-legacy-opset{OPSET}-v1"
OUTPUT_NAME = {"base": "last_hidden_state", "token-classification": "logits", "sequence-classification": "logits"}


def torch_available() -> bool:
    """True when torch and transformers are installed (checked without importing them)."""
    import importlib.util
    import sys

    for name in ("torch", "transformers"):
        if name in sys.modules:
            if sys.modules[name] is None:  # blocked on purpose (tests simulate a torch-free install)
                return False
            continue
        if importlib.util.find_spec(name) is None:
            return False
    return True


def input_names_for(config: dict[str, Any], model: Any) -> list[str]:
    params = inspect.signature(model.forward).parameters
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in params and int(config.get("type_vocab_size", 2) or 0) > 1:
        names.append("token_type_ids")
    return names


def _weights_do_not_fit(folder: Path, what: str) -> UsageError:
    return UsageError(
        f"the weights of {folder.name} do not fit its config.json ({what}): a layer has another shape "
        "than the config says (e.g. id2label names another number of classes than the head outputs)",
        hint="fix config.json (id2label / label2id) to match the checkpoint",
    )


def check_loading_info(folder: Path, head: Head, info: dict[str, Any]) -> None:
    """Refuse to export weights that transformers re-initialised at random instead of loading.

    transformers only logs a size mismatch (a config whose ``id2label`` does not fit the head) or a
    head missing from the checkpoint, then fills it with random numbers: exported, that would be a
    model answering nonsense. Only a missing *head* is refused: a checkpoint may lack other weights
    that transformers fills on purpose (a pooler we never use, tied embeddings).
    """
    mismatched = [str(k[0] if isinstance(k, (tuple, list)) else k) for k in info.get("mismatched_keys") or []]
    if mismatched:
        raise _weights_do_not_fit(folder, ", ".join(sorted(mismatched)[:4]))
    head_keys = ("classifier", "pre_classifier", "score.", "head.")  # weights of the AutoModelFor* heads
    missing = [str(k) for k in info.get("missing_keys") or []
               if str(k).startswith(head_keys) or ".classifier" in str(k)]
    if missing and head != "base":
        raise UsageError(
            f"{folder.name} has no trained {head} head: {', '.join(sorted(missing)[:4])} are missing",
            hint=f"use a model fine-tuned for {head.replace('-', ' ')}",
        )


def export_onnx(folder: Path, out: Path, *, head: Head, config: dict[str, Any]) -> Path:
    """Export the model in ``folder`` to ``out`` (one .onnx file); returns ``out``."""
    try:
        import torch
        import transformers
    except ImportError as e:
        raise MissingDependencyError(
            "torch", "torch", purpose="to export this safetensors model to ONNX once"
        ) from e
    try:
        import onnx  # noqa: F401  (torch.onnx.export needs it)
    except ImportError as e:
        raise MissingDependencyError("onnx", "torch", purpose="to export this model to ONNX") from e

    if not list(folder.glob("*.safetensors")):
        if list(folder.glob("*.bin")):
            raise UnsafeFileError(
                f"{folder} has only pickle weights (*.bin); localmodels exports only safetensors",
                hint="use a revision with model.safetensors, or convert the weights to safetensors yourself",
            )
        raise RuntimeFailure(f"no weights to export in {folder} (no *.safetensors, no model.onnx)")

    auto = {
        "base": transformers.AutoModel,
        "token-classification": transformers.AutoModelForTokenClassification,
        "sequence-classification": transformers.AutoModelForSequenceClassification,
    }[head]
    transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar on the user's stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = {"local_files_only": True, "output_loading_info": True}
        try:
            try:
                model, info = auto.from_pretrained(str(folder), attn_implementation="eager", **kwargs)
            except (ValueError, TypeError):
                model, info = auto.from_pretrained(str(folder), **kwargs)
        except RuntimeError as e:  # transformers 5 raises on a size mismatch when asked for loading info
            if "mismatched" not in str(e):
                raise
            raise _weights_do_not_fit(folder, "size mismatch reported by transformers") from None
    check_loading_info(folder, head, info)
    model.eval()
    names = input_names_for(config, model)
    output = OUTPUT_NAME[head]

    class Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            result = self.inner(**dict(zip(names, args)), return_dict=True)
            return result[output]

    seq = 8
    dummy = tuple(
        torch.ones((2, seq), dtype=torch.long) if n != "token_type_ids" else torch.zeros((2, seq), dtype=torch.long)
        for n in names
    )
    dynamic = {n: {0: "batch", 1: "sequence"} for n in names}
    per_token = output == "last_hidden_state" or head == "token-classification"
    dynamic[output] = {0: "batch", 1: "sequence"} if per_token else {0: "batch"}
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Wrapper(model), dummy, str(tmp), input_names=names, output_names=[output],
                dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True, dynamo=False,
            )
    except Exception as e:  # noqa: BLE001 - exporter failures are many and untyped
        tmp.unlink(missing_ok=True)
        arch = config.get("model_type", "?")
        raise RuntimeFailure(
            f"ONNX export of {folder.name} ({arch}, {head}) failed: {type(e).__name__}: {str(e)[:300]}",
            hint="use a repo that ships model.onnx (or onnx/model.onnx)",
        ) from e
    os.replace(tmp, out)
    return out
