"""Read timeouts uvicorn lacks: a client must send a request's headers, then its body, in time.

uvicorn closes a kept-alive connection that stays idle between requests (``timeout_keep_alive``),
but waits forever for a request that has begun, or for the first request of a new connection: a
client that opens many connections and sends its headers a byte at a time (slowloris), or declares
a body it never sends, holds them all. :class:`ReadTimeoutProtocol` (uvicorn's httptools protocol,
passed as ``http=``) gives each request two deadlines:

- its headers, counted from the connection (first request) or from the request's first byte (later
  requests on a kept-alive connection: the idle time before it is uvicorn's keep-alive timeout);
- its body, counted from the end of its headers (not while the application has stopped reading).

Past a deadline the connection is closed, after a ``408`` when no answer to the request has begun.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger("localmodels.server")

_IDLE, _HEADERS, _BODY = "idle", "headers", "body"


class ReadTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a body deadline per request."""

    header_timeout: float = 10.0  # <= 0: no limit
    body_timeout: float = 60.0

    @classmethod
    def with_timeouts(cls, header_s: float, body_s: float) -> type[ReadTimeoutProtocol]:
        """This class with its deadlines set (uvicorn builds one protocol per connection from a class)."""
        return type(cls.__name__, (cls,), {"header_timeout": float(header_s), "body_timeout": float(body_s)})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None
        self._phase = _IDLE
        self._got_bytes = False  # of the request whose headers are awaited

    # ---------------------------------------------------------------- the deadlines
    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        if seconds > 0:
            self._read_timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        self._phase = _IDLE
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _expired(self) -> None:
        self._read_timer = None
        if self.transport is None or self.transport.is_closing():
            return
        if self._phase == _BODY and self.flow.read_paused:  # the application is not reading: not the client's delay
            self._arm(_BODY, self.body_timeout)
            return
        limit = self.header_timeout if self._phase == _HEADERS else self.body_timeout
        if self.client:
            log.info("%s:%d - closed: the request's %s did not arrive within %g s", *self.client[:2], self._phase,
                     limit)
        if self._phase == _HEADERS and self._got_bytes and (self.cycle is None or self.cycle.response_complete):
            self._send_408()
        self._phase = _IDLE
        self.transport.close()

    def _send_408(self) -> None:
        msg = b"the request's headers did not arrive in time\n"
        content = [STATUS_LINE[408]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content += [b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(msg)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n", b"\r\n", msg]
        self.transport.write(b"".join(content))

    # ---------------------------------------------------------------- uvicorn's hooks
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._got_bytes = False
        self._arm(_HEADERS, self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if data and self._phase == _IDLE:  # the first byte of the next request on a kept-alive connection
            self._arm(_HEADERS, self.header_timeout)
        if self._phase == _HEADERS:
            self._got_bytes = self._got_bytes or bool(data)
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._phase == _IDLE:  # a pipelined request behind one that just ended in the same bytes
            self._got_bytes = True
            self._arm(_HEADERS, self.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._got_bytes = False
        self._arm(_BODY, self.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the connection belongs to the WebSocket protocol from here
        super().handle_websocket_upgrade()
