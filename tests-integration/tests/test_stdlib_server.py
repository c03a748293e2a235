"""The client against Python's own ``http.server``: a real peer with HTTP/1.0 habits.

``http.server`` speaks HTTP/1.0 unless told otherwise. As such it ignores
``Expect: 100-continue`` (the expectation is an HTTP/1.1 mechanism, RFC 9110 §10.1.1), frames
responses by closing the connection, and never keeps a connection alive. Each of those is a
path a client must get right without the server's help.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from httpwire.client import ClientSession, TCPConnector


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers every POST with the size and digest of the body it read, and the Expect it saw.

    ``/close-framed`` answers without Content-Length: the body ends when the server closes.
    """

    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        reply = json.dumps(
            {
                "bytes": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "expect": self.headers.get("Expect"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path != "/close-framed":
            self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self) -> None:
        self.do_POST()

    def log_message(self, format: str, *args: object) -> None:  # the stdlib's name
        """Keep the test output quiet."""


@pytest.fixture
def stdlib_server() -> Iterator[str]:
    """A threading ``http.server`` on loopback; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


async def test_a_server_that_ignores_100_continue_still_gets_the_body(stdlib_server: str) -> None:
    """RFC 9110 §10.1.1: a client that sent ``Expect: 100-continue`` SHOULD NOT wait for an
    indefinite period before sending the content. An HTTP/1.0 server never answers the
    expectation; the body must go after the client's bounded wait, and arrive whole."""
    body = b"x" * 100_000
    async with (
        ClientSession() as session,
        session.post(f"{stdlib_server}/upload", data=body, expect100=True) as r,
    ):
        assert r.status == 200
        assert r.version == (1, 0)
        got = await r.json()
    assert got == {
        "bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "expect": "100-continue",
    }


async def test_a_response_framed_by_close_is_read_whole_and_not_reused(stdlib_server: str) -> None:
    """RFC 9112 §6.3 (item 8): without Content-Length or Transfer-Encoding the body is
    everything until the server closes; such a connection cannot carry a second request."""
    connector = TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session:
        for _ in range(3):
            async with session.post(f"{stdlib_server}/close-framed", data=b"abc") as r:
                assert "Content-Length" not in r.headers
                got = await r.json()
            assert got["bytes"] == 3
            stats = connector.stats()
            assert (stats.idle, stats.in_use) == (0, 0)


async def test_an_http_1_0_response_closes_the_connection(stdlib_server: str) -> None:
    """RFC 9112 §9.3: an HTTP/1.0 response without ``keep-alive`` ends the connection; the
    pool must not keep it, even when the response had a Content-Length."""
    connector = TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session:
        for _ in range(3):
            async with session.get(f"{stdlib_server}/get") as r:
                assert (await r.json())["bytes"] == 0
            assert connector.stats().idle == 0
