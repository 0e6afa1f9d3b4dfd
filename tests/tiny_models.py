"""Builders of tiny random encoder models (a few MB each, seeded) for tests that need an architecture
no bundled package carries: BERT, DistilBERT, RoBERTa, XLM-R, MPNet, DeBERTa-v2, ModernBERT.

    from tests.tiny_models import build
    folder = build(tmp_dir, "bert", head="token-classification")   # config.json + model.safetensors + tokenizer

Each folder is a normal Hugging Face model folder (``save_pretrained`` + ``tokenizer.json`` +
``tokenizer_config.json``), so ``transformers.pipeline(...)`` and localmodels load the same files.
Tokenizers are trained here on :data:`CORPUS` with small vocabularies, so ordinary words split into
several subword tokens (which exercises word aggregation). Needs torch + transformers (the dev env).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

Head = Literal["base", "token-classification", "sequence-classification", "cross-encoder"]

ARCHITECTURES = ("bert", "distilbert", "roberta", "xlm-roberta", "mpnet", "deberta-v2", "modernbert")
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
NLI_LABELS = ["contradiction", "neutral", "entailment"]

CORPUS = [
    "Barack Obama visited Paris in 2015 and met the French president.",
    "Apple is looking at buying a startup in the United Kingdom for one billion dollars.",
    "The stock market fell sharply today after the central bank raised interest rates.",
    "A man is eating food. A man is eating a piece of bread.",
    "The new phone has a faster processor and a better camera than the old one.",
    "Angela Merkel was the chancellor of Germany for sixteen years.",
    "The football team won the championship after a dramatic penalty shootout.",
    "Cook the pasta in salted water and add the tomato sauce at the end.",
    "Researchers at the university published a study on climate change in the Arctic.",
    "Berlin is well known for its museums, its history and its night life.",
    "Microsoft and Google compete in cloud computing, search and artificial intelligence.",
    "She flew from New York to Tokyo on Monday morning with her colleagues.",
    "This text is about sports. This text is about politics. This text is about technology.",
    "The quick brown fox jumps over the lazy dog near the river bank.",
]

_WP_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_BPE_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def _wordpiece(folder: Path, vocab_size: int = 300) -> dict:
    from tokenizers.implementations import BertWordPieceTokenizer

    tok = BertWordPieceTokenizer(lowercase=True)
    tok.train_from_iterator(CORPUS * 3, vocab_size=vocab_size, min_frequency=1, special_tokens=_WP_SPECIALS)
    from tokenizers import processors

    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")),
                                                   ("[CLS]", tok.token_to_id("[CLS]")))
    tok.save(str(folder / "tokenizer.json"))
    tok.save_model(str(folder))  # vocab.txt
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "BertTokenizer", "model_max_length": 128, "do_lower_case": True,
        "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
        "mask_token": "[MASK]",
    }))
    return {"vocab_size": tok.get_vocab_size(), "pad_token_id": 0}


def _bytelevel_bpe(folder: Path, vocab_size: int = 700) -> dict:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=_BPE_SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 3, trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "RobertaTokenizer", "model_max_length": 128,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>",
    }))
    return {"vocab_size": tok.get_vocab_size(), "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}


def _config(arch: str, tok: dict):
    import transformers as tf

    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    if arch == "bert":
        return tf.BertConfig(**small, max_position_embeddings=128, **tok)
    if arch == "distilbert":
        return tf.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=128,
                                   vocab_size=tok["vocab_size"], pad_token_id=0)
    if arch == "roberta":
        return tf.RobertaConfig(**small, max_position_embeddings=130, type_vocab_size=1, **tok)
    if arch == "xlm-roberta":
        return tf.XLMRobertaConfig(**small, max_position_embeddings=130, type_vocab_size=1, **tok)
    if arch == "mpnet":
        return tf.MPNetConfig(**small, max_position_embeddings=130, **tok)
    if arch == "deberta-v2":
        return tf.DebertaV2Config(**small, max_position_embeddings=128, relative_attention=True,
                                  position_buckets=16, pos_att_type=["p2c", "c2p"], type_vocab_size=0, **tok)
    if arch == "modernbert":
        return tf.ModernBertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                   intermediate_size=64, max_position_embeddings=128, global_attn_every_n_layers=2,
                                   local_attention=16, vocab_size=tok["vocab_size"], pad_token_id=0,
                                   bos_token_id=2, eos_token_id=3, cls_token_id=2, sep_token_id=3)
    raise ValueError(f"unknown architecture {arch!r}")


def build(root: Path, arch: str, head: Head = "base", *, seed: int = 0) -> Path:
    """Build (once) a tiny ``arch`` model with ``head`` under ``root`` and return its folder.

    ``token-classification`` uses :data:`NER_LABELS`; ``sequence-classification`` is an NLI model with
    :data:`NLI_LABELS`; ``cross-encoder`` has one output logit; ``base`` adds a sentence-transformers
    mean-pooling + Normalize config. Classifier weights are scaled up so that predictions are decisive.
    """
    import torch
    import transformers as tf

    folder = Path(root) / f"{arch}-{head}"
    if (folder / "model.safetensors").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    tok = _bytelevel_bpe(folder) if arch in ("roberta", "xlm-roberta") else _wordpiece(folder)
    cfg = _config(arch, tok)
    torch.manual_seed(seed)
    if head == "token-classification":
        cfg.id2label = dict(enumerate(NER_LABELS))
        cfg.label2id = {v: k for k, v in cfg.id2label.items()}
        model = tf.AutoModelForTokenClassification.from_config(cfg)
    elif head in ("sequence-classification", "cross-encoder"):
        labels = NLI_LABELS if head == "sequence-classification" else ["LABEL_0"]
        cfg.id2label = dict(enumerate(labels))
        cfg.label2id = {v: k for k, v in cfg.id2label.items()}
        model = tf.AutoModelForSequenceClassification.from_config(cfg)
    else:
        model = tf.AutoModel.from_config(cfg)
    if head != "base":
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.startswith(("classifier", "score")) and p.dim() == 2:
                    p.mul_(20.0)
    model.eval()
    model.save_pretrained(str(folder), safe_serialization=True)
    if head == "base":
        (folder / "modules.json").write_text(json.dumps([
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ]))
        (folder / "1_Pooling").mkdir(exist_ok=True)
        (folder / "1_Pooling" / "config.json").write_text(json.dumps({
            "word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        }))
        (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    return folder


def torch_forward(folder: Path, texts, pairs=None):
    """The reference: the same model run by transformers (torch), as numpy. Returns last_hidden_state
    (list of (seq, dim) arrays, padding removed) for a base model, else logits (n, labels)."""
    import numpy as np
    import torch
    import transformers as tf

    cfg = tf.AutoConfig.from_pretrained(str(folder))
    arch = (cfg.architectures or [""])[0]
    auto = (tf.AutoModelForTokenClassification if arch.endswith("ForTokenClassification")
            else tf.AutoModelForSequenceClassification if arch.endswith("ForSequenceClassification")
            else tf.AutoModel)
    model = auto.from_pretrained(str(folder)).eval()
    tokenizer = tf.AutoTokenizer.from_pretrained(str(folder))
    out = []
    with torch.no_grad():
        for i, t in enumerate(texts):
            batch = tokenizer(t, pairs[i] if pairs else None, return_tensors="pt", truncation=True)
            if "token_type_ids" in batch and cfg.model_type in ("distilbert", "mpnet", "modernbert", "roberta",
                                                                "xlm-roberta"):
                batch.pop("token_type_ids")
            res = model(**batch)
            out.append((res.logits if hasattr(res, "logits") else res.last_hidden_state)[0].numpy())
    return out if auto is not tf.AutoModelForSequenceClassification else np.stack(out)


# -- pytest fixtures (import them into a test module: ``from tiny_models import tiny_root, derived_home``) --
try:
    import pytest
except ImportError:  # pragma: no cover - only the builders are needed outside pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def tiny_root(tmp_path_factory) -> Path:
        """A session-wide folder where :func:`build` keeps the tiny models it makes."""
        return tmp_path_factory.mktemp("tiny-models")

    @pytest.fixture(scope="session")
    def derived_home(tmp_path_factory) -> Path:
        """A session-wide LOCALMODELS_HOME, so ONNX exports of the same model happen once per session."""
        return tmp_path_factory.mktemp("localmodels-derived-home")

    @pytest.fixture
    def shared_home(isolated_home, derived_home, monkeypatch) -> Path:
        """Use after the per-test home: points LOCALMODELS_HOME at the session-wide one."""
        monkeypatch.setenv("LOCALMODELS_HOME", str(derived_home))
        return derived_home
