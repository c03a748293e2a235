"""Helpers shared by this package's tests."""

from __future__ import annotations

import email.message
import email.parser
import email.policy
from collections.abc import AsyncIterable, Sequence

from httpwire.streams import StreamReader


async def collect(body: AsyncIterable[bytes]) -> bytes:
    """All the bytes an async iterable yields, checking that no piece is empty."""
    pieces = []
    async for piece in body:
        assert isinstance(piece, bytes), type(piece)
        assert piece, "a body yielded an empty piece"
        pieces.append(piece)
    return b"".join(pieces)


def stream_of(data: bytes, cuts: Sequence[int] = (), *, eof: bool = True) -> StreamReader:
    """A StreamReader fed *data* split at *cuts* (each fed piece is read back as it is)."""
    reader = StreamReader()
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        if cut > start:
            reader.feed_data(data[start:cut])
            start = cut
    if eof:
        reader.feed_eof()
    return reader


class EmailPart:
    """One part as Python's email package reads it (an independent reader)."""

    def __init__(self, message: email.message.Message) -> None:
        self.content_type = message.get_content_type()
        self.headers = dict(message.raw_items())
        self.name = message.get_param("name", header="content-disposition")
        self.filename = message.get_filename()
        self.is_multipart = message.is_multipart()
        payload = b"" if self.is_multipart else message.get_payload(decode=True)
        assert isinstance(payload, bytes), type(payload)
        self.payload = payload


def email_parts(content_type: str, body: bytes) -> list[EmailPart]:
    """The parts of a multipart body, read by Python's email parser."""
    head = b"Content-Type: " + content_type.encode("ascii") + b"\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    assert message.is_multipart(), message.defects
    assert not message.defects, message.defects
    parts = message.get_payload()
    assert isinstance(parts, list)
    out = []
    for part in parts:
        assert isinstance(part, email.message.Message)
        out.append(EmailPart(part))
    return out
