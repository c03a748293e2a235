"""The fault endpoints break the protocol exactly as documented (http.client, raw sockets)."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import socket
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from httpwire_testserver import LocalServer

if TYPE_CHECKING:
    from tests.conftest import Clients


@contextlib.contextmanager
def _get(
    server: LocalServer, path: str, timeout: float = 5.0
) -> Iterator[http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        yield conn.getresponse()
    finally:
        conn.close()


def _raw_get(server: LocalServer, path: str, stdlib: type[Clients]) -> bytes:
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    return stdlib.raw_exchange("127.0.0.1", server.port, request)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("status", b"HTTP/1.1 20"),
        ("fields", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Len"),
        ("blank-line", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"),
    ],
)
def test_close_mid_headers_sends_exactly_the_cut_head(
    httpwire_server: LocalServer, stdlib: type[Clients], at: str, expected: bytes
) -> None:
    answer = _raw_get(httpwire_server, f"/fault/close-mid-headers?at={at}", stdlib)

    assert answer == expected


def test_close_mid_status_line_is_a_bad_status_line(httpwire_server: LocalServer) -> None:
    with (
        pytest.raises(http.client.BadStatusLine, match=r"HTTP/1\.1 20"),
        _get(httpwire_server, "/fault/close-mid-headers?at=status"),
    ):
        pass


def test_close_mid_headers_rejects_an_unknown_cut(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    reply = stdlib.request(httpwire_server.url("/fault/close-mid-headers?at=body"))

    assert reply.status == 400
    assert reply.body == b"at must be one of ['blank-line', 'fields', 'status'], not 'body'\n"


def test_close_before_response(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    assert _raw_get(httpwire_server, "/fault/close-before-response", stdlib) == b""
    with (
        pytest.raises(http.client.RemoteDisconnected, match="closed connection without response"),
        _get(httpwire_server, "/fault/close-before-response"),
    ):
        pass


def test_close_mid_body_with_content_length(httpwire_server: LocalServer) -> None:
    with (
        _get(httpwire_server, "/fault/close-mid-body?length=1000&sent=100") as response,
        pytest.raises(http.client.IncompleteRead) as caught,
    ):
        response.read()
    assert caught.value.partial == b"x" * 100
    assert caught.value.expected == 900


def test_close_mid_chunked_body(httpwire_server: LocalServer) -> None:
    with (
        _get(httpwire_server, "/fault/close-mid-chunked?chunks=2") as response,
        pytest.raises(http.client.IncompleteRead) as caught,
    ):
        response.read()
    assert caught.value.partial == b"chunk 0\nchunk 1\n"


@pytest.mark.parametrize("after", ["request", "head", "body"])
def test_reset_sends_rst(httpwire_server: LocalServer, after: str) -> None:
    with socket.create_connection(("127.0.0.1", httpwire_server.port), timeout=5) as sock:
        sock.sendall(f"GET /fault/reset?after={after} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = bytearray()
        with pytest.raises(ConnectionResetError):
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break  # a FIN instead of a RST: the assertion below fails
                received += chunk
    if after == "request":
        assert received == b""


def test_reset_is_seen_by_http_client(httpwire_server: LocalServer) -> None:
    with pytest.raises(ConnectionResetError), _get(httpwire_server, "/fault/reset") as response:
        response.read()


def test_bad_chunk_size(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    answer = _raw_get(httpwire_server, "/fault/bad-chunk-size?line=-1", stdlib)
    assert answer.endswith(b"\r\n\r\n5\r\nhello\r\n-1\r\nworld\r\n0\r\n\r\n")

    with (
        _get(httpwire_server, "/fault/bad-chunk-size") as response,
        pytest.raises(http.client.IncompleteRead) as caught,
    ):
        response.read()
    assert caught.value.partial == b"hello"


def test_stall_never_answers(httpwire_server: LocalServer) -> None:
    with pytest.raises(TimeoutError), _get(httpwire_server, "/fault/stall", timeout=0.3):
        pass


def test_stall_after_head_sends_only_the_head(httpwire_server: LocalServer) -> None:
    with _get(httpwire_server, "/fault/stall?after=head", timeout=0.3) as response:
        assert response.status == 200
        assert response.headers["Content-Length"] == "100"
        with pytest.raises(TimeoutError):
            response.read()


def test_content_length_and_chunked_together(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    answer = _raw_get(httpwire_server, "/fault/cl-and-te", stdlib)
    head = answer.partition(b"\r\n\r\n")[0].split(b"\r\n")
    assert b"Content-Length: 5" in head
    assert b"Transfer-Encoding: chunked" in head

    # http.client lets chunked win (RFC 9112 §6.3 item 3) and reads the whole body.
    with _get(httpwire_server, "/fault/cl-and-te") as response:
        assert response.read() == b"hello world"


def test_huge_header(httpwire_server: LocalServer) -> None:
    with (
        pytest.raises(http.client.LineTooLong, match="header line"),
        _get(httpwire_server, "/fault/huge-header"),
    ):
        pass

    with _get(httpwire_server, "/fault/huge-header?size=20000") as response:
        assert response.headers["X-Huge"] == "h" * 20000
        assert response.read() == b"ok"


def test_close_after_response_leaves_a_stale_connection(httpwire_server: LocalServer) -> None:
    with socket.create_connection(("127.0.0.1", httpwire_server.port), timeout=5) as sock:
        sock.sendall(b"GET /fault/close-after-response HTTP/1.1\r\nHost: x\r\n\r\n")
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    # A complete keep-alive response (no Connection: close), then the end of the stream.
    assert received.endswith(b"\r\n\r\nok")
    assert b"Connection" not in received


def test_gzip_bomb_is_small_on_the_wire(httpwire_server: LocalServer) -> None:
    size = 64 * 2**20 + 12345
    with _get(httpwire_server, f"/fault/gzip-bomb?size={size}") as response:
        body = response.read()

    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) == len(body) < size // 500
    decoded = zlib.decompressobj(wbits=31).decompress(body)
    assert len(decoded) == size
    assert decoded.count(0) == size
    assert gzip.decompress(body) == decoded  # the CRC-32 and size trailer are right


def test_default_gzip_bomb_decodes_to_a_gib(httpwire_server: LocalServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", httpwire_server.port, timeout=5)
    try:
        conn.request("HEAD", "/fault/gzip-bomb")
        length = int(conn.getresponse().headers["Content-Length"])
    finally:
        conn.close()
    assert length < 1100 * 2**10  # about a thousandth on the wire: 1 MiB for 1 GiB decoded
