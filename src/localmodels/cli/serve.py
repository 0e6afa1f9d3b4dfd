"""``localmodels serve``: the OpenAI-compatible HTTP server (see ``localmodels.server``)."""

from __future__ import annotations

import typer


def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind. Anything but loopback needs care."),
    port: int = typer.Option(8080, "--port", "-p", min=0, max=65535, help="Port (0: any free port)."),
    models: str | None = typer.Option(
        None, "--models", "-m",
        help="Serve only these, comma-separated: NAME or PUBLIC=REFERENCE (e.g. minilm,rr=./my-reranker). "
             "Default: any catalog alias or Hub id in the store."),
    api_key_env: str | None = typer.Option(
        None, "--api-key-env", help="Name of the environment variable holding the bearer API key."),
    keep_alive: float = typer.Option(300.0, "--keep-alive", help="Unload a model idle this many seconds "
                                                                    "(negative: never)."),
    max_batch: int = typer.Option(32, "--max-batch", min=1, max=1024, help="Most inputs per micro-batch."),
    batch_wait_ms: float = typer.Option(5.0, "--batch-wait-ms", min=0.0, max=1000.0,
                                        help="How long to gather concurrent requests into one batch."),
    no_batching: bool = typer.Option(False, "--no-batching", help="Run every request on its own."),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="Threads running encoder batches."),
    max_body_mb: float = typer.Option(8.0, "--max-body-mb", min=0.001, help="Largest request body (MiB)."),
    max_inputs: int = typer.Option(2048, "--max-inputs", min=1, help="Most texts per request."),
    max_input_chars: int = typer.Option(32768, "--max-input-chars", min=1, help="Longest text (characters)."),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=1, help="Largest max_tokens a client may ask."),
    timeout: float = typer.Option(120.0, "--timeout", min=0.1, help="Seconds before a request gets 504."),
    log_level: str = typer.Option("info", "--log-level", help="critical, error, warning, info, debug."),
    no_ui: bool = typer.Option(False, "--no-ui", help="Do not serve the web dashboard at /."),
) -> None:
    """Serve /v1/embeddings, /v1/chat/completions, /v1/completions, /v1/rerank, /v1/ner, /v1/classify."""
    import logging

    from ..server import Limits, ServerSettings, parse_models, serve
    from ..server.settings import api_key_from_env
    from .output import err_console

    settings = ServerSettings(
        host=host, port=port, models=parse_models(models), api_key=api_key_from_env(api_key_env),
        keep_alive_s=keep_alive, batching=not no_batching, max_batch=max_batch, batch_wait_ms=batch_wait_ms,
        workers=workers, ui=not no_ui,
        limits=Limits(max_body_bytes=int(max_body_mb * 1024 * 1024), max_inputs=max_inputs,
                      max_input_chars=max_input_chars, max_tokens=max_tokens, request_timeout_s=timeout),
    )
    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(levelname)s:     %(name)s: %(message)s")
    if not settings.is_loopback and not settings.api_key:
        err_console().print(f"[yellow]warning:[/] binding {host} without an API key: anyone who can reach "
                            "this port can use the server; set --api-key-env", highlight=False)
    served = ", ".join(settings.models) if settings.models else "any model in the store"
    err_console().print(f"serving {served} on http://{host}:{port} (docs: /docs)", highlight=False)
    serve(settings, log_level=log_level.lower())


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
