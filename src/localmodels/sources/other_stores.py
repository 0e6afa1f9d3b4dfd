"""The built-in sources of other tools' models, registered before the Hub and local folders (so
``ollama:...`` and a bare ``model.gguf`` path reach them first), and the scans ``list --all`` runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .discovery import Discovery, FoundSource


def stores() -> list[FoundSource]:
    """Ollama, LM Studio, llama.cpp's cache, GPT4All, Jan and loose files, in that order."""
    from .appfolders import Gpt4allSource, JanSource
    from .llamacpp_cache import LlamaCppSource
    from .lmstudio import LmStudioSource
    from .loose import LooseFileSource
    from .ollama import OllamaSource

    return [OllamaSource(), LmStudioSource(), LlamaCppSource(), Gpt4allSource(), JanSource(), LooseFileSource()]


def scans(sources: Sequence[object]) -> list[tuple[str, Callable[[], Discovery]]]:
    """``(store, scan)`` for each of ``sources`` that can discover (a plugin's too), then pip carriers."""
    from . import pip_carriers

    out = [(str(getattr(s, "kind", "")), s.discover) for s in sources  # type: ignore[attr-defined]
           if callable(getattr(s, "discover", None))]
    return [*out, ("pypi", pip_carriers.discover)]
