"""Property tests: any split of the input and any pipelining give identical events."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from httpwire.parser import END_OF_CHUNK, RequestParser, ResponseParser

_names = st.sampled_from(["X-A", "x-b", "Server", "ETag", "Set-Cookie", "Vary", "x-~!#"])
_values = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from(" \té€"),
    max_size=20,
).map(lambda v: v.strip(" \t"))
_fields = st.lists(st.tuples(_names, _values), max_size=5)


def _field_bytes(fields: list[tuple[str, str]]) -> bytes:
    return b"".join(n.encode() + b": " + v.encode() + b"\r\n" for n, v in fields)


@st.composite
def _body(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(framing fields + empty line + encoded body) for a message with a body."""
    data = draw(st.binary(max_size=60))
    if draw(st.booleans()):
        return b"Content-Length: %d\r\n\r\n" % len(data) + data, data
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=False) if b > a]
    encoded = b"".join(
        b"%x%s\r\n%s\r\n" % (len(c), draw(st.sampled_from([b"", b";a=b", b' ; x="y"'])), c)
        for c in chunks
    )
    trailers = _field_bytes(draw(_fields))
    return b"Transfer-Encoding: chunked\r\n\r\n" + encoded + b"0\r\n" + trailers + b"\r\n", data


@st.composite
def responses(draw: st.DrawFn) -> tuple[list[str], list[bytes]]:
    methods: list[str] = []
    messages: list[bytes] = []
    for _ in range(draw(st.integers(1, 4))):
        interim = b"".join(
            b"HTTP/1.1 %d X\r\n" % status + _field_bytes(fields) + b"\r\n"
            for status, fields in draw(
                st.lists(st.tuples(st.sampled_from([100, 103]), _fields), max_size=2)
            )
        )
        status = draw(st.sampled_from([200, 204, 304, 404]))
        method = draw(st.sampled_from(["GET", "GET", "HEAD", "POST"]))
        framing, _ = draw(_body())
        head = b"HTTP/1.1 %d Reason\r\n" % status + _field_bytes(draw(_fields))
        if status in (204, 304) or method == "HEAD":
            framing = framing[: framing.index(b"\r\n\r\n") + 4]  # no body follows
        methods.append(method)
        messages.append(interim + head + framing)
    return methods, messages


def _normalize(events: list[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes):
            assert event, "body pieces are never empty"
            if out and isinstance(out[-1], bytes):
                out[-1] += event
                continue
        out.append(event)
    return out


def _feed_response(methods: list[str], data: bytes, cuts: list[int], mark: bool) -> list[object]:
    parser = ResponseParser(mark_chunks=mark)
    for method in methods:
        parser.expect_response(method)
    events: list[object] = []
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for a, b in itertools.pairwise(bounds):
        events += parser.feed(data[a:b])
    events += parser.feed_eof()
    return _normalize(events)


@given(responses(), st.lists(st.integers(0, 10_000), max_size=30), st.booleans())
def test_any_split_of_pipelined_responses_gives_the_same_events(
    case: tuple[list[str], list[bytes]], cuts: list[int], mark: bool
) -> None:
    methods, messages = case
    data = b"".join(messages)
    whole = _feed_response(methods, data, [], mark)
    assert _feed_response(methods, data, cuts, mark) == whole
    # Pipelining: one parser over all messages gives what one parser per message gives.
    separate: list[object] = []
    for method, message in zip(methods, messages, strict=False):
        separate += _feed_response([method], message, [], mark)
    assert _normalize(separate) == whole
    if mark:
        assert whole.count(END_OF_CHUNK) >= 0


def test_byte_by_byte_feeding_of_a_fixed_pipeline() -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        b"\r\nHTTP/1.1 204 No Content\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nuntil close"
    )
    whole = _feed_response([], data, [], True)
    assert _feed_response([], data, list(range(len(data))), True) == whole


@st.composite
def requests(draw: st.DrawFn) -> list[bytes]:
    messages = []
    for _ in range(draw(st.integers(1, 4))):
        method = draw(st.sampled_from(["GET", "POST", "PUT", "OPTIONS"]))
        target = draw(st.sampled_from(["/", "/a?b=c", "*", "http://h/x"]))
        head = (
            f"{method} {target} HTTP/1.1\r\n".encode()
            + b"Host: h\r\n"
            + _field_bytes(draw(_fields))
        )
        if method in ("POST", "PUT"):
            framing, _ = draw(_body())
        else:
            framing = b"\r\n"
        messages.append(draw(st.sampled_from([b"", b"\r\n"])) + head + framing)
    return messages


def _feed_request(data: bytes, cuts: list[int]) -> list[object]:
    parser = RequestParser()
    events: list[object] = []
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for a, b in itertools.pairwise(bounds):
        events += parser.feed(data[a:b])
    assert parser.feed_eof() == []
    return _normalize(events)


@given(requests(), st.lists(st.integers(0, 10_000), max_size=30))
def test_any_split_of_pipelined_requests_gives_the_same_events(
    messages: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(messages)
    whole = _feed_request(data, [])
    assert _feed_request(data, cuts) == whole
    separate: list[object] = []
    for message in messages:
        separate += _feed_request(message, [])
    assert _normalize(separate) == whole
