"""Field helpers: the careful line parser, list fields, Content-Length, Transfer-Encoding, Host."""

from __future__ import annotations

import pytest

from httpwire.parser import (
    FieldTooLargeError,
    InvalidFramingError,
    InvalidHeaderError,
    TooManyHeadersError,
)
from httpwire.parser._headers import (
    comma_tokens,
    content_codings,
    parse_content_length,
    parse_fields_slow,
    parse_transfer_encoding,
    raw_fields,
    validate_host,
)


def slow(block: bytes, *, is_request: bool = False) -> list[tuple[str, str]]:
    pairs, raw = parse_fields_slow(
        block, is_request=is_request, max_field_size=100, max_headers=10
    )
    assert [(n.encode(), v.encode("utf-8", "surrogateescape")) for n, v in pairs] == list(raw)
    return pairs


def test_slow_path_unfolds_obs_fold_in_responses() -> None:
    assert slow(b"A: 1\r\n 2\r\n\t 3\r\nB: x\r\n") == [("A", "1 2 3"), ("B", "x")]
    assert slow(b"A:\r\n 2\r\n") == [("A", "2")]


def test_slow_path_accepts_bare_lf_in_responses_only() -> None:
    assert slow(b"A: 1\nB: 2\r\n") == [("A", "1"), ("B", "2")]
    with pytest.raises(InvalidHeaderError, match="bare LF in header line 2"):
        slow(b"A: 1\nB: 2\r\n", is_request=True)


def test_slow_path_rejects_leading_whitespace_on_the_first_line() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        slow(b" A: 1\r\n")
    assert str(info.value) == (
        "whitespace at the start of the first header line b' A: 1' (RFC 9112 §2.2)"
    )


def test_slow_path_limits() -> None:
    with pytest.raises(FieldTooLargeError) as info:
        slow(b"A: " + b"x" * 98 + b"\r\n")
    assert str(info.value) == (
        f"header line 2 {b'A: ' + b'x' * 61!r}... (101 bytes) is longer than "
        "max_field_size=100 bytes"
    )
    with pytest.raises(TooManyHeadersError) as too_many:
        slow(b"A: 1\r\n" * 11)
    assert str(too_many.value) == "more than max_headers=10 header fields (at line 12)"


def test_slow_path_rejects_ctl_in_a_folded_line() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        slow(b"A: 1\r\n \x00\r\n")
    assert (
        str(info.value) == "NUL b'\\x00' in the value of header line 3 b' \\x00' (RFC 9110 §5.5)"
    )


def test_raw_fields_cuts_pairs_out_of_a_validated_block() -> None:
    block = b"HTTP/1.1 200 OK\r\nA: 1\r\nb:\r\nC-D: x  y\r\n"
    assert raw_fields(block) == ((b"A", b"1"), (b"b", b""), (b"C-D", b"x  y"))


def test_comma_tokens_drop_empty_elements_and_lowercase() -> None:
    assert comma_tokens(["Keep-Alive, , Upgrade", " ,close "]) == [
        "keep-alive",
        "upgrade",
        "close",
    ]


def test_content_codings_keep_order_and_drop_identity() -> None:
    assert content_codings(["gzip, Identity", "BR"]) == ("gzip", "br")


def test_parse_content_length() -> None:
    assert parse_content_length(["0"]) == 0
    assert parse_content_length(["12", " 12 ,12"]) == 12
    assert parse_content_length(["999999999999999999"]) == 10**18 - 1
    with pytest.raises(InvalidFramingError, match="has more than 18 digits"):
        parse_content_length(["1000000000000000000"])


def test_long_content_length_value_is_quoted_with_a_bound() -> None:
    with pytest.raises(InvalidFramingError) as info:
        parse_content_length(["x" * 1000])
    assert (
        str(info.value)
        == f"Content-Length {b'x' * 64!r}... (1000 bytes) is not 1*DIGIT (RFC 9110 §8.6)"
    )


def test_parse_transfer_encoding() -> None:
    assert parse_transfer_encoding(["chunked"], is_request=True) == (True, ())
    assert parse_transfer_encoding(["Gzip", "CHUNKED"], is_request=True) == (True, ("gzip",))
    assert parse_transfer_encoding(["deflate"], is_request=False) == (False, ("deflate",))


def test_validate_host() -> None:
    validate_host(["example.org:80"], http11=True)
    validate_host([], http11=False)
    with pytest.raises(InvalidHeaderError):
        validate_host([], http11=True)
