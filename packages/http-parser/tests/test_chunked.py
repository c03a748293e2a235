"""The chunked transfer coding (RFC 9112 §7.1): sizes, extensions, data ends, trailers."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from httpwire.parser import (
    EndOfMessage,
    FieldTooLargeError,
    InvalidChunkError,
    InvalidHeaderError,
    LineTooLongError,
    RequestParser,
    ResponseParser,
    TooManyHeadersError,
)
from httpwire.parser._chunked import parse_chunk_size_line

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
REQUEST = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"


def body(data: bytes, *, request: bool = False, step: int = 0) -> list[object]:
    """Events after the head of a chunked message whose body is ``data``."""
    parser = RequestParser() if request else ResponseParser()
    raw = (REQUEST if request else HEAD) + data
    events: list[object] = []
    step = step or len(raw)
    for i in range(0, len(raw), step):
        events += parser.feed(raw[i : i + step])
    out: list[object] = []
    for event in events[1:]:
        if isinstance(event, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += event
        else:
            out.append(event)
    return out


def chunk_error(data: bytes) -> str:
    with pytest.raises(InvalidChunkError) as info:
        body(data)
    return str(info.value)


@pytest.mark.parametrize("step", [0, 1, 2, 3, 5])
def test_sizes_in_any_case_with_leading_zeros(step: int) -> None:
    data = b"A\r\n0123456789\r\nf\r\n0123456789abcde\r\n0001\r\nz\r\n000\r\n\r\n"
    assert body(data, step=step) == [b"0123456789" + b"0123456789abcde" + b"z", EndOfMessage()]


def test_extensions_are_parsed_and_ignored_rfc9112_7_1_1() -> None:
    data = b'3;a=b;c;d="q \\" s" ; e = f\r\nabc\r\n0;last\r\n\r\n'
    assert body(data) == [b"abc", EndOfMessage()]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"-1", "chunk size b'-1' is signed: it must be 1*HEXDIG (RFC 9112 §7.1)"),
        (b"+5", "chunk size b'+5' is signed: it must be 1*HEXDIG (RFC 9112 §7.1)"),
        (b"0x5", "chunk size b'0x5' is not hex (RFC 9112 §7.1)"),
        (b"5_0", "chunk size b'5_0' is not hex (RFC 9112 §7.1)"),
        (b"g", "chunk size b'g' is not hex (RFC 9112 §7.1)"),
        (b"\xd9\xa5", "chunk size b'\\xd9\\xa5' is not hex (RFC 9112 §7.1)"),
        (b"", "chunk size line b'' has no chunk size (RFC 9112 §7.1)"),
        (b" 5", "chunk size line b' 5' has no chunk size (RFC 9112 §7.1)"),
        (
            b"1" + b"0" * 16,
            "chunk size b'10000000000000000' has more than 16 hex digits (RFC 9112 §7.1)",
        ),
        (
            b"0" * 17 + b"1",
            "chunk size b'000000000000000001' has more than 16 hex digits (RFC 9112 §7.1)",
        ),
        (
            b"8000000000000000",
            "chunk size b'8000000000000000' overflows a 63-bit length (RFC 9112 §7.1)",
        ),
        (
            b"ffffffffffffffff",
            "chunk size b'ffffffffffffffff' overflows a 63-bit length (RFC 9112 §7.1)",
        ),
        (
            b"5 ",
            "invalid chunk extension b' ' in the chunk size line b'5 ': expected *( ; name "
            "[ = token / quoted-string ] ) (RFC 9112 §7.1.1)",
        ),
        (
            b"5;a b",
            "invalid chunk extension b';a b' in the chunk size line b'5;a b': expected *( ; name "
            "[ = token / quoted-string ] ) (RFC 9112 §7.1.1)",
        ),
        (
            b'5;a="x',
            "invalid chunk extension b';a=\"x' in the chunk size line b'5;a=\"x': expected *( ; "
            "name [ = token / quoted-string ] ) (RFC 9112 §7.1.1)",
        ),
        (
            b"5;\x00",
            "invalid chunk extension b';\\x00' in the chunk size line b'5;\\x00': expected *( ; "
            "name [ = token / quoted-string ] ) (RFC 9112 §7.1.1)",
        ),
        (
            b"5\rx",
            "bare CR or LF in the chunk size line b'5\\rx': chunk lines end with CRLF "
            "(RFC 9112 §7.1)",
        ),
    ],
)
def test_invalid_chunk_size_lines_are_rejected(line: bytes, message: str) -> None:
    assert chunk_error(line + b"\r\nhello\r\n0\r\n\r\n") == message


def test_bare_lf_after_the_chunk_size_is_rejected() -> None:
    assert chunk_error(b"5\nhello\r\n0\r\n\r\n") == (
        "bare CR or LF in the chunk size line b'5\\nhello': chunk lines end with CRLF "
        "(RFC 9112 §7.1)"
    )


@pytest.mark.parametrize("step", [0, 1])
def test_chunk_data_must_end_with_crlf(step: int) -> None:
    with pytest.raises(InvalidChunkError) as info:
        body(b"3\r\nabcd\r\n0\r\n\r\n", step=step)
    assert str(info.value).startswith("chunk data not followed by CRLF: got b'd")
    assert str(info.value).endswith("(RFC 9112 §7.1)")


def test_chunk_data_followed_by_lf_only_is_rejected() -> None:
    with pytest.raises(InvalidChunkError) as info:
        body(b"3\r\nabc\n0\r\n\r\n")
    assert str(info.value) == "chunk data not followed by CRLF: got b'\\n0' (RFC 9112 §7.1)"


def test_overlong_chunk_size_line_fails_before_its_end_arrives() -> None:
    parser = ResponseParser(max_line_size=100)
    parser.feed(HEAD + b"5;" + b"a" * 50)
    with pytest.raises(LineTooLongError) as info:
        parser.feed(b"b" * 60)
    assert str(info.value).startswith("chunk size line b'5;aaaa")
    assert str(info.value).endswith(
        "(112 bytes) is longer than max_line_size=100 bytes (chunk extensions are bounded)"
    )


def test_overlong_chunk_size_line_in_one_piece() -> None:
    with pytest.raises(LineTooLongError):
        ResponseParser(max_line_size=100).feed(HEAD + b"5;" + b"a" * 200 + b"\r\nhello\r\n")


def test_trailers_are_parsed_with_field_rules() -> None:
    data = b"2\r\nhi\r\n0\r\nExpires: never\r\nX-Sum:  1 \r\nx-sum: 2\r\n\r\n"
    end = body(data)[1]
    assert isinstance(end, EndOfMessage)
    assert end.trailers == CIMultiDict([("Expires", "never"), ("X-Sum", "1"), ("x-sum", "2")])
    assert end.raw_trailers == ((b"Expires", b"never"), (b"X-Sum", b"1"), (b"x-sum", b"2"))


def test_invalid_trailer_is_rejected_with_the_line() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        body(b"0\r\nBad Name: x\r\n\r\n")
    assert str(info.value) == (
        "invalid field name b'Bad Name' in trailer line 1 b'Bad Name: x': a name is a token "
        "(RFC 9110 §5.1)"
    )


def test_obs_fold_in_request_trailers_is_rejected() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        body(b"0\r\nA: x\r\n y\r\n\r\n", request=True)
    assert str(info.value) == (
        "obs-fold in trailer line 2 b' y': line folding is not allowed in requests (RFC 9112 §5.2)"
    )


def test_trailer_limits_apply() -> None:
    parser = ResponseParser(max_headers=2)
    with pytest.raises(TooManyHeadersError):
        parser.feed(HEAD + b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
    parser = ResponseParser(max_field_size=30)
    parser.feed(HEAD + b"0\r\nA: " + b"x" * 20)
    with pytest.raises(FieldTooLargeError) as info:
        parser.feed(b"y" * 20)
    assert str(info.value) == (
        f"trailer line {b'A: ' + b'x' * 20 + b'y' * 20!r} is longer than max_field_size=30 bytes"
    )


def test_parse_chunk_size_line_returns_the_size() -> None:
    assert parse_chunk_size_line(b"1F") == 31
    assert parse_chunk_size_line(b"7fffffffffffffff") == 2**63 - 1
    assert parse_chunk_size_line(b"a \t; n = v") == 10


def test_request_and_response_chunked_bodies_mark_chunk_ends() -> None:
    parser = RequestParser(mark_chunks=True)
    events = parser.feed(REQUEST + b"1\r\na\r\n2\r\nbc\r\n0\r\n\r\n")
    assert [repr(e) if not isinstance(e, bytes) else e for e in events[1:]] == [
        b"a",
        "END_OF_CHUNK",
        b"bc",
        "END_OF_CHUNK",
        "EndOfMessage(trailers=<CIMultiDict()>, raw_trailers=())",
    ]


@pytest.mark.parametrize("request_", [False, True])
def test_chunked_decoding_never_waits_for_more_than_it_needs_rfc9112_7_1(request_: bool) -> None:
    """Each piece yields every event it completes: data as it arrives, no look-ahead."""
    parser = RequestParser() if request_ else ResponseParser(mark_chunks=True)
    if not request_:
        assert isinstance(parser, ResponseParser)
    parser.feed(REQUEST if request_ else HEAD)
    steps: list[tuple[bytes, list[object]]] = [
        (b"5", []),  # the size may go on: 5, 50, 5f...
        (b"\r", []),
        (b"\n", []),  # the size line is complete: nothing more is needed to start the data
        (b"he", [b"he"]),  # data goes out as it comes
        (b"llo", [b"llo"]),
        (b"\r", []),
        (b"\n", []),
        (b"0\r\n", []),  # the last chunk: a trailer section or the empty line follows
        (b"\r\n", [EndOfMessage()]),  # the end, without waiting for another byte
    ]
    if not request_:
        steps[6] = (b"\n", ["END_OF_CHUNK"])
    for piece, want in steps:
        got = [repr(e) if type(e).__name__ == "EndOfChunk" else e for e in parser.feed(piece)]
        assert got == want, piece
        assert parser.buffered == 0 or piece in (b"5", b"\r", b"0\r\n")
    whole = b"5\r\nhello\r\n0\r\n\r\n"
    fresh = ResponseParser()
    fresh.feed(HEAD)
    assert fresh.feed(whole) == [b"hello", EndOfMessage()]
    assert fresh.buffered == 0
