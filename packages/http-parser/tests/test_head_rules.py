"""Head rules whose outcome must never depend on how the bytes were split.

obs-fold (RFC 9112 §5.2), whitespace around values (RFC 9110 §5.5), start lines judged as
soon as they are complete (RFC 9112 §3, §4) and empty lines before a start line (RFC 9112
§2.2). Every case is fed whole, byte by byte, and (with hypothesis) at random cuts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpwire.parser import (
    BadStartLineError,
    EndOfMessage,
    Event,
    FieldTooLargeError,
    HeadTooLargeError,
    HttpParserError,
    IncompleteMessageError,
    InvalidHeaderError,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
    TooManyHeadersError,
)

Outcome = list[object] | type[HttpParserError]


def outcome(data: bytes, cuts: Sequence[int], *, request: bool = False, **limits: int) -> Outcome:
    """The merged events of ``data`` cut at ``cuts``, or the class of the error raised."""
    cls = RequestParser if request else ResponseParser
    parser: ResponseParser | RequestParser = cls(
        max_line_size=limits.get("max_line_size", 8190),
        max_field_size=limits.get("max_field_size", 8190),
        max_headers=limits.get("max_headers", 128),
        max_head_size=limits.get("max_head_size", 65536),
    )
    events: list[Event] = []
    bounds = [0, *sorted(cuts), len(data)]
    try:
        for a, b in itertools.pairwise(bounds):
            if b > a:
                events += parser.feed(data[a:b])
        events += parser.feed_eof()
    except HttpParserError as exc:
        return type(exc)
    merged: list[object] = []
    for event in events:
        if type(event) is bytes and merged and type(merged[-1]) is bytes:
            merged[-1] = merged[-1] + event
        else:
            merged.append(event)
    return merged


def same_every_way(data: bytes, *, request: bool = False, **limits: int) -> Outcome:
    """Whole, byte by byte and in two halves: the outcome must be the same."""
    whole = outcome(data, [], request=request, **limits)
    assert outcome(data, range(1, len(data)), request=request, **limits) == whole
    assert outcome(data, [len(data) // 2], request=request, **limits) == whole
    return whole


def head_of(result: Outcome) -> ResponseHead:
    assert isinstance(result, list), result
    head = result[0]
    assert isinstance(head, ResponseHead)
    return head


# -- obs-fold: one field, counted once, bounded as a whole (RFC 9112 §5.2) ----------------------


def test_fold_lines_are_not_counted_as_fields_rfc9112_5_2() -> None:
    """129 continuation lines of one field are one field, under max_headers=128, any split."""
    wire = b"HTTP/1.1 200 OK\r\nX: a\r\n" + b" b\r\n" * 129 + b"Content-Length: 0\r\n\r\n"
    head = head_of(same_every_way(wire))
    assert head.headers["X"] == "a" + " b" * 129
    assert len(head.headers) == 2


def test_fields_beyond_max_headers_are_refused_whatever_their_folds_rfc9112_5_2() -> None:
    fields = b"".join(b"F%d: v\r\n \tw\r\n" % i for i in range(4))
    ok = b"HTTP/1.1 200 OK\r\n" + fields[: fields.index(b"F3")] + b"\r\n"
    assert isinstance(same_every_way(ok, max_headers=3), list)
    too_many = b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n"
    assert same_every_way(too_many, max_headers=3) is TooManyHeadersError


def test_the_unfolded_field_is_bounded_by_max_field_size_rfc9112_5_2() -> None:
    """The limit applies to a line and its continuation lines together, line ends excluded."""
    field = b"X: a" + b"\r\n bbbbbbbbb" * 9  # 4 + 9 * 10 = 94 bytes unfolded
    wire = b"HTTP/1.1 200 OK\r\n" + field + b"\r\nContent-Length: 0\r\n\r\n"
    assert isinstance(same_every_way(wire, max_field_size=94), list)
    assert same_every_way(wire, max_field_size=93) is FieldTooLargeError


def test_thousands_of_fold_lines_cannot_make_a_value_past_the_limit_rfc9112_5_2() -> None:
    wire = b"HTTP/1.1 200 OK\r\nX: a\r\n" + b" " + b"\r\n b" * 5000 + b"\r\n\r\n"
    assert same_every_way(wire) is FieldTooLargeError
    with pytest.raises(FieldTooLargeError) as info:
        ResponseParser().feed(wire)
    assert "obs-fold continuation" in str(info.value) and "max_field_size=8190" in str(info.value)


def test_an_unfinished_fold_line_counts_against_the_field_as_it_arrives() -> None:
    parser = ResponseParser(max_field_size=50)
    parser.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 30 + b"\r\n ")
    with pytest.raises(FieldTooLargeError):
        parser.feed(b"b" * 25)  # 33 + 26 > 50, and the line has not ended yet


def test_fold_lines_in_trailers_are_one_field_too_rfc9112_5_2() -> None:
    body = b"0\r\nT: a\r\n" + b" b\r\n" * 200 + b"\r\n"
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    result = same_every_way(wire)
    assert isinstance(result, list)
    end = result[-1]
    assert isinstance(end, EndOfMessage)
    assert end.trailers["T"] == "a" + " b" * 200
    assert same_every_way(wire, max_field_size=100) is FieldTooLargeError


@pytest.mark.parametrize("request_", [False, True])
def test_whitespace_at_the_start_of_the_first_field_line_is_refused_rfc9112_2_2(
    request_: bool,
) -> None:
    start = b"GET / HTTP/1.1\r\n" if request_ else b"HTTP/1.1 200 OK\r\n"
    wire = start + b" X: a" + b"a" * 9000 + b"\r\nHost: h\r\n\r\n"
    assert same_every_way(wire, request=request_) is InvalidHeaderError


def test_obs_fold_in_a_request_is_refused_however_long_and_however_split_rfc9112_5_2() -> None:
    wire = b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n " + b"b" * 9000 + b"\r\n\r\n"
    assert same_every_way(wire, request=True) is InvalidHeaderError


_fold = st.builds(
    lambda ws, text: ws + text,
    st.sampled_from([b" ", b"\t", b"  ", b" \t "]),
    st.sampled_from([b"", b"x", b"more text", b"   ", b"a,b"]),
)
_field = st.tuples(
    st.sampled_from([b"X-A", b"Connection", b"Vary", b"x-b"]),
    st.sampled_from([b"", b"v", b"close", b"keep-alive", b"a b"]),
    st.lists(_fold, max_size=6),
)


@given(
    fields=st.lists(_field, max_size=6),
    line_end=st.sampled_from([b"\r\n", b"\n"]),
    max_field_size=st.integers(4, 40),
    max_headers=st.integers(1, 5),
    data=st.data(),
)
def test_fold_lines_never_change_the_outcome_across_splits_rfc9112_5_2(
    fields: list[tuple[bytes, bytes, list[bytes]]],
    line_end: bytes,
    max_field_size: int,
    max_headers: int,
    data: st.DataObject,
) -> None:
    head = b"HTTP/1.1 200 OK" + line_end
    for name, value, folds in fields:
        head += name + b": " + value + line_end + b"".join(f + line_end for f in folds)
    wire = head + b"Content-Length: 2" + line_end + line_end + b"okHTTP/1.1 204 \r\n\r\n"
    limits = {"max_field_size": max_field_size, "max_headers": max_headers + 1}
    whole = outcome(wire, [], request=False, **limits)
    cuts = data.draw(st.lists(st.integers(1, len(wire) - 1), max_size=8))
    assert outcome(wire, cuts, request=False, **limits) == whole
    assert outcome(wire, range(1, len(wire)), request=False, **limits) == whole


# -- values are interpreted without surrounding whitespace (RFC 9112 §5.2, RFC 9110 §5.5) ---


@pytest.mark.parametrize("fold", [b" ", b"   ", b"\t", b" \t "])
def test_a_fold_of_only_whitespace_leaves_no_trailing_whitespace_rfc9110_5_5(fold: bytes) -> None:
    wire = (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n" + fold + b"\r\n"
        b"Content-Length: 2\r\n" + fold + b"\r\n"
        b"Content-Encoding: gzip\r\n" + fold + b"\r\n"
        b"X-Empty:\r\n" + fold + b"\r\n"
        b"\r\nok"
    )
    head = head_of(same_every_way(wire))
    assert head.should_close  # the server said close: the connection is never pooled
    assert head.headers["Connection"] == "close"
    assert head.content_length == 2
    assert head.content_coding == ("gzip",)
    assert head.headers["X-Empty"] == ""
    assert head.raw_headers[0] == (b"Connection", b"close")


def test_a_folded_transfer_encoding_is_interpreted_after_unfolding_rfc9112_5_2() -> None:
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n \t\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    result = same_every_way(wire)
    head = head_of(result)
    assert head.chunked and head.headers["Transfer-Encoding"] == "chunked"
    assert isinstance(result, list) and result[1:] == [b"ok", EndOfMessage()]


def test_a_connection_list_continued_on_a_fold_line_is_one_list_rfc9112_5_2() -> None:
    wire = b"HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n  close  \r\nContent-Length: 0\r\n\r\n"
    head = head_of(same_every_way(wire))
    assert head.headers["Connection"] == "keep-alive, close"
    assert head.should_close


# -- a start line is judged as soon as it is complete (RFC 9112 §3, §4) -----------------------


@pytest.mark.parametrize(
    "first",
    [
        b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n",
        b"HTTP/1.1 600 Nope\r\n",
        b"HTTP/2.0 200 OK\r\n",
        b"HTTP/1.1 20 OK\r\n",
        b"HTTPS/1.1 200 OK\r\n",
    ],
)
def test_a_complete_invalid_status_line_is_refused_at_once_rfc9112_4(first: bytes) -> None:
    """A peer that sends one bad line and then waits must not hang the client."""
    with pytest.raises(BadStartLineError):
        ResponseParser().feed(first)
    parser = ResponseParser()
    with pytest.raises(BadStartLineError):
        for i in range(len(first)):
            parser.feed(first[i : i + 1])


@pytest.mark.parametrize("start", [b"SSH-", b"<", b"\x16\x03\x01", b"HTTX", b"http", b"GET /"])
def test_first_bytes_that_cannot_begin_http_are_refused_at_once_rfc9112_4(start: bytes) -> None:
    with pytest.raises(BadStartLineError) as info:
        ResponseParser().feed(start)
    assert "cannot begin an HTTP/1.x status line (RFC 9112 §4)" in str(info.value)
    parser = ResponseParser()
    with pytest.raises(BadStartLineError):
        for i in range(len(start)):
            parser.feed(start[i : i + 1])


@pytest.mark.parametrize("start", [b"H", b"HTTP", b"HTTP/", b"HTTP/1.1 200 O", b"\r\n", b"\nHT"])
def test_a_valid_beginning_waits_for_more(start: bytes) -> None:
    parser = ResponseParser()
    assert parser.feed(start) == []


def test_an_http09_style_answer_is_a_bad_start_line_not_a_cut_head_rfc9112_4() -> None:
    """A bare document, then close: refused from its first byte, not at the end of stream."""
    page = b"<html><body>It works!</body></html>\n"
    assert same_every_way(page) is BadStartLineError
    parser = ResponseParser()
    with pytest.raises(BadStartLineError):
        parser.feed(page)


def test_a_cut_valid_status_line_is_still_an_incomplete_message() -> None:
    assert same_every_way(b"HTTP/1.1 200 OK") is IncompleteMessageError


def test_a_complete_invalid_request_line_is_refused_at_once_rfc9112_3() -> None:
    for line in (b"GET / HTTP/2.0\r\n", b"GET  / HTTP/1.1\r\n", b"G@T / HTTP/1.1\r\n"):
        with pytest.raises(BadStartLineError):
            RequestParser().feed(line)


@pytest.mark.parametrize("request_", [False, True])
def test_start_line_errors_are_the_same_however_split(request_: bool) -> None:
    lines = [
        b"HT\rTP/1.1 200 OK",
        b"HTTP/1.1 200 O\rK",
        b"GET /\r HTTP/1.1",
        b"X" * 9000,
        b"HTTP/1.1 200 " + b"r" * 9000,
        b"GET /" + b"a" * 9000 + b" HTTP/1.1",
    ]
    for line in lines:
        wire = line + b"\r\nHost: h\r\n\r\n"
        assert isinstance(same_every_way(wire, request=request_), type)


# -- empty lines before a start line count against the head (RFC 9112 §2.2) ------------------


@pytest.mark.parametrize("cls", [ResponseParser, RequestParser])
def test_an_endless_stream_of_empty_lines_is_refused_rfc9112_2_2(
    cls: type[ResponseParser] | type[RequestParser],
) -> None:
    parser = cls(max_head_size=1000)
    with pytest.raises(HeadTooLargeError) as info:
        for _ in range(10_000):
            parser.feed(b"\r\n" * 7)
    assert parser.buffered <= 1
    assert "empty lines" in str(info.value)
    assert info.value.limit == 1000


@pytest.mark.parametrize("request_", [False, True])
def test_empty_lines_and_the_head_share_max_head_size_rfc9112_2_2(request_: bool) -> None:
    head = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n" if request_ else b"HTTP/1.1 204 \r\n\r\n"
    for empty in (b"\r\n", b"\n") if not request_ else (b"\r\n",):
        room = 100 - len(head)
        fits = empty * (room // len(empty)) + head
        assert len(fits) == 100 or (len(empty) == 2 and len(fits) == 99)
        result = same_every_way(fits, request=request_, max_head_size=100)
        assert isinstance(result, list) and len(result) == 2
        over = empty * (room // len(empty) + 1) + head
        assert same_every_way(over, request=request_, max_head_size=100) is HeadTooLargeError


def test_empty_lines_are_counted_afresh_for_every_message() -> None:
    one = b"\r\n" * 30 + b"HTTP/1.1 204 \r\n\r\n"
    result = same_every_way(one * 20, max_head_size=100)
    assert isinstance(result, list)
    assert sum(type(event) is ResponseHead for event in result) == 20
    requests = b"\r\n" * 30 + b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    result = same_every_way(requests * 20, request=True, max_head_size=100)
    assert isinstance(result, list)
    assert sum(type(event) is RequestHead for event in result) == 20
