"""``localmodels serve``: an OpenAI-compatible HTTP API over the tasks (FastAPI + uvicorn).

    from localmodels.server import ServerSettings, create_app
    app = create_app(ServerSettings(models={"minilm": "minilm"}))
"""

from __future__ import annotations

from .app import create_app, serve
from .settings import Limits, ServerSettings, parse_models

__all__ = ["Limits", "ServerSettings", "create_app", "parse_models", "serve"]
