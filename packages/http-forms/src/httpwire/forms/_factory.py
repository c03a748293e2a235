"""payload_from: turn any value a request's ``data=`` accepts into a payload."""

from __future__ import annotations

from collections.abc import Mapping

from ._formdata import FormData
from ._payloads import Payload
from ._values import simple_payload

__all__ = ["payload_from"]


def payload_from(
    value: object, *, content_type: str | None = None, filename: str | None = None
) -> Payload:
    """The payload that sends *value* as a request body.

    - a :class:`Payload` (a MultipartWriter too): itself (the keywords are ignored);
    - a :class:`FormData`: ``value.build()``;
    - a dict, MultiDict, or list or tuple of pairs: a form, urlencoded, or
      multipart/form-data when a value is a file or a payload;
    - bytes, bytearray, memoryview: :class:`BytesPayload`;
    - str: :class:`StringPayload` (UTF-8);
    - a StreamReader (anything with ``readany()``): :class:`StreamReaderPayload`;
    - a binary or text file object: :class:`FilePayload` or :class:`TextFilePayload`;
    - a body with its own ``size`` and ``reusable`` (the streams ``Body`` protocol):
      :class:`BodyPayload`, sent with ``Content-Length`` when its size is known;
    - another async iterable of bytes: :class:`AsyncIterablePayload`.

    Args:
        value: The body.
        content_type: Overrides the payload's default content type.
        filename: The file name (for a part of a form).

    Raises:
        TypeError: When *value* is of no supported kind, naming its type.
    """
    if isinstance(value, FormData):
        return value.build()
    if isinstance(value, Mapping) or (
        isinstance(value, (list, tuple))
        and all(isinstance(item, tuple) and len(item) == 2 for item in value)
    ):
        return FormData(value).build()
    payload = simple_payload(value, content_type=content_type, filename=filename)
    if payload is None:
        raise TypeError(
            f"cannot send a value of type {type(value).__name__} as a request body: use bytes, "
            "str, a file object, a dict or pairs (a form), FormData, a payload, a StreamReader "
            "or an async iterable of bytes"
        )
    return payload
