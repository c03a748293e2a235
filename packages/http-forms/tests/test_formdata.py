"""FormData: urlencoded or multipart, filenames, quoting, charsets, and what it refuses."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from multidict import MultiDict

from httpwire.forms import BytesPayload, FormData, MultipartWriter, payload_from

from .helpers import collect, email_parts


async def test_the_guides_dict_is_urlencoded() -> None:
    form = FormData({"key1": "value1", "key2": "value2"})
    assert not form.is_multipart
    body = form.build()
    assert body.content_type == "application/x-www-form-urlencoded"
    assert await collect(body) == b"key1=value1&key2=value2"


async def test_urlencoded_escapes_and_keeps_order_and_repeats() -> None:
    form = FormData(MultiDict([("k", "a b"), ("k", "&=+"), ("é", "ü"), ("raw", "")]))
    form.add_field("bytes", b"\xff\x00")
    assert await collect(form.build()) == (b"k=a+b&k=%26%3D%2B&%C3%A9=%C3%BC&raw=&bytes=%FF%00")


async def test_urlencoded_charset() -> None:
    form = FormData({"name": "café"}, charset="latin-1")
    assert form.charset == "latin-1"
    assert await collect(form.build()) == b"name=caf%E9"


def test_unknown_charset_fails_early() -> None:
    with pytest.raises(LookupError):
        FormData(charset="no-such-charset")


async def test_the_guides_file_upload(tmp_path: Path) -> None:
    path = tmp_path / "report.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 spreadsheet")
    with path.open("rb") as fd:
        form = FormData()
        form.add_field("file", fd, filename="report.xls", content_type="application/vnd.ms-excel")
        assert form.is_multipart
        body = form.build()
        assert isinstance(body, MultipartWriter)
        assert body.content_type.startswith("multipart/form-data; boundary=")
        data = await collect(body)
    (part,) = email_parts(body.content_type, data)
    assert part.headers["Content-Disposition"] == 'form-data; name="file"; filename="report.xls"'
    assert part.content_type == "application/vnd.ms-excel"
    assert part.payload == path.read_bytes()


async def test_a_dict_holding_an_open_file_becomes_multipart(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG...")
    with path.open("rb") as fd:
        body = payload_from({"file": fd, "caption": "me"})
        assert isinstance(body, MultipartWriter)
        data = await collect(body)
    file_part, caption = email_parts(body.content_type, data)
    assert (file_part.name, file_part.filename, file_part.content_type) == (
        "file",
        "photo.png",
        "image/png",
    )
    assert file_part.payload == b"\x89PNG..."
    # A plain field in multipart has no Content-Type, as browsers send it.
    assert "Content-Type" not in caption.headers
    assert (caption.name, caption.payload) == ("caption", b"me")


async def test_filename_falls_back_to_the_field_name() -> None:
    form = FormData()
    form.add_field("upload", io.BytesIO(b"data"))
    body = form.build()
    (part,) = email_parts(body.content_type, await collect(body))
    assert part.filename == "upload"


async def test_content_type_alone_switches_to_multipart() -> None:
    form = FormData()
    form.add_field("meta", '{"a": 1}', content_type="application/json")
    assert form.is_multipart
    body = form.build()
    (part,) = email_parts(body.content_type, await collect(body))
    assert (part.content_type, part.payload, part.filename) == (
        "application/json",
        b'{"a": 1}',
        None,
    )


async def test_multipart_text_parts_say_a_given_charset() -> None:
    form = FormData(charset="latin-1")
    form.add_field("name", "café")
    form.add_field("file", b"x", filename="x.bin")
    body = form.build()
    name, _ = email_parts(body.content_type, await collect(body))
    assert name.headers["Content-Type"] == "text/plain; charset=latin-1"
    assert name.payload == b"caf\xe9"


async def test_names_and_filenames_cannot_inject_headers_rfc7578_4_2() -> None:
    form = FormData()
    form.add_field('a"\r\nX-Injected: 1', b"v", filename='evil"\r\nContent-Type: text/html.txt')
    body = form.build()
    data = await collect(body)
    (part,) = email_parts(body.content_type, data)
    assert "X-Injected" not in part.headers
    assert part.headers["Content-Disposition"] == (
        'form-data; name="a%22%0D%0AX-Injected: 1"; '
        'filename="evil%22%0D%0AContent-Type: text/html.txt"'
    )
    assert part.content_type == "text/plain"  # guessed from ".txt", not injected


def test_without_quote_fields_such_names_are_refused() -> None:
    form = FormData(quote_fields=False)
    with pytest.raises(ValueError, match=r"field 'a\\r\\nb': .* holds a '\"', CR or LF"):
        form.add_field("a\r\nb", "v", content_type="text/plain")
    with pytest.raises(ValueError, match=r"field 'f': .*filename='x\"y'"):
        form.add_field("f", b"v", filename='x"y')


async def test_non_ascii_names_are_utf8_without_filename_star() -> None:
    form = FormData()
    form.add_field("имя", io.BytesIO(b"z"), filename="файл €.txt")
    body = form.build()
    data = await collect(body)
    assert 'name="имя"; filename="файл €.txt"'.encode() in data
    assert b"filename*" not in data


@pytest.mark.parametrize(
    ("value", "kind"),
    [(42, "int"), (None, "NoneType"), (3.5, "float"), (object(), "object"), ({"a": 1}, "dict")],
)
def test_unsupported_values_are_a_type_error_naming_the_field(value: object, kind: str) -> None:
    form = FormData()
    with pytest.raises(
        TypeError, match=rf"field 'count': a value of type {kind} cannot be sent; use str, bytes"
    ):
        form.add_field("count", value)


def test_name_must_be_a_str() -> None:
    with pytest.raises(TypeError, match="form field name must be str, not bytes"):
        FormData().add_field(b"name", "v")  # type: ignore[arg-type]  # the point of the test


def test_filename_must_be_a_str() -> None:
    with pytest.raises(TypeError, match="field 'f': filename must be str, not bytes"):
        FormData().add_field("f", b"v", filename=b"x")  # type: ignore[arg-type]  # the point


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"content_type": "text/plain\r\nX: 1"}, r"part header 'Content-Type' value"),
        ({"content_transfer_encoding": "gzip"}, r"content_transfer_encoding 'gzip' is not one"),
        ({"content_transfer_encoding": "base64\n"}, r"contains CR, LF or NUL"),
    ],
)
def test_bad_part_options_are_value_errors(kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FormData().add_field("f", b"v", **kwargs)


async def test_base64_transfer_encoding() -> None:
    form = FormData()
    form.add_field("f", b"\x00\x01binary", content_transfer_encoding="base64")
    body = form.build()
    (part,) = email_parts(body.content_type, await collect(body))
    assert part.headers["Content-Transfer-Encoding"] == "base64"
    assert part.payload == b"\x00\x01binary"


async def test_add_fields_takes_mappings_pairs_lists_and_files(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("n")
    with path.open("rb") as fd:
        form = FormData()
        form.add_fields(
            {"a": "1"},
            MultiDict([("b", "2"), ("b", "3")]),
            ("c", "4"),
            [("d", "5"), ("e", "6")],
            fd,
        )
        body = form.build()
        parts = email_parts(body.content_type, await collect(body))
    assert [(p.name, p.payload) for p in parts] == [
        ("a", b"1"),
        ("b", b"2"),
        ("b", b"3"),
        ("c", b"4"),
        ("d", b"5"),
        ("e", b"6"),
        ("notes.txt", b"n"),
    ]
    assert parts[-1].filename == "notes.txt"


def test_add_fields_rejects_other_things() -> None:
    with pytest.raises(TypeError, match=r"cannot add int 7 as form fields: expected a mapping"):
        FormData().add_fields(7)
    with pytest.raises(TypeError, match=r"cannot name a form field after .*: it has no file name"):
        FormData().add_fields(io.BytesIO(b""))


async def test_async_iterables_and_payloads_are_file_parts() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"streamed"

    form = FormData()
    form.add_field("s", gen(), filename="s.bin")
    form.add_field("p", BytesPayload(b"payload", content_type="image/gif", filename="p.gif"))
    body = form.build()
    assert body.size is None
    first, second = email_parts(body.content_type, await collect(body))
    assert (first.filename, first.payload) == ("s.bin", b"streamed")
    assert (second.filename, second.content_type, second.payload) == (
        "p.gif",
        "image/gif",
        b"payload",
    )


async def test_build_is_repeatable_with_files_seeking_back(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    with path.open("rb") as fd:
        fd.seek(4)
        form = FormData({"f": fd})
        first = form.build()
        second = form.build()
        assert first.reusable and second.reusable
        a, b = await collect(first), await collect(second)
    assert email_parts(first.content_type, a)[0].payload == b"456789"
    assert email_parts(second.content_type, b)[0].payload == b"456789"
    assert first.size == len(a)


def test_repr_names_the_kind_and_fields() -> None:
    assert repr(FormData({"a": "1"})) == "<FormData urlencoded fields=['a']>"


async def test_file_parts_from_bytes_say_their_type() -> None:
    form = FormData()
    form.add_field("pic", b"GIF89a", filename="a.gif")
    form.add_field("blob", b"\x00", filename="noext")
    body = form.build()
    pic, blob = email_parts(body.content_type, await collect(body))
    assert pic.headers["Content-Type"] == "image/gif"
    assert blob.headers["Content-Type"] == "application/octet-stream"
