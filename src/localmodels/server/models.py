"""Which models this server answers for, and what each public name refers to.

With ``--models`` only the listed names are served (``NAME`` or ``PUBLIC=REFERENCE``). Without
it, any catalog alias or Hub id the store resolves is served; local paths and ``remote:`` refs are
never taken from a request (a client must not make the server open arbitrary folders), only
from ``--models``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence

from ..errors import InvalidReferenceError, ModelNotFoundError

log = logging.getLogger("localmodels.server")

# Embedding models trained with Matryoshka loss: a prefix of their vector is itself an embedding.
MATRYOSHKA_MODELS = frozenset({
    "nomic-ai/nomic-embed-text-v1.5",
    "mixedbread-ai/mxbai-embed-large-v1",
    "Snowflake/snowflake-arctic-embed-m-v1.5",
    "Snowflake/snowflake-arctic-embed-l-v2.0",
    "Alibaba-NLP/gte-multilingual-base",
    "jinaai/jina-embeddings-v3",
    "google/embeddinggemma-300m",
})


class ModelDirectory:
    def __init__(self, served: dict[str, str], *, matryoshka: frozenset[str] = frozenset()) -> None:
        self.served = dict(served)
        self.matryoshka = MATRYOSHKA_MODELS | matryoshka

    def ref(self, name: str) -> str:
        """The model reference behind a public name; 404 (ModelNotFoundError) when it is not served."""
        if self.served:
            if name in self.served:
                return self.served[name]
            raise ModelNotFoundError(
                f"model {name!r} is not served here; served models: {', '.join(sorted(self.served))}",
                ref=name, hint="GET /v1/models lists them; restart `localmodels serve --models ...` to add one")
        from ..refs import parse_ref

        try:
            parsed = parse_ref(name)
        except InvalidReferenceError as e:
            raise ModelNotFoundError(f"model {name!r} does not exist: {e.message}", ref=name) from None
        if parsed.kind in ("local", "remote"):
            raise ModelNotFoundError(
                f"model {name!r} is not served here: folders and remote: models must be listed at start-up",
                ref=name, hint=f"localmodels serve --models NAME={name}")
        return name

    def is_matryoshka(self, name: str, ref: str) -> bool:
        if name in self.matryoshka or ref in self.matryoshka:
            return True
        entry = _entry(ref)
        return bool(entry and (entry.id in self.matryoshka or set(entry.aliases) & self.matryoshka))

    def cards(self, loaded_keys: Sequence[str]) -> list[dict]:
        """What GET /v1/models lists: the served names, or the catalog models present in the store."""
        if self.served:
            names = [(name, ref, _path_of(ref)) for name, ref in self.served.items()]
        else:
            names = _present_catalog_models()
        out = []
        for name, ref, path in names:
            entry = _entry(ref)
            loaded = any((path and path in k) or k.endswith(ref) for k in loaded_keys)
            out.append({"id": name, "task": entry.task if entry else None, "loaded": loaded})
        return out


def _path_of(ref: str) -> str | None:
    try:
        from ..store import resolve

        return str(resolve(ref, offline=True).path)
    except Exception:  # noqa: BLE001 - not resolvable now: listed, not loaded
        return None


def _entry(ref: str):
    try:
        from ..registry import find_entry

        return find_entry(ref)
    except Exception:  # noqa: BLE001 - a catalog problem must not break a listing
        return None


def _present_catalog_models() -> list[tuple[str, str, str | None]]:
    """(name, ref, folder) of the catalog models the store resolves without the network."""
    try:
        from ..registry import catalog
        from ..store import resolve
    except ImportError:
        return []
    names = []
    for entry in catalog().filter():
        name = entry.aliases[0] if entry.aliases else entry.id
        try:
            path = str(resolve(name, offline=True).path)
        except Exception:  # noqa: BLE001 - not present, not resolvable: not listed
            continue
        names.append((name, name, path))
    return names


# ---------------------------------------------------------------- token counts for usage
_tok_lock = threading.Lock()


@functools.lru_cache(maxsize=32)
def _tokenizer_for(ref: str):
    try:
        from ..store import resolve

        model = resolve(ref)
        path = model.path / "tokenizer.json"
        if path.is_file():
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(path))
            tok.no_padding()
            tok.no_truncation()
            return tok
    except Exception:  # noqa: BLE001 - usage counts fall back to words
        log.debug("no tokenizer for %s; counting words", ref)
    return None


def count_tokens(ref: str, texts: Sequence[str]) -> list[int]:
    """Tokens per text with the model's own tokenizer where it has a ``tokenizer.json``, else words."""
    tok = _tokenizer_for(ref)
    if tok is not None:
        try:
            return [len(e.ids) for e in tok.encode_batch(list(texts))]
        except Exception:  # noqa: BLE001
            pass
    return [len(t.split()) for t in texts]
