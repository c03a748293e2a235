"""Our multipart bodies read by independent readers, and theirs read by ours.

The independent readers are Python's ``email`` package and the ``python-multipart``
package (the parser behind Starlette's forms); the independent writer is ``email``.
"""

from __future__ import annotations

import email.mime.application
import email.mime.multipart
import email.mime.text
import email.policy
import io

import python_multipart
from hypothesis import given
from hypothesis import strategies as st

from httpwire.forms import BodyPartReader, FormData, MultipartReader, MultipartWriter

from .helpers import collect, email_parts, stream_of


class _Part:
    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.data = bytearray()


def parse_with_python_multipart(content_type: str, body: bytes, cuts: list[int]) -> list[_Part]:
    """The parts as python-multipart sees them, feeding it *body* split at *cuts*."""
    _, params = python_multipart.multipart.parse_options_header(content_type)
    parts: list[_Part] = []
    field = bytearray()
    value = bytearray()

    def on_part_begin() -> None:
        parts.append(_Part())

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].data += data[start:end]

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_header_end() -> None:
        parts[-1].headers.append((bytes(field), bytes(value)))
        field.clear()
        value.clear()

    ended = []
    parser = python_multipart.MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_end": lambda: ended.append(True),
        },
        max_header_count=64,
    )
    start = 0
    for cut in [*sorted(set(cuts)), len(body)]:
        if cut > start:
            parser.write(body[start:cut])
            start = cut
    parser.finalize()
    assert ended == [True]
    return parts


def _disposition(part: _Part) -> dict[bytes, bytes]:
    (value,) = [v for k, v in part.headers if k.lower() == b"content-disposition"]
    _, params = python_multipart.multipart.parse_options_header(value)
    return params


_contents = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from([b"\r\n", b"--", b"\r", b"\n", b"-", b"x"]), max_size=30).map(
        b"".join
    ),
)
_ascii_names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz_-. 0123456789", min_size=1, max_size=10
)


@given(
    fields=st.lists(st.tuples(_ascii_names, _contents, st.booleans()), min_size=1, max_size=5),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=15),
)
async def test_python_multipart_reads_our_forms_under_any_chunking(
    fields: list[tuple[str, bytes, bool]], cuts: list[int]
) -> None:
    form = FormData()
    for name, content, as_file in fields:
        if as_file:
            form.add_field(name, io.BytesIO(content), filename=f"{name}.bin")
        else:
            form.add_field(name, content.decode("latin-1"), content_type="text/plain")
    body = form.build()
    data = await collect(body)
    parts = parse_with_python_multipart(body.content_type, data, cuts)
    assert len(parts) == len(fields)
    for part, (name, content, as_file) in zip(parts, fields, strict=True):
        params = _disposition(part)
        assert params[b"name"] == name.encode()
        if as_file:
            assert params[b"filename"] == f"{name}.bin".encode()
            assert bytes(part.data) == content
        else:
            assert b"filename" not in params
            assert bytes(part.data) == content.decode("latin-1").encode("utf-8")


async def test_python_multipart_sees_utf8_and_escaped_names() -> None:
    form = FormData()
    form.add_field('quo"te', b"1", filename="naïve\r\n.txt")
    body = form.build()
    (part,) = parse_with_python_multipart(body.content_type, await collect(body), [])
    params = _disposition(part)
    assert params[b"name"] == b"quo%22te"
    assert params[b"filename"] == "naïve%0D%0A.txt".encode()


async def test_email_reads_a_nested_mixed_body() -> None:
    inner = MultipartWriter("alternative")
    inner.append("plain")
    inner.append("<p>html</p>", {"Content-Type": "text/html; charset=utf-8"})
    outer = MultipartWriter("mixed")
    outer.append_json({"k": "v"})
    outer.append(inner)
    attachment = outer.append(b"\x00\x01\x02")
    attachment.set_content_disposition("attachment", filename="données.bin")
    data = await collect(outer)
    assert outer.size == len(data)
    parts = email_parts(outer.content_type, data)
    assert [p.content_type for p in parts] == [
        "application/json",
        "multipart/alternative",
        "application/octet-stream",
    ]
    assert parts[2].filename == "données.bin"  # read from filename*
    assert parts[2].payload == b"\x00\x01\x02"


async def test_we_read_what_the_email_package_writes() -> None:
    message = email.mime.multipart.MIMEMultipart("mixed")
    message.attach(email.mime.text.MIMEText("héllo wörld\n" * 20, "plain", "utf-8"))
    app = email.mime.application.MIMEApplication(bytes(range(256)) * 8, "octet-stream")
    app.add_header("Content-Disposition", "attachment", filename="data.bin")
    message.attach(app)
    raw = message.as_bytes(policy=email.policy.HTTP)
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = dict(
        line.split(": ", 1) for line in head.decode().replace("\r\n ", " ").split("\r\n")
    )
    reader = MultipartReader(headers, stream_of(body, range(0, len(body), 97)))
    text_part = await reader.next()
    assert isinstance(text_part, BodyPartReader)
    assert await text_part.text() == "héllo wörld\n" * 20  # base64 undone, charset applied
    app_part = await reader.next()
    assert isinstance(app_part, BodyPartReader)
    assert app_part.filename == "data.bin"
    assert await app_part.read(decode=True) == bytes(range(256)) * 8
    assert await reader.next() is None
