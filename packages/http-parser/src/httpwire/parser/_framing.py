"""The vocabulary the two parsers share with their base: states, field names, the shared end.

The state machine of :class:`~httpwire.parser._parser.BaseParser` is a small
integer, changed only by the parsers' ``feed()`` loop and their ``_head`` methods;
its states are named here so that the loop, the response rules and the request
rules speak of them alike. Field names are ``istr`` so that their lowercase form
is computed once, not at every lookup.
"""

from __future__ import annotations

from collections.abc import Callable

from multidict import istr

from ._events import EndOfMessage, Event

__all__ = [
    "CHUNK_DATA",
    "CHUNK_END",
    "CHUNK_SIZE",
    "CLOSED",
    "CONNECTION",
    "CONTENT_ENCODING",
    "CONTENT_LENGTH",
    "END",
    "EXPECT",
    "FAILED",
    "HEAD",
    "HOST",
    "LENGTH",
    "TRAILERS",
    "TRANSFER_ENCODING",
    "UNTIL_CLOSE",
    "UPGRADE",
    "UPGRADED",
    "Append",
]

Append = Callable[[Event], None]
"""How a parser hands out an event: ``events.append`` of the list ``feed()`` returns."""

# Parser states.
HEAD = 0  # waiting for a head
LENGTH = 1  # Content-Length body: self._remaining bytes to go
CHUNK_SIZE = 2  # waiting for a chunk size line
CHUNK_DATA = 3  # inside chunk data: self._remaining bytes to go
CHUNK_END = 4  # waiting for the CRLF after chunk data
TRAILERS = 5  # waiting for the trailer section after the last chunk
UNTIL_CLOSE = 6  # body read until the connection closes
UPGRADED = 7  # not HTTP any more: bytes go to trailing_data()
CLOSED = 8  # feed_eof() was called
FAILED = 9  # an error was raised

END = EndOfMessage()
"""The end of every message without trailers: it holds no state, so one is shared."""

CONNECTION = istr("Connection")
CONTENT_ENCODING = istr("Content-Encoding")
CONTENT_LENGTH = istr("Content-Length")
EXPECT = istr("Expect")
HOST = istr("Host")
TRANSFER_ENCODING = istr("Transfer-Encoding")
UPGRADE = istr("Upgrade")
