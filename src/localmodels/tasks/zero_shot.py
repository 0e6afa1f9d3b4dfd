"""Zero-shot classification: by embedding similarity, by NLI entailment, or by an LLM.

- ``embedding``: each label becomes a sentence (its description, else ``hypothesis_template``); the
  text's embedding is compared with each. Single-label scores are ``softmax(20 * cosine)`` (20 is
  the scale sentence-transformers trains with); multi-label scores are the cosines clipped to [0, 1].
- ``nli``: every (text, hypothesis) pair goes through an NLI model in one batch. As in transformers'
  zero-shot pipeline: single-label = softmax of the entailment logits across labels; multi-label =
  per label, softmax over [contradiction, entailment]. The entailment (and contradiction) index comes
  from the model's ``label2id``.
- ``llm``: delegated to :func:`localmodels.tasks.llm_classify.llm_classify`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..errors import ModelNotFoundError, UsageError
from ..results import Classification
from ..runtimes.base import Encoder
from ..runtimes.registry import runtime_for
from ._encoders import as_list, check_text

if TYPE_CHECKING:
    from ..store import LocalModel

EMBEDDING_SCALE = 20.0
DEFAULT_TEMPLATE = "This text is about {}."
DEFAULT_EMBEDDING_MODEL = "minilm"


def default_model(method: str) -> str:
    """The model a method uses when none is given: MiniLM (embedding), the catalog's NLI model (nli),
    SmolLM2-135M-Instruct (llm)."""
    if method == "llm":
        from .generate import DEFAULT_MODEL

        return DEFAULT_MODEL
    if method == "nli":
        from ..registry import catalog

        entries = catalog().filter(task="nli")
        if not entries:  # pragma: no cover - the catalog ships one
            raise UsageError("the catalog has no NLI model", hint="pass an NLI model with --model")
        e = entries[0]
        return e.aliases[0] if e.aliases else e.id
    return DEFAULT_EMBEDDING_MODEL


def _nli_runtime(model: str, quantize: str | None, defaulted: bool) -> Encoder:
    try:
        return runtime_for(model, "encoder", quantize=quantize, task="zero-shot")
    except ModelNotFoundError as e:
        if not defaulted:
            raise
        raise ModelNotFoundError(
            f"method nli needs an NLI model; the catalog's default, {model}, is not here ({e})", ref=model,
            hint=f"run: localmodels pull {model}   (or pass --model with an NLI model you have, "
                 "or use --method embedding / llm)") from None


def _check_labels(labels: Sequence[str]) -> list[str]:
    if isinstance(labels, str):
        labels = [x.strip() for x in labels.split(",")]
    out = [check_text(str(x), "label") for x in labels if str(x).strip()]
    if not out:
        raise UsageError("no labels given", hint='pass labels, e.g. labels=["sports", "politics"]')
    if len(set(out)) != len(out):
        raise UsageError(f"labels are repeated: {out}")
    return out


def _hypotheses(labels: list[str], template: str, descriptions: dict[str, str] | None) -> list[str]:
    check_text(template, "hypothesis_template")
    for text in (descriptions or {}).values():
        check_text(str(text), "a label description")
    if "{}" not in template:
        raise UsageError(f"hypothesis_template {template!r} has no '{{}}' for the label",
                         hint='e.g. "This text is about {}."')
    descriptions = descriptions or {}
    return [descriptions.get(label) or template.format(label) for label in labels]


def zero_shot(text: str | Sequence[str], labels: Sequence[str], *, model: str | LocalModel | None = None,
              method: Literal["embedding", "nli", "llm"] = "embedding",
              hypothesis_template: str = DEFAULT_TEMPLATE, multi_label: bool = False,
              descriptions: dict[str, str] | None = None, threshold: float = 0.5, batch_size: int = 32,
              quantize: Literal["int8"] | None = None,
              no_logprobs_ok: bool = False) -> Classification | list[Classification]:
    """Classify one text (a :class:`Classification`) or a list (a list of them) into ``labels``.

    ``model`` defaults per method (:func:`default_model`). ``no_logprobs_ok`` (llm, remote endpoints
    without log-probabilities): answer with the JSON form and a ``None`` confidence instead of refusing.
    """
    texts, single = as_list(text)
    label_list = _check_labels(labels)
    if method not in ("embedding", "nli", "llm"):
        raise UsageError(f"unknown method {method!r}", hint="use method='embedding', 'nli' or 'llm'")
    defaulted = model is None
    if model is None:
        model = default_model(method)
    if method == "llm":
        from .llm_classify import llm_classify

        out = llm_classify(texts, label_list, model=model, multi_label=multi_label, descriptions=descriptions,
                           no_logprobs_ok=no_logprobs_ok)
        return out[0] if single else out
    if method == "nli":
        enc = _nli_runtime(model, quantize, defaulted)  # type: ignore[arg-type]
    else:
        enc = runtime_for(model, "encoder", quantize=quantize, task="zero-shot")
    hyps = _hypotheses(label_list, hypothesis_template, descriptions)
    if not texts:
        return []
    if method == "embedding":
        results = _by_embedding(enc, texts, label_list, hyps, multi_label, threshold, batch_size)
    else:
        results = _by_nli(enc, texts, label_list, hyps, multi_label, threshold, batch_size)
    return results[0] if single else results


def _result(scores: np.ndarray, labels: list[str], multi_label: bool, threshold: float, name: str,
            method: str) -> Classification:
    best = int(np.argmax(scores))
    picked = [label for label, s in zip(labels, scores) if s >= threshold] if multi_label else [labels[best]]
    return Classification(labels[best], float(scores[best]), {label: float(s) for label, s in zip(labels, scores)},
                          model=name, method=method, labels=picked)


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _by_embedding(enc: Encoder, texts: list[str], labels: list[str], hyps: list[str], multi_label: bool,
                  threshold: float, batch_size: int) -> list[Classification]:
    t = enc.embed_batch(texts, kind="query", batch_size=batch_size).vectors
    h = enc.embed_batch(hyps, kind="passage", batch_size=batch_size).vectors
    cos = t @ h.T
    scores = np.clip(cos, 0.0, 1.0) if multi_label else _softmax(EMBEDDING_SCALE * cos, axis=1)
    return [_result(s, labels, multi_label, threshold, enc.name, "embedding") for s in scores]


def nli_indices(config: dict) -> tuple[int, int]:
    """(entailment, contradiction) class ids from ``label2id`` (or ``id2label``); a clear error if absent."""
    label2id = config.get("label2id") or {}
    if not label2id and isinstance(config.get("id2label"), dict):
        label2id = {v: int(k) for k, v in config["id2label"].items()}
    entail = next((int(i) for name, i in label2id.items() if str(name).lower().startswith("entail")), None)
    if entail is None:
        raise UsageError(
            f"the model's label map {sorted(label2id)} has no 'entailment' label, so it is not an NLI model",
            hint="use an NLI model (labels contradiction/neutral/entailment) or method='embedding'",
        )
    contra = next((int(i) for name, i in label2id.items() if str(name).lower().startswith("contra")), None)
    if contra is None:  # e.g. entailment / not_entailment: the other end, as transformers' pipeline does
        contra = max(int(i) for i in label2id.values()) if entail == 0 else 0
    return entail, contra


def _by_nli(enc: Encoder, texts: list[str], labels: list[str], hyps: list[str], multi_label: bool,
            threshold: float, batch_size: int) -> list[Classification]:
    entail, contra = nli_indices(enc.config)
    pairs = [(t, h) for t in texts for h in hyps]
    logits = enc.classify_batch(pairs, batch_size=batch_size)
    logits = logits.reshape(len(texts), len(labels), -1)
    if multi_label or len(labels) == 1:
        scores = _softmax(logits[..., [contra, entail]], axis=-1)[..., 1]
    else:
        scores = _softmax(logits[..., entail], axis=-1)
    return [_result(s, labels, multi_label, threshold, enc.name, "nli") for s in scores]
