"""Response parsing speed: httpwire.parser against aiohttp (C), httptools and h11, side by side.

Three buffers, each holding many pipelined responses:

- ``small``: an nginx-like response, 9 header fields and a 13-byte body;
- ``cookies``: a response with 22 header fields (two of them Set-Cookie) and a JSON body;
- ``chunked``: a chunked response of 10 chunks of 100 bytes.

Every contender gets the same buffer, cut in 64 KiB pieces (so messages straddle
pieces). Each buffer repeats one response, so httpwire's parser finds every field line
but ``Set-Cookie`` among the lines it already proved valid after the first message; a
real server repeats most of its lines too, but its ``Date`` changes every second (one more
regex match per response). Each contender does what a client does with the buffer:

- ``httpwire``: ``ResponseParser.feed()`` per piece, draining the event list (full
  heads with their ``CIMultiDict``, body pieces, ends of message);
- ``aiohttp``: aiohttp's own response parser on its C path (llhttp through
  Cython, ``aiohttp.http_parser.HttpResponseParserC``), driven with a stub
  protocol as aiohttp's tests do; it builds full heads and feeds each body into
  a ``StreamReader``;
- ``httptools``: the raw llhttp binding, with callbacks that collect the header
  pairs into a list and count body bytes (no head object at all);
- ``h11``: ``next_event()`` in a loop; h11 only parses a response after its
  request was sent, so each response also costs ``send(Request)`` and
  ``start_next_cycle()``.

Each round runs every contender once per buffer, in a rotating order; the
figure is the median of the rounds, in messages per second. The ratio columns
are httpwire's speed over each other's (above 1.0 means httpwire is faster),
taken within each round and then the median over rounds, so that a change of
load on the machine between rounds does not skew them.

A second, smaller table times the other direction: serializing a head with
``serialize_request_head``/``serialize_response_head`` against aiohttp's C
``_serialize_headers`` (which refuses the same control characters, but does not
check that the method and the field names are tokens).

Run with ``nox -s bench -- parser``.
"""

from __future__ import annotations

import asyncio
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, cast

import aiohttp.http_parser
import aiohttp.http_writer
import h11
import httptools
from aiohttp.base_protocol import BaseProtocol
from multidict import CIMultiDict

from httpwire.parser import (
    ResponseHead,
    ResponseParser,
    serialize_request_head,
    serialize_response_head,
)

ROUNDS = 7
PIECE = 64 * 1024

Result = tuple[int, int]  # (messages, body bytes)
Contender = Callable[[list[bytes]], Result]

# --- the buffers ------------------------------------------------------------------------------

SMALL = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: nginx/1.22.1\r\n"
    b"Date: Wed, 25 Nov 2026 10:49:33 GMT\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 13\r\n"
    b"Last-Modified: Wed, 25 Nov 2026 09:00:00 GMT\r\n"
    b"Connection: keep-alive\r\n"
    b'ETag: "6b06bd3d-d"\r\n'
    b"Accept-Ranges: bytes\r\n"
    b"X-Frame-Options: SAMEORIGIN\r\n"
    b"\r\n"
    b"Hello, World!"
)

_JSON = b'{"id": 12345, "name": "httpwire", "tags": ["http", "parser", "asyncio"], "ok": true}'
COOKIES = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Wed, 25 Nov 2026 10:49:33 GMT\r\n"
    b"Server: gunicorn\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: %d\r\n"
    b"Connection: keep-alive\r\n"
    b"Set-Cookie: sessionid=4f9c2d7a8b1e4c3f9a0b6d5e7c8f1a2b; Path=/; HttpOnly; Secure; "
    b"SameSite=Lax\r\n"
    b"Set-Cookie: csrftoken=Zq7TnV3xK9pLmR2sW8yB; Path=/; Max-Age=31449600; SameSite=Lax\r\n"
    b"Cache-Control: private, no-cache, no-store, must-revalidate\r\n"
    b"Pragma: no-cache\r\n"
    b"Expires: 0\r\n"
    b"Vary: Accept-Encoding, Cookie\r\n"
    b"X-Frame-Options: DENY\r\n"
    b"X-Content-Type-Options: nosniff\r\n"
    b"Referrer-Policy: same-origin\r\n"
    b"Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
    b"Content-Security-Policy: default-src 'self'; img-src 'self' data:\r\n"
    b"X-Request-Id: 0d6f1c2e-7a4b-4e8f-9c3d-5b2a1e0f9d8c\r\n"
    b"X-Runtime: 0.012345\r\n"
    b"Access-Control-Allow-Origin: *\r\n"
    b'ETag: W/"5a1b2c3d4e5f"\r\n'
    b"Last-Modified: Wed, 25 Nov 2026 09:00:00 GMT\r\n"
    b"Via: 1.1 varnish\r\n"
    b"\r\n"
    b"%s"
) % (len(_JSON), _JSON)

CHUNKED = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: nginx/1.22.1\r\n"
    b"Date: Wed, 25 Nov 2026 10:49:33 GMT\r\n"
    b"Content-Type: text/plain\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n"
    + b"".join(b"64\r\n" + bytes([65 + i]) * 100 + b"\r\n" for i in range(10))
    + b"0\r\n\r\n"
)

# name -> (one response, how many are pipelined, body bytes of one)
BUFFERS: dict[str, tuple[bytes, int, int]] = {
    "small (9 fields, 13 B)": (SMALL, 8000, 13),
    "cookies (22 fields)": (COOKIES, 3000, len(_JSON)),
    "chunked (10 x 100 B)": (CHUNKED, 2000, 1000),
}


def pieces_of(buffer: bytes) -> list[bytes]:
    return [buffer[i : i + PIECE] for i in range(0, len(buffer), PIECE)]


# --- the contenders ---------------------------------------------------------------------------


def run_httpwire(pieces: list[bytes]) -> Result:
    parser = ResponseParser()
    messages = body = 0
    for piece in pieces:
        for event in parser.feed(piece):
            if type(event) is bytes:
                body += len(event)
            elif type(event) is ResponseHead:
                messages += 1
    return messages, body


class _StubProtocol:
    """What aiohttp's parser and StreamReader use of a protocol (flow control never kicks in)."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass


_LOOP = asyncio.new_event_loop()  # aiohttp's StreamReader wants a loop; none runs


def aiohttp_c_parser() -> type[Any]:
    """aiohttp's C-accelerated response parser; refuse to benchmark the pure-Python one."""
    parser: type[Any] | None = getattr(aiohttp.http_parser, "HttpResponseParserC", None)
    if parser is None or parser is aiohttp.http_parser.HttpResponseParserPy:
        sys.exit("aiohttp's C parser is not available (AIOHTTP_NO_EXTENSIONS set?)")
    if parser.__module__ != "aiohttp._http_parser":
        sys.exit(f"aiohttp's HttpResponseParserC comes from {parser.__module__}, not the C module")
    return parser


def run_aiohttp(pieces: list[bytes]) -> Result:
    protocol = cast(BaseProtocol, _StubProtocol())
    parser = aiohttp_c_parser()(protocol, _LOOP, 2**16)
    payloads = []
    for piece in pieces:
        messages, _upgraded, _tail = parser.feed_data(piece)
        for _message, payload in messages:
            payloads.append(payload)
    return len(payloads), sum(payload.total_bytes for payload in payloads)


class _HttptoolsCollector:
    """httptools callbacks: collect the header pairs of each response, count body bytes."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.messages = 0
        self.body = 0
        self.status = 0
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self.headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.messages += 1

    def on_body(self, body: bytes) -> None:
        self.body += len(body)


def run_httptools(pieces: list[bytes]) -> Result:
    collector = _HttptoolsCollector()
    feed = collector.parser.feed_data
    for piece in pieces:
        feed(piece)
    return collector.messages, collector.body


_H11_REQUEST = h11.Request(method="GET", target="/", headers=[("Host", "localhost")])


def run_h11(pieces: list[bytes]) -> Result:
    conn = h11.Connection(h11.CLIENT)
    conn.send(_H11_REQUEST)
    conn.send(h11.EndOfMessage())
    messages = body = 0
    for piece in pieces:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            kind = type(event)
            if kind is h11.Data:
                body += len(cast(h11.Data, event).data)
            elif kind is h11.Response:
                messages += 1
            elif kind is h11.EndOfMessage:
                conn.start_next_cycle()
                conn.send(_H11_REQUEST)
                conn.send(h11.EndOfMessage())
            elif event is h11.NEED_DATA:
                break
            else:
                raise AssertionError(f"unexpected h11 event {event!r}")
    return messages, body


CONTENDERS: dict[str, Contender] = {
    "httpwire": run_httpwire,
    "aiohttp": run_aiohttp,
    "httptools": run_httptools,
    "h11": run_h11,
}


# --- serializing heads ------------------------------------------------------------------------

SERIALIZE_ROUNDS = 20_000

REQUEST_FIELDS = [
    ("Host", "example.org"),
    ("User-Agent", "httpwire/0.1"),
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Cookie", "sessionid=4f9c2d7a8b1e4c3f9a0b6d5e7c8f1a2b; csrftoken=Zq7TnV3xK9pLmR2sW8yB"),
    ("Content-Type", "application/json"),
    ("Content-Length", "85"),
]
RESPONSE_FIELDS = [
    (name.decode(), value.decode())
    for name, value in ResponseParser().feed(COOKIES)[0].raw_headers  # type: ignore[union-attr]
]


def serialize_contenders() -> dict[str, dict[str, Callable[[], bytes]]]:
    """Per head, per contender: a call that serializes it once (from a list of pairs)."""
    aiohttp_serialize = aiohttp.http_writer._serialize_headers
    if getattr(aiohttp_serialize, "__module__", "") != "aiohttp._http_writer":
        sys.exit("aiohttp's C header serializer is not available")
    target = "/api/v1/items?page=2&sort=name"
    return {
        "request, 7 fields": {
            "httpwire": lambda: serialize_request_head("POST", target, REQUEST_FIELDS),
            "aiohttp": lambda: aiohttp_serialize(
                f"POST {target} HTTP/1.1", CIMultiDict(REQUEST_FIELDS)
            ),
        },
        "response, 22 fields": {
            "httpwire": lambda: serialize_response_head(200, "OK", RESPONSE_FIELDS),
            "aiohttp": lambda: aiohttp_serialize("HTTP/1.1 200 OK", CIMultiDict(RESPONSE_FIELDS)),
        },
    }


def bench_serializers() -> None:
    print(f"\nSerializing heads ({ROUNDS} rounds of {SERIALIZE_ROUNDS:,} heads, median)\n")
    print("| head | httpwire heads/s | aiohttp (C) heads/s | vs aiohttp |")
    print("|---|---:|---:|---:|")
    for label, contenders in serialize_contenders().items():
        results = {name: call() for name, call in contenders.items()}
        if len(set(results.values())) != 1:
            sys.exit(f"the serializers disagree on {label!r}: {results}")
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for round_ in range(ROUNDS):
            for name in sorted(contenders, reverse=bool(round_ % 2)):
                call = contenders[name]
                gc.collect()
                start = time.perf_counter()
                for _ in range(SERIALIZE_ROUNDS):
                    call()
                times[name].append(time.perf_counter() - start)
        rate = {name: SERIALIZE_ROUNDS / statistics.median(times[name]) for name in contenders}
        ratio = statistics.median(
            theirs / ours for theirs, ours in zip(times["aiohttp"], times["httpwire"], strict=True)
        )
        print(f"| {label} | {rate['httpwire']:,.0f} | {rate['aiohttp']:,.0f} | {ratio:.2f}x |")


# --- measuring --------------------------------------------------------------------------------


def timed(contender: Contender, pieces: list[bytes]) -> float:
    gc.collect()
    start = time.perf_counter()
    contender(pieces)
    return time.perf_counter() - start


def main() -> None:
    aiohttp_c_parser()
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"httpwire-parser {version('httpwire-parser')}, aiohttp {version('aiohttp')} "
        f"(C parser), httptools {version('httptools')}, h11 {version('h11')}"
    )
    print(f"{ROUNDS} rounds, median; pieces of {PIECE // 1024} KiB\n")

    names = list(CONTENDERS)
    others = names[1:]
    rates: dict[str, dict[str, float]] = {}
    ratios: dict[str, dict[str, float]] = {}
    for label, (response, count, body) in BUFFERS.items():
        pieces = pieces_of(response * count)
        # Every contender must see the same messages and body bytes before it is timed.
        for name, contender in CONTENDERS.items():
            got = contender(pieces)
            if got != (count, count * body):
                sys.exit(f"{name} parsed {got} on {label!r}, expected {(count, count * body)}")
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(ROUNDS):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                times[name].append(timed(CONTENDERS[name], pieces))
        rates[label] = {name: count / statistics.median(times[name]) for name in names}
        ratios[label] = {
            name: statistics.median(
                other / ours for other, ours in zip(times[name], times["httpwire"], strict=True)
            )
            for name in others
        }

    # A Markdown table: readable here, and pasted as is into the package README.
    columns = [f"{name} msg/s" for name in names] + [f"vs {name}" for name in others]
    print("| buffer | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for label, rate in rates.items():
        cells = [f"{rate[name]:,.0f}" for name in names]
        cells += [f"{ratios[label][name]:.2f}x" for name in others]
        print(f"| {label} | " + " | ".join(cells) + " |")
    _LOOP.close()
    bench_serializers()


if __name__ == "__main__":
    main()
