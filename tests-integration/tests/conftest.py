"""Settings and stdlib-client helpers shared by the integration tests."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=100, print_blob=True)


@dataclass
class Reply:
    """A response read whole by http.client."""

    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        """The body parsed as a JSON object."""
        data = json.loads(self.body)
        assert isinstance(data, dict), data
        return data


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX socket (the stdlib has no such class)."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def _send(
    conn: http.client.HTTPConnection,
    method: str,
    target: str,
    body: bytes | Iterable[bytes] | None,
    headers: Headers,
) -> Reply:
    conn.putrequest(method, target, skip_accept_encoding=True)
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    for name, value in pairs:
        conn.putheader(name, value)
    names = {name.lower() for name, _ in pairs}
    if isinstance(body, bytes):
        if "content-length" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
    elif body is not None and "content-length" in names:
        conn.endheaders()
        for piece in body:
            conn.send(piece)
    elif body is not None:
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for piece in body:
            if piece:
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
    else:
        conn.endheaders()
    response = conn.getresponse()
    return Reply(response.status, response.reason, response.headers, response.read())


def request(
    url: str,
    method: str = "GET",
    *,
    body: bytes | Iterable[bytes] | None = None,
    headers: Headers = (),
    context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on a new connection with http.client (TCP or TLS by the URL's scheme)."""
    split = urlsplit(url)
    host, port = split.hostname, split.port
    assert host is not None
    conn: http.client.HTTPConnection
    if split.scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    target = split.path or "/"
    if split.query:
        target += "?" + split.query
    try:
        return _send(conn, method, target, body, headers)
    finally:
        conn.close()


def unix_request(
    path: str,
    target: str,
    method: str = "GET",
    *,
    body: bytes | Iterable[bytes] | None = None,
    headers: Headers = (),
) -> Reply:
    """One request over a Unix socket with http.client."""
    conn = UnixHTTPConnection(path)
    try:
        return _send(conn, method, target, body, headers)
    finally:
        conn.close()


def raw_exchange(host: str, port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send bytes on a new TCP connection and return all bytes until the server closes."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
        return bytes(received)


class Clients:
    """The helpers above, handed to tests by the ``stdlib`` fixture."""

    request = staticmethod(request)
    unix_request = staticmethod(unix_request)
    send = staticmethod(_send)
    raw_exchange = staticmethod(raw_exchange)
    UnixHTTPConnection = UnixHTTPConnection


@pytest.fixture(scope="session")
def stdlib() -> type[Clients]:
    """Stdlib client helpers: ``request``, ``unix_request``, ``send``, ``raw_exchange``."""
    return Clients
