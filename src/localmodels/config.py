"""Settings read from the environment: one typed record, built afresh by :func:`settings` per call.

localmodels' own variables start with ``LOCALMODELS_``; every one is a field of :class:`Settings`
(its variable, default and meaning in the field's metadata) and no other module reads them. The
Hugging Face ones are honoured as ``huggingface_hub`` reads them, so a model another tool downloaded
is found. The README's environment table is generated from here::

    python -m localmodels.config --markdown     # print the table
    python -m localmodels.config --write README.md   # replace the table between its markers
"""

from __future__ import annotations

import os
import sys
import types
import typing
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from .errors import UsageError

TRUE_VALUES = {"1", "on", "yes", "true"}
FALSE_VALUES = {"0", "off", "no", "false"}
TABLE_START = "<!-- settings-table:start (generated: python -m localmodels.config --write README.md) -->"
TABLE_END = "<!-- settings-table:end -->"

# Set by the CLI's --offline: a process-wide choice passed as state, not through os.environ.
_forced_offline = False


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_VALUES


def _var(name: str, default: Any, doc: str, shown: str | None = None) -> Any:
    """A settings field read from ``LOCALMODELS_<name>``; ``shown`` is the default as the table says it."""
    return field(default=default, metadata={"env": f"LOCALMODELS_{name}", "doc": doc, "shown": shown})


@dataclass(frozen=True)
class Settings:
    """Every ``LOCALMODELS_*`` variable, typed. None means "not set: the code decides"."""

    home: Path | None = _var("HOME", None, "our metadata records, derived artifacts (ONNX exports, int8 "
                             "quantizations, assembled GGUFs) and locks", "platform data dir")
    offline: bool = _var("OFFLINE", False, "no network request at all (also `HF_HUB_OFFLINE=1`, `--offline`)")
    threads: int | None = _var("THREADS", None, "intra-op threads for ONNX Runtime and llama.cpp",
                               "the runtime decides")
    max_models: int = _var("MAX_MODELS", 4, "the loaded-model cache: most models kept loaded (LRU)")
    max_memory: int | None = _var("MAX_MEMORY", None, "the loaded-model cache: memory budget in bytes",
                                  "no budget")
    available_memory: int | None = _var("AVAILABLE_MEMORY", None, "bytes of memory taken as available "
                                        "(overrides what the OS says; for tests)", "what the OS says")
    n_ctx: int | None = _var("N_CTX", None, "llama.cpp context size", "min(4096, trained context)")
    gpu_layers: int | None = _var("GPU_LAYERS", None, "llama.cpp layers offloaded to the GPU",
                                  "all with a GPU build, else 0")
    llm_batch: int = _var("LLM_BATCH", 0, "LLM label scoring: prompts scored together as independent sequences of "
                          "a second llama.cpp context (same probabilities to the bit, about 100 MB more for "
                          "SmolLM2; no faster on a CPU-bound machine) (0: each prompt once, then its labels)")
    llm_chunk_chars: int = _var("LLM_CHUNK_CHARS", 400, "`classify --method llm`: characters of each file's "
                                "head that its prompt carries (`--max-chunks` adds more chunks)")
    auto_distill: bool = _var("AUTO_DISTILL", True, "`classify` without `--method`: where torch is installed and "
                              "`derived:minilm-static` is missing, distill it once for the fast default (0: use "
                              "`--method embedding` with a notice instead)")
    onnx_fuse: bool = _var("ONNX_FUSE", True, "fuse transformer ops before int8 quantization (0 turns it off)")
    remote_base_url: str | None = _var("REMOTE_BASE_URL", None, "OpenAI-compatible endpoint for `remote:` "
                                       "models, e.g. `http://127.0.0.1:8080/v1`")
    remote_api_key: str | None = _var("REMOTE_API_KEY", None, "sent as `Authorization: Bearer ...` to "
                                      "`LOCALMODELS_REMOTE_BASE_URL`")
    remote_timeout: float = _var("REMOTE_TIMEOUT", 60.0, "seconds per request to a remote endpoint")
    remote_max_retries: int = _var("REMOTE_MAX_RETRIES", 3, "retries on 429 / 5xx / timeouts / dropped "
                                   "connections to a remote endpoint")
    remote_backoff: float = _var("REMOTE_BACKOFF", 0.5, "first backoff in seconds before a remote retry "
                                 "(doubled each time)")
    retry_attempts: int = _var("RETRY_ATTEMPTS", 5, "total attempts per Hub call")
    retry_base: float = _var("RETRY_BASE", 1.0, "first backoff in seconds between Hub attempts (doubles, "
                             "+-50% jitter)")
    retry_max_wait: float = _var("RETRY_MAX_WAIT", 60.0, "longest single wait between Hub attempts, "
                                 "Retry-After included")
    hub_connect_timeout: float = _var("HUB_CONNECT_TIMEOUT", 10.0, "seconds to open a connection to the Hub "
                                      "(every call: model info, file lists, downloads)")
    hub_read_timeout: float = _var("HUB_READ_TIMEOUT", 30.0, "most seconds the Hub may stay silent in a call "
                                   "before the attempt fails, then the retry policy applies (downloads keep "
                                   "huggingface_hub's shorter `HF_HUB_DOWNLOAD_TIMEOUT`, 10 s)")
    batch_inflight: int = _var("BATCH_INFLIGHT", 1, "`localmodels serve`: encoder batches per model at once")
    server_header_timeout: float = _var("SERVER_HEADER_TIMEOUT", 10.0, "`serve`, `mirror serve`: seconds a "
                                        "client has to send a request's headers (from the connection or the "
                                        "request's first byte); then the connection is closed (slowloris; 0: no limit)")
    server_body_timeout: float = _var("SERVER_BODY_TIMEOUT", 60.0, "`serve`, `mirror serve`: seconds a client "
                                      "has to send a request's body once its headers are in (0: no limit)")
    server_origins: str | None = _var("SERVER_ORIGINS", None, "`serve`: web origins besides the server's own "
                                      "page allowed to call it, comma-separated (`*`: any), answered with CORS; "
                                      "a request carrying another `Origin` gets 403 (like `OLLAMA_ORIGINS`)",
                                      "none")
    price_per_mtok: float | None = _var("PRICE_PER_MTOK", None, "USD per million tokens for `remote:` models "
                                        "in `bench` (`--price-per-mtok` wins)", "no cost shown")
    datasets: Path | None = _var("DATASETS", None, "folder with the benchmark datasets (MANIFEST.json)",
                                 "./datasets, then the source tree")
    strict: bool = _var("STRICT", False, "pytest plugin: fail (not skip) tests whose model is not in the store")
    file_mode: str = _var("FILE_MODE", "0640", "octal mode of model files we write (store, `materialize`), "
                          "e.g. 0600")
    dir_mode: str = _var("DIR_MODE", "0750", "octal mode of model folders we create, e.g. 0700")
    group: str | None = _var("GROUP", None, "group of a team's shared store: files and folders get it, "
                             "folders the setgid bit (`--group` wins)", "none")
    free_space: int | None = _var("FREE_SPACE", None, "bytes taken as free on the disk models go to "
                                  "(`plan`, `pull`, `sync`; for tests)", "what the OS says")
    ollama_models: Path | None = _var("OLLAMA_MODELS", None, "Ollama's models folder (manifests/, blobs/) we "
                                      "read", "`OLLAMA_MODELS`, ~/.ollama/models, /usr/share/ollama/.ollama/models")
    lmstudio_models: Path | None = _var("LMSTUDIO_MODELS", None, "LM Studio's models folder we read",
                                        "~/.lmstudio/models, ~/.cache/lm-studio/models, its settings' folder")
    llama_cache: Path | None = _var("LLAMA_CACHE", None, "llama.cpp's download cache we read",
                                    "`LLAMA_CACHE`, ~/.cache/llama.cpp")
    gpt4all_models: Path | None = _var("GPT4ALL_MODELS", None, "GPT4All's models folder we read",
                                       "~/.local/share/nomic.ai/GPT4All")
    jan_models: Path | None = _var("JAN_MODELS", None, "Jan's models folder we read",
                                   "~/jan/models, ~/.local/share/Jan/data/models")
    scan_dirs: str | None = _var("SCAN_DIRS", None, "more folders of loose model files (path-separated), "
                                 "beside those `localmodels scan` remembers", "none")
    pip_paths: str | None = _var("PIP_PATHS", None, "site folders searched for pip packages that carry "
                                 "model files (path-separated)", "this Python's sys.path")
    folder_max_files: int = _var("FOLDER_MAX_FILES", 10_000, "local-folder models: most files a model folder "
                                 "may hold (a sanity limit, checked while listing, before any hashing)")
    folder_max_bytes: int = _var("FOLDER_MAX_BYTES", 1 << 40, "local-folder models: most bytes a model folder "
                                 "may hold (a sanity limit, checked before any hashing)", "1 TiB")
    stage_run: str | None = _var("STAGE_RUN", None, "set by `localmodels stage` on its Ray tasks: one id per "
                                 "staging run, so each run gets fresh worker processes (not for users)")


def _parse(raw: str, hint: Any, var: str) -> Any:
    """``raw`` as the field's type (``X | None`` parses as ``X``); a bad value is a :class:`UsageError`."""
    if isinstance(hint, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    try:
        if hint is bool:
            if raw.lower() in TRUE_VALUES | FALSE_VALUES:
                return raw.lower() in TRUE_VALUES
            raise ValueError(raw)
        if hint is int:
            return int(float(raw)) if "e" in raw.lower() or "." in raw else int(raw)
        if hint is Path:
            return Path(raw).expanduser()
        return hint(raw)
    except ValueError:
        kind = {bool: "1 or 0", int: "an integer", float: "a number"}.get(hint, hint.__name__)
        raise UsageError(f"{var}={raw!r} is not {kind}", hint=f"set {var} to {kind}, or unset it") from None


@cache
def _hints() -> dict[str, Any]:
    return typing.get_type_hints(Settings)


def settings() -> Settings:
    """The settings as the environment says now (a new record per call; cheap)."""
    values: dict[str, Any] = {}
    hints = _hints()
    for f in fields(Settings):
        raw = os.environ.get(f.metadata["env"], "").strip()
        if raw:
            values[f.name] = _parse(raw, hints[f.name], f.metadata["env"])
    return Settings(**values)


def variables() -> list[tuple[str, str, str, str]]:
    """(variable, type, default, meaning) for every setting, in declaration order."""
    hints = _hints()
    out = []
    for f in fields(Settings):
        hint = hints[f.name]
        if isinstance(hint, types.UnionType):  # X | None
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        type_name = {bool: "bool", int: "int", float: "float", str: "str", Path: "path"}[hint]
        default = f.metadata["shown"] or {False: "0", True: "1", None: "not set"}.get(f.default, str(f.default))
        out.append((f.metadata["env"], type_name, default, f.metadata["doc"]))
    return out


def markdown_table() -> str:
    """The README's environment table (ours, then the Hugging Face variables we honour)."""
    rows = ["| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{name}` | {kind} | {default} | {doc} |" for name, kind, default, doc in variables()]
    rows += [f"| `{name}` | {kind} | {default} | {doc} |" for name, kind, default, doc in HF_VARIABLES]
    return "\n".join(rows)


HF_VARIABLES = (
    ("HF_HOME", "path", "~/.cache/huggingface", "the standard Hugging Face home, shared with transformers"),
    ("HF_HUB_CACHE", "path", "`HF_HOME`/hub", "the Hub cache our Hub models live in"),
    ("HF_ENDPOINT", "str", "https://huggingface.co", "a Hub mirror"),
    ("HF_TOKEN", "str", "none", "a token for gated repos"),
    ("HF_HUB_OFFLINE", "bool", "0", "same as `LOCALMODELS_OFFLINE`"),
)


def replace_table(text: str) -> str:
    """``text`` with the part between :data:`TABLE_START` and :data:`TABLE_END` regenerated."""
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        raise UsageError("no settings table markers in the file", hint=f"add {TABLE_START} and {TABLE_END}")
    return text[: start + len(TABLE_START)] + "\n" + markdown_table() + "\n" + text[end:]


# Thin helpers the rest of the code calls (each reads the environment now).

def home() -> Path:
    """Our metadata, derived artifacts and locks: ``LOCALMODELS_HOME`` or the platform data dir."""
    h = settings().home
    if h is not None:
        return h
    from platformdirs import user_data_dir

    return Path(user_data_dir("localmodels", appauthor=False))


def hf_home() -> Path:
    env = os.environ.get("HF_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg).expanduser() / "huggingface" if xdg else Path.home() / ".cache" / "huggingface"


def hub_cache() -> Path:
    """The standard Hugging Face hub cache (``HF_HUB_CACHE`` > ``HF_HOME/hub``)."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    return Path(env).expanduser() if env else hf_home() / "hub"


def store_folders() -> list[tuple[str, Path]]:
    """The folders we write models and records to, each with the variable that moves it (for error hints)."""
    hub_var = "HF_HUB_CACHE" if os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") \
        else "HF_HOME"
    return [("LOCALMODELS_HOME", home()), (hub_var, hub_cache()), ("HF_HOME", hf_home())]


def ollama_models() -> Path | None:
    """Ollama's models folder when one is named (``LOCALMODELS_OLLAMA_MODELS`` > ``OLLAMA_MODELS``)."""
    env = os.environ.get("OLLAMA_MODELS", "").strip()
    return settings().ollama_models or (Path(env).expanduser() if env else None)


def llama_cache() -> Path | None:
    """llama.cpp's cache folder when one is named (``LOCALMODELS_LLAMA_CACHE`` > ``LLAMA_CACHE``)."""
    env = os.environ.get("LLAMA_CACHE", "").strip()
    return settings().llama_cache or (Path(env).expanduser() if env else None)


def offline() -> bool:
    """True when no network request may be made at all."""
    return (_forced_offline or settings().offline
            or any(is_true(os.environ.get(v)) for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")))


def offline_reason() -> str | None:
    """What turned offline mode on, as the user would undo it (``--offline``, ``HF_HUB_OFFLINE=1``...);
    None when online."""
    if _forced_offline:
        return "--offline"
    if settings().offline:
        return "LOCALMODELS_OFFLINE=" + os.environ.get("LOCALMODELS_OFFLINE", "1").strip()
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if is_true(os.environ.get(var)):
            return f"{var}={os.environ[var].strip()}"
    return None


def set_offline(value: bool = True) -> None:
    """Turn offline mode on (or back off) for this process (the CLI's ``--offline``)."""
    global _forced_offline
    _forced_offline = value


def child_env() -> dict[str, str]:
    """The environment for a child process of ours: this one's, plus what the CLI set (``--offline``)."""
    env = dict(os.environ)
    if _forced_offline:
        env["LOCALMODELS_OFFLINE"] = "1"
    return env


# What a worker that must never download runs with (Ray model workers): offline, whatever its node says.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "LOCALMODELS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}

# Fetch settings a process hands to the workers that fetch for it (never a store location, never a
# token: those are each node's own). ``HF_ENDPOINT`` is the Hub or the site's mirror.
FETCH_VARIABLES = ("HF_ENDPOINT", "HF_HUB_DISABLE_XET", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_ETAG_TIMEOUT",
                   "HF_HUB_DOWNLOAD_TIMEOUT", "LOCALMODELS_RETRY_BASE", "LOCALMODELS_RETRY_MAX_WAIT")


def fetch_env(endpoint: str | None = None) -> dict[str, str]:
    """This process's fetch settings (:data:`FETCH_VARIABLES` that are set); ``endpoint`` overrides
    ``HF_ENDPOINT``."""
    env = {k: os.environ[k] for k in FETCH_VARIABLES if os.environ.get(k)}
    if endpoint:
        env["HF_ENDPOINT"] = endpoint
    return env


def hf_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hf_token() -> str | None:
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None


def num_threads() -> int | None:
    """Intra-op threads for runtimes (``LOCALMODELS_THREADS``); None lets the runtime decide."""
    n = settings().threads
    return n if n and n > 0 else None


def strict() -> bool:
    return settings().strict


def prepare_hf_env() -> None:
    """Call before importing huggingface_hub: no telemetry call that could leave the machine."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _main(argv: list[str]) -> int:
    if argv[:1] == ["--markdown"]:
        print(markdown_table())
        return 0
    if len(argv) == 2 and argv[0] in ("--write", "--check"):
        path = Path(argv[1])
        text = path.read_text(encoding="utf-8")
        new = replace_table(text)
        if argv[0] == "--check":
            print(f"{path}: table is {'up to date' if new == text else 'stale: run --write'}")
            return int(new != text)
        path.write_text(new, encoding="utf-8")
        return 0
    print("usage: python -m localmodels.config --markdown | --write README.md | --check README.md", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
