"""What the route handlers share: settings, the model directory, the task runner and metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request

from ..errors import LocalModelsError
from .errors import APIError
from .metrics import Metrics
from .models import ModelDirectory
from .runner import TaskRunner
from .settings import ServerSettings

T = TypeVar("T")


@dataclass
class ServerState:
    settings: ServerSettings
    metrics: Metrics
    runner: TaskRunner
    directory: ModelDirectory
    started: float = field(default_factory=time.time)

    async def timed(self, awaitable: Awaitable[T]) -> T:
        """Await a task call under the request timeout (504); a ValueError from a task is the client's (400)."""
        timeout = self.settings.limits.request_timeout_s
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except TimeoutError:
            raise APIError(504, f"the request took longer than {timeout:g} s", type="server_error",
                           code="timeout") from None
        except (APIError, LocalModelsError):
            raise
        except ValueError as e:  # a task refusing its input (empty labels, a text it cannot take ...)
            raise APIError(400, str(e) or type(e).__name__, code="invalid_value") from None


def get_state(request: Request) -> ServerState:
    return request.app.state.lm
