"""Zero-copy file bodies under uvicorn: ``sendfile(2)`` from the verified descriptor to the socket.

ASGI has no standard way to hand a server a file descriptor (``http.response.pathsend`` names a
path, which could be swapped after our check, and uvicorn does not implement it). The mirror runs
uvicorn with :class:`SendfileProtocol`, which adds the ``localmodels.sendfile`` extension to every
request: a ``{"type": "localmodels.sendfile", "fd", "offset", "count"}`` message after the response
start is sent with ``os.sendfile`` from a worker thread (the socket stays non-blocking; the thread
waits for it with ``poll``), or with ``loop.sendfile`` when the headers are still queued. Under any
other server, :class:`BlobResponse` reads the descriptor in large chunks instead.
"""

from __future__ import annotations

import asyncio
import os
import select
from typing import Any

import anyio
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from ..timeouts import ReadTimeoutProtocol
from .verify import identity

EXTENSION = "localmodels.sendfile"
_CHUNK = 1 << 20


def check_unchanged(fd: int, expected: tuple[int, int, int, int] | None) -> None:
    """Raise when the file was written to since it was verified (checked before its last byte goes
    out: a client then gets a short body, which it rejects, never a complete altered file)."""
    if expected is not None and identity(os.fstat(fd)) != tuple(expected):
        raise OSError("the file changed while it was being sent; connection cut before the last byte")


def _sendfile_blocking(sock_fd: int, file_fd: int, offset: int, count: int,
                       expected: tuple[int, int, int, int] | None = None, stall_s: float = 60.0) -> None:
    """``os.sendfile`` of all but the last byte, a check that the file is unchanged, then the last byte;
    waiting for the socket in this (worker) thread."""
    _send_range(sock_fd, file_fd, offset, count - 1, stall_s)
    check_unchanged(file_fd, expected)
    _send_range(sock_fd, file_fd, offset + count - 1, 1, stall_s)


def _send_range(sock_fd: int, file_fd: int, offset: int, count: int, stall_s: float) -> None:
    poller = select.poll()
    poller.register(sock_fd, select.POLLOUT)
    sent = 0
    while sent < count:
        try:
            n = os.sendfile(sock_fd, file_fd, offset + sent, count - sent)
        except BlockingIOError:
            if not poller.poll(stall_s * 1000):
                raise TimeoutError(f"the client took no data for {stall_s:.0f} s") from None
            continue
        if n == 0:
            raise OSError(f"the file ended at {offset + sent} of {offset + count}")
        sent += n


class _SendfileCycle(RequestResponseCycle):
    async def send(self, message: Any) -> None:
        if message["type"] != EXTENSION:
            return await super().send(message)
        if not self.response_started or self.response_complete:
            raise RuntimeError("localmodels.sendfile needs a started, unfinished response")
        count = int(message["count"])
        if self.disconnected:
            return
        if self.flow.write_paused:
            await self.flow.drain()
        sock = self.transport.get_extra_info("socket")
        try:
            if sock is not None and not self.transport.get_write_buffer_size():
                # the headers are out and nothing else writes to this socket until we are done: a worker
                # thread sends the body with blocking waits (fewer loop wake-ups than loop.sendfile)
                await anyio.to_thread.run_sync(_sendfile_blocking, sock.fileno(), message["fd"],
                                               int(message["offset"]), count, message.get("identity"))
            else:
                loop, offset = asyncio.get_running_loop(), int(message["offset"])
                with os.fdopen(os.dup(message["fd"]), "rb") as f:
                    await loop.sendfile(self.transport, f, offset, count - 1)
                    check_unchanged(message["fd"], message.get("identity"))
                    await loop.sendfile(self.transport, f, offset + count - 1, 1)
        except (ConnectionError, OSError):
            self.disconnected = True
            self.transport.close()
            return
        self.expected_content_length -= count
        self.response_complete = True
        self.message_event.set()
        if not self.keep_alive:
            self.transport.close()
        self.on_response()


class SendfileProtocol(ReadTimeoutProtocol):
    """uvicorn's httptools protocol (with read deadlines) and the ``localmodels.sendfile`` extension."""

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and type(cycle) is RequestResponseCycle:  # the task has not run yet
            cycle.__class__ = _SendfileCycle
            cycle.scope.setdefault("extensions", {})[EXTENSION] = {}  # type: ignore[typeddict-item]


class BlobResponse(Response):
    """The bytes ``[offset, offset + count)`` of an open descriptor (closed when done), or just the
    headers for HEAD / 304 / 416."""

    def __init__(self, fd: int | None, *, status: int, headers: dict[str, str], offset: int = 0,
                 count: int = 0, head: bool = False, verified: os.stat_result | None = None) -> None:
        self.fd = fd
        self.identity = identity(verified) if verified is not None else None
        self.status_code = self.status = status
        self.background = None
        self.offset = offset
        self.count = count
        self.head = head
        self.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status, "headers": self.raw_headers})
            if self.head or self.fd is None or self.count == 0:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            elif EXTENSION in scope.get("extensions", {}):
                await send({"type": EXTENSION, "fd": self.fd, "offset": self.offset, "count": self.count,
                            "identity": self.identity})
            else:
                await self._chunks(send)
        finally:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None

    def __del__(self) -> None:  # never sent (the client went away first)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    async def _chunks(self, send: Any) -> None:
        assert self.fd is not None
        fd, pos, end = self.fd, self.offset, self.offset + self.count
        while pos < end:
            chunk = await anyio.to_thread.run_sync(os.pread, fd, min(_CHUNK, end - pos), pos)
            if not chunk:  # the file shrank under us: cut the connection rather than send short
                raise OSError(f"file ended at {pos} of {end}")
            pos += len(chunk)
            if pos >= end:
                check_unchanged(fd, self.identity)
            await send({"type": "http.response.body", "body": chunk, "more_body": pos < end})
