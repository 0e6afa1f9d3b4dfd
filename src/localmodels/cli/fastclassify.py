"""Fast classification commands: ``distill`` (a static twin of a sentence transformer) and
``train-classifier`` (a few-shot head on embeddings); ``classify --method cascade`` lives in apps."""

from __future__ import annotations

from pathlib import Path

import typer


def distill(
    model: str = typer.Argument("minilm", help="A sentence-transformer in the store (alias, org/name, folder)."),
    name: str | None = typer.Option(None, "--name", help="Name of the result: derived:NAME (default MODEL-static)."),
    dims: int = typer.Option(256, "--dims", help="PCA dimensions of the static vectors."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Distill a static embedding model (model2vec) from a sentence transformer (needs the torch extra)."""
    from ..apps.distill import distill as run
    from .output import console, print_json

    lm = run(model, name=name, pca_dims=dims)
    made = lm.metadata.get("derived", {})
    out = {"model": lm.ref, "path": str(lm.path), "teacher": made.get("teacher"), "recipe": made.get("recipe"),
           "size": sum(f.size for f in lm.files)}
    if json_out:
        print_json(out)
        return
    console().print(f"distilled {model} -> [bold]{lm.ref}[/] ({out['size'] / 1e6:.1f} MB, {lm.path})", highlight=False)


def train_classifier(
    examples: Path = typer.Option(..., "--examples", help="labelled.jsonl, a folder of category sub-folders, "
                                  "or a folder with MANIFEST.json"),
    model: str = typer.Option("derived:minilm-static", "--model", "-m",
                              help="Embedding model (minilm, derived:minilm-static, ...)."),
    name: str | None = typer.Option(None, "--name", help="Name of the head: derived:NAME."),
    categories: str | None = typer.Option(None, "--categories", help="Comma-separated categories the labels must use."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train a few-shot classifier head on embeddings of labelled files or texts; use it with classify --model."""
    from ..apps.classify import parse_categories
    from ..apps.fewshot import train_classifier as run
    from .output import console, print_json

    cats = parse_categories(categories) if categories else None
    head = run(examples, model=model, name=name, categories=cats)
    out = {"model": head.ref, "base": head.meta["base"], "categories": head.names,
           "examples": head.meta["examples"], "examples_digest": head.meta["examples_digest"]}
    if json_out:
        print_json(out)
        return
    console().print(f"trained [bold]{head.ref}[/] on {out['examples']} examples ({', '.join(head.names)}) "
                    f"over {model}; use: localmodels classify -i PATH --model {head.ref}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("distill")(distill)
    app.command("train-classifier")(train_classifier)
