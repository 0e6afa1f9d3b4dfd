"""Sentence-transformers pooling (``modules.json`` + ``1_Pooling/config.json``) on numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import UsageError
from .tokenizer import read_json

MODES = ("cls", "mean", "max", "mean_sqrt_len", "lasttoken")


@dataclass(frozen=True)
class PoolingConfig:
    modes: tuple[str, ...] = ("mean",)
    normalize: bool = False  # the model's own Normalize module
    include_prompt: bool = True

    @classmethod
    def read(cls, folder: Path) -> PoolingConfig:
        """The model's pooling; mean pooling without normalisation when it has no ST config."""
        modules = read_json(folder / "modules.json") if (folder / "modules.json").is_file() else []
        if not isinstance(modules, list):
            modules = []
        normalize = any(str(m.get("type", "")).endswith(".Normalize") for m in modules)
        pool_dir = next((m.get("path", "") for m in modules if str(m.get("type", "")).endswith(".Pooling")), None)
        cfg_path = folder / (pool_dir or "1_Pooling") / "config.json"
        cfg = read_json(cfg_path) if cfg_path.is_file() else {}
        flags = {
            "cls": cfg.get("pooling_mode_cls_token"),
            "mean": cfg.get("pooling_mode_mean_tokens"),
            "max": cfg.get("pooling_mode_max_tokens"),
            "mean_sqrt_len": cfg.get("pooling_mode_mean_sqrt_len_tokens"),
            "lasttoken": cfg.get("pooling_mode_lasttoken"),
        }
        modes = tuple(m for m in MODES if flags[m])
        return cls(modes or ("mean",), normalize, bool(cfg.get("include_prompt", True)))

    def with_mode(self, mode: str | None) -> PoolingConfig:
        if mode is None:
            return self
        if mode not in MODES:
            raise UsageError(f"unknown pooling {mode!r}", hint=f"use one of: {', '.join(MODES)}")
        return PoolingConfig((mode,), self.normalize, self.include_prompt)


def pool(hidden: np.ndarray, mask: np.ndarray, modes: tuple[str, ...]) -> np.ndarray:
    """(batch, seq, dim) hidden states + (batch, seq) mask -> (batch, dim * len(modes)) float32."""
    m = mask.astype(hidden.dtype)[:, :, None]
    parts = []
    for mode in modes:
        if mode == "cls":
            parts.append(hidden[:, 0])
        elif mode in ("mean", "mean_sqrt_len"):
            summed = (hidden * m).sum(axis=1)
            count = np.clip(m.sum(axis=1), 1e-9, None)
            parts.append(summed / (count if mode == "mean" else np.sqrt(count)))
        elif mode == "max":
            masked = np.where(m > 0, hidden, np.finfo(hidden.dtype).min)
            parts.append(masked.max(axis=1))
        elif mode == "lasttoken":
            last = np.clip(mask.sum(axis=1) - 1, 0, None)
            parts.append(hidden[np.arange(hidden.shape[0]), last])
    out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    return out.astype(np.float32, copy=False)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.clip(norms, 1e-12, None)
