"""Responses captured from real servers (nginx, gunicorn, Python's http.server).

``data/capture.py`` says how each ``data/*.http`` file was captured: one socket,
one or more requests, every byte the server sent until it closed. Each fixture is
parsed whole, one byte at a time and at random splits, and checked against what
the server is known to send.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpwire.parser import (
    END_OF_CHUNK,
    HTTP10,
    HTTP11,
    EndOfMessage,
    HttpVersion,
    ResponseHead,
    ResponseParser,
    make_decoder,
)

DATA = Path(__file__).parent / "data"

# The documents served (the same as in data/capture.py).
INDEX_HTML = b"<!doctype html>\n<title>httpwire</title>\n<p>Hello from a captured server.</p>\n"
BIG_TEXT = b"".join(b"%06d the quick brown fox jumps over the lazy dog\n" % i for i in range(4000))


@dataclass
class Message:
    """One parsed response: its head, body pieces, chunk marks and end."""

    head: ResponseHead
    pieces: list[bytes] = field(default_factory=list)
    chunks: int = 0
    end: EndOfMessage | None = None

    @property
    def body(self) -> bytes:
        return b"".join(self.pieces)


def parse(
    data: bytes, methods: Sequence[str], cuts: Sequence[int] = (), *, mark_chunks: bool = False
) -> list[Message]:
    """Feed ``data`` split at ``cuts`` (then EOF) and group the events by message."""
    parser = ResponseParser(mark_chunks=mark_chunks)
    for method in methods:
        parser.expect_response(method)
    events: list[object] = []
    start = 0
    for cut in [*cuts, len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
    events += parser.feed_eof()
    messages: list[Message] = []
    for event in events:
        if isinstance(event, ResponseHead):
            messages.append(Message(event))
        elif isinstance(event, bytes):
            assert event, "body pieces are never empty"
            assert messages[-1].end is None
            messages[-1].pieces.append(event)
        elif event is END_OF_CHUNK:
            messages[-1].chunks += 1
        else:
            assert isinstance(event, EndOfMessage), event
            assert messages[-1].end is None
            messages[-1].end = event
    assert all(message.end is not None for message in messages)
    return messages


@dataclass
class Expected:
    """What a captured response is known to hold."""

    version: HttpVersion
    status: int
    reason: str
    server: str  # the Server field, up to the first "/"
    body: bytes | Callable[[bytes], bool]
    content_length: int | None = None
    chunked: bool = False
    should_close: bool = True
    content_coding: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # field names in wire order, when checked


NGINX_STATIC_NAMES = (
    "Server", "Date", "Content-Type", "Content-Length", "Last-Modified", "Connection", "ETag",
    "Accept-Ranges",
)  # fmt: skip

FIXTURES: dict[str, tuple[list[str], list[Expected]]] = {
    "nginx_static": (
        ["GET"],
        [Expected(HTTP11, 200, "OK", "nginx", INDEX_HTML, 77, names=NGINX_STATIC_NAMES)],
    ),
    "nginx_404": (
        ["GET"],
        [
            Expected(
                HTTP11, 404, "Not Found", "nginx", lambda b: b"<h1>404 Not Found</h1>" in b, 153
            )
        ],
    ),
    "nginx_head": (
        ["HEAD"],
        # RFC 9110 §9.3.2: Content-Length of the GET, but no body.
        [Expected(HTTP11, 200, "OK", "nginx", b"", None, names=NGINX_STATIC_NAMES)],
    ),
    "nginx_304": (["GET"], [Expected(HTTP11, 304, "Not Modified", "nginx", b"", None)]),
    "nginx_gzip_chunked": (
        ["GET"],
        [
            Expected(
                HTTP11,
                200,
                "OK",
                "nginx",
                lambda b: b[:2] == b"\x1f\x8b",
                None,
                chunked=True,
                content_coding=("gzip",),
            )
        ],
    ),
    "nginx_pipelined": (
        ["GET", "HEAD", "GET"],
        [
            Expected(HTTP11, 200, "OK", "nginx", INDEX_HTML, 77, should_close=False),
            Expected(HTTP11, 200, "OK", "nginx", b"", None, should_close=False),
            Expected(HTTP11, 404, "Not Found", "nginx", lambda b: len(b) == 153, 153),
        ],
    ),
    "gunicorn_json": (
        ["GET"],
        [
            Expected(
                HTTP11, 200, "OK", "gunicorn", lambda b: json.loads(b) == {"hello": "world"}, 18
            )
        ],
    ),
    "gunicorn_cookies": (["GET"], [Expected(HTTP11, 201, "Created", "gunicorn", b"created", 7)]),
    "gunicorn_chunked": (
        ["GET"],
        [
            Expected(
                HTTP11,
                200,
                "OK",
                "gunicorn",
                b"".join(b"part %d\n" % i for i in range(5)),
                None,
                chunked=True,
            )
        ],
    ),
    "gunicorn_http10_close": (
        ["GET"],
        # No Content-Length in HTTP/1.0: the body runs until the server closes.
        [Expected(HTTP10, 200, "OK", "gunicorn", b"".join(b"part %d\n" % i for i in range(5)))],
    ),
    "gunicorn_404": (["GET"], [Expected(HTTP11, 404, "Not Found", "gunicorn", b"not found", 9)]),
    "stdlib_file": (["GET"], [Expected(HTTP10, 200, "OK", "SimpleHTTP", INDEX_HTML, 77)]),
    "stdlib_404": (
        ["GET"],
        [
            Expected(
                HTTP10,
                404,
                "File not found",
                "SimpleHTTP",
                lambda b: b"<p>Error code: 404</p>" in b,
                335,
            )
        ],
    ),
    "stdlib_head": (["HEAD"], [Expected(HTTP10, 200, "OK", "SimpleHTTP", b"", None)]),
}


def check(name: str, messages: list[Message]) -> None:
    methods, expected = FIXTURES[name]
    assert len(messages) == len(expected)
    for method, message, want in zip(methods, messages, expected, strict=True):
        head = message.head
        assert (head.version, head.status, head.reason) == (want.version, want.status, want.reason)
        assert head.headers["Server"].split("/")[0] == want.server
        if isinstance(want.body, bytes):
            assert message.body == want.body
        else:
            assert want.body(message.body), message.body[:200]
        assert head.content_length == want.content_length
        assert head.chunked is want.chunked
        assert head.should_close is want.should_close
        assert head.content_coding == want.content_coding
        assert not head.upgrade
        # Content-Length, when sent, is the length of the body that came (none for HEAD/304).
        if "Content-Length" in head.headers and method != "HEAD" and head.status != 304:
            assert int(head.headers["Content-Length"]) == len(message.body)
        if want.names:
            assert tuple(n.decode() for n, _ in head.raw_headers) == want.names
        # raw_headers and headers agree, value for value.
        assert [
            (n.decode(), v.decode("utf-8", "surrogateescape")) for n, v in head.raw_headers
        ] == (list(head.headers.items()))
        assert message.end is not None
        assert not message.end.trailers


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_parsed_whole(name: str) -> None:
    check(name, parse((DATA / f"{name}.http").read_bytes(), FIXTURES[name][0]))


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_parsed_one_byte_at_a_time(name: str) -> None:
    data = (DATA / f"{name}.http").read_bytes()
    check(name, parse(data, FIXTURES[name][0], range(1, len(data))))


@given(name=st.sampled_from(sorted(FIXTURES)), data=st.data())
def test_fixture_parsed_at_random_splits(name: str, data: st.DataObject) -> None:
    raw = (DATA / f"{name}.http").read_bytes()
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=20))
    check(name, parse(raw, FIXTURES[name][0], sorted(cuts)))


def test_every_fixture_is_checked() -> None:
    assert {p.stem for p in DATA.glob("*.http")} == set(FIXTURES)


def test_nginx_gzip_body_decodes_to_the_served_file() -> None:
    (message,) = parse(
        (DATA / "nginx_gzip_chunked.http").read_bytes(), ["GET"], range(0, 10858, 97)
    )
    decoder = make_decoder(message.head.content_coding, max_output=4096)
    assert decoder is not None
    out = []
    for piece in message.pieces:
        out.append(decoder.feed(piece))
        while decoder.pending:
            out.append(decoder.feed(b""))
    out.append(decoder.flush())
    assert all(len(piece) <= 4096 for piece in out)
    assert b"".join(out) == BIG_TEXT
    assert message.head.headers["Content-Encoding"] == "gzip"


def test_gunicorn_repeated_set_cookie_is_kept() -> None:
    (message,) = parse((DATA / "gunicorn_cookies.http").read_bytes(), ["GET"])
    assert message.head.headers.getall("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    assert [v for n, v in message.head.raw_headers if n == b"Set-Cookie"] == [
        b"a=1; Path=/",
        b"b=2; Path=/; HttpOnly",
    ]


def test_gunicorn_chunks_are_marked() -> None:
    (message,) = parse(
        (DATA / "gunicorn_chunked.http").read_bytes(), ["GET"], range(3, 212, 5), mark_chunks=True
    )
    assert message.chunks == 5
    assert message.body == b"".join(b"part %d\n" % i for i in range(5))


def test_read_until_close_body_ends_only_at_eof() -> None:
    data = (DATA / "gunicorn_http10_close.http").read_bytes()
    parser = ResponseParser()
    events = parser.feed(data)
    assert isinstance(events[0], ResponseHead)
    assert not any(isinstance(event, EndOfMessage) for event in events)
    assert b"".join(e for e in events if isinstance(e, bytes)).endswith(b"part 4\n")
    (end,) = parser.feed_eof()
    assert isinstance(end, EndOfMessage)
    assert not end.trailers
