"""Load a model's tokenizer with ``tokenizers``: ``tokenizer.json``, or a WordPiece one built from ``vocab.txt``.

The tokenizer is returned with padding off and truncation at the model's maximum length; batching
pads per batch itself. :func:`max_length` reads the limit the way sentence-transformers does
(``sentence_bert_config.json`` first, then ``tokenizer_config.json``, capped by the position table).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import UsageError

_HUGE = 10**6  # tokenizer_config's "no limit" sentinel is 1e30


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise UsageError(f"{path} is not valid JSON: {e}", hint="re-pull the model: localmodels pull --force") from e


@dataclass
class TokenizerInfo:
    max_length: int
    pad_id: int
    lowercase: bool | None
    subword_prefix: str | None  # "##" for WordPiece; None for BPE / Unigram


def max_length(folder: Path, config: dict[str, Any]) -> int:
    st = read_json(folder / "sentence_bert_config.json").get("max_seq_length")
    tok = read_json(folder / "tokenizer_config.json").get("model_max_length")
    limit = None
    for cand in (st, tok):
        if isinstance(cand, (int, float)) and 0 < cand < _HUGE:
            limit = int(cand)
            break
    positions = config.get("max_position_embeddings")
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style models offset positions by padding_idx + 1 (514 -> 512).
        if config.get("model_type") in {"roberta", "xlm-roberta", "camembert", "longformer", "mpnet"}:
            positions -= int(config.get("pad_token_id", 1)) + 1
        limit = min(limit, positions) if limit else positions
    return limit or 512


def load_tokenizer(folder: Path, config: dict[str, Any]):
    """A ``tokenizers.Tokenizer`` for the model in ``folder`` and what batching needs to know about it."""
    from tokenizers import Tokenizer

    tok_cfg = read_json(folder / "tokenizer_config.json")
    tj = folder / "tokenizer.json"
    if tj.is_file():
        try:
            tokenizer = Tokenizer.from_file(str(tj))
        except Exception as e:  # noqa: BLE001 - tokenizers raises plain Exception
            raise UsageError(f"cannot read {tj}: {e}", hint="re-pull the model or remove the broken file") from e
    elif (folder / "vocab.txt").is_file():
        tokenizer = _wordpiece_from_vocab(folder / "vocab.txt", tok_cfg)
    else:
        raise UsageError(
            f"no tokenizer in {folder} (neither tokenizer.json nor vocab.txt)",
            hint="pull the model's tokenizer files too (tokenizer.json)",
        )
    limit = max_length(folder, config)
    tokenizer.no_padding()
    tokenizer.no_truncation()
    pad_id = _pad_id(tokenizer, tok_cfg, config)
    model = tokenizer.model
    prefix = getattr(model, "continuing_subword_prefix", None) if type(model).__name__ == "WordPiece" else None
    return tokenizer, TokenizerInfo(limit, pad_id, tok_cfg.get("do_lower_case"), prefix)


def _pad_id(tokenizer, tok_cfg: dict[str, Any], config: dict[str, Any]) -> int:
    pad = tok_cfg.get("pad_token")
    if isinstance(pad, dict):
        pad = pad.get("content")
    for cand in (pad, "[PAD]", "<pad>"):
        if isinstance(cand, str) and tokenizer.token_to_id(cand) is not None:
            return int(tokenizer.token_to_id(cand))
    pid = config.get("pad_token_id")
    return int(pid) if isinstance(pid, int) else 0


def _wordpiece_from_vocab(vocab: Path, tok_cfg: dict[str, Any]):
    """A fast BERT tokenizer (normaliser, pre-tokenizer, [CLS]/[SEP] template) from an old repo's vocab."""
    from tokenizers.implementations import BertWordPieceTokenizer

    lowercase = tok_cfg.get("do_lower_case", True)
    impl = BertWordPieceTokenizer(
        str(vocab),
        lowercase=bool(lowercase),
        strip_accents=tok_cfg.get("strip_accents"),
        clean_text=True,
        handle_chinese_chars=tok_cfg.get("tokenize_chinese_chars", True),
    )
    return impl._tokenizer
