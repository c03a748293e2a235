"""Request bodies: payload types, FormData, and a streaming multipart writer and reader.

Every payload is a Body of httpwire.streams (``size``, ``reusable``, async
iteration of raw bytes) that also carries its content type. :func:`payload_from`
turns any value a request's ``data=`` accepts into one. :class:`FormData` builds
urlencoded or ``multipart/form-data`` forms; :class:`MultipartWriter` writes any
multipart body and :class:`MultipartReader` reads one part by part from a stream.

Only the errors and the header helpers are imported with the package; every other public
name is imported from its module on first use (PEP 562), so a client that sends no form,
file or stream body never loads the payloads, and one that sends no multipart body never
loads the writer or the reader. Every name of ``__all__`` stays importable from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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
from ._headers import content_disposition, parse_header_params, validate_boundary
from ._version import __version__

if TYPE_CHECKING:
    from ._factory import payload_from
    from ._files import FilePayload, TextFilePayload
    from ._formdata import FormData, FormFields
    from ._parser import END_OF_MULTIPART, END_OF_PART, MultipartParser, PartHead
    from ._payloads import DEFAULT_CHUNK_SIZE, BytesPayload, JsonPayload, Payload, StringPayload
    from ._reader import BodyPartReader, ByteSource, MultipartReader
    from ._streaming import AsyncIterablePayload, BodyPayload, StreamReaderPayload
    from ._writer import MultipartWriter, Part

# Public names imported on first access (PEP 562), by the module that defines them.
_LAZY: dict[str, str] = {
    "payload_from": "._factory",
    "FilePayload": "._files",
    "TextFilePayload": "._files",
    "FormData": "._formdata",
    "FormFields": "._formdata",
    "END_OF_MULTIPART": "._parser",
    "END_OF_PART": "._parser",
    "MultipartParser": "._parser",
    "PartHead": "._parser",
    "DEFAULT_CHUNK_SIZE": "._payloads",
    "BytesPayload": "._payloads",
    "JsonPayload": "._payloads",
    "Payload": "._payloads",
    "StringPayload": "._payloads",
    "BodyPartReader": "._reader",
    "ByteSource": "._reader",
    "MultipartReader": "._reader",
    "AsyncIterablePayload": "._streaming",
    "BodyPayload": "._streaming",
    "StreamReaderPayload": "._streaming",
    "MultipartWriter": "._writer",
    "Part": "._writer",
}

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


def __getattr__(name: str) -> object:
    """Import a public name on first access, from the module that defines it.

    Args:
        name: The attribute asked for.

    Returns:
        The public object of that name; it is then kept in the package's namespace.

    Raises:
        AttributeError: ``name`` is not a public name of the package.
    """
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, the ones not imported yet included."""
    return sorted(set(globals()) | set(__all__))
