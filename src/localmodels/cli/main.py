"""The ``localmodels`` command: a thin layer over the Python API.

Each command group lives in its own module with a ``register(app)`` function; heavy imports
happen inside the commands, so ``localmodels --help`` and ``localmodels list`` start fast.
Errors of ours become ``error: ...`` / ``hint: ...`` on stderr and the error's exit code; an OSError
that reaches here (disk full, permission denied, a file where a folder must be ...) is mapped
to one of ours first (:func:`~localmodels.errors.from_os_error`).
"""

from __future__ import annotations

import importlib
import sys
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import LocalModelsError

if TYPE_CHECKING:
    import typer

COMMAND_MODULES = (
    "store",  # pull list info rm verify du prune where
    "catalog",  # catalog
    "encoders",  # embed search rerank zero-shot
    "ner",  # ner
    "llm",  # generate chat
    "apps",  # classify bench
    "fastclassify",  # distill train-classifier
    "serve",  # serve
    "ci",  # lock sync check cache-key export import
    "mirror",  # mirror serve | status
    "provenance",  # sign sbom
    "deploy",  # materialize plan
    "ray_cmds",  # stage (classify / embed --engine ray live in apps / encoders)
    "stores",  # scan dedup (list --all, du --all: every store on the machine)
)

@lru_cache(maxsize=1)
def _app() -> typer.Typer:
    """The typer app, built on first use (``list --all`` runs without it: see :mod:`.listing`)."""
    import typer

    app = typer.Typer(
        name="localmodels",
        help="Pull, verify, cache, manage and run Hugging Face models locally.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _global(
        offline: bool = typer.Option(False, "--offline", help="Make no network request at all."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    ) -> None:
        from ..config import prepare_hf_env, set_offline
        from .output import set_quiet

        prepare_hf_env()
        set_offline(offline)
        set_quiet(quiet)

    return app


# The module registering each command, so a run imports only the one it invokes (start-up time);
# tests/test_other_stores_refs.py checks it against what the modules register.
COMMANDS = {
    **dict.fromkeys(("pull", "list", "info", "rm", "verify", "du", "prune", "where"), "store"),
    "catalog": "catalog", **dict.fromkeys(("embed", "search", "rerank", "zero-shot"), "encoders"),
    "ner": "ner", "generate": "llm", "chat": "llm", "classify": "apps", "bench": "apps",
    "distill": "fastclassify", "train-classifier": "fastclassify", "serve": "serve",
    **dict.fromkeys(("lock", "sync", "check", "cache-key", "export", "import"), "ci"), "mirror": "mirror",
    "sign": "provenance", "sbom": "provenance", "materialize": "deploy", "plan": "deploy", "stage": "ray_cmds",
    "scan": "stores", "dedup": "stores",
}
_GLOBAL_FLAGS = ("--offline", "--quiet", "-q")


def _register_all(argv: list[str] | None = None) -> None:
    """Register the invoked command's module only (every module for --help or an unknown command)."""
    args = sys.argv[1:] if argv is None else argv
    first = next((a for a in args if a not in _GLOBAL_FLAGS), None)
    names = [COMMANDS[first]] if first in COMMANDS and "--help" not in args[:1] else COMMAND_MODULES
    for name in names:
        importlib.import_module(f"{__package__}.{name}").register(_app())


# Set by main(): the command line asked for JSON, so an error is also a JSON object on stdout.
_json_errors = False


def wants_json(args: list[str]) -> bool:
    """Does the command line hold the ``--json`` flag (before any ``--``)?"""
    for a in args:
        if a == "--":
            return False
        if a == "--json":
            return True
    return False


def report_error(err: LocalModelsError) -> None:
    from .output import print_error

    if _json_errors:  # a program that asked for JSON reads stdout: it gets the error there too
        from .output import print_json

        print_json({"error": {"type": type(err).__name__, "message": err.message, "hint": err.hint,
                              "exit_code": err.exit_code}})
    print_error(err.message, err.hint)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code. Click handles its own usage errors (exit 2)."""
    global _json_errors
    from .listing import fast_command

    args = sys.argv[1:] if argv is None else list(argv)
    quick = fast_command(args)  # ``list --all`` / ``du --all``: no typer app to build
    if quick is None:
        _register_all(args)
    _json_errors = wants_json(args)
    try:
        if quick is not None:
            quick()
        else:
            _app()(args=argv, standalone_mode=True)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except LocalModelsError as e:
        report_error(e)
        return e.exit_code
    except OSError as e:  # the filesystem (or a socket) said no: in words, with a hint, never a traceback
        from ..config import store_folders
        from ..errors import from_os_error

        try:
            folders = store_folders()
        except Exception:  # noqa: BLE001 - a broken setting must not hide the error being reported
            folders = []
        mapped = from_os_error(e, folders=folders)
        report_error(mapped)
        return mapped.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
