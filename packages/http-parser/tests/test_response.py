"""ResponseParser: start lines, framing (RFC 9112 §6.3), interim responses, upgrades, pipelining.

Also checked against a real peer: Python's http.server over a loopback socket.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator, Sequence

import pytest
from multidict import CIMultiDict

from httpwire.parser import (
    END_OF_CHUNK,
    HTTP10,
    HTTP11,
    BadStartLineError,
    EndOfMessage,
    HttpParserError,
    HttpVersion,
    IncompleteMessageError,
    InformationalResponse,
    InvalidFramingError,
    InvalidHeaderError,
    ResponseHead,
    ResponseParser,
    _decoders,
    make_decoder,
    supported_codings,
)


def parse(data: bytes, *methods: str) -> list[object]:
    """All events of ``data`` fed at once, then again byte by byte: both must agree."""
    whole = ResponseParser()
    single = ResponseParser()
    for method in methods:
        whole.expect_response(method)
        single.expect_response(method)
    events = whole.feed(data)
    pieces: list[object] = []
    for i in range(len(data)):
        pieces += single.feed(data[i : i + 1])
    assert _merge(pieces) == _merge(events)
    return _merge(events)


def _merge(events: Sequence[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += event
        else:
            out.append(event)
    return out


def head_of(events: Sequence[object]) -> ResponseHead:
    head = events[0]
    assert isinstance(head, ResponseHead)
    return head


# -- status line (RFC 9112 §4) ----------------------------------------------------------


def test_simple_response_with_content_length() -> None:
    events = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello")
    head = head_of(events)
    assert (head.version, head.status, head.reason) == (HTTP11, 200, "OK")
    assert head.headers == CIMultiDict([("Content-Length", "5"), ("Server", "x")])
    assert head.raw_headers == ((b"Content-Length", b"5"), (b"Server", b"x"))
    assert (head.content_length, head.chunked, head.should_close, head.upgrade) == (
        5,
        False,
        False,
        False,
    )
    assert events[1:] == [b"hello", EndOfMessage()]


def test_empty_reason_phrase_with_its_space_is_accepted_rfc9112_4() -> None:
    head = head_of(parse(b"HTTP/1.1 204 \r\n\r\n"))
    assert (head.status, head.reason) == (204, "")


@pytest.mark.parametrize("version", [b"1.1", b"1.0"])
def test_status_line_without_the_sp_before_an_empty_reason_is_accepted_rfc9112_4(
    version: bytes,
) -> None:
    """RFC 9112 §4 makes the second SP a sender's MUST; the reason is ignorable, so a client
    accepts ``HTTP/1.1 200`` from real servers that omit it (framing does not depend on it)."""
    events = parse(b"HTTP/" + version + b" 200\r\nContent-Length: 2\r\n\r\nok")
    head = head_of(events)
    assert (head.status, head.reason, head.content_length) == (200, "", 2)
    assert events[1:] == [b"ok", EndOfMessage()]
    # The slow path (here: a folded field) agrees.
    head = head_of(parse(b"HTTP/1.1 404\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"))
    assert (head.status, head.reason, head.headers["X"]) == (404, "", "a b")


@pytest.mark.parametrize(
    "line", [b"HTTP/1.1 2000", b"HTTP/1.1 200\tOK", b"HTTP/1.1 20", b"HTTP/1.1  200 OK"]
)
def test_status_line_without_sp_still_needs_exactly_three_digits_rfc9112_4(line: bytes) -> None:
    for piece in (len(line) + 4, 1):
        parser = ResponseParser()
        wire = line + b"\r\n\r\n"
        with pytest.raises(BadStartLineError):
            for i in range(0, len(wire), piece):
                parser.feed(wire[i : i + piece])


def test_reason_phrase_keeps_spaces_tabs_and_obs_text() -> None:
    head = head_of(parse(b"HTTP/1.1 404 Not \tFound \xc3\xa9\xff\r\nContent-Length: 0\r\n\r\n"))
    assert head.reason == "Not \tFound \xe9\udcff"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            b"HTTP/2.0 200 OK",
            "unsupported HTTP version b'HTTP/2.0' in the status line b'HTTP/2.0 200 OK': "
            "only HTTP/1.x is spoken here (RFC 9112 §2.3)",
        ),
        (
            b"HTTP/0.9 200 OK",
            "unsupported HTTP version b'HTTP/0.9' in the status line b'HTTP/0.9 200 OK': "
            "only HTTP/1.x is spoken here (RFC 9112 §2.3)",
        ),
        (
            b"HTTP/1.10 200 OK",
            "invalid HTTP version b'HTTP/1.10' in the status line b'HTTP/1.10 200 OK': "
            "expected HTTP/DIGIT.DIGIT (RFC 9112 §2.3)",
        ),
        (
            b"http/1.1 200 OK",
            "the response starts with b'http/1.1 200 OK', which cannot begin an HTTP/1.x "
            "status line (RFC 9112 §4)",
        ),
        (
            b"HTTP/1.1 20 OK",
            "status code b'20' in the status line b'HTTP/1.1 20 OK' is not 3DIGIT (RFC 9112 §4)",
        ),
        (
            b"HTTP/1.1 099 OK",
            "status code b'099' in the status line b'HTTP/1.1 099 OK' is outside 100-599 "
            "(RFC 9110 §15)",
        ),
        (
            b"HTTP/1.1 600 OK",
            "status code b'600' in the status line b'HTTP/1.1 600 OK' is outside 100-599 "
            "(RFC 9110 §15)",
        ),
        (
            b"HTTP/1.1  200 OK",
            "status code b'' in the status line b'HTTP/1.1  200 OK' is not 3DIGIT (RFC 9112 §4)",
        ),
        (
            b"HTTP/1.1 200 O\x00K",
            "invalid reason phrase b'O\\x00K' in the status line b'HTTP/1.1 200 O\\x00K': "
            "only HTAB, SP, VCHAR and obs-text are allowed (RFC 9112 §4)",
        ),
    ],
)
def test_bad_status_lines_are_rejected_with_the_line_quoted(line: bytes, message: str) -> None:
    with pytest.raises(BadStartLineError) as info:
        ResponseParser().feed(line + b"\r\nContent-Length: 0\r\n\r\n")
    assert str(info.value) == message


def test_http10_version_is_reported() -> None:
    head = head_of(parse(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"))
    assert head.version == HTTP10
    assert head.should_close


def test_other_http1_minor_versions_are_kept() -> None:
    head = head_of(parse(b"HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n"))
    assert head.version == HttpVersion(1, 2)
    assert not head.should_close


# -- fields (RFC 9112 §5, RFC 9110 §5) ---------------------------------------------------


def test_header_values_are_utf8_with_surrogateescape_and_raw_bytes_are_kept() -> None:
    head = head_of(parse(b"HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9 \xff\r\nContent-Length: 0\r\n\r\n"))
    assert head.headers["x-a"] == "caf\xe9 \udcff"
    assert head.headers["x-a"].encode("utf-8", "surrogateescape") == b"caf\xc3\xa9 \xff"
    assert head.raw_headers[0] == (b"X-A", b"caf\xc3\xa9 \xff")


def test_whitespace_around_values_is_stripped_and_empty_values_kept() -> None:
    head = head_of(
        parse(b"HTTP/1.1 200 OK\r\nA:  x y \t\r\nB:\r\nC: \r\nContent-Length: 0\r\n\r\n")
    )
    assert head.headers.getall("a") == ["x y"]
    assert head.headers["b"] == ""
    assert head.headers["c"] == ""
    assert head.raw_headers[:3] == ((b"A", b"x y"), (b"B", b""), (b"C", b""))


def test_repeated_fields_keep_wire_order() -> None:
    head = head_of(parse(b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX: 1\r\nset-cookie: b=2\r\n\r\n"))
    assert head.headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert [name for name, _ in head.raw_headers] == [b"Set-Cookie", b"X", b"set-cookie"]


def test_obs_fold_in_a_response_is_replaced_by_a_space_rfc9112_5_2() -> None:
    head = head_of(
        parse(b"HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\tthree\r\nContent-Length: 0\r\n\r\n")
    )
    assert head.headers["x-long"] == "one two three"
    assert head.raw_headers[0] == (b"X-Long", b"one two three")


def test_bare_lf_line_ends_are_accepted_in_responses_rfc9112_2_2() -> None:
    events = parse(b"HTTP/1.1 200 OK\nContent-Length: 2\nX: y\r\n\nhi")
    head = head_of(events)
    assert head.headers == CIMultiDict([("Content-Length", "2"), ("X", "y")])
    assert events[1:] == [b"hi", EndOfMessage()]


def test_bare_lf_head_followed_by_crlf_crlf_in_the_body_ends_at_the_first_empty_line() -> None:
    events = parse(b"HTTP/1.1 200 OK\nContent-Length: 6\n\nab\r\n\r\n")
    assert head_of(events).content_length == 6
    assert events[1:] == [b"ab\r\n\r\n", EndOfMessage()]


def test_bare_cr_in_a_response_head_is_rejected_rfc9112_2_2() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        ResponseParser().feed(b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n")
    assert str(info.value) == (
        "bare CR in header line 2 b'X: a\\rb': CR is only allowed before LF (RFC 9112 §2.2)"
    )


def test_leading_empty_lines_before_a_status_line_are_skipped() -> None:
    events = parse(b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert head_of(events).status == 200


# -- body framing (RFC 9112 §6.3) --------------------------------------------------------


def test_chunked_response_body_and_trailers() -> None:
    events = parse(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nDigest: x\r\n\r\n"
    )
    head = head_of(events)
    assert (head.chunked, head.content_length, head.should_close) == (True, None, False)
    assert events[1] == b"hello world"
    end = events[2]
    assert isinstance(end, EndOfMessage)
    assert end.trailers == CIMultiDict(Digest="x")
    assert end.raw_trailers == ((b"Digest", b"x"),)


def test_mark_chunks_emits_end_of_chunk_after_each_chunk() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    for size in (1, 2, 7, len(data)):
        parser = ResponseParser(mark_chunks=True)
        events: list[object] = []
        for i in range(0, len(data), size):
            events += parser.feed(data[i : i + size])
        rest = _merge(events[1:])
        assert rest == [b"abc", END_OF_CHUNK, b"de", END_OF_CHUNK, EndOfMessage()]


def test_response_without_length_is_read_until_close() -> None:
    parser = ResponseParser()
    events = parser.feed(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nsome")
    head = head_of(events)
    assert (head.should_close, head.content_length, head.chunked) == (True, None, False)
    assert events[1:] == [b"some"]
    assert parser.feed(b" more") == [b" more"]
    assert parser.feed_eof() == [EndOfMessage()]


def test_transfer_coding_other_than_chunked_last_is_read_until_close_rfc9112_6_3() -> None:
    parser = ResponseParser()
    events = parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b")
    head = head_of(events)
    assert (head.should_close, head.chunked, head.content_coding) == (True, False, ("gzip",))
    assert parser.feed_eof() == [EndOfMessage()]


@pytest.mark.parametrize(
    ("te", "decoded", "undecoded"),
    [
        (b"identity", (), ()),
        (b"gzip", ("gzip",), ()),
        (b"x-custom", (), ("x-custom",)),
        (b"compress", (), ("compress",)),
        (b"gzip, x-custom", (), ("gzip", "x-custom")),
        (b"x-custom, gzip", ("gzip",), ("x-custom",)),
        (b"chunked, gzip", ("gzip",), ("chunked",)),
        (b"chunked;q=1", (), ("chunked;q=1",)),
    ],
)
def test_a_response_whose_last_transfer_coding_is_not_chunked_is_read_until_close_rfc9112_6_3(
    te: bytes, decoded: tuple[str, ...], undecoded: tuple[str, ...]
) -> None:
    """RFC 9112 §6.3 item 4: not refused; known codings are undone, the rest reported."""
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + te + b"\r\n\r\nbody bytes"
    events = parse(wire)
    head = head_of(events)
    assert (head.should_close, head.chunked, head.content_length) == (True, False, None)
    assert (head.content_coding, head.undecoded_coding) == (decoded, undecoded)
    assert events[1:] == [b"body bytes"]
    parser = ResponseParser()
    parser.feed(wire)
    assert parser.feed_eof() == [EndOfMessage()]


def test_an_unknown_transfer_coding_before_chunked_is_reported_not_refused() -> None:
    events = parse(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: x-custom, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
    )
    head = head_of(events)
    assert head.chunked and not head.should_close
    assert (head.content_coding, head.undecoded_coding) == ((), ("x-custom",))
    assert events[1:] == [b"ab", EndOfMessage()]


@pytest.mark.parametrize("ce", [b"utf-8", b"none", b"x-custom", b"compress", b"x-compress"])
def test_an_unknown_content_coding_is_passed_through_and_reported_rfc9110_8_4(ce: bytes) -> None:
    events = parse(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: " + ce + b"\r\nContent-Length: 3\r\n\r\nabc"
    )
    head = head_of(events)
    assert head.headers["Content-Encoding"] == ce.decode()  # as the server sent it
    assert (head.content_coding, head.undecoded_coding) == ((), (ce.decode(),))
    assert events[1:] == [b"abc", EndOfMessage()]
    assert ce.decode() not in supported_codings()
    assert make_decoder(head.content_coding) is None  # nothing to decode, nothing refused


def test_only_the_codings_applied_last_are_undone_when_an_earlier_one_is_unknown() -> None:
    head = head_of(
        parse(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, x-custom, deflate\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
    )
    assert (head.content_coding, head.undecoded_coding) == (("deflate",), ("gzip", "x-custom"))


def test_a_coding_whose_library_is_missing_is_reported_undecoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_decoders, "_modules", {"brotli": None, "zstandard": None})
    head = head_of(
        parse(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, br\r\nContent-Length: 0\r\n\r\n")
    )
    assert (head.content_coding, head.undecoded_coding) == ((), ("gzip", "br"))


def test_transfer_codings_before_chunked_are_reported_after_content_codings() -> None:
    head = head_of(
        parse(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            b"0\r\n\r\n"
        )
    )
    assert head.chunked
    assert head.content_coding == ("br", "gzip")


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_body_whatever_the_fields_say(status: int) -> None:
    data = (
        b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    )
    events = parse(data % status)
    assert head_of(events).status == status
    assert head_of(events).content_length is None
    assert events[1] == EndOfMessage()
    assert isinstance(events[2], ResponseHead)
    assert events[2].status == 200


def test_response_to_head_has_no_body_even_with_a_length_or_chunked() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    events = parse(data, "HEAD", "HEAD", "GET")
    kinds = [type(e).__name__ if not isinstance(e, bytes) else e for e in events]
    assert kinds == [
        "ResponseHead",
        "EndOfMessage",
        "ResponseHead",
        "EndOfMessage",
        "ResponseHead",
        b"ok",
        "EndOfMessage",
    ]


def test_interim_responses_come_before_the_final_head_and_do_not_consume_the_method() -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    )
    events = parse(data, "HEAD", "GET")
    first, second = events[0], events[1]
    assert isinstance(first, InformationalResponse)
    assert (first.status, first.reason, first.headers) == (100, "Continue", CIMultiDict())
    assert isinstance(second, InformationalResponse)
    assert second.headers["link"] == "</s.css>; rel=preload"
    assert second.raw_headers == ((b"Link", b"</s.css>; rel=preload"),)
    final = events[2]
    assert isinstance(final, ResponseHead)
    assert final.status == 200
    assert events[3] == EndOfMessage()  # HEAD: the 9 bytes are not sent
    assert events[5:] == [b"hi", EndOfMessage()]


def test_switching_protocols_hands_back_the_following_bytes_untouched() -> None:
    parser = ResponseParser()
    events = parser.feed(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        b"\x81\x05hello"
    )
    head = head_of(events)
    assert (head.status, head.upgrade, head.content_length) == (101, True, None)
    assert events[1:] == [EndOfMessage()]
    assert parser.upgraded
    assert parser.feed(b"\x81\x00 HTTP/1.1 200 OK\r\n\r\n") == []
    assert parser.trailing_data() == b"\x81\x05hello\x81\x00 HTTP/1.1 200 OK\r\n\r\n"
    assert parser.trailing_data() == b""
    assert parser.feed_eof() == []


def test_2xx_to_connect_opens_a_tunnel_but_an_error_answer_does_not() -> None:
    parser = ResponseParser()
    parser.expect_response("CONNECT")
    parser.expect_response("CONNECT")
    events = parser.feed(b"HTTP/1.1 407 Auth\r\nContent-Length: 3\r\n\r\nno!")
    assert [type(e) for e in events] == [ResponseHead, bytes, EndOfMessage]
    assert [parser.upgraded] == [False]
    events = parser.feed(
        b"HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n\x16\x03"
    )
    head = head_of(events)
    assert (head.upgrade, head.content_length) == (True, None)
    assert parser.upgraded
    assert parser.trailing_data() == b"\x16\x03"


def test_pipelined_responses_pair_with_the_methods_in_order() -> None:
    one = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
    data = one + b"abc" + one + one + b"xyz"
    events = parse(data, "GET", "HEAD", "GET")
    assert [e for e in events if isinstance(e, bytes)] == [b"abc", b"xyz"]
    assert sum(isinstance(e, EndOfMessage) for e in events) == 3


# -- connection management (RFC 9112 §9.3) ------------------------------------------------


@pytest.mark.parametrize(
    ("version", "connection", "should_close"),
    [
        (b"1.1", None, False),
        (b"1.1", b"close", True),
        (b"1.1", b"Keep-Alive, CLOSE", True),
        (b"1.1", b"keep-alive", False),
        (b"1.0", None, True),
        (b"1.0", b"keep-alive", False),
        (b"1.0", b"Keep-Alive", False),
        (b"1.0", b"keep-alive, close", True),
    ],
)
def test_should_close_follows_version_and_connection(
    version: bytes, connection: bytes | None, should_close: bool
) -> None:
    fields = b"Connection: " + connection + b"\r\n" if connection else b""
    head = head_of(
        parse(b"HTTP/" + version + b" 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n")
    )
    assert head.should_close is should_close


def test_content_coding_lists_encodings_in_applied_order_without_identity() -> None:
    head = head_of(
        parse(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: GZIP, identity\r\nContent-Encoding: br\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
    )
    assert head.content_coding == ("gzip", "br")


# -- end of stream (RFC 9112 §8) -----------------------------------------------------------


def test_eof_between_messages_is_clean() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx\r\n")
    assert parser.feed_eof() == []


def test_eof_in_a_content_length_body_says_how_many_bytes_are_missing() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello")
    with pytest.raises(IncompleteMessageError) as info:
        parser.feed_eof()
    assert str(info.value) == (
        "connection closed after 5 of 13 bytes of the body: 8 missing "
        "(Content-Length 13, RFC 9112 §8)"
    )
    assert (info.value.expected, info.value.received) == (13, 5)


def test_eof_in_a_head_names_the_head() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Le")
    with pytest.raises(IncompleteMessageError) as info:
        parser.feed_eof()
    assert str(info.value) == (
        "connection closed in the middle of a head after 27 bytes "
        "b'HTTP/1.1 200 OK\\r\\nContent-Le' (a head ends with an empty line, RFC 9112 §2.1)"
    )


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (b"", "connection closed in a chunk size line after 0 bytes b'' (RFC 9112 §7.1, §8)"),
        (b"1", "connection closed in a chunk size line after 1 bytes b'1' (RFC 9112 §7.1, §8)"),
        (
            b"a\r\nabc",
            "connection closed after 3 of 10 bytes of the chunk: 7 missing "
            "(chunk size 10, RFC 9112 §8)",
        ),
        (
            b"3\r\nabc",
            "connection closed before the CRLF that ends a chunk's data (RFC 9112 §7.1, §8)",
        ),
        (
            b"0\r\nX: 1\r\n",
            "connection closed in the trailer section after 6 bytes b'X: 1\\r\\n' "
            "(RFC 9112 §7.1.2, §8)",
        ),
    ],
)
def test_eof_in_a_chunked_body_names_the_part_that_was_cut(tail: bytes, message: str) -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + tail)
    with pytest.raises(IncompleteMessageError) as info:
        parser.feed_eof()
    assert str(info.value) == message


def test_feed_after_eof_is_a_programming_error() -> None:
    parser = ResponseParser()
    parser.feed_eof()
    with pytest.raises(RuntimeError, match=r"feed\(\) called after feed_eof\(\)"):
        parser.feed(b"HTTP/1.1 200 OK\r\n")


def test_parser_stays_failed_after_an_error() -> None:
    parser = ResponseParser()
    with pytest.raises(BadStartLineError) as first:
        parser.feed(b"HTTX/1.1 200 OK\r\n\r\n")
    with pytest.raises(BadStartLineError) as second:
        parser.feed(b"HTTP/1.1 200 OK\r\n\r\n")
    assert second.value is first.value


def test_bytearray_and_memoryview_input_are_accepted() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    assert ResponseParser().feed(bytearray(data))[1] == b"hi"
    assert ResponseParser().feed(memoryview(data))[1] == b"hi"


def test_a_whole_body_piece_is_the_object_that_was_fed() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    piece = b"x" * 50000
    assert parser.feed(piece)[0] is piece


def test_framing_error_on_a_both_framed_response() -> None:
    with pytest.raises(InvalidFramingError):
        ResponseParser().feed(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        )


# -- a real peer: Python's http.server over loopback ----------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/unframed":
            # No length and no chunking: the body ends when the server closes.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"until the server closes")
            self.close_connection = True
        elif self.path == "/continue":
            self.send_response_only(100)
            self.end_headers()
            self._send(b"after continue")
        else:
            self._send(b"body of " + self.path.encode())

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1234")
        self.end_headers()

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[0], httpd.server_address[1]  # type: ignore[misc]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _exchange(address: tuple[str, int], requests: bytes, close_after: bool) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(requests)
        if close_after:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_pipelined_responses_from_http_server(server: tuple[str, int]) -> None:
    requests = (
        b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD /two HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /continue HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    data = _exchange(server, requests, close_after=False)
    for size in (1, 7, 100, len(data)):
        parser = ResponseParser()
        for method in ("GET", "HEAD", "GET", "GET", "GET"):
            parser.expect_response(method)
        events: list[object] = []
        for i in range(0, len(data), size):
            events += parser.feed(data[i : i + size])
        events += parser.feed_eof()
        events = _merge(events)
        heads = [e for e in events if isinstance(e, ResponseHead)]
        assert [h.status for h in heads] == [200] * 5
        assert heads[0].headers["Server"].startswith("BaseHTTP/")
        assert heads[1].content_length is None  # HEAD: 1234 announced, none sent
        assert heads[2].chunked
        assert not heads[4].should_close  # http.server closes without saying so in the head
        interim = [e for e in events if isinstance(e, InformationalResponse)]
        assert [i.status for i in interim] == [100]
        assert [e for e in events if isinstance(e, bytes)] == [
            b"body of /one",
            b"hello chunked world",
            b"after continue",
            b"body of /last",
        ]
        assert sum(isinstance(e, EndOfMessage) for e in events) == 5


def test_http10_response_read_until_close_from_http_server(server: tuple[str, int]) -> None:
    data = _exchange(server, b"GET /old HTTP/1.0\r\n\r\n", close_after=False)
    parser = ResponseParser()
    events = parser.feed(data) + parser.feed_eof()
    head = head_of(events)
    assert head.version == HTTP11  # http.server answers with its own protocol version
    assert head.content_length == len(b"body of /old")
    assert _merge(events)[1:] == [b"body of /old", EndOfMessage()]


def test_read_until_close_body_from_http_server(server: tuple[str, int]) -> None:
    data = _exchange(server, b"GET /unframed HTTP/1.1\r\nHost: x\r\n\r\n", close_after=False)
    for size in (1, 3, len(data)):
        parser = ResponseParser()
        events: list[object] = []
        for i in range(0, len(data), size):
            events += parser.feed(data[i : i + size])
        head = head_of(events)
        assert (head.should_close, head.content_length, head.chunked) == (True, None, False)
        assert EndOfMessage() not in events  # only the close ends this body
        events += parser.feed_eof()
        assert _merge(events)[1:] == [b"until the server closes", EndOfMessage()]


def test_values_and_reasons_beyond_latin1_take_the_careful_path() -> None:
    # RFC 9110 §5.5: obs-text (bytes 0x80-0xFF) is allowed in a value and RFC 9112 §4 in a
    # reason phrase. Text decoding to code points above U+00FF (UTF-8 beyond Latin-1, or a
    # byte that is not UTF-8) leaves the bulk path; the careful path must give the same head.
    euro = "€".encode()  # E2 82 AC: U+20AC
    data = (
        b"HTTP/1.1 200 Gut " + euro + b"\r\nX-Price: 5 " + euro + b"\r\nX-Raw: a\xffb\r\n"
        b"X-Latin: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\nok"
    )
    head, body, end = parse(data)  # fed whole and byte by byte
    assert isinstance(head, ResponseHead)
    assert head.reason == "Gut €"
    assert head.headers["X-Price"] == "5 €"
    assert head.headers["X-Raw"].encode("utf-8", "surrogateescape") == b"a\xffb"
    assert head.headers["X-Latin"] == "café"
    assert head.raw_headers == (
        (b"X-Price", b"5 " + euro),
        (b"X-Raw", b"a\xffb"),
        (b"X-Latin", b"caf\xc3\xa9"),
        (b"Content-Length", b"2"),
    )
    assert body == b"ok"
    assert isinstance(end, EndOfMessage)


# --- field lines remembered across responses -------------------------------------------------


def _first_head(events: Sequence[object]) -> ResponseHead:
    head = events[0]
    assert isinstance(head, ResponseHead)
    return head


def test_a_remembered_field_line_never_lets_a_bad_line_through_rfc9112_2_2() -> None:
    # The same valid line, then one differing only by a bare CR or a CTL: the first is
    # remembered, the others must still be refused (or unfolded) by the careful path.
    good = b"HTTP/1.1 200 OK\r\nX-Same: value\r\nContent-Length: 0\r\n\r\n"
    for _ in range(2):
        p = ResponseParser()
        p.expect_response("GET")
        assert _first_head(p.feed(good)).headers["X-Same"] == "value"
    for bad in (b"X-Same: val\rue", b"X-Same: val\x00ue", b"X-Same : value"):
        p = ResponseParser()
        p.expect_response("GET")
        with pytest.raises(HttpParserError):
            p.feed(b"HTTP/1.1 200 OK\r\n" + bad + b"\r\nContent-Length: 0\r\n\r\n")


def test_set_cookie_lines_are_not_remembered() -> None:
    from httpwire.parser import _headers

    secret = "Set-Cookie: session=do-not-keep-me"
    p = ResponseParser()
    p.expect_response("GET")
    head = _first_head(
        p.feed(f"HTTP/1.1 200 OK\r\n{secret}\r\nContent-Length: 0\r\n\r\n".encode())
    )
    assert head.headers["Set-Cookie"] == "session=do-not-keep-me"
    assert secret not in _headers._KNOWN_LINES
    assert "Content-Length: 0" in _headers._KNOWN_LINES


def test_a_server_sending_new_lines_every_time_keeps_the_memory_bounded() -> None:
    from httpwire.parser import _headers

    p = ResponseParser()
    for index in range(3 * _headers._KNOWN_MAX):
        p.expect_response("GET")
        head = _first_head(
            p.feed(f"HTTP/1.1 200 OK\r\nX-N: {index}\r\nContent-Length: 0\r\n\r\n".encode())
        )
        assert head.headers["X-N"] == str(index)
    assert len(_headers._KNOWN_LINES) <= _headers._KNOWN_MAX


def test_a_head_ending_in_a_bare_lf_after_crlf_lines_takes_the_careful_path_rfc9112_2_2() -> None:
    p = ResponseParser()
    p.expect_response("GET")
    events = p.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\n\nhi")
    assert _first_head(events).headers["Content-Length"] == "2"
    assert events[1] == b"hi"


def test_a_remembered_head_is_still_held_to_each_parsers_limits() -> None:
    head = b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nContent-Length: 0\r\n\r\n"
    for _ in range(2):  # the second time, the head is remembered
        roomy = ResponseParser()
        roomy.expect_response("GET")
        assert roomy.feed(head)[0].headers["X-C"] == "3"  # type: ignore[union-attr]
    few = ResponseParser(max_headers=3)
    few.expect_response("GET")
    with pytest.raises(HttpParserError, match="max_headers=3"):
        few.feed(head)
    short = ResponseParser(max_field_size=8)
    short.expect_response("GET")
    with pytest.raises(HttpParserError, match="max_field_size=8"):
        short.feed(head)


def test_each_response_of_a_remembered_head_gets_fields_of_its_own() -> None:
    head = b"HTTP/1.1 200 OK\r\nX-Mine: 1\r\nContent-Length: 2\r\n\r\nhi"
    p = ResponseParser()
    first: list[ResponseHead] = []
    for _ in range(3):  # after the first, the head is remembered
        p.expect_response("GET")
        events = p.feed(head)
        got = _first_head(events)
        assert got.headers["X-Mine"] == "1"
        assert "X-Added" not in got.headers  # a change to an earlier response stays there
        assert got.content_length == 2 and not got.chunked and not got.should_close
        assert events[1] == b"hi" and isinstance(events[2], EndOfMessage)
        got.headers["X-Added"] = "changed"
        got.headers["X-Mine"] = "changed"
        first.append(got)
    assert len({id(h.headers) for h in first}) == 3


def test_a_remembered_head_keeps_its_framing_errors_rfc9112_6_3() -> None:
    # Both Transfer-Encoding and Content-Length: rejected every time, remembered or not.
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"
    for _ in range(3):
        p = ResponseParser()
        p.expect_response("GET")
        with pytest.raises(HttpParserError, match=r"RFC 9112 §6\.3"):
            p.feed(head)


def test_a_head_that_sets_a_cookie_is_not_remembered() -> None:
    from httpwire.parser import _response

    head = b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=k33p-0ut\r\nContent-Length: 0\r\n\r\n"
    p = ResponseParser()
    p.expect_response("GET")
    assert p.feed(head)[0].headers["Set-Cookie"] == "sid=k33p-0ut"  # type: ignore[union-attr]
    assert not any(b"k33p-0ut" in block for block in _response._HEADS)


def test_many_different_heads_keep_the_remembered_ones_bounded() -> None:
    from httpwire.parser import _response

    p = ResponseParser()
    for index in range(3 * _response._HEADS_MAX):
        p.expect_response("GET")
        head, _end = p.feed(
            f"HTTP/1.1 200 OK\r\nX-N: {index}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        assert head.headers["X-N"] == str(index)  # type: ignore[union-attr]
    assert len(_response._HEADS) <= _response._HEADS_MAX
