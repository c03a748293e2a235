"""Form decoding of the test server (RFC 7578 multipart, urlencoded), its edge cases and errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpwire_testserver._forms import FormError, UploadedFile, parse_form

BOUNDARY = "xYzZY-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def _part(disposition: str, content: bytes, *extra: str) -> bytes:
    head = "\r\n".join([f"Content-Disposition: {disposition}", *extra])
    return f"--{BOUNDARY}\r\n{head}\r\n\r\n".encode() + content + b"\r\n"


def test_urlencoded_keeps_order_blanks_and_repeats() -> None:
    form = parse_form("application/x-www-form-urlencoded", b"a=1&b=&a=2&c=%C3%A9+x")

    assert form is not None
    assert form.fields == [("a", "1"), ("b", ""), ("a", "2"), ("c", "é x")]


def test_other_media_types_are_not_forms() -> None:
    assert parse_form("application/json", b"{}") is None
    assert parse_form("", b"a=1") is None


def test_multipart_with_preamble_epilogue_and_quoted_boundary() -> None:
    body = (
        b"preamble to ignore\r\n"
        + _part('form-data; name="a"', b"one")
        + _part(
            'form-data; name="f"; filename="x.txt"', b"file\r\nbody", "Content-Type: text/plain"
        )
        + f"--{BOUNDARY}--\r\nepilogue".encode()
    )
    form = parse_form(f'multipart/form-data; boundary="{BOUNDARY}"', body)

    assert form is not None
    assert form.fields == [("a", "one")]
    assert form.files == [UploadedFile("f", "x.txt", "text/plain", b"file\r\nbody")]


def test_rfc2231_filename_wins() -> None:
    body = (
        _part(
            'form-data; name="f"; filename="plain.txt"; filename*=UTF-8\'\'%C3%A9t%C3%A9.txt', b"x"
        )
        + f"--{BOUNDARY}--".encode()
    )
    form = parse_form(MULTIPART, body)

    assert form is not None
    assert form.files[0].filename == "été.txt"


def test_utf8_field_name_and_charset() -> None:
    body = (
        _part('form-data; name="naïve"', "déjà".encode())
        + _part(
            'form-data; name="l1"',
            "déjà".encode("latin-1"),
            "Content-Type: text/plain; charset=latin-1",
        )
        + f"--{BOUNDARY}--".encode()
    )
    form = parse_form(MULTIPART, body)

    assert form is not None
    assert form.fields == [("naïve", "déjà"), ("l1", "déjà")]


def test_missing_boundary_is_an_error() -> None:
    with pytest.raises(FormError, match="multipart/form-data without a boundary"):
        parse_form("multipart/form-data", b"")


def test_missing_close_delimiter_is_an_error() -> None:
    with pytest.raises(FormError, match="ends without its close delimiter"):
        parse_form(MULTIPART, _part('form-data; name="a"', b"cut"))


def test_body_without_any_delimiter_is_an_error() -> None:
    with pytest.raises(FormError, match="has no delimiter line"):
        parse_form(MULTIPART, b"nothing here")


def test_part_without_content_disposition_is_an_error() -> None:
    body = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--".encode()

    with pytest.raises(FormError, match=r"without Content-Disposition \(RFC 7578 §4.2\)"):
        parse_form(MULTIPART, body)


def test_part_without_name_is_an_error() -> None:
    body = _part("form-data", b"x") + f"--{BOUNDARY}--".encode()

    with pytest.raises(FormError, match="multipart part without a name: 'form-data'"):
        parse_form(MULTIPART, body)


_names = st.text(
    st.characters(codec="utf-8", exclude_characters='"\\\r\n\x00'), min_size=1, max_size=20
)
_content = st.binary(max_size=200).filter(lambda b: BOUNDARY.encode() not in b)


@given(
    fields=st.lists(st.tuples(_names, st.text(max_size=50)), max_size=5),
    files=st.lists(st.tuples(_names, _names, _content), max_size=3),
)
def test_multipart_round_trip(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]
) -> None:
    body = b"".join(_part(f'form-data; name="{n}"', v.encode()) for n, v in fields)
    body += b"".join(
        _part(f'form-data; name="{n}"; filename="{f}"', c, "Content-Type: application/x-test")
        for n, f, c in files
    )
    body += f"--{BOUNDARY}--\r\n".encode()
    form = parse_form(MULTIPART, body)

    assert form is not None
    assert form.fields == fields
    assert form.files == [UploadedFile(n, f, "application/x-test", c) for n, f, c in files]
