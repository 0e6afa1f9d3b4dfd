"""``localmodels embed | search | rerank | zero-shot``: encoder tasks from the command line.

Texts come from arguments, from ``--file`` (one text per line; ``-`` is stdin), or from stdin when
neither is given. Output is a readable table, or JSON with ``--json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..errors import UsageError

MODEL_HELP = "Model: catalog alias, org/name[@rev], local folder or pypi:package."


def read_lines(path: str) -> list[str]:
    """Non-empty lines of a UTF-8 file (``-`` = stdin); invalid UTF-8 is a usage error, not a crash."""
    if path == "-":
        data = sys.stdin.buffer.read()
        where = "stdin"
    else:
        p = Path(path)
        if p.is_dir():
            raise UsageError(f"{path} is a folder, not a file of texts", hint="give a file with one text per line")
        if not p.exists():
            raise UsageError(f"no such file: {path}", hint="check the path (- reads stdin)")
        data = p.read_bytes()  # unreadable: an OSError the CLI reports in words (errors.from_os_error)
        where = path
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UsageError(f"{where} is not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 4]!r})",
                         hint="convert it first, e.g. iconv -f latin1 -t utf-8") from e
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def gather(texts: list[str] | None, file: str | None, *, what: str = "text") -> list[str]:
    out = list(texts or [])
    if file:
        out.extend(read_lines(file))
    if not out and not texts and not file and not sys.stdin.isatty():
        out = read_lines("-")
    if not out:
        raise UsageError(f"no {what} given", hint=f"pass {what} as arguments, with --file PATH, or on stdin")
    return out


def _short(s: str, n: int = 60) -> str:
    s = s.replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


def embed_cmd(
    texts: list[str] | None = typer.Argument(None, help="Texts to embed."),
    file: str | None = typer.Option(None, "--file", "-f", help="Read texts from a file, one per line (- = stdin)."),
    model: str = typer.Option("minilm", "--model", "-m", help=MODEL_HELP),
    kind: str | None = typer.Option(None, "--kind", help="query or passage (e5-style prefixes)."),
    pooling: str | None = typer.Option(None, "--pooling", help="Override pooling: cls, mean, max."),
    normalize: bool = typer.Option(True, "--normalize/--no-normalize", help="L2-normalise the vectors."),
    quantize: str | None = typer.Option(None, "--quantize", help="int8: dynamic int8 quantization."),
    batch_size: int = typer.Option(32, "--batch-size", "-b"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (vectors included)."),
    input_path: Path | None = typer.Option(
        None, "--input", "-i", help="Corpus file (.txt lines, .jsonl, .parquet) to embed into -o vectors.parquet."),
    output: Path | None = typer.Option(None, "--output", "-o", help="With -i: the Parquet file to write."),
    text_field: str = typer.Option("text", "--text-field", help="With -i: the JSON field / Parquet column."),
    engine: str = typer.Option("local", "--engine", help="With -i: local (this process) or ray (a Ray cluster)."),
    address: str | None = typer.Option(None, "--address", help="--engine ray: cluster address (host:port, auto)."),
    workers: int = typer.Option(1, "--workers", help="--engine ray: model workers (actors)."),
    stage_from: str | None = typer.Option(
        None, "--stage-from", help="--engine ray: lock file or bundle to stage (default: this store's files)."),
) -> None:
    """Embed texts; prints the vectors (JSON) or a summary table with the dimensions."""
    from ..tasks.embed import embed

    if input_path is not None:
        from .ray_cmds import embed_corpus

        return embed_corpus(input_path, output, engine=engine, address=address, workers=workers,
                            stage_from=stage_from, text_field=text_field, model=model, kind=kind,
                            quantize=quantize, batch_size=batch_size, as_json=as_json)
    items = gather(texts, file)
    vecs = embed(items, model=model, kind=kind, normalize=normalize, batch_size=batch_size,  # type: ignore[arg-type]
                 quantize=quantize, pooling=pooling)  # type: ignore[arg-type]
    from .output import print_json, print_table

    if as_json:
        print_json({"model": model, "dims": int(vecs.shape[1]), "count": len(items),
                    "embeddings": [[round(float(x), 7) for x in row] for row in vecs]})
        return
    print_table(["#", "text", "dims", "norm", "first values"],
                [(i, _short(t), vecs.shape[1], f"{float((v ** 2).sum()) ** 0.5:.3f}",
                  " ".join(f"{x:+.3f}" for x in v[:4]) + " …") for i, (t, v) in enumerate(zip(items, vecs))],
                title=f"{model}: {len(items)} embedding(s) of {vecs.shape[1]} dims")


def search_cmd(
    query: str = typer.Argument(..., help="The query."),
    corpus: str = typer.Option(..., "--corpus", "-c", help="Corpus file, one passage per line (- = stdin)."),
    k: int = typer.Option(5, "--k", "-k", help="How many passages."),
    method: str = typer.Option("cosine", "--method", help="cosine, mmr or dartboard."),
    model: str = typer.Option("minilm", "--model", "-m", help=MODEL_HELP),
    index: str | None = typer.Option(None, "--index", help="Index folder (default: in LOCALMODELS_HOME)."),
    no_index: bool = typer.Option(False, "--no-index", help="Do not keep the corpus embeddings on disk."),
    quantize: str | None = typer.Option(None, "--quantize", help="int8"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Semantic search: the k best passages of a corpus for a query."""
    from ..tasks.search import search

    passages = read_lines(corpus)
    hits = search(query, passages, k=k, method=method, model=model,  # type: ignore[arg-type]
                  index=False if no_index else index, quantize=quantize)  # type: ignore[arg-type]
    from .output import print_json, print_table

    if as_json:
        print_json({"query": query, "method": method, "model": model, "hits": [h.to_dict() for h in hits]})
        return
    print_table(["rank", "index", "score", "text"],
                [(r + 1, h.index, f"{h.score:.4f}", _short(h.text, 90)) for r, h in enumerate(hits)],
                title=f"{method} search, {len(passages)} passages")


def rerank_cmd(
    query: str = typer.Argument(..., help="The query."),
    docs: list[str] | None = typer.Argument(None, help="Documents to rank."),
    file: str | None = typer.Option(None, "--file", "-f", help="Documents, one per line (- = stdin)."),
    model: str = typer.Option("minilm", "--model", "-m", help=MODEL_HELP + " A cross-encoder is best."),
    top_n: int | None = typer.Option(None, "--top-n", "-n"),
    quantize: str | None = typer.Option(None, "--quantize", help="int8"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Rerank documents for a query (cross-encoder scores; cosine for an embedding model)."""
    import warnings

    from ..tasks.rerank import BiEncoderFallbackWarning, rerank

    items = gather(docs, file, what="documents")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BiEncoderFallbackWarning)
        results = rerank(query, items, model=model, top_n=top_n, quantize=quantize)  # type: ignore[arg-type]
    fallback = any(issubclass(w.category, BiEncoderFallbackWarning) for w in caught)
    from .output import err_console, print_json, print_table

    if fallback:
        err_console().print(f"note: {model} is not a cross-encoder; ranked by embedding cosine similarity",
                            highlight=False)
    if as_json:
        print_json({"query": query, "model": model, "method": "cosine" if fallback else "cross-encoder",
                    "results": [r.to_dict() for r in results]})
        return
    print_table(["rank", "index", "score", "text"],
                [(r + 1, x.index, f"{x.score:.4f}", _short(x.text, 90)) for r, x in enumerate(results)])


def zero_shot_cmd(
    texts: list[str] | None = typer.Argument(None, help="Texts to classify."),
    labels: str = typer.Option(..., "--labels", "-l", help="Comma-separated labels."),
    file: str | None = typer.Option(None, "--file", "-f", help="Texts, one per line (- = stdin)."),
    model: str | None = typer.Option(
        None, "--model", "-m", help=MODEL_HELP + " Default per method: minilm (embedding), the catalog's NLI "
        "model (nli), smollm2-135m-instruct (llm)."),
    method: str = typer.Option("embedding", "--method", help="embedding, nli or llm."),
    template: str = typer.Option("This text is about {}.", "--template", help="Hypothesis template."),
    multi_label: bool = typer.Option(False, "--multi-label", help="Labels are independent."),
    threshold: float = typer.Option(0.5, "--threshold", help="Multi-label: keep labels scoring at least this."),
    no_logprobs_ok: bool = typer.Option(
        False, "--no-logprobs-ok", help="--method llm on an endpoint without logprobs: take the bare answers "
        "(confidence null) instead of refusing."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Zero-shot classification by embedding similarity, NLI entailment or an LLM."""
    from ..tasks.zero_shot import default_model, zero_shot

    items = gather(texts, file)
    label_list = [x.strip() for x in labels.split(",") if x.strip()]
    results = zero_shot(items, label_list, model=model, method=method,  # type: ignore[arg-type]
                        hypothesis_template=template, multi_label=multi_label, threshold=threshold,
                        no_logprobs_ok=no_logprobs_ok)
    model = model or default_model(method)
    from .output import print_json, print_table

    if as_json:
        print_json([{"text": t, **r.to_dict()} for t, r in zip(items, results)])  # type: ignore[union-attr]
        return
    print_table(["text", "label", "score", "all scores"],
                [(_short(t), ", ".join(r.labels) if multi_label else r.label,  # type: ignore[union-attr]
                  "null" if r.score is None else f"{r.score:.3f}",  # type: ignore[union-attr]
                  " ".join(f"{k}={v:.2f}" for k, v in r.scores.items()))  # type: ignore[union-attr]
                 for t, r in zip(items, results)],
                title=f"zero-shot ({method}, {model})")


def register(app: typer.Typer) -> None:
    app.command("embed")(embed_cmd)
    app.command("search")(search_cmd)
    app.command("rerank")(rerank_cmd)
    app.command("zero-shot")(zero_shot_cmd)
