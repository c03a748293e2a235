"""Request bodies: payload types, FormData, and a streaming multipart writer and reader.

Every payload is a Body of httpwire.streams (``size``, ``reusable``, async
iteration of raw bytes) that also carries its content type. :func:`payload_from`
turns any value a request's ``data=`` accepts into one. :class:`FormData` builds
urlencoded or ``multipart/form-data`` forms; :class:`MultipartWriter` writes any
multipart body and :class:`MultipartReader` reads one part by part from a stream.
"""

from __future__ import annotations

from ._errors import (
    BoundaryError,
    BoundaryInContentError,
    FormsError,
    IncompleteMultipartError,
    MalformedMultipartError,
    MultipartError,
    MultipartLimitError,
    PayloadError,
)
from ._factory import payload_from
from ._files import FilePayload, TextFilePayload
from ._formdata import FormData, FormFields
from ._headers import content_disposition, parse_header_params, validate_boundary
from ._parser import END_OF_MULTIPART, END_OF_PART, MultipartParser, PartHead
from ._payloads import DEFAULT_CHUNK_SIZE, BytesPayload, JsonPayload, Payload, StringPayload
from ._reader import BodyPartReader, ByteSource, MultipartReader
from ._streaming import AsyncIterablePayload, BodyPayload, StreamReaderPayload
from ._version import __version__
from ._writer import MultipartWriter, Part

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "END_OF_MULTIPART",
    "END_OF_PART",
    "AsyncIterablePayload",
    "BodyPartReader",
    "BodyPayload",
    "BoundaryError",
    "BoundaryInContentError",
    "ByteSource",
    "BytesPayload",
    "FilePayload",
    "FormData",
    "FormFields",
    "FormsError",
    "IncompleteMultipartError",
    "JsonPayload",
    "MalformedMultipartError",
    "MultipartError",
    "MultipartLimitError",
    "MultipartParser",
    "MultipartReader",
    "MultipartWriter",
    "Part",
    "PartHead",
    "Payload",
    "PayloadError",
    "StreamReaderPayload",
    "StringPayload",
    "TextFilePayload",
    "__version__",
    "content_disposition",
    "parse_header_params",
    "payload_from",
    "validate_boundary",
]
