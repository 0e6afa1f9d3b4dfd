"""``localmodels mirror``: the verified store served as a Hugging Face-compatible endpoint.

Any client that honours ``HF_ENDPOINT`` (huggingface_hub, transformers, sentence-transformers, the
``hf`` CLI, ``localmodels pull`` on another machine) downloads from it as from the Hub::

    from localmodels.server.mirror import MirrorSettings, serve
    serve(MirrorSettings(port=8090, lock=Path("localmodels.lock"), upstream="https://huggingface.co"))

Modules: :mod:`.inventory` (store -> repos, commits, files), :mod:`.verify` (only verified bytes
leave), :mod:`.routes` and :mod:`.protocol` (the Hub's routes and wire format), :mod:`.sendfile`
(zero-copy bodies), :mod:`.pullthrough`, :mod:`.auth`, :mod:`.status`, :mod:`.app`.
"""

from __future__ import annotations

from .app import MirrorSettings, build, create_app, serve

__all__ = ["MirrorSettings", "build", "create_app", "serve"]
