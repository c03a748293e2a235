"""SOCKS5 tunnels (RFC 1928, RFC 1929): through the real pproxy, and a scripted server.

The real proxy (pproxy, open and with a username and password) relays to the test server's
HTTP and TLS listeners on loopback; requests go through the tunnel with ``http.client`` and
TLS is verified with the test CA by the **target's** name. The scripted server shows what
went out (the address type of ``socks5`` and ``socks5h``, the credentials) and produces
each fault no real proxy does on demand: every reply code, replies cut short or malformed,
silence, and bytes right after the reply.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import http.client
import itertools
import json
import pickle
import socket
import ssl
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict
from yarl import URL

from httpwire.connectors import (
    BasicAuth,
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientProxyConnectionError,
    ClientProxyError,
    ConnectTimeoutError,
    Fingerprint,
    FingerprintMismatch,
    OutgoingRequest,
    PoolStats,
    ProxyConnector,
    TCPConnector,
)
from httpwire.connectors._socks import (
    SocksError,
    SocksProxy,
    is_socks_proxy,
    open_socks_tunnel,
    resolve_socks_proxy,
    socks5_handshake,
)
from httpwire.connectors._socks_codec import (
    REPLY_MEANINGS,
    Socks5Handshake,
    SocksFailure,
    encode_address,
    reply_meaning,
)
from httpwire_testserver import LocalServer, StartServer

from ._fetch import fetch, fetch_json
from ._socks_server import SUCCESS_V4, PproxyPeer, Script, ScriptedSocks
from .conftest import client_sockets_after_closing

USER = "tester"
PASSWORD = "p@ss:w/rd %#?&"
PASSWORD_IN_URL = "p%40ss%3Aw%2Frd%20%25%23%3F%26"


@pytest.fixture(scope="module")
def open_socks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PproxyPeer]:
    """pproxy without authentication."""
    peer = PproxyPeer(tmp_path_factory.mktemp("socks-open")).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def auth_socks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PproxyPeer]:
    """pproxy requiring ``tester`` and a password with URL-special characters."""
    peer = PproxyPeer(tmp_path_factory.mktemp("socks-auth"), (USER, PASSWORD)).start()
    yield peer
    peer.stop()


def _get(sock: socket.socket, host: str, port: int, path: str) -> tuple[int, bytes]:
    """GET ``path`` with http.client over a connected socket (run in a thread)."""
    sock.setblocking(True)
    sock.settimeout(30)
    conn = http.client.HTTPConnection(host, port)
    conn.sock = sock
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


async def _http_through(sock: socket.socket, server: LocalServer, path: str) -> dict[str, object]:
    status, body = await asyncio.to_thread(_get, sock, "localhost", server.port, path)
    assert status == 200, body
    result: dict[str, object] = json.loads(body)
    return result


class _Recorder:
    """A ``connect`` for open_socks_tunnel that keeps the socket it made, to check it closed."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []

    async def __call__(self, host: str, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
        except BaseException:
            sock.close()
            raise
        self.sockets.append(sock)
        return sock

    def all_closed(self) -> bool:
        return bool(self.sockets) and all(sock.fileno() == -1 for sock in self.sockets)


# -- proxy URLs and credentials ---------------------------------------------------------


def test_proxy_url_defaults_and_credentials() -> None:
    proxy = resolve_socks_proxy(f"socks5h://{USER}:{PASSWORD_IN_URL}@127.0.0.1")
    assert proxy.url == URL("socks5h://127.0.0.1:1080")
    assert proxy.auth == BasicAuth(USER, PASSWORD)
    assert proxy.remote_dns
    assert PASSWORD not in repr(proxy) and PASSWORD_IN_URL not in str(proxy.url)
    local = resolve_socks_proxy("SOCKS5://[::1]:9050", BasicAuth("u", "p"))
    assert local.url == URL("socks5://[::1]:9050") and not local.remote_dns
    assert local.auth == BasicAuth("u", "p")
    assert is_socks_proxy("socks5://h") and is_socks_proxy(URL("socks5h://h"))
    assert not is_socks_proxy("http://h:3128")
    # Hashable and equal for the same settings: fit for a pool key.
    assert {resolve_socks_proxy("socks5://h:1"), resolve_socks_proxy("socks5://h:1")} == {
        SocksProxy(URL("socks5://h:1"))
    }


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:1080", "not a socks5://"),
        ("socks4://127.0.0.1:1080", "not a socks5://"),
        ("socks5:///nohost", "not a socks5://"),
        ("socks5://127.0.0.1:1080/path", "path, query or fragment"),
        ("socks5://127.0.0.1:1080?x=1", "path, query or fragment"),
    ],
)
def test_proxy_url_rejected(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        resolve_socks_proxy(url)


def test_credentials_given_twice() -> None:
    with pytest.raises(ValueError, match="given twice") as info:
        resolve_socks_proxy(f"socks5://{USER}:{PASSWORD_IN_URL}@h", BasicAuth("u", "p"))
    assert PASSWORD not in str(info.value) and PASSWORD_IN_URL not in str(info.value)
    with pytest.raises(TypeError, match="BasicAuth"):
        resolve_socks_proxy("socks5://h", ("u", "p"))  # type: ignore[arg-type]  # the wrong type on purpose


@pytest.mark.parametrize(
    ("auth", "field", "length"),
    [
        (BasicAuth("u" * 256, "secret"), "username", 256),
        (BasicAuth("user", "s" * 300), "password", 300),
        (BasicAuth("", "secret"), "username", 0),
        (BasicAuth("user", ""), "password", 0),
        (BasicAuth("user", "é" * 128, encoding="utf-8"), "password", 256),
    ],
)
def test_rfc1929_credential_lengths(auth: BasicAuth, field: str, length: int) -> None:
    """RFC 1929 §2: UNAME and PASSWD are 1 to 255 bytes; the error names the field only."""
    with pytest.raises(ValueError, match=f"SOCKS5 {field} is {length} bytes long") as info:
        resolve_socks_proxy("socks5://h", auth)
    if auth.password:
        assert auth.password not in str(info.value)
    assert "RFC 1929" in str(info.value)


def test_credentials_of_255_bytes_are_sent() -> None:
    handshake = Socks5Handshake("h", 1, username=b"u" * 255, password=b"p" * 255)
    handshake.greeting()
    sent = handshake.receive(b"\x05\x02")
    assert sent == b"\x01\xff" + b"u" * 255 + b"\xff" + b"p" * 255


# -- the encoding of the request --------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "encoded"),
    [
        ("127.0.0.1", 80, b"\x01\x7f\x00\x00\x01\x00\x50"),
        ("::1", 443, b"\x04" + b"\x00" * 15 + b"\x01\x01\xbb"),
        ("example.org", 8080, b"\x03\x0bexample.org\x1f\x90"),
        ("bücher.example", 1, b"\x03\x15xn--bcher-kva.example\x00\x01"),
    ],
)
def test_address_types(host: str, port: int, encoded: bytes) -> None:
    """RFC 1928 §5: IPv4 is ATYP 0x01, a domain 0x03 with its length, IPv6 0x04."""
    assert encode_address(host, port) == encoded


def test_domain_longer_than_255_bytes() -> None:
    """RFC 1928 §5: the domain's length is one byte; a longer name is a ValueError."""
    assert encode_address("a" * 255, 1)[1] == 255
    with pytest.raises(ValueError, match=r"256 bytes long; the domain field holds 1 to 255"):
        encode_address("a" * 256, 1)
    with pytest.raises(ValueError, match=r"port 0 is not in 1\.\.65535"):
        encode_address("h", 0)
    with pytest.raises(ValueError, match="port 65536"):
        encode_address("h", 65536)


def test_greeting_offers_what_is_configured() -> None:
    assert Socks5Handshake("h", 1).greeting() == b"\x05\x01\x00"
    with_auth = Socks5Handshake("h", 1, username=b"u", password=b"p")
    assert with_auth.greeting() == b"\x05\x02\x00\x02"
    with pytest.raises(RuntimeError, match="already sent"):
        with_auth.greeting()
    with pytest.raises(ValueError, match="give both or neither"):
        Socks5Handshake("h", 1, username=b"u")


def test_reply_meanings() -> None:
    """RFC 1928 §6 names replies 0x01 to 0x08; others are unassigned."""
    assert [reply_meaning(code) for code in range(10)] == [
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
        "unassigned reply code",
    ]


_ANSWERS = {
    "ipv4": (b"\x05\x00", SUCCESS_V4, ("127.0.0.1", 1080)),
    "ipv6": (b"\x05\x00", b"\x05\x00\x00\x04" + b"\x00" * 15 + b"\x01\x00\x50", ("::1", 80)),
    "domain": (b"\x05\x00", b"\x05\x00\x00\x03\x05proxy\x00\x51", ("proxy", 81)),
    "auth": (b"\x05\x02\x01\x00", SUCCESS_V4, ("127.0.0.1", 1080)),
}


@given(
    case=st.sampled_from(sorted(_ANSWERS)),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=8),
    tail=st.binary(max_size=20),
)
def test_any_split_gives_the_same_handshake(case: str, cuts: list[int], tail: bytes) -> None:
    """The handshake is incremental: any split of the proxy's bytes gives the same result,
    and bytes after the reply are kept for the tunnel, never lost."""
    method, reply, bound = _ANSWERS[case]
    credentials = {"username": b"u", "password": b"p"} if case == "auth" else {}
    handshake = Socks5Handshake("example.org", 443, **credentials)
    sent = [handshake.greeting()]
    stream = method + reply + tail
    points = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    for start, end in itertools.pairwise(points):
        sent.append(handshake.receive(stream[start:end]))
        if handshake.done:
            rest = stream[end:]
            handshake.trailing += rest  # what a larger read would have delivered too
            break
    assert handshake.done
    assert handshake.bound == bound
    assert handshake.trailing == tail
    request = b"\x05\x01\x00\x03\x0bexample.org\x01\xbb"
    expected = b"\x01\x01u\x01p" + request if case == "auth" else request
    assert b"".join(sent[1:]) == expected


@given(answer=st.binary(max_size=40), credentials=st.booleans())
def test_arbitrary_answers_fail_cleanly(answer: bytes, credentials: bool) -> None:
    """Whatever the proxy sends, the handshake finishes, fails with SocksFailure, or waits
    for more, asking for a bounded number of bytes; it never raises anything else."""
    handshake = Socks5Handshake(
        "h", 1, **({"username": b"u", "password": b"p"} if credentials else {})
    )
    handshake.greeting()
    try:
        handshake.receive(answer)
    except SocksFailure as exc:
        assert handshake.state == "failed" and str(exc)
        return
    assert handshake.done or 0 < handshake.wanted <= 4 + 1 + 255 + 2


def test_wanted_never_reads_past_the_reply() -> None:
    handshake = Socks5Handshake("h", 1)
    handshake.greeting()
    assert handshake.wanted == 2
    handshake.receive(b"\x05\x00")
    assert handshake.wanted == 5
    handshake.receive(b"\x05\x00\x00\x03")
    assert handshake.wanted == 1
    handshake.receive(b"\x04")
    assert handshake.wanted == 4 + 2  # the 4-byte name and the port, not one byte more
    handshake.receive(b"abcd\x00\x01")
    assert handshake.done and handshake.bound == ("abcd", 1) and handshake.wanted == 0
    with pytest.raises(RuntimeError, match="not expecting bytes"):
        handshake.receive(b"x")


# -- through the real proxy (pproxy) ----------------------------------------------------


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_http_through_open_proxy(
    open_socks: PproxyPeer, httpwire_server: LocalServer, scheme: str
) -> None:
    proxy = resolve_socks_proxy(open_socks.url(scheme))
    sock = await open_socks_tunnel(proxy, "localhost", httpwire_server.port, timeout=30)
    result = await _http_through(sock, httpwire_server, "/get?via=socks")
    assert result["args"] == {"via": "socks"}
    headers = result["headers"]
    assert isinstance(headers, dict)
    assert headers["Host"] == f"localhost:{httpwire_server.port}"
    assert not any(name.lower().startswith("proxy-") for name in headers)


async def test_http_to_ipv6_target_through_proxy(
    open_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    """An IPv6 literal goes out as ATYP 0x04 and the real proxy connects to it."""
    if not httpwire_server.ipv6:
        pytest.skip("no IPv6 loopback on this machine")
    proxy = resolve_socks_proxy(open_socks.url("socks5"))
    sock = await open_socks_tunnel(proxy, "::1", httpwire_server.port, timeout=30)
    assert (await _http_through(sock, httpwire_server, "/get"))["args"] == {}


@pytest.mark.parametrize("how", ["url", "proxy_auth"])
async def test_username_password_accepted(
    auth_socks: PproxyPeer, httpwire_server: LocalServer, how: str
) -> None:
    """RFC 1929: the credentials, percent-decoded from the URL or given, are accepted."""
    if how == "url":
        proxy = resolve_socks_proxy(auth_socks.url("socks5h", f"{USER}:{PASSWORD_IN_URL}@"))
    else:
        proxy = resolve_socks_proxy(auth_socks.url("socks5h"), BasicAuth(USER, PASSWORD))
    sock = await open_socks_tunnel(proxy, "localhost", httpwire_server.port, timeout=30)
    result = await _http_through(sock, httpwire_server, "/headers")
    headers = result["headers"]
    assert isinstance(headers, dict) and "Proxy-Authorization" not in headers


async def test_wrong_password_refused(
    auth_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    """pproxy closes the connection on wrong credentials (instead of an RFC 1929 status):
    a SocksError that names the authentication step, never the password, and no socket
    left open."""
    proxy = resolve_socks_proxy(auth_socks.url("socks5h"), BasicAuth(USER, "wrong-secret"))
    recorder = _Recorder()
    with pytest.raises(SocksError) as info:
        await open_socks_tunnel(
            proxy, "localhost", httpwire_server.port, connect=recorder, timeout=30
        )
    message = str(info.value)
    assert "closed the connection before sending its answer to the username/password " in message
    assert "(RFC 1929 §2); it may have refused the credentials" in message
    assert "wrong-secret" not in message
    assert info.value.auth_failed and info.value.reply_code is None
    assert isinstance(info.value, ClientProxyError)
    assert recorder.all_closed()


async def test_no_credentials_for_authenticating_proxy(
    auth_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    proxy = resolve_socks_proxy(auth_socks.url("socks5h"))
    recorder = _Recorder()
    with pytest.raises(SocksError, match="before sending its choice of authentication method"):
        await open_socks_tunnel(
            proxy, "localhost", httpwire_server.port, connect=recorder, timeout=30
        )
    assert recorder.all_closed()


async def test_tls_through_tunnel(open_socks: PproxyPeer, httpwire_server: LocalServer) -> None:
    """TLS to the target inside the tunnel, verified against the target's name: the
    handshake on the tunneled socket, as the connector does for https."""
    proxy = resolve_socks_proxy(open_socks.url("socks5h"))
    port = httpwire_server.tls_port
    sock = await open_socks_tunnel(proxy, "localhost", port, timeout=30)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.create_connection(
        lambda: asyncio.StreamReaderProtocol(reader),
        sock=sock,
        ssl=httpwire_server.ssl_context(),
        server_hostname="localhost",
    )
    try:
        ssl_object = transport.get_extra_info("ssl_object")
        assert isinstance(ssl_object, ssl.SSLObject)
        assert ssl_object.getpeercert() is not None
        transport.write(
            f"GET /get HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = await reader.read()
    finally:
        transport.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert json.loads(body)["url"] == f"https://localhost:{port}/get"


async def test_start_tls_on_tunnel_transport(
    open_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    """The same with ``loop.start_tls`` over a plain transport made from the tunnel."""
    proxy = resolve_socks_proxy(open_socks.url("socks5"))
    port = httpwire_server.tls_port
    sock = await open_socks_tunnel(proxy, "localhost", port, timeout=30)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    protocol = asyncio.StreamReaderProtocol(reader)
    plain, _ = await loop.create_connection(lambda: protocol, sock=sock)
    tls = await loop.start_tls(
        plain, protocol, httpwire_server.ssl_context(), server_hostname="localhost"
    )
    assert tls is not None
    try:
        tls.write(
            f"GET /get HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = await reader.read()
    finally:
        tls.close()
    assert answer.startswith(b"HTTP/1.1 200 ")


async def test_tls_to_wrong_name_through_tunnel_fails_verification(
    open_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    """Verification is the target's, inside the tunnel: a name the certificate lacks fails."""
    proxy = resolve_socks_proxy(open_socks.url("socks5h"))
    sock = await open_socks_tunnel(proxy, "localhost", httpwire_server.tls_port, timeout=30)
    loop = asyncio.get_running_loop()
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            await loop.create_connection(
                asyncio.Protocol,
                sock=sock,
                ssl=httpwire_server.ssl_context(),
                server_hostname="not-localhost.example",
            )
    finally:
        sock.close()


async def test_proxy_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = resolve_socks_proxy(f"socks5h://127.0.0.1:{port}")
    with pytest.raises(ClientProxyConnectionError) as info:
        await open_socks_tunnel(proxy, "example.org", 80)
    assert info.value.host == "127.0.0.1" and info.value.port == port
    assert str(info.value).startswith(f"cannot connect to 127.0.0.1:{port}: ")
    # The connector names the request once, where it knows it.
    info.value.with_request("GET", URL("http://example.org/"))
    assert f"cannot connect to 127.0.0.1:{port} for GET http://example.org/" in str(info.value)


async def test_target_name_unresolvable_for_socks5() -> None:
    """socks5:// resolves locally: an unknown name fails before the proxy is contacted."""
    recorder = _Recorder()
    proxy = resolve_socks_proxy("socks5://127.0.0.1:9")
    with pytest.raises(ClientConnectorError) as info:
        await open_socks_tunnel(proxy, "name.invalid", 80, connect=recorder)
    assert info.value.host == "name.invalid"
    assert not isinstance(info.value, ClientProxyConnectionError)
    assert recorder.sockets == []


# -- what goes out: the scripted server -------------------------------------------------


async def test_socks5_sends_the_locally_resolved_address(httpwire_server: LocalServer) -> None:
    """socks5://: the name is resolved here and its first address sent (ATYP 0x01/0x04);
    the scripted server relays, and the request works."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        "localhost", httpwire_server.port, type=socket.SOCK_STREAM
    )
    async with ScriptedSocks(Script(relay=True)) as server:
        proxy = resolve_socks_proxy(server.url("socks5"))
        sock = await open_socks_tunnel(proxy, "localhost", httpwire_server.port, timeout=30)
        await _http_through(sock, httpwire_server, "/get")
    [request] = server.requests
    assert request.atyp == (0x01 if infos[0][0] == socket.AF_INET else 0x04)
    assert request.host == infos[0][4][0] and request.port == httpwire_server.port
    assert server.greetings == [b"\x05\x01\x00"]


async def test_socks5h_sends_the_name(httpwire_server: LocalServer) -> None:
    """socks5h://: the name goes out as ATYP 0x03 for the proxy to resolve (RFC 1928 §5)."""
    async with ScriptedSocks(Script(relay=True)) as server:
        proxy = resolve_socks_proxy(server.url("socks5h"))
        sock = await open_socks_tunnel(proxy, "localhost", httpwire_server.port, timeout=30)
        await _http_through(sock, httpwire_server, "/get")
    [request] = server.requests
    assert (request.atyp, request.address) == (0x03, b"localhost")


async def test_socks5_resolver_of_the_connector_is_used() -> None:
    """The connector passes its resolver (DNS cache); its first answer is what goes out."""
    asked: list[tuple[str, int]] = []

    async def resolve(host: str, port: int) -> list[tuple[int, int, int, str, tuple[str, int]]]:
        asked.append((host, port))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", port))]

    async with ScriptedSocks(Script(close_after=False)) as server:
        proxy = resolve_socks_proxy(server.url("socks5"))
        sock = await open_socks_tunnel(proxy, "app.internal", 8443, resolve=resolve, timeout=30)
        sock.close()
    assert asked == [("app.internal", 8443)]
    assert [(r.atyp, r.host, r.port) for r in server.requests] == [(0x01, "192.0.2.7", 8443)]


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_ip_literals_go_out_as_addresses(scheme: str) -> None:
    async with ScriptedSocks(Script(close_after=False)) as server:
        proxy = resolve_socks_proxy(server.url(scheme))
        for host in ("192.0.2.1", "2001:db8::1"):
            (await open_socks_tunnel(proxy, host, 80, timeout=30)).close()
    assert [(r.atyp, r.host) for r in server.requests] == [
        (0x01, "192.0.2.1"),
        (0x04, "2001:db8::1"),
    ]


async def test_credentials_sent_as_rfc1929() -> None:
    async with ScriptedSocks(Script(method=b"\x05\x02", close_after=False)) as server:
        proxy = resolve_socks_proxy(server.url("socks5h", f"{USER}:{PASSWORD_IN_URL}@"))
        (await open_socks_tunnel(proxy, "h", 80, timeout=30)).close()
    assert server.greetings == [b"\x05\x02\x00\x02"]
    assert server.auths == [(USER.encode(), PASSWORD.encode())]


async def test_proxy_may_choose_no_authentication_despite_credentials() -> None:
    async with ScriptedSocks(Script(close_after=False)) as server:
        proxy = resolve_socks_proxy(server.url("socks5h"), BasicAuth("u", "p"))
        (await open_socks_tunnel(proxy, "h", 80, timeout=30)).close()
    assert server.auths == [] and len(server.requests) == 1


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        (SUCCESS_V4, ("127.0.0.1", 1080)),
        (
            b"\x05\x00\x00\x04" + bytes(range(16)) + b"\x00\x50",
            ("1:203:405:607:809:a0b:c0d:e0f", 80),
        ),
        (b"\x05\x00\x00\x03\x0aproxy.test\xff\xff", ("proxy.test", 65535)),
    ],
)
async def test_bound_address_of_each_type(bound: bytes, expected: tuple[str, int]) -> None:
    """RFC 1928 §6: BND.ADDR comes in each address type and is parsed to its end."""
    async with ScriptedSocks(Script(reply=bound, close_after=False)) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setblocking(False)
        proxy = resolve_socks_proxy(server.url())
        assert await socks5_handshake(sock, proxy, "h", 80) == expected
        sock.close()


async def test_bytes_after_the_reply_belong_to_the_tunnel() -> None:
    """The proxy's reply and the target's first bytes in one segment: none is lost; the
    handshake reads exactly its reply and the rest is the tunnel's."""
    greeting = b"220 smtp.example ESMTP ready\r\n"
    async with ScriptedSocks(Script(after=greeting, close_after=False)) as server:
        proxy = resolve_socks_proxy(server.url())
        sock = await open_socks_tunnel(proxy, "smtp.example", 25, timeout=30)
        try:
            loop = asyncio.get_running_loop()
            received = b""
            while len(received) < len(greeting):
                piece = await loop.sock_recv(sock, 1024)
                assert piece
                received += piece
        finally:
            sock.close()
    assert received == greeting


async def test_bytes_after_the_reply_reach_a_transport() -> None:
    """And when the socket becomes a transport, its protocol gets them first."""
    greeting = b"+OK ready\r\n"
    async with ScriptedSocks(Script(after=greeting, close_after=False)) as server:
        proxy = resolve_socks_proxy(server.url())
        sock = await open_socks_tunnel(proxy, "pop.example", 110, timeout=30)
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_connection(
            lambda: asyncio.StreamReaderProtocol(reader), sock=sock
        )
        try:
            assert await reader.readexactly(len(greeting)) == greeting
        finally:
            transport.close()


# -- refusals and faults ----------------------------------------------------------------


@pytest.mark.parametrize("code", [*sorted(REPLY_MEANINGS), 0x09, 0xFF])
async def test_each_reply_code_named_in_words(code: int) -> None:
    """RFC 1928 §6: a reply other than 0x00 is a refusal, named in the RFC's words."""
    reply = bytes((5, code, 0, 1)) + b"\x00" * 6
    async with ScriptedSocks(Script(reply=reply)) as server:
        recorder = _Recorder()
        proxy = resolve_socks_proxy(server.url())
        with pytest.raises(SocksError) as info:
            await open_socks_tunnel(
                proxy,
                "target.example",
                443,
                connect=recorder,
                timeout=30,
            )
    info.value.with_request("GET", URL("https://target.example/x"))
    meaning = REPLY_MEANINGS.get(code, "unassigned reply code")
    assert info.value.reply_code == code
    assert str(info.value) == (
        f"proxy {server.url()} refused for GET https://target.example/x: SOCKS5 reply "
        f"0x{code:02x} ({meaning}) to CONNECT target.example:443 (RFC 1928 §6)"
    )
    assert recorder.all_closed()
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is SocksError and str(copy) == str(info.value)
    assert copy.reply_code == code


async def test_refusal_of_only_the_reply_head_is_still_named() -> None:
    """A proxy that sends just VER REP RSV ATYP of a refusal and closes: the code is named."""
    async with ScriptedSocks(Script(reply=b"\x05\x05\x00\x01")) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setblocking(False)
        with pytest.raises(SocksError, match=r"reply 0x05 \(connection refused\)"):
            await socks5_handshake(sock, resolve_socks_proxy(server.url()), "h", 80)
        assert sock.fileno() == -1


async def test_rfc1929_status_failure() -> None:
    """RFC 1929 §2: a STATUS other than 0x00 means the credentials were refused."""
    async with ScriptedSocks(Script(method=b"\x05\x02", auth=b"\x01\x01")) as server:
        recorder = _Recorder()
        proxy = resolve_socks_proxy(server.url(), BasicAuth(USER, PASSWORD))
        with pytest.raises(SocksError) as info:
            await open_socks_tunnel(proxy, "h", 80, connect=recorder, timeout=30)
    assert "refused the username and password (RFC 1929 status 0x01)" in str(info.value)
    assert PASSWORD not in str(info.value) and info.value.auth_failed
    assert recorder.all_closed()


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (
            Script(method=b"\x05\xff"),
            r"accepted none of the offered authentication methods \(offered: no "
            r"authentication\): it requires credentials",
        ),
        (
            Script(method=b"\x05\x01"),
            r"chose authentication method 0x01 \(GSSAPI\), which was not",
        ),
        (Script(method=b"\x05\x02"), r"method 0x02 \(username/password\), which was not offered"),
        (Script(method=b"\x04\x00"), r"version byte 0x04, not 0x05 \(RFC 1928 §3\)"),
        (Script(method=b"HTTP/1.1 400 Bad Request\r\n\r\n"), "looks like an HTTP server"),
        (
            Script(reply=b"\x04\x00\x00\x01" + b"\x00" * 6),
            r"its reply to CONNECT starts with version byte 0x04",
        ),
        (Script(reply=b"\x05\x00\x01\x01" + b"\x00" * 6), r"reserved byte 0x01, not 0x00"),
        (Script(reply=b"\x05\x00\x00\x02" + b"\x00" * 6), r"address type 0x02; RFC 1928 §6"),
    ],
    ids=[
        "no-acceptable-method",
        "gssapi-not-offered",
        "auth-not-offered",
        "bad-version",
        "http-server",
        "bad-reply-version",
        "bad-reserved",
        "bad-atyp",
    ],
)
async def test_malformed_answers(script: Script, words: str) -> None:
    async with ScriptedSocks(script) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setblocking(False)
        with pytest.raises(SocksError, match=words) as info:
            await socks5_handshake(sock, resolve_socks_proxy(server.url()), "h", 80)
        assert sock.fileno() == -1
    assert info.value.reply_code is None


def test_auth_answer_with_wrong_version() -> None:
    """RFC 1929 §2: the subnegotiation answers with version 0x01, not SOCKS's 0x05."""
    handshake = Socks5Handshake("h", 1, username=b"u", password=b"p")
    handshake.greeting()
    handshake.receive(b"\x05\x02")
    with pytest.raises(SocksFailure, match=r"version 0x05, not 0x01 \(RFC 1929 §2\)"):
        handshake.receive(b"\x05\x00")
    assert handshake.state == "failed"


_FULL = {
    "ipv4": SUCCESS_V4,
    "ipv6": b"\x05\x00\x00\x04" + b"\x00" * 15 + b"\x01\x00\x50",
    "domain": b"\x05\x00\x00\x03\x05proxy\x00\x51",
}


@pytest.mark.parametrize(
    ("kind", "cut"),
    [(kind, cut) for kind, reply in _FULL.items() for cut in range(len(reply))],
)
async def test_reply_cut_short(kind: str, cut: int) -> None:
    """Every prefix of a reply, then the connection closed: an error saying how much came."""
    async with ScriptedSocks(Script(reply=_FULL[kind][:cut])) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setblocking(False)
        with pytest.raises(SocksError) as info:
            await socks5_handshake(sock, resolve_socks_proxy(server.url()), "h", 80)
        assert sock.fileno() == -1
    message = str(info.value)
    if cut:
        assert f"closed the connection after {cut} byte(s) of its reply to CONNECT h:80 (RFC" in (
            message
        )
    else:
        assert "closed the connection before sending its reply to CONNECT h:80 (RFC" in message


@pytest.mark.parametrize("stage", ["greeting", "auth", "request"])
async def test_silent_proxy_bounded_by_timeout(stage: str) -> None:
    """A proxy that never answers costs ``timeout``, then ConnectTimeoutError; no socket
    is left open."""
    script = Script(method=b"\x05\x02", silent_at=stage)
    async with ScriptedSocks(script) as server:
        recorder = _Recorder()
        proxy = resolve_socks_proxy(server.url(), BasicAuth("u", "p"))
        with pytest.raises(ConnectTimeoutError) as info:
            await open_socks_tunnel(proxy, "h", 80, connect=recorder, timeout=0.2)
        assert recorder.all_closed()
    assert info.value.host == "127.0.0.1" and info.value.port == server.port
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_cancelled_handshake_closes_the_socket() -> None:
    async with ScriptedSocks(Script(silent_at="request")) as server:
        recorder = _Recorder()
        proxy = resolve_socks_proxy(server.url())
        task = asyncio.create_task(open_socks_tunnel(proxy, "h", 80, connect=recorder))
        await server.requested.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert recorder.all_closed()


async def test_name_too_long_closes_the_socket() -> None:
    async with ScriptedSocks() as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setblocking(False)
        with pytest.raises(ValueError, match="domain field holds 1 to 255 bytes"):
            await socks5_handshake(sock, resolve_socks_proxy(server.url()), "x" * 300, 80)
        assert sock.fileno() == -1


async def test_name_too_long_fails_before_connecting() -> None:
    recorder = _Recorder()
    proxy = resolve_socks_proxy("socks5h://127.0.0.1:9")
    with pytest.raises(ValueError, match="256 bytes long"):
        await open_socks_tunnel(proxy, "x" * 256, 80, connect=recorder)
    assert recorder.sockets == []


async def test_connection_reset_is_a_proxy_connection_error() -> None:
    """The proxy resets the connection during the handshake: the proxy is named."""

    async with ScriptedSocks(Script(silent_at="request")) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setblocking(False)
        proxy = resolve_socks_proxy(server.url())
        task = asyncio.create_task(socks5_handshake(sock, proxy, "h", 80))
        await server.requested.wait()
        server.reset()
        with pytest.raises(ClientProxyConnectionError) as info:
            await task
    assert sock.fileno() == -1
    assert info.value.port == server.port and info.value.errno == errno.ECONNRESET


def test_works_on_uvloop(open_socks: PproxyPeer, httpwire_server: LocalServer) -> None:
    """uvloop's sock_recv/sock_sendall drive the handshake the same way: a request and
    TLS through the real proxy, a refusal, a cut-short reply and a silent proxy."""
    uvloop = pytest.importorskip("uvloop")

    async def run() -> None:
        proxy = resolve_socks_proxy(open_socks.url("socks5h"))
        sock = await open_socks_tunnel(proxy, "localhost", httpwire_server.port, timeout=30)
        assert (await _http_through(sock, httpwire_server, "/get?on=uvloop"))["args"] == {
            "on": "uvloop"
        }
        sock = await open_socks_tunnel(proxy, "localhost", httpwire_server.tls_port, timeout=30)
        transport, _ = await asyncio.get_running_loop().create_connection(
            asyncio.Protocol,
            sock=sock,
            ssl=httpwire_server.ssl_context(),
            server_hostname="localhost",
        )
        assert transport.get_extra_info("peercert") is not None
        transport.close()
        faults: list[tuple[Script, type[Exception], str]] = [
            (Script(reply=b"\x05\x02\x00\x01" + bytes(6)), SocksError, "not allowed by ruleset"),
            (Script(reply=SUCCESS_V4[:7]), SocksError, r"after 7 byte\(s\) of its reply"),
            (Script(silent_at="request"), ConnectTimeoutError, "timed out after 0.2 s"),
        ]
        for script, error, words in faults:
            async with ScriptedSocks(script) as server:
                recorder = _Recorder()
                with pytest.raises(error, match=words):
                    await open_socks_tunnel(
                        resolve_socks_proxy(server.url()), "h", 80, connect=recorder, timeout=0.2
                    )
                assert recorder.all_closed()

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


# -- through the connectors: ProxyConnector and per-request proxy= ----------------------

EMPTY = PoolStats(connecting=0, in_use=0, idle=0, waiting=0)


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _trust(server: LocalServer) -> ssl.SSLContext:
    """A context trusting the test server's CA only."""
    return server.ssl_context()


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_connector_http_target_in_origin_form(
    open_socks: PproxyPeer, httpwire_server: LocalServer, scheme: str
) -> None:
    """Behind SOCKS the request goes to the target itself: origin form (RFC 9112 §3.2.1).

    The server reports an origin-form target with the Host field, an absolute-form one as
    sent; a Host that differs from the URL's tells them apart.
    """
    url = httpwire_server.url("/anything/a%20b?x=1")
    async with ProxyConnector(open_socks.url(scheme)) as connector:
        assert connector.proxy == URL(open_socks.url(scheme))
        body = await fetch_json(connector, url, headers={"Host": "origin.example"})
        assert connector.stats() == PoolStats(connecting=0, in_use=0, idle=1, waiting=0)
    assert body["url"] == "http://origin.example/anything/a%20b?x=1"
    assert body["args"] == {"x": "1"}
    assert not any(name.lower().startswith("proxy-") for name in body["headers"])


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_connector_reuses_the_tunnel(
    open_socks: PproxyPeer, httpwire_server: LocalServer, scheme: str
) -> None:
    async with ProxyConnector(open_socks.url(scheme), ssl_context=_trust(httpwire_server)) as c:
        for tls in ("http", "https"):
            url = httpwire_server.url("/connection-id", scheme=tls)
            ids = [(await fetch_json(c, url))["connection_id"] for _ in range(3)]
            assert len(set(ids)) == 1, ids
        assert c.stats() == PoolStats(connecting=0, in_use=0, idle=2, waiting=0)


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_connector_https_target_verified_inside_the_tunnel(
    open_socks: PproxyPeer, httpwire_server: LocalServer, scheme: str
) -> None:
    url = URL(httpwire_server.url("/get?tls=1", scheme="https"))
    async with ProxyConnector(open_socks.url(scheme), ssl_context=_trust(httpwire_server)) as c:
        request = OutgoingRequest("GET", url, CIMultiDict(), sock_connect=30)
        conn = await c.acquire(request)
        transport = conn.transport
        assert transport is not None
        ssl_object = transport.get_extra_info("ssl_object")
        assert isinstance(ssl_object, ssl.SSLObject)
        assert ssl_object.server_hostname == "localhost"
        response = await conn.send(request)
        body = json.loads(await response.content.read())
        response.release()
    assert response.status == 200
    assert body["url"] == str(url)


async def test_connector_target_certificate_checked_not_the_proxys(
    open_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    """The default trust does not know the test CA: verification fails inside the tunnel,
    naming the target, and nothing is left open to the proxy."""
    url = URL(httpwire_server.url("/get", scheme="https"))
    async with ProxyConnector(open_socks.url("socks5h")) as connector:
        with pytest.raises(ClientConnectorCertificateError) as info:
            await connector.acquire(OutgoingRequest("GET", url))
        assert connector.stats() == EMPTY
    assert (info.value.host, info.value.port) == ("localhost", httpwire_server.tls_port)
    assert await client_sockets_after_closing(open_socks.port) == 0


async def test_connector_target_pin_checked_inside_the_tunnel(
    open_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    assert httpwire_server.tls is not None
    der = ssl.PEM_cert_to_DER_cert(httpwire_server.tls.cert_pem.read_text())
    url = URL(httpwire_server.url("/get", scheme="https"))
    wrong = hashlib.sha256(b"another certificate").digest()
    async with ProxyConnector(
        open_socks.url("socks5"), verify_ssl=False, fingerprint=wrong
    ) as connector:
        with pytest.raises(FingerprintMismatch) as info:
            await connector.acquire(OutgoingRequest("GET", url))
        assert connector.stats() == EMPTY
        response, _ = await fetch(connector, url, ssl=Fingerprint(hashlib.sha256(der).digest()))
        assert response.status == 200
    assert info.value.got == hashlib.sha256(der).digest()
    assert await client_sockets_after_closing(open_socks.port) == 0


@pytest.mark.parametrize("target", ["http", "https"])
@pytest.mark.parametrize("how", ["url", "proxy_auth"])
async def test_connector_with_credentials(
    auth_socks: PproxyPeer, httpwire_server: LocalServer, target: str, how: str
) -> None:
    """RFC 1929 credentials reach the proxy; the target never sees them, nor a
    Proxy-Authorization field the caller set."""
    if how == "url":
        connector = ProxyConnector(
            auth_socks.url("socks5h", f"{USER}:{PASSWORD_IN_URL}@"),
            ssl_context=_trust(httpwire_server),
        )
    else:
        connector = ProxyConnector(
            auth_socks.url("socks5h"),
            proxy_auth=BasicAuth(USER, PASSWORD),
            ssl_context=_trust(httpwire_server),
        )
    async with connector:
        assert connector.proxy_auth == BasicAuth(USER, PASSWORD)
        assert connector.proxy == URL(auth_socks.url("socks5h"))
        assert PASSWORD not in repr(connector.proxy_auth)
        body = await fetch_json(
            connector,
            httpwire_server.url("/headers", scheme=target),
            headers={"Proxy-Authorization": "Basic c2VjcmV0OnNlY3JldA=="},
        )
    assert _header(body["headers"], "Proxy-Authorization") is None


@pytest.mark.parametrize("target", ["http", "https"])
async def test_connector_wrong_credentials(
    auth_socks: PproxyPeer, httpwire_server: LocalServer, target: str
) -> None:
    url = URL(httpwire_server.url("/get", scheme=target))
    async with ProxyConnector(
        auth_socks.url("socks5"), proxy_auth=BasicAuth(USER, "wrong-secret")
    ) as connector:
        with pytest.raises(SocksError) as info:
            await connector.acquire(OutgoingRequest("GET", url))
        assert connector.stats() == EMPTY
    assert info.value.auth_failed and info.value.reply_code is None
    assert info.value.proxy == URL(auth_socks.url("socks5"))
    assert str(info.value).startswith(f"proxy {auth_socks.url('socks5')} refused for GET {url}")
    assert "wrong-secret" not in str(info.value)
    assert await client_sockets_after_closing(auth_socks.port) == 0


async def test_connector_no_credentials_for_an_authenticating_proxy(
    auth_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    async with ProxyConnector(auth_socks.url("socks5h")) as connector:
        with pytest.raises(SocksError, match="choice of authentication method"):
            await connector.acquire(OutgoingRequest("GET", URL(httpwire_server.url("/get"))))
        assert connector.stats() == EMPTY
    assert await client_sockets_after_closing(auth_socks.port) == 0


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_connector_unreachable_proxy(scheme: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    async with ProxyConnector(f"{scheme}://127.0.0.1:{port}") as connector:
        with pytest.raises(ClientProxyConnectionError) as info:
            await connector.acquire(OutgoingRequest("GET", URL("http://127.0.0.1:9/")))
        assert connector.stats() == EMPTY
    assert (info.value.host, info.value.port) == ("127.0.0.1", port)
    assert str(info.value) == (
        f"cannot connect to 127.0.0.1:{port} for GET http://127.0.0.1:9/: "
        "Connection refused (errno 111)"
    )


@pytest.mark.parametrize("code", [2, 5])
async def test_connector_refusal_names_the_reply_code(code: int) -> None:
    script = Script(reply=bytes([5, code, 0, 1]) + bytes(6))
    async with ScriptedSocks(script) as server:
        async with ProxyConnector(server.url("socks5")) as connector:
            with pytest.raises(SocksError) as info:
                await connector.acquire(OutgoingRequest("GET", URL("https://10.0.0.1:8443/")))
            assert connector.stats() == EMPTY
        assert await client_sockets_after_closing(server.port) == 0
    assert info.value.reply_code == code
    assert REPLY_MEANINGS[code] in str(info.value)
    assert server.requests[0].host == "10.0.0.1" and server.requests[0].port == 8443


@pytest.mark.parametrize(("scheme", "atyp"), [("socks5", 0x01), ("socks5h", 0x03)])
async def test_connector_sends_an_address_or_the_name(
    httpwire_server: LocalServer, scheme: str, atyp: int
) -> None:
    """socks5:// resolves the target here with the connector's resolver (IPv4 only with
    family=AF_INET); socks5h:// sends the name for the proxy to resolve."""
    url = URL(httpwire_server.url("/get?relayed=1")).with_host("localhost")
    async with (
        ScriptedSocks(Script(relay=True)) as server,
        ProxyConnector(server.url(scheme), family=socket.AF_INET) as connector,
    ):
        body = await fetch_json(connector, url)
    assert body["args"] == {"relayed": "1"}
    (request,) = server.requests
    assert request.atyp == atyp and request.port == httpwire_server.port
    assert request.host == ("127.0.0.1" if atyp == 0x01 else "localhost")


async def test_per_request_socks_proxies_are_separate_pool_keys(
    open_socks: PproxyPeer, auth_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    """Direct, each SOCKS scheme, and each set of credentials get their own connections;
    the same proxy and credentials share one."""
    url = httpwire_server.url("/connection-id")
    auth = BasicAuth(USER, PASSWORD)
    async with TCPConnector() as connector:
        ids = [
            (await fetch_json(connector, url, **route))["connection_id"]
            for route in (
                {},
                {"proxy": URL(open_socks.url("socks5"))},
                {"proxy": URL(open_socks.url("socks5h"))},
                {"proxy": URL(auth_socks.url("socks5h")), "proxy_auth": auth},
                {"proxy": URL(auth_socks.url("socks5h", f"{USER}:{PASSWORD_IN_URL}@"))},
            )
        ]
        assert len(set(ids)) == 4, ids  # the last two are the same proxy and credentials
        assert ids[3] == ids[4]
        assert connector.stats().idle == 4
        again = await fetch_json(connector, url, proxy=URL(open_socks.url("socks5h")))
        assert again["connection_id"] == ids[2]
        assert connector.stats().idle == 4
        with pytest.raises(SocksError):  # other credentials: a new connection, refused
            await fetch(
                connector,
                url,
                proxy=URL(auth_socks.url("socks5h")),
                proxy_auth=BasicAuth(USER, "x"),
            )
        assert connector.stats().idle == 4


async def test_per_request_proxy_auth_on_a_socks_proxy_connector(
    auth_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    async with ProxyConnector(auth_socks.url("socks5h")) as connector:
        body = await fetch_json(
            connector, httpwire_server.url("/get"), proxy_auth=BasicAuth(USER, PASSWORD)
        )
    assert body["url"].endswith("/get")


@pytest.mark.parametrize("stage", ["greeting", "auth", "request"])
async def test_sock_connect_bounds_the_socks_handshake(stage: str) -> None:
    script = Script(method=b"\x05\x02", silent_at=stage)
    async with ScriptedSocks(script) as server:
        async with ProxyConnector(server.url(), proxy_auth=BasicAuth("u", "p")) as connector:
            request = OutgoingRequest("GET", URL("http://example.test/"), sock_connect=0.2)
            with pytest.raises(ConnectTimeoutError) as info:
                await connector.acquire(request)
            assert connector.stats() == EMPTY
        assert await client_sockets_after_closing(server.port) == 0
    assert (info.value.host, info.value.port) == ("127.0.0.1", server.port)


async def test_cancelled_during_the_socks_handshake_leaves_the_pool_balanced() -> None:
    async with ScriptedSocks(Script(silent_at="request")) as server:
        async with ProxyConnector(server.url()) as connector:
            task = asyncio.ensure_future(
                connector.acquire(OutgoingRequest("GET", URL("http://example.test/")))
            )
            await asyncio.wait_for(server.requested.wait(), 30)
            assert connector.stats().connecting == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert connector.stats() == EMPTY
        assert await client_sockets_after_closing(server.port) == 0


async def test_cancelled_during_tls_in_the_tunnel_leaves_the_pool_balanced(
    raw_server: StartServer,
) -> None:
    """The tunnel is open and the target never answers the ClientHello: cancelling the
    request closes the tunnel and gives its slot back."""
    hello = asyncio.Event()

    async def silent_target(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        hello.set()
        await reader.read()

    target = URL(await raw_server(silent_target)).with_scheme("https")
    async with ScriptedSocks(Script(relay=True)) as server:
        async with ProxyConnector(server.url("socks5")) as connector:
            task = asyncio.ensure_future(connector.acquire(OutgoingRequest("GET", target)))
            await asyncio.wait_for(hello.wait(), 30)
            assert connector.stats().connecting == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert connector.stats() == EMPTY
        assert await client_sockets_after_closing(server.port) == 0


async def test_cancelled_while_waiting_for_the_head_through_socks(
    open_socks: PproxyPeer, httpwire_server: LocalServer
) -> None:
    """Cancelled after the tunnel was made, while the target is slow to answer: the
    connection is closed (its state is unknown) and the pool balances."""
    async with ProxyConnector(open_socks.url("socks5h")) as connector:
        request = OutgoingRequest("GET", URL(httpwire_server.url("/fault/stall")))
        conn = await connector.acquire(request)
        task = asyncio.ensure_future(conn.send(request))
        for _ in range(1000):
            await asyncio.sleep(0)
            if conn.transport is not None and conn.transport.get_write_buffer_size() == 0:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert connector.stats() == EMPTY
        assert (await fetch_json(connector, httpwire_server.url("/get")))["args"] == {}
    assert await client_sockets_after_closing(open_socks.port) == 0


def test_socks_proxy_urls_in_the_pool_key() -> None:
    connector = TCPConnector()
    url = URL("http://example.test/")
    keys = {
        connector._key_for(url, None, proxy, auth)
        for proxy, auth in [
            ("socks5://127.0.0.1:1080", None),
            ("socks5://127.0.0.1", None),  # the default port: the same proxy
            ("socks5h://127.0.0.1:1080", None),
            ("http://127.0.0.1:1080", None),
            ("socks5://127.0.0.1:1080", BasicAuth("a", "b")),
            ("socks5://a:b@127.0.0.1:1080", None),
            ("socks5://127.0.0.1:1080", BasicAuth("a", "c")),
        ]
    }
    assert len(keys) == 5
    assert connector._key_for(url, None, "socks5://[::1]", None).proxy == URL(
        "socks5://[::1]:1080"
    )


def test_socks_credentials_checked_when_configured() -> None:
    with pytest.raises(ValueError, match="password"):
        ProxyConnector("socks5://127.0.0.1:1080", proxy_auth=BasicAuth("u", "p" * 256))
    with pytest.raises(ValueError, match="proxy credentials given twice"):
        ProxyConnector("socks5://u:p@127.0.0.1:1080", proxy_auth=BasicAuth("u", "p"))


async def test_connector_reaches_a_socks_proxy_on_ipv6(httpwire_server: LocalServer) -> None:
    """A proxy URL with an IPv6 host keeps its brackets through the connector: the
    scripted proxy listens on ``::1`` and relays the request."""
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    async with ScriptedSocks(Script(relay=True), host="::1") as server:
        proxy = f"socks5h://[::1]:{server.port}"
        assert server.url() == proxy
        async with ProxyConnector(proxy) as connector:
            assert connector.proxy == URL(proxy)
            body = await fetch_json(connector, httpwire_server.url("/get?v6=1"))
    assert body["args"] == {"v6": "1"}
    assert server.requests[0].port == httpwire_server.port


@pytest.mark.parametrize(
    ("script", "refused"),
    [
        (Script(reply=b"\x05\x00\x07\x01" + b"\x00" * 6), False),  # reserved byte (RFC 1928 §6)
        (Script(method=b"\x04\x00"), False),  # not SOCKS5 at all
        (Script(reply=b"\x05\x00"), False),  # closed in the middle of the reply
        (Script(method=b"\x05\xff"), True),  # no acceptable method: a refusal (RFC 1928 §3)
        (Script(reply=b"\x05\x02\x00\x01" + b"\x00" * 6), True),  # reply code 0x02
    ],
    ids=["reserved-byte", "not-socks5", "cut-reply", "no-method", "reply-code"],
)
async def test_only_a_refusal_is_called_one(script: Script, refused: bool) -> None:
    """A proxy that broke the protocol failed the handshake; only a "no" is a refusal."""
    async with ScriptedSocks(script) as server, TCPConnector() as connector:
        url = URL("http://target.example/x")
        with pytest.raises(SocksError) as info:
            await connector.acquire(OutgoingRequest("GET", url, proxy=URL(server.url())))
    error = info.value
    assert error.refused is refused
    verb = "refused" if refused else "failed the SOCKS5 handshake"
    assert str(error).startswith(f"proxy {server.url()} {verb} for GET {url}: ")
    if not refused:
        assert "refused" not in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.refused, str(copy)) == (refused, str(error))
