"""Our server's endpoints beyond httpbin, and its HTTP/1.1 conduct, driven by stdlib clients."""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import resource
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from httpwire_testserver import LocalServer

if TYPE_CHECKING:
    from tests.conftest import Clients


def _pieces(total: int, size: int = 2**20) -> Iterator[bytes]:
    block = bytes(range(256)) * (size // 256)
    left = total
    while left > 0:
        piece = block[: min(size, left)]
        left -= len(piece)
        yield piece


def _digest(total: int) -> str:
    digest = hashlib.sha256()
    for piece in _pieces(total):
        digest.update(piece)
    return digest.hexdigest()


def test_upload_digest_of_a_content_length_body(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    total = 32 * 2**20 + 3
    reply = stdlib.request(
        httpwire_server.url("/upload-digest"),
        "PUT",
        body=_pieces(total),
        headers={"Content-Length": str(total), "Content-Type": "application/octet-stream"},
    )

    data = reply.json()
    assert data == {
        "method": "PUT",
        "sha256": _digest(total),
        "bytes": total,
        "chunked": False,
        "chunks": 0,
        "content_length": total,
        "transfer_encoding": None,
        "content_encoding": None,
        "content_type": "application/octet-stream",
        "expect_continue": False,
        "trailers": {},
    }


def test_upload_digest_of_a_chunked_body_counts_chunks(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    total = 5 * 2**20
    reply = stdlib.request(httpwire_server.url("/upload-digest"), "POST", body=_pieces(total))

    data = reply.json()
    assert data["sha256"] == _digest(total)
    assert data["bytes"] == total
    assert data["chunked"] is True
    assert data["chunks"] == 5
    assert data["transfer_encoding"] == "chunked"
    assert data["content_length"] is None


def test_upload_digest_reports_trailers(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    request = (
        b"POST /upload-digest HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        b"Trailer: X-Checksum\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"
    )
    answer = stdlib.raw_exchange("127.0.0.1", httpwire_server.port, request)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    data = json.loads(body)
    assert data["sha256"] == hashlib.sha256(b"hello world").hexdigest()
    assert data["chunks"] == 2
    assert data["trailers"] == {"X-Checksum": "abc"}


@pytest.mark.slow
def test_upload_digest_of_three_gib(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    total = 3 * 2**30 + 1
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    reply = stdlib.request(
        httpwire_server.url("/upload-digest"),
        "PUT",
        body=_pieces(total, 4 * 2**20),
        headers={"Content-Length": str(total)},
        timeout=600,
    )

    data = reply.json()
    assert data["bytes"] == total
    assert data["sha256"] == _digest(total)
    # The server (a thread of this process) streamed it: the peak memory barely moved.
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown < 256 * 1024, f"peak memory grew by {grown} KiB"


def test_expect_100_continue_is_answered_before_the_body(httpwire_server: LocalServer) -> None:
    with socket.create_connection(("127.0.0.1", httpwire_server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /upload-digest HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"body")
        final = sock.recv(65536)

    head, _, body = final.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(body)["expect_continue"] is True


def test_expect_100_continue_refused_early_closes(httpwire_server: LocalServer) -> None:
    # The handler answers without reading the body, so no 100 goes out (RFC 9110 §10.1.1).
    with socket.create_connection(("127.0.0.1", httpwire_server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /status/401 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        answer = sock.recv(65536)

    assert answer.startswith(b"HTTP/1.1 401 Unauthorized\r\n")
    assert b"\r\nConnection: close\r\n" in answer


def test_connection_id_proves_reuse(httpwire_server: LocalServer) -> None:
    first = http.client.HTTPConnection("127.0.0.1", httpwire_server.port, timeout=5)
    second = http.client.HTTPConnection("127.0.0.1", httpwire_server.port, timeout=5)
    try:
        ids = []
        for conn in (first, first, second):
            conn.request("GET", "/connection-id")
            ids.append(json.loads(conn.getresponse().read()))
    finally:
        first.close()
        second.close()

    assert ids[0]["connection_id"] == ids[1]["connection_id"] != ids[2]["connection_id"]
    assert [i["requests"] for i in ids] == [1, 2, 1]
    assert ids[0]["transport"] == "tcp"
    assert ids[0]["scheme"] == "http"


def test_inflight_counts_concurrency_and_connections(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    key = uuid.uuid4().hex
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            barrier.wait(5)
            reply = stdlib.request(httpwire_server.url(f"/inflight?key={key}&delay=1"))
            assert reply.status == 200
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors

    stats = stdlib.request(httpwire_server.url(f"/inflight-stats?key={key}")).json()
    assert stats == {"key": key, "max": 4, "current": 0, "total": 4, "connections": 4}


def test_inflight_in_sequence_on_one_connection(httpwire_server: LocalServer) -> None:
    key = uuid.uuid4().hex
    conn = http.client.HTTPConnection("127.0.0.1", httpwire_server.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", f"/inflight?key={key}&delay=0")
            assert json.loads(conn.getresponse().read())["inflight"] == 1
        conn.request("GET", f"/inflight-stats?key={key}&reset=1")
        stats = json.loads(conn.getresponse().read())
        conn.request("GET", f"/inflight-stats?key={key}")
        after_reset = json.loads(conn.getresponse().read())
    finally:
        conn.close()

    assert stats == {"key": key, "max": 1, "current": 0, "total": 3, "connections": 1}
    assert after_reset["total"] == 0


def test_slow_stream_sends_one_chunk_per_interval(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    answer = stdlib.raw_exchange(
        "127.0.0.1",
        httpwire_server.port,
        b"GET /slow-stream?chunks=3&interval=0.05&size=4 HTTP/1.1\r\n"
        b"Host: x\r\nConnection: close\r\n\r\n",
    )

    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"\r\nTransfer-Encoding: chunked\r\n" in head + b"\r\n"
    assert body == b"4\r\naaaa\r\n4\r\nbbbb\r\n4\r\ncccc\r\n0\r\n\r\n"


def test_bytes_are_reproducible_from_the_seed(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    size = 200_000
    reply = stdlib.request(httpwire_server.url(f"/bytes/{size}?seed=7"))

    rng = random.Random(7)
    expected = b"".join(rng.randbytes(min(65536, size - done)) for done in range(0, size, 65536))
    assert reply.body == expected


def test_head_has_the_get_headers_and_no_body(httpwire_server: LocalServer) -> None:
    answer = _raw(
        httpwire_server, b"HEAD /bytes/1234 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )

    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 1234\r\n" in answer
    assert answer.endswith(b"\r\n\r\n")


def test_http10_request_without_keep_alive_is_closed(httpwire_server: LocalServer) -> None:
    answer = _raw(httpwire_server, b"GET /stream-bytes/10 HTTP/1.0\r\n\r\n")

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"Transfer-Encoding" not in head  # HTTP/1.0 cannot read chunked: read until close
    assert b"\r\nConnection: close" in head
    assert len(body) == 10


def test_pipelined_requests_are_answered_in_order(httpwire_server: LocalServer) -> None:
    answer = _raw(
        httpwire_server,
        b"GET /get?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /anything?n=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /get?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )

    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 3
    positions = [answer.index(b'"n": "%d"' % n) for n in (1, 2, 3)]
    assert positions == sorted(positions)
    assert b'"data": "abc"' in answer


def test_malformed_request_line_is_400(httpwire_server: LocalServer) -> None:
    answer = _raw(httpwire_server, b"GET /get HTTP/9.9 extra\r\nHost: x\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nConnection: close\r\n" in answer


def test_oversized_header_is_431(httpwire_server: LocalServer) -> None:
    answer = _raw(
        httpwire_server, b"GET /get HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    )

    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")


def test_connect_is_refused(httpwire_server: LocalServer) -> None:
    answer = _raw(
        httpwire_server, b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n"
    )

    assert answer.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")


def test_unread_body_is_drained_for_keep_alive(httpwire_server: LocalServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", httpwire_server.port, timeout=5)
    try:
        conn.request("POST", "/status/202", body=b"x" * 100_000)
        assert conn.getresponse().read() == b""
        conn.request("GET", "/connection-id")
        assert json.loads(conn.getresponse().read())["requests"] == 2
    finally:
        conn.close()


def _raw(server: LocalServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    return bytes(received)


def test_idle_keep_alive_connections_can_be_closed() -> None:
    with (
        LocalServer(unix_path="", ipv6=False, idle_timeout=0.2) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        sock.sendall(b"GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 204 No Content\r\n")
        assert sock.recv(65536) == b""  # closed by the server once idle


def test_status_picks_among_weighted_codes(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    codes = {stdlib.request(httpwire_server.url("/status/201:1,202:0")).status for _ in range(5)}

    assert codes == {201}


def test_status_rejects_a_non_number(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(httpwire_server.url("/status/abc"))

    assert reply.status == 400
    assert reply.body == b"invalid status code 'abc'\n"


def test_absolute_redirect_chain(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(httpwire_server.url("/redirect/2?absolute=true"))

    assert reply.headers["Location"] == httpwire_server.url("/absolute-redirect/1")


def test_unknown_path_is_404_naming_it(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    reply = stdlib.request(httpwire_server.url("/no/such/thing"))

    assert reply.status == 404
    assert reply.body == b"no endpoint at '/no/such/thing'\n"


def test_echo_endpoints_refuse_bodies_over_64_mib(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    headers = {"Content-Length": str(64 * 2**20 + 1)}
    reply = stdlib.request(httpwire_server.url("/post"), "POST", body=iter([b""]), headers=headers)

    assert reply.status == 413
    assert reply.body == b"request body exceeds 67108864 bytes; stream it to /upload-digest\n"
    assert reply.headers["Connection"] == "close"
