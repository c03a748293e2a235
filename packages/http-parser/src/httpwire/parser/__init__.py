"""Sans-I/O HTTP/1.1 parser: incremental request and response parsing, head serializers, chunked
encoding and streaming content decoders.

This package never imports asyncio or sockets: bytes go in, events come out, so
a server may install it alone.
"""

from __future__ import annotations

from ._decoders import ContentDecoder, make_decoder, supported_codings
from ._errors import (
    BadStartLineError,
    DecodingError,
    FieldTooLargeError,
    HeadTooLargeError,
    HttpParserError,
    IncompleteMessageError,
    InvalidChunkError,
    InvalidFramingError,
    InvalidHeaderError,
    LimitExceededError,
    LineTooLongError,
    TooManyHeadersError,
)
from ._events import (
    END_OF_CHUNK,
    HTTP10,
    HTTP11,
    EndOfChunk,
    EndOfMessage,
    Event,
    HttpVersion,
    InformationalResponse,
    RequestHead,
    ResponseHead,
)
from ._request import RequestParser
from ._response import ResponseParser
from ._serialize import ChunkedEncoder, serialize_request_head, serialize_response_head
from ._version import __version__

__all__ = [
    "END_OF_CHUNK",
    "HTTP10",
    "HTTP11",
    "BadStartLineError",
    "ChunkedEncoder",
    "ContentDecoder",
    "DecodingError",
    "EndOfChunk",
    "EndOfMessage",
    "Event",
    "FieldTooLargeError",
    "HeadTooLargeError",
    "HttpParserError",
    "HttpVersion",
    "IncompleteMessageError",
    "InformationalResponse",
    "InvalidChunkError",
    "InvalidFramingError",
    "InvalidHeaderError",
    "LimitExceededError",
    "LineTooLongError",
    "RequestHead",
    "RequestParser",
    "ResponseHead",
    "ResponseParser",
    "TooManyHeadersError",
    "__version__",
    "make_decoder",
    "serialize_request_head",
    "serialize_response_head",
    "supported_codings",
]
