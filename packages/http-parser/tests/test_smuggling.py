"""Request smuggling and header injection: every ambiguity is an error with its own class.

Each case cites the rule. Requests are the main target (a server or proxy that
frames a request differently from its neighbour is the attack); the framing rules
are applied to responses as well, where RFC 9112 asks the same.
"""

from __future__ import annotations

import pytest

from httpwire.parser import (
    HttpParserError,
    InvalidChunkError,
    InvalidFramingError,
    InvalidHeaderError,
    RequestParser,
    ResponseHead,
    ResponseParser,
)

GET = b"GET / HTTP/1.1\r\nHost: h\r\n"
POST = b"POST / HTTP/1.1\r\nHost: h\r\n"
OK = b"HTTP/1.1 200 OK\r\n"


def request_error(data: bytes, cls: type[HttpParserError]) -> str:
    with pytest.raises(cls) as info:
        RequestParser().feed(data)
    return str(info.value)


def response_error(data: bytes, cls: type[HttpParserError]) -> str:
    with pytest.raises(cls) as info:
        ResponseParser().feed(data)
    return str(info.value)


# -- CL.TE / TE.CL (RFC 9112 §6.1, §6.3) -------------------------------------------------------


def test_content_length_and_transfer_encoding_together_are_rejected_in_requests() -> None:
    data = POST + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert request_error(data, InvalidFramingError) == (
        "request has both Transfer-Encoding b'chunked' and Content-Length b'4' "
        "(RFC 9112 §6.1, §6.3)"
    )


def test_content_length_and_transfer_encoding_together_are_rejected_in_responses() -> None:
    data = OK + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"
    assert response_error(data, InvalidFramingError) == (
        "response has both Transfer-Encoding b'chunked' and Content-Length b'4' (RFC 9112 §6.3)"
    )


def test_differing_duplicate_content_lengths_are_rejected_rfc9110_8_6() -> None:
    data = POST + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"
    assert request_error(data, InvalidFramingError) == (
        "differing Content-Length values b'4', b'5' (RFC 9110 §8.6, RFC 9112 §6.3)"
    )
    data = OK + b"Content-Length: 4, 5\r\n\r\nabcde"
    assert response_error(data, InvalidFramingError) == (
        "differing Content-Length values b'4, 5' (RFC 9110 §8.6, RFC 9112 §6.3)"
    )


@pytest.mark.parametrize(
    "fields", [b"Content-Length: 3\r\nContent-Length: 3\r\n", b"Content-Length: 3 , 3,3\r\n"]
)
def test_identical_content_lengths_count_as_one_rfc9110_8_6(fields: bytes) -> None:
    events = RequestParser().feed(POST + fields + b"\r\nabc")
    assert events[1] == b"abc"


@pytest.mark.parametrize(
    "value",
    [b"-1", b"+3", b"3 3", b"0x3", b"3.0", b"", b"1_0", b"\xd9\xa3", b"3;", b"\xef\xbc\x93"],
)
def test_content_length_must_be_digits_only(value: bytes) -> None:
    message = request_error(
        POST + b"Content-Length: " + value + b"\r\n\r\nabc", InvalidFramingError
    )
    if value:
        assert message == f"Content-Length {value!r} is not 1*DIGIT (RFC 9110 §8.6)"
    else:
        assert message == "Content-Length b'' is not 1*DIGIT (RFC 9110 §8.6)"


def test_content_length_with_too_many_digits_is_rejected() -> None:
    value = b"1" * 19
    message = request_error(POST + b"Content-Length: " + value + b"\r\n\r\n", InvalidFramingError)
    assert message == f"Content-Length {value!r} has more than 18 digits (RFC 9110 §8.6)"


def test_leading_zeros_in_content_length_are_plain_digits() -> None:
    assert RequestParser().feed(POST + b"Content-Length: 003\r\n\r\nabc")[1] == b"abc"


# -- Transfer-Encoding (RFC 9112 §6.1, §7) ----------------------------------------------------


def test_request_whose_last_coding_is_not_chunked_is_rejected_rfc9112_6_3() -> None:
    data = POST + b"Transfer-Encoding: chunked, gzip\r\n\r\n"
    assert request_error(data, InvalidFramingError) == (
        "chunked is not the last transfer coding or is applied twice in Transfer-Encoding "
        "b'chunked, gzip' (RFC 9112 §6.1, §7.1)"
    )
    data = POST + b"Transfer-Encoding: gzip\r\n\r\n"
    assert request_error(data, InvalidFramingError) == (
        "the last transfer coding of a request must be chunked: Transfer-Encoding b'gzip' "
        "(RFC 9112 §6.3)"
    )


def test_chunked_applied_twice_is_rejected() -> None:
    data = POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert request_error(data, InvalidFramingError) == (
        "chunked is not the last transfer coding or is applied twice in Transfer-Encoding "
        "b'chunked, chunked' (RFC 9112 §6.1, §7.1)"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (b"chunked;q=1", b"chunked;q=1"),
        (b"xchunked", b"xchunked"),
        (b"chunked\x0b", b"chunked\x0b"),
        (b"identity", b"identity"),
        (b'"chunked"', b'"chunked"'),
    ],
)
def test_unknown_transfer_codings_are_rejected(value: bytes, shown: bytes) -> None:
    data = POST + b"Transfer-Encoding: " + value + b"\r\n\r\n"
    with pytest.raises(HttpParserError) as info:
        RequestParser().feed(data)
    if b"\x0b" in value:
        assert isinstance(info.value, InvalidHeaderError)  # a CTL: caught by the field rules
    else:
        assert isinstance(info.value, InvalidFramingError)
        assert str(info.value) == (
            f"unknown transfer coding {shown!r} in Transfer-Encoding {value!r} (RFC 9112 §6.1, §7)"
        )


def test_empty_transfer_encoding_is_rejected() -> None:
    assert request_error(POST + b"Transfer-Encoding: ,\r\n\r\n", InvalidFramingError) == (
        "empty Transfer-Encoding b',' (RFC 9112 §6.1)"
    )


def test_transfer_encoding_in_http10_response_is_faulty_framing_rfc9112_6_1() -> None:
    data = b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert response_error(data, InvalidFramingError) == (
        "Transfer-Encoding b'chunked' in an HTTP/1.0 message: its framing is faulty "
        "(RFC 9112 §6.1)"
    )


# -- chunk sizes (RFC 9112 §7.1) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "rule"),
    [
        (b"-1", "is signed: it must be 1*HEXDIG"),
        (b"0x10", "is not hex"),
        (b"1" + b"0" * 16, "has more than 16 hex digits"),
        (b"fffffffffffffff1", "overflows a 63-bit length"),
    ],
)
def test_bad_chunk_sizes_are_rejected(size: bytes, rule: str) -> None:
    data = POST + b"Transfer-Encoding: chunked\r\n\r\n" + size + b"\r\n"
    assert request_error(data, InvalidChunkError) == f"chunk size {size!r} {rule} (RFC 9112 §7.1)"


# -- field syntax (RFC 9112 §5, RFC 9110 §5) ---------------------------------------------------


def test_whitespace_before_the_colon_is_rejected_rfc9112_5_1() -> None:
    message = request_error(GET + b"Transfer-Encoding : chunked\r\n\r\n", InvalidHeaderError)
    assert message == (
        "whitespace before the colon in header line 3 b'Transfer-Encoding : chunked' "
        "(RFC 9112 §5.1)"
    )
    message = response_error(OK + b"Content-Length\t: 1\r\n\r\nx", InvalidHeaderError)
    assert message == (
        "whitespace before the colon in header line 2 b'Content-Length\\t: 1' (RFC 9112 §5.1)"
    )


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (b"a\x00b", "NUL b'\\x00'"),
        (b"a\x0bb", "a control character b'\\x0b'"),
        (b"a\x7f", "a control character b'\\x7f'"),
    ],
)
def test_ctl_in_a_field_value_is_rejected_rfc9110_5_5(value: bytes, kind: str) -> None:
    line = b"X: " + value
    assert request_error(GET + line + b"\r\n\r\n", InvalidHeaderError) == (
        f"{kind} in the value of header line 3 {line!r} (RFC 9110 §5.5)"
    )


def test_bare_cr_in_a_field_value_is_rejected() -> None:
    assert request_error(GET + b"X: a\rInjected: 1\r\n\r\n", InvalidHeaderError) == (
        "bare CR in header line 3 b'X: a\\rInjected: 1': CR is only allowed before LF "
        "(RFC 9112 §2.2)"
    )


def test_bare_lf_in_a_request_value_is_rejected() -> None:
    assert request_error(
        GET + b"X: a\nTransfer-Encoding: chunked\r\n\r\n", InvalidHeaderError
    ) == (
        "bare LF in header line 3 b'X: a\\nTransfer-Encoding: chunked': requests must end "
        "lines with CRLF (RFC 9112 §2.2)"
    )


@pytest.mark.parametrize("name", [b"X(y)", b"\xc3\xa9", b"a/b", b"", b"X\x00"])
def test_invalid_token_characters_in_a_field_name_are_rejected(name: bytes) -> None:
    line = name + b": v"
    assert request_error(GET + line + b"\r\n\r\n", InvalidHeaderError) == (
        f"invalid field name {name!r} in header line 3 {line!r}: a name is a token (RFC 9110 §5.1)"
    )


def test_line_without_colon_is_rejected() -> None:
    assert request_error(GET + b"NoColonHere\r\n\r\n", InvalidHeaderError) == (
        "header line 3 b'NoColonHere' has no colon (RFC 9112 §5)"
    )


def test_obs_fold_cannot_smuggle_a_transfer_encoding_in_a_request() -> None:
    data = POST + b"Content-Length: 5\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert request_error(data, InvalidHeaderError).startswith("obs-fold in header line 5")


def test_folded_response_value_never_creates_a_field() -> None:
    events = ResponseParser().feed(
        OK + b"X: y\r\n Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\nz"
    )
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert head.headers["X"] == "y Transfer-Encoding: chunked"
    assert "Transfer-Encoding" not in head.headers
    assert events[1] == b"z"


@pytest.mark.parametrize("method", [b"G\x00T", b"GET\t", b'G"T', b"G@T", b"G\xc3\xa9T"])
def test_invalid_token_characters_in_a_method_are_rejected(method: bytes) -> None:
    with pytest.raises(HttpParserError) as info:
        RequestParser().feed(method + b" / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert repr(method)[2:-1] in str(info.value)
    assert "RFC 9110 §9.1" in str(info.value) or "RFC 9112 §3" in str(info.value)
