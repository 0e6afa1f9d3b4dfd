"""``localmodels generate`` (streams tokens to stdout) and ``localmodels chat`` (an interactive loop)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

DEFAULT_MODEL = "smollm2-135m-instruct"  # = tasks.generate.DEFAULT_MODEL (not imported: CLI start-up)


def _read_spec(value: str | None, what: str) -> str | None:
    """A literal value, or the contents of a file when ``value`` names one (``@file`` also works)."""
    if value is None:
        return None
    from ..errors import UsageError

    path = Path(value[1:] if value.startswith("@") else value)
    if value.startswith("@") or (len(value) < 4096 and "\n" not in value and path.suffix and path.is_file()):
        try:
            return path.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read the {what} file {path}: {e.strerror}") from None
    return value


def generate_cmd(
    prompt: str = typer.Argument(..., help="The prompt; '-' reads it from stdin."),
    model: str = typer.Option(
        DEFAULT_MODEL, "--model", "-m", help="Alias, Hub id, folder, .gguf file or remote:<name>."),
    max_tokens: int = typer.Option(128, "--max-tokens", "-n", min=1, help="Most tokens to generate."),
    temperature: float = typer.Option(0.0, "--temperature", "-t", min=0.0, help="0 = greedy (deterministic)."),
    stop: list[str] | None = typer.Option(None, "--stop", help="Stop at this string (repeatable)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for sampling."),
    system: str | None = typer.Option(None, "--system", help="Send as chat: this system message, then the prompt."),
    as_chat: bool = typer.Option(False, "--chat", help="Use the model's chat template (one user message)."),
    json_schema: str | None = typer.Option(
        None, "--json-schema", help="Constrain to a JSON schema (inline or a file)."),
    grammar: str | None = typer.Option(None, "--grammar", help="Constrain with a GBNF grammar (inline or a file)."),
    n_ctx: int | None = typer.Option(None, "--n-ctx", min=16, help="Context size for GGUF models."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON (no streaming)."),
    no_stream: bool = typer.Option(False, "--no-stream", help="Print the text only when it is complete."),
) -> None:
    """Generate text from a prompt, streaming tokens to stdout."""
    import json

    from ..tasks.generate import generate

    if prompt == "-":
        prompt = sys.stdin.read()
    schema = _read_spec(json_schema, "JSON schema")
    if schema is not None:
        from ..errors import UsageError

        try:
            schema_obj: Any = json.loads(schema)
        except ValueError as e:
            raise UsageError(f"--json-schema is not valid JSON: {e}") from None
    else:
        schema_obj = None
    kwargs: dict[str, Any] = dict(
        model=model, max_tokens=max_tokens, temperature=temperature, stop=stop or None, seed=seed,
        json_schema=schema_obj, grammar=_read_spec(grammar, "grammar"),
    )
    if n_ctx:
        kwargs["n_ctx"] = n_ctx
    if system is not None or as_chat:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        call = lambda **kw: generate(messages=messages, **kwargs, **kw)  # noqa: E731
    else:
        call = lambda **kw: generate(prompt, **kwargs, **kw)  # noqa: E731
    if json_out or no_stream:
        result = call(stream=False)
        if json_out:
            from .output import print_json

            print_json(result.to_dict())
        else:
            sys.stdout.write(result.text + "\n")
        return
    stream = call(stream=True)
    for piece in stream:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stdout.flush()


def chat_cmd(
    model: str = typer.Option(
        DEFAULT_MODEL, "--model", "-m", help="Alias, Hub id, folder, .gguf file or remote:<name>."),
    system: str | None = typer.Option(None, "--system", help="A system message for the conversation."),
    max_tokens: int = typer.Option(256, "--max-tokens", "-n", min=1, help="Most tokens per answer."),
    temperature: float = typer.Option(0.7, "--temperature", "-t", min=0.0),
    seed: int | None = typer.Option(None, "--seed"),
    n_ctx: int | None = typer.Option(None, "--n-ctx", min=16, help="Context size for GGUF models."),
) -> None:
    """Chat with a model: one line of stdin per turn; /reset clears the history, /exit (or EOF) quits."""
    from ..errors import UsageError
    from ..tasks.generate import generate, get_llm

    interactive = sys.stdin.isatty()
    opts: dict[str, Any] = {"n_ctx": n_ctx} if n_ctx else {}
    llm = get_llm(model, **opts)  # load once, before the first prompt
    history: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    base = len(history)
    if interactive:
        sys.stderr.write(f"chatting with {model}; /reset clears the history, /exit quits\n")
    while True:
        if interactive:
            sys.stderr.write("> ")
            sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            break
        if text == "/reset":
            del history[base:]
            continue
        history.append({"role": "user", "content": text})
        while True:
            try:
                stream = generate(messages=history, model=llm, max_tokens=max_tokens, temperature=temperature,
                                  seed=seed, stream=True)
                break
            except UsageError as e:  # the conversation outgrew the context: forget the oldest turn
                if "context" not in str(e) or len(history) - base <= 1:
                    raise
                del history[base:base + 2]
        answer = []
        for piece in stream:
            answer.append(piece)
            sys.stdout.write(piece)
            sys.stdout.flush()
        sys.stdout.write("\n")
        sys.stdout.flush()
        history.append({"role": "assistant", "content": "".join(answer).strip()})


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_cmd)
    app.command("chat")(chat_cmd)
