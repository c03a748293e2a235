"""httpwire.parser at work: a real HTTP exchange over a loopback socket, parsed sans-I/O.

A small server built on Python's ``http.server`` answers on 127.0.0.1 with a
gzip-compressed, chunked body; it writes its response head and chunks with
httpwire's serializers. The client side serializes two pipelined requests (GET,
then HEAD), sends them on one socket, feeds what comes back to a
``ResponseParser`` a few bytes at a time, and decodes the body with a streaming
decoder whose output per call is bounded.

Run it with ``python3 bootstrap.py -s demo`` (or ``nox -s demo``).
"""

from __future__ import annotations

import gzip
import http.server
import socket
import threading
from typing import Any

from httpwire.parser import (
    ChunkedEncoder,
    EndOfMessage,
    ResponseHead,
    ResponseParser,
    make_decoder,
    serialize_request_head,
    serialize_response_head,
    supported_codings,
)

POEM = b"".join(b"%3d. bytes in, events out; no sockets in the parser\n" % i for i in range(200))


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers GET and HEAD with a gzip'd, chunked body, written with httpwire's serializers."""

    protocol_version = "HTTP/1.1"

    def _head(self) -> bytes:
        return serialize_response_head(
            200,
            "OK",
            [
                ("Server", "demo-server"),
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
                ("Set-Cookie", "theme=dark; Path=/"),
                ("Set-Cookie", "lang=en; Path=/"),
            ],
        )

    def do_GET(self) -> None:
        body = gzip.compress(POEM)
        encoder = ChunkedEncoder()
        chunks = [encoder.encode(body[i : i + 64]) for i in range(0, len(body), 64)]
        self.wfile.write(self._head() + b"".join(chunks) + encoder.finish())

    def do_HEAD(self) -> None:
        self.wfile.write(self._head())

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the demo's output to what the parser saw


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = "127.0.0.1", server.server_address[1]
    print(f"server listening on http://{host}:{port}/\n")

    headers = [
        ("Host", f"{host}:{port}"),
        ("User-Agent", "httpwire-demo"),
        ("Accept-Encoding", ", ".join(supported_codings())),
    ]
    get = serialize_request_head("GET", "/poem.txt", headers)
    head = serialize_request_head("HEAD", "/poem.txt", [*headers, ("Connection", "close")])
    print("request sent:")
    print("  " + get.decode().replace("\r\n", "\n  ").rstrip())

    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(get + head)
        received = bytearray()
        while data := sock.recv(65536):
            received += data
    server.shutdown()
    server.server_close()

    parser = ResponseParser()
    parser.expect_response("GET")  # one per request, in order: HEAD changes the body rules
    parser.expect_response("HEAD")
    events: list[object] = []
    for i in range(0, len(received), 7):  # any split gives the same events
        events += parser.feed(bytes(received[i : i + 7]))
    events += parser.feed_eof()

    decoder = None
    wire = 0
    text = bytearray()
    for event in events:
        if isinstance(event, ResponseHead):
            print(f"\n{event.version} {event.status} {event.reason}")
            for name, value in event.headers.items():
                print(f"  {name}: {value}")
            print(
                f"  -> chunked={event.chunked} content_length={event.content_length} "
                f"coding={event.content_coding} should_close={event.should_close}"
            )
            # At most 512 decoded bytes per call: a decompression bomb cannot fill memory.
            decoder = make_decoder(event.content_coding, max_output=512)
            wire = 0
            text = bytearray()
        elif isinstance(event, bytes):
            wire += len(event)
            if decoder is None:
                text += event
                continue
            text += decoder.feed(event)
            while decoder.pending:
                text += decoder.feed(b"")
        elif isinstance(event, EndOfMessage):
            if decoder is not None:
                text += decoder.flush()  # raises DecodingError if the gzip stream was cut
            print(f"  body: {wire} bytes on the wire, {len(text)} bytes decoded")
            if text:
                lines = text.decode().splitlines()
                print(f"  first lines: {lines[0]!r}, {lines[1]!r}")
                print(f"  last line:   {lines[-1]!r}")
                assert text == POEM
    print(f"\n{len(received)} bytes parsed in pieces of 7: ", end="")
    print(f"{sum(isinstance(e, ResponseHead) for e in events)} responses")


if __name__ == "__main__":
    main()
