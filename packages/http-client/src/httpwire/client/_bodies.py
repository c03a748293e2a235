"""Request bodies: what ``data=`` and ``json=`` become on the wire.

Strategy: the choice of body is ``httpwire.forms``' (``payload_from``: forms, multipart,
files, streams, async iterables); this module only adds the two fast paths a client needs
(``bytes`` and ``json=`` become plain ``bytes``, which the connection writes with the head in
one call) and the Content-Type a body implies, which a Content-Type the caller set always
overrides. A ``str`` is encoded with the charset its Content-Type names, else UTF-8. The
payloads are imported by the first body that is neither ``bytes`` nor ``json=``: a client
sending only those never loads them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from httpwire.streams import Body

if TYPE_CHECKING:
    from httpwire.forms import Payload

__all__ = ["JSON_TYPE", "RequestBody", "make_body"]

RequestBody = Body | bytes | None
"""What the connection sends: nothing, bytes, or a Body (a payload, a stream)."""

JSON_TYPE = "application/json"
_OCTET_STREAM = "application/octet-stream"


def make_body(
    data: object,
    json: object,
    json_serialize: Callable[[object], str],
    content_type: str | None,
) -> tuple[RequestBody, str | None]:
    """The body to send and the Content-Type it implies.

    Args:
        data: The ``data=`` argument (``None`` for none).
        json: The ``json=`` argument (``None`` for none).
        json_serialize: Turns ``json`` into text.
        content_type: The Content-Type the caller set, if any (picks a str's charset).

    Returns:
        The body, and the Content-Type to add when the caller set none (``None``: add none).

    Raises:
        ValueError: Both *data* and *json* are given.
        TypeError: *data* is of a type that cannot be sent.
    """
    if json is not None:
        if data is not None:
            raise ValueError("data and json cannot be given together: pick one body")
        text = json_serialize(json)
        if not isinstance(text, str):
            raise TypeError(f"json_serialize must return str, returned {type(text).__name__}")
        return text.encode("utf-8"), JSON_TYPE
    if data is None:
        return None, None
    if isinstance(data, bytes):
        return data, _OCTET_STREAM
    from httpwire.forms import StringPayload, payload_from  # the first such body imports them

    if isinstance(data, str):
        encoded = StringPayload(data, content_type=content_type)
        return encoded.value, encoded.content_type
    payload: Payload = payload_from(data)
    return payload, payload.content_type
