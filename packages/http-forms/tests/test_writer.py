"""MultipartWriter: parts and headers, exact sizes, streaming, and what it refuses."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from httpwire.forms import (
    AsyncIterablePayload,
    BytesPayload,
    MultipartWriter,
    PayloadError,
    StringPayload,
)

from .helpers import collect, email_parts


async def test_mixed_body_layout_rfc2046_5_1_1() -> None:
    writer = MultipartWriter("mixed", boundary="sep")
    writer.append("hello")
    writer.append(b"\x00\x01", {"X-Id": "2"})
    body = await collect(writer)
    assert body == (
        b"--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello"
        b"\r\n--sep\r\nX-Id: 2\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01"
        b"\r\n--sep--\r\n"
    )
    assert writer.size == len(body)
    assert writer.content_type == "multipart/mixed; boundary=sep"


async def test_empty_writer_is_just_the_close_delimiter() -> None:
    writer = MultipartWriter(boundary="b")
    body = await collect(writer)
    assert body == b"--b--\r\n"
    assert writer.size == len(body)


def test_default_boundary_is_random_and_valid() -> None:
    first, second = MultipartWriter(), MultipartWriter()
    assert re.fullmatch(r"[0-9a-f]{32}", first.boundary)
    assert first.boundary != second.boundary


def test_boundary_that_needs_quoting_is_quoted_in_the_content_type() -> None:
    writer = MultipartWriter("related", boundary="a b=c")
    assert writer.content_type == 'multipart/related; boundary="a b=c"'


@pytest.mark.parametrize("boundary", ["", "x" * 71, "bad;char", "trailing "])
def test_invalid_boundary_is_rejected_rfc2046_5_1_1(boundary: str) -> None:
    with pytest.raises(ValueError, match=r"invalid multipart boundary.*RFC 2046 §5\.1\.1"):
        MultipartWriter(boundary=boundary)


def test_invalid_subtype_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"multipart subtype 'form data' is not a token"):
        MultipartWriter("form data")


def test_content_starting_with_the_delimiter_is_rejected() -> None:
    writer = MultipartWriter(boundary="sep")
    # The header block ends with CRLF, so "--sep" at the start of the content is a delimiter.
    with pytest.raises(ValueError, match=r"the boundary 'sep' occurs in the content of part 0"):
        writer.append(b"--sep\r\n")


def test_boundary_inside_content_after_crlf_is_rejected() -> None:
    writer = MultipartWriter(boundary="sep")
    writer.append(b"line--sep is harmless mid-line")
    with pytest.raises(
        ValueError, match=r"the boundary 'sep' occurs in the content of part 1.*RFC 2046"
    ):
        writer.append(b"line\r\n--sep\r\n")


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"X-A": "1\r\nX-Injected: yes"}, r"part header 'X-A' value .* contains CR, LF or NUL"),
        ({"X-A\r\nX-B": "1"}, r"part header name .* is not a token"),
        ({"Content-Transfer-Encoding": "quoted-printable"}, r"is not supported"),
    ],
)
def test_part_headers_cannot_inject_headers(headers: dict[str, str], match: str) -> None:
    writer = MultipartWriter()
    with pytest.raises(ValueError, match=match):
        writer.append("x", headers)
    part = writer.append("x")
    ((name, value),) = headers.items()
    with pytest.raises(ValueError, match=match):
        part.set_header(name, value)


def test_payload_content_type_cannot_inject_headers() -> None:
    with pytest.raises(ValueError, match=r"content_type .* contains CR, LF or NUL"):
        BytesPayload(b"", content_type="text/plain\r\nX-Evil: 1")


async def test_form_data_disposition_quotes_per_rfc7578_4_2() -> None:
    writer = MultipartWriter("form-data", boundary="b")
    part = writer.append(b"data")
    part.set_content_disposition("form-data", name='fi"eld\r\n', filename="naïve €.txt")
    body = await collect(writer)
    assert (
        'Content-Disposition: form-data; name="fi%22eld%0D%0A"; filename="naïve €.txt"\r\n'
        in body.decode("utf-8")
    )
    assert b"filename*" not in body
    assert writer.size == len(body)


async def test_other_subtypes_use_filename_star_for_non_ascii() -> None:
    writer = MultipartWriter("mixed", boundary="b")
    part = writer.append(b"data")
    part.set_content_disposition("attachment", filename="naïve.txt")
    body = await collect(writer)
    assert b"Content-Disposition: attachment; filename*=utf-8''na%C3%AFve.txt\r\n" in body


def test_form_data_without_quote_fields_refuses_a_quote() -> None:
    writer = MultipartWriter("form-data", quote_fields=False)
    part = writer.append(b"x")
    with pytest.raises(ValueError, match=r"holds a '\"', CR or LF"):
        part.set_content_disposition("form-data", name='a"b')


async def test_append_json_and_append_form() -> None:
    writer = MultipartWriter(boundary="b")
    writer.append_json({"a": [1, "é"]})
    writer.append_form([("k", "v 1"), ("k", "&=")])
    body = await collect(writer)
    first, second = email_parts(writer.content_type, body)
    assert first.content_type == "application/json"
    assert json.loads(first.payload) == {"a": [1, "é"]}
    assert second.content_type == "application/x-www-form-urlencoded"
    assert second.payload == b"k=v+1&k=%26%3D"


async def test_nested_writers() -> None:
    inner = MultipartWriter("alternative", boundary="inner")
    inner.append("plain")
    inner.append("<p>html</p>", {"Content-Type": "text/html"})
    outer = MultipartWriter("mixed", boundary="outer")
    outer.append(inner)
    outer.append(b"attachment")
    body = await collect(outer)
    assert outer.size == len(body)
    assert b"Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n" in body
    assert body.endswith(
        b"\r\n--inner--\r\n\r\n--outer\r\n"
        b"Content-Type: application/octet-stream\r\n\r\nattachment\r\n--outer--\r\n"
    )


def test_a_writer_cannot_contain_itself() -> None:
    writer = MultipartWriter()
    with pytest.raises(ValueError, match="cannot contain itself"):
        writer.append(writer)


def test_unsupported_value_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"cannot make a multipart part of int"):
        MultipartWriter().append(12)


async def test_size_is_none_when_a_part_has_no_size() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    writer = MultipartWriter(boundary="b")
    writer.append("x")
    before = (writer.size is not None, writer.reusable)
    writer.append(AsyncIterablePayload(gen()))
    assert before == (True, True)
    assert (writer.size, writer.reusable) == (None, False)
    body = await collect(writer)
    assert b"\r\n\r\nab\r\n--b--\r\n" in body


async def test_size_follows_header_changes() -> None:
    writer = MultipartWriter(boundary="b")
    part = writer.append(b"x")
    part.set_header("X-Long-Header", "v" * 100)
    body = await collect(writer)
    assert writer.size == len(body)


async def test_file_part_streams_and_writer_is_reusable(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    content = bytes(range(256)) * 4000
    path.write_bytes(content)
    with path.open("rb") as fd:
        writer = MultipartWriter(boundary="b")
        writer.append(fd)
        assert writer.reusable
        first = await collect(writer)
        second = await collect(writer)
    assert first == second
    assert writer.size == len(first)
    assert content in first


async def test_base64_transfer_encoding_is_applied_with_exact_size() -> None:
    content = bytes(range(256)) * 3 + b"tail"
    writer = MultipartWriter(boundary="b")
    writer.append(BytesPayload(content), {"Content-Transfer-Encoding": "base64"})
    writer.append(io.BytesIO(content), {"Content-Transfer-Encoding": "BASE64"})
    body = await collect(writer)
    assert writer.size == len(body)
    parts = email_parts(writer.content_type, body)
    assert [p.payload for p in parts] == [content, content]
    lines = body.split(b"\r\n")
    assert max(len(line) for line in lines if not line.startswith(b"Content")) <= 76


async def test_small_parts_are_joined_into_one_piece() -> None:
    writer = MultipartWriter(boundary="b")
    for i in range(10):
        writer.append(StringPayload(str(i)))
    pieces = [piece async for piece in writer]
    assert len(pieces) == 1


async def test_a_part_shorter_than_announced_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "shrinks.bin"
    path.write_bytes(b"x" * 1000)
    with path.open("rb") as fd:
        writer = MultipartWriter()
        writer.append(fd)
        path.write_bytes(b"x" * 10)  # truncated after the size was taken
        with pytest.raises(PayloadError, match=r"ended 990 bytes short of the 1000 bytes"):
            await collect(writer)


def test_parts_and_headers_are_visible() -> None:
    writer = MultipartWriter()
    part = writer.append("x", {"X-A": "1"})
    assert len(writer) == 1
    assert list(writer) == [part]
    assert writer.parts == (part,)
    assert part.headers["x-a"] == "1"
    assert part.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "MultipartWriter" in repr(writer)


def test_nested_boundary_starting_with_the_outer_one_is_rejected_rfc2046_5_1_2() -> None:
    outer = MultipartWriter(boundary="abc")
    with pytest.raises(
        ValueError, match=r"nested multipart's boundary 'abcd' starts with the enclosing one 'abc'"
    ):
        outer.append(MultipartWriter(boundary="abcd"))
    deep = MultipartWriter(boundary="x")
    deep.append(MultipartWriter(boundary="abc"))
    with pytest.raises(ValueError, match=r"boundary 'abc' starts with the enclosing one 'abc'"):
        outer.append(deep)
    outer.append(MultipartWriter(boundary="ab"))  # a prefix of ours is harmless


def test_a_writer_cannot_contain_itself_through_a_nested_one() -> None:
    outer = MultipartWriter()
    inner = MultipartWriter()
    inner.append(outer)
    with pytest.raises(ValueError, match="cannot contain itself"):
        outer.append(inner)


def test_a_content_type_changed_on_the_payload_is_still_checked() -> None:
    payload = BytesPayload(b"x")
    payload.content_type = "text/plain\r\nX-Injected: 1"
    with pytest.raises(ValueError, match=r"part header 'Content-Type' value .* contains CR, LF"):
        MultipartWriter().append(payload)
