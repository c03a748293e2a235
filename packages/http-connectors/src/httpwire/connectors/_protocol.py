"""The socket side of a connection: an ``asyncio.BufferedProtocol`` that only forwards.

:class:`SocketProtocol` is what the event loop drives. It does asyncio's plumbing and
nothing else: it hands each read's bytes, the peer's end of file, the loss of the
connection and the transport's write back-pressure to a :class:`SocketEvents` receiver
(the :class:`~._connection.Connection`), which parses, sends and decides. It knows
nothing of HTTP, so the connection users see is not the protocol object.

Strategy, for the least Python work per read:

* Every read lands in one receive buffer per thread, shared by all the connections of
  the loops that thread runs: the loop reads into it and calls :meth:`buffer_updated`
  right away, which copies the bytes out before any other read can happen, so one
  buffer serves every connection and costs an idle connection nothing. The transport's
  default path would allocate a fresh 256 KiB ``bytes`` per read instead, which glibc
  serves with ``mmap`` and page faults.
* A read brings in at most :data:`FIRST_READ` (64 KiB), the head and the start of a body,
  until the connection says a body is streaming (:meth:`SocketProtocol.large_reads`): then
  up to :data:`READ_SIZE` (1 MiB), so a download needs few reads, hence few turns of the
  loop, which cost more than the bytes. Whether a response was complete when its head was
  handed out does not depend on the size of the buffer.
* While a body streams, a read is copied out in pieces of at most :data:`PIECE` (64 KiB),
  each handed on by itself: the parser passes a piece of body through as the very object,
  and the reader hands it out whole to ``read(65536)``, so each body byte is copied once
  in user space, here. (One ``bytes`` of the whole read would be sliced again by every
  ``read(65536)``.) The parser sees every piece, so the byte count stays exact and the
  bytes after a body are parsed as before.
* The receiver's ``on_data`` is looked up once, when the protocol is made: a piece costs
  one copy and one call into the connection.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Protocol, cast

__all__ = ["PIECE", "READ_SIZE", "SocketEvents", "SocketProtocol"]

READ_SIZE = 1048576
"""The most one read brings in while a body streams: the shared buffer's size."""

FIRST_READ = 65536
"""The most one read brings in otherwise."""

PIECE = 65536
"""The largest piece a read is handed on in (the size users read a download in)."""


class _Buffers(threading.local):
    """The receive buffer of the current thread (whole, and its first 64 KiB)."""

    large: memoryview | None = None
    small: memoryview | None = None


_BUFFERS = _Buffers()


def _shared_buffers() -> tuple[memoryview, memoryview]:
    large = _BUFFERS.large
    small = _BUFFERS.small
    if large is None or small is None:
        large = _BUFFERS.large = memoryview(bytearray(READ_SIZE))
        small = _BUFFERS.small = large[:FIRST_READ]
    return large, small


class SocketEvents(Protocol):
    """What a :class:`SocketProtocol` tells the connection it serves."""

    def on_connected(self, transport: asyncio.Transport) -> None:
        """The transport is ready (after the TLS handshake, for TLS)."""
        ...

    def on_data(self, data: bytes) -> None:
        """Bytes arrived from the peer."""
        ...

    def on_streamed(self, data: bytes, rest: int) -> None:
        """A piece of a read while a body streams; ``rest`` more bytes of it follow."""
        ...

    def on_eof(self) -> None:
        """The peer closed its sending side."""
        ...

    def on_lost(self, exc: Exception | None) -> None:
        """The connection is gone (``exc``: the OS error, or ``None`` for a clean close)."""
        ...

    def on_write_paused(self) -> None:
        """The transport's write buffer is over its high-water mark."""
        ...

    def on_write_resumed(self) -> None:
        """The transport's write buffer drained below its low-water mark."""
        ...


class SocketProtocol(asyncio.BufferedProtocol):
    """The protocol the event loop drives for one connection; forwards to ``events``.

    Args:
        events: The connection to forward the transport's callbacks to.
    """

    __slots__ = ("_buffer", "_events", "_large", "_on_data", "_small")

    def __init__(self, events: SocketEvents) -> None:
        self._events = events
        self._on_data = events.on_data
        self._large, self._small = _shared_buffers()
        self._buffer = self._small

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Hand the transport to the connection."""
        # Not an isinstance check: uvloop's transports do not derive from asyncio.Transport.
        self._events.on_connected(cast(asyncio.Transport, transport))

    def large_reads(self, large: bool) -> None:
        """Read up to 1 MiB at once (a body is streaming) or up to 64 KiB (otherwise)."""
        self._buffer = self._large if large else self._small

    def get_buffer(self, sizehint: int) -> memoryview:
        """The thread's shared receive buffer (the read is copied out at once)."""
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        """Copy what the transport read out of the shared buffer and hand it on.

        In pieces of at most :data:`PIECE` bytes, each handed on with the count of bytes
        of the read that follow it (the body may end in any piece: what follows is then
        bytes after the response, as if the read had come in one piece).
        """
        buffer = self._buffer
        if nbytes <= PIECE:
            self._on_data(bytes(buffer[:nbytes]))
            return
        on_streamed = self._events.on_streamed  # bound per large read: not kept per connection
        for start in range(0, nbytes, PIECE):
            end = start + PIECE
            if end < nbytes:
                on_streamed(bytes(buffer[start:end]), nbytes - end)
            else:
                on_streamed(bytes(buffer[start:nbytes]), 0)

    def data_received(self, data: bytes) -> None:
        """Hand bytes on (for transports that do not use :meth:`get_buffer`)."""
        self._on_data(data)

    def eof_received(self) -> None:
        """Tell the connection; the transport then closes itself."""
        self._events.on_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell the connection."""
        self._events.on_lost(exc)

    def pause_writing(self) -> None:
        """Tell the connection that writes should wait."""
        self._events.on_write_paused()

    def resume_writing(self) -> None:
        """Tell the connection that writes may go on."""
        self._events.on_write_resumed()
