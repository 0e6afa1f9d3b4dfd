"""Ollama's API (``/api/*``) on the same server as the OpenAI-compatible one, for Ollama's clients.

Same models, tasks, auth, limits and metrics as ``/v1``; errors in Ollama's ``{"error": "..."}``
shape. ``install(app)`` adds the routes and the error-shaping middleware.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from .errors import OllamaErrorMiddleware
from .routes_embed import router as _embed
from .routes_generate import router as _generate
from .routes_models import router as _models

router = APIRouter()
router.include_router(_models)
router.include_router(_generate)
router.include_router(_embed)

__all__ = ["router", "install", "OllamaErrorMiddleware"]


def install(app: FastAPI) -> None:
    """Add the /api routes and (outermost, so it sees auth and size errors too) the error shaping."""
    app.include_router(router)
    app.add_middleware(OllamaErrorMiddleware)
