"""Graph fusion and int8 dynamic quantization of ONNX files (derived artifacts, cached by the caller)."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...config import settings
from ...errors import MissingDependencyError, RuntimeFailure

QUANT_RECIPE = "ort-dynamic-qint8-per-channel-v1"
FUSE_RECIPE = "ort-transformers-optimizer-v1"

# ORT's transformer optimizer knows the attention patterns of these encoders (model_type "bert").
_FUSABLE = {"bert", "distilbert", "roberta", "xlm-roberta", "camembert", "electra", "mpnet"}


def _tmp(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.tmp")


class _DropOrtAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno <= logging.WARNING and "onnxruntime" in record.pathname)


@contextmanager
def _quiet_ort_advice() -> Iterator[None]:
    """ONNX Runtime's quantizer logs advice ("consider to run pre-processing") on the root logger,
    which would also install a stderr handler for good: both are kept off for the call."""
    root = logging.getLogger()
    null, drop = logging.NullHandler(), _DropOrtAdvice()
    bare = not root.handlers
    if bare:
        root.addHandler(null)  # so logging.warning() does not call basicConfig()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)
        if bare:
            root.removeHandler(null)


def quantize_int8(src: Path, out: Path) -> Path:
    """onnxruntime dynamic quantization: int8 weights for MatMul/Gemm, activations quantized at run time."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as e:  # onnxruntime.quantization imports onnx
        raise MissingDependencyError("onnx", "torch", purpose="to quantize a model to int8") from e
    tmp = _tmp(out)
    try:
        with warnings.catch_warnings(), _quiet_ort_advice():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                op_types_to_quantize=["MatMul", "Gemm", "Attention"],
                extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT: fused ops lack type info
            )
    except Exception as e:  # noqa: BLE001
        tmp.unlink(missing_ok=True)
        raise RuntimeFailure(f"int8 quantization of {src} failed: {e}") from e
    os.replace(tmp, out)
    return out


def can_fuse(config: dict[str, Any]) -> bool:
    if not settings().onnx_fuse:
        return False
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return config.get("model_type") in _FUSABLE


def fuse_transformer(src: Path, out: Path, config: dict[str, Any]) -> Path | None:
    """Fuse attention, GELU, LayerNorm and skip connections with ORT's transformer optimizer.

    Returns None (and the caller keeps the plain export) when the optimizer cannot handle the graph.
    """
    try:
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError:
        return None
    heads = int(config.get("num_attention_heads") or config.get("n_heads") or 0)
    hidden = int(config.get("hidden_size") or config.get("dim") or 0)
    tmp = _tmp(out)
    try:
        import logging

        logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = optimize_model(str(src), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1)
            opt.save_model_to_file(str(tmp))
    except Exception:  # noqa: BLE001 - fusion is an optimisation; the plain export still works
        tmp.unlink(missing_ok=True)
        return None
    os.replace(tmp, out)
    return out
