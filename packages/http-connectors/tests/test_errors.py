"""The client error tree: messages name what failed and where, timeouts are timeouts,
and every error survives a pickle round trip."""

from __future__ import annotations

import asyncio
import errno
import pickle
import socket

import pytest
from yarl import URL

import httpwire.connectors
from httpwire.connectors import (
    BadResponseError,
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientError,
    ClientOSError,
    ClientPayloadError,
    ClientProxyConnectionError,
    ClientProxyError,
    ClientSSLError,
    ClientTimeoutError,
    ConnectTimeoutError,
    FingerprintMismatch,
    ReadTimeoutError,
    ServerConnectionError,
    ServerDisconnectedError,
    TotalTimeoutError,
)
from httpwire.connectors._socks import SocksError

URL_WITH_SECRET = URL("http://user:secret@example.org:8080/path?q=1")
REFUSED = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

EXAMPLES: list[ClientError] = [
    ClientError("plain"),
    ClientConnectionError("connector is closed", method="GET", url=URL_WITH_SECRET),
    ClientOSError(
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        during="sending the request",
        method="POST",
        url=URL_WITH_SECRET,
        host="example.org",
        port=8080,
        is_stale_connection=True,
    ),
    ClientConnectorError("example.org", 8080, REFUSED, method="GET", url=URL_WITH_SECRET),
    ClientProxyConnectionError("proxy", 3128, REFUSED),
    ClientSSLError("example.org", 443, OSError("handshake failed")),
    ClientConnectorCertificateError(
        "example.org", 443, "self-signed certificate", "the system's default CA store"
    ),
    ServerConnectionError("too many interim responses", host="h", port=1),
    ServerDisconnectedError("response", method="GET", url=URL_WITH_SECRET, host="h", port=1),
    ServerDisconnectedError("head", host="h", port=1),
    ServerDisconnectedError("body", received=3, expected=13, host="::1", port=80),
    ServerDisconnectedError("body", received=3, host="/tmp/s.sock"),
    BadResponseError("bad status line b'HTTP/1.1 abc'", host="h", port=1),
    FingerprintMismatch(b"\x01" * 32, b"\x02" * 32, "example.org", 443),
    ClientProxyError(URL("http://u:p@proxy:3128"), 407, "Proxy Authentication Required"),
    ClientPayloadError("chunk size b'zz' is not hex", method="GET", url=URL_WITH_SECRET),
    ClientTimeoutError("total timeout", timeout=1.0),
    TotalTimeoutError("timed out after 5 s", timeout=5.0),
    ConnectTimeoutError(2.5, method="GET", url=URL_WITH_SECRET, host="example.org", port=8080),
    ConnectTimeoutError(1, phase="connect", host="example.org", port=80),
    ReadTimeoutError(3, waiting_for="the response head", host="example.org", port=80),
    ClientProxyError(URL("http://u:p@proxy:3128"), None, "status line b'SSH-2.0' is not HTTP"),
    SocksError(URL("socks5://proxy:1080"), "SOCKS5 reply 0x05 (connection refused)", reply_code=5),
    SocksError(URL("socks5://proxy:1080"), "the proxy closed the connection", method="GET"),
    ClientPayloadError("bad chunk", host="h", port=1).with_request("GET", URL_WITH_SECRET),
    ClientConnectorError(
        "example.org", 80, REFUSED, reason="every address failed (a: b; c: d)"
    ).with_request("PUT", URL_WITH_SECRET),
]

# The same errors raised low, with only the endpoint: the request is attached afterwards.
LOW: list[ClientConnectionError | ClientPayloadError] = [
    ClientConnectionError("connector was closed while connecting"),
    ClientOSError(REFUSED, during="sending the request", host="example.org", port=8080),
    ClientConnectorError("example.org", 8080, REFUSED),
    ClientProxyConnectionError("proxy", 3128, REFUSED),
    ClientSSLError("example.org", 443, OSError("handshake failed")),
    ClientConnectorCertificateError("example.org", 443, "self-signed certificate", "store"),
    ServerDisconnectedError("body", received=3, expected=13, host="h", port=1),
    BadResponseError("bad status line", host="h", port=1),
    FingerprintMismatch(b"\x01" * 32, b"\x02" * 32, "example.org", 443),
    ClientProxyError(URL("http://u:p@proxy:3128"), 407, "Proxy Authentication Required"),
    ClientProxyError(URL("http://proxy:3128"), None, "status line b'x' is not HTTP"),
    SocksError(URL("socks5://proxy:1080"), "reply 0x02 (not allowed)", reply_code=2),
    ClientPayloadError("chunk size b'zz' is not hex", host="h", port=1),
    ConnectTimeoutError(2.5, host="example.org", port=8080),
    ReadTimeoutError(3, waiting_for="the response head", host="example.org", port=80),
]


def _error_classes() -> set[type[BaseException]]:
    names = httpwire.connectors.__all__
    found = {getattr(httpwire.connectors, name) for name in names}
    return {c for c in found if isinstance(c, type) and issubclass(c, ClientError)} | {SocksError}


def test_every_error_class_has_a_pickling_example() -> None:
    assert _error_classes() <= {type(error) for error in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_error_pickles_with_message_and_attributes(error: ClientError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    # Nested OS errors compare by identity; their reprs must agree.
    assert repr(vars(copy)) == repr(vars(error))
    if isinstance(error, OSError):
        assert isinstance(copy, OSError)
        assert (copy.errno, copy.strerror) == (error.errno, error.strerror)


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_messages_never_show_credentials(error: ClientError) -> None:
    assert "secret" not in str(error)
    assert "u:p@" not in str(error)


def test_connector_error_names_host_port_request_and_os_error() -> None:
    error = ClientConnectorError("example.org", 8080, REFUSED, method="GET", url=URL_WITH_SECRET)
    assert str(error) == (
        "cannot connect to example.org:8080 for GET http://example.org:8080/path?q=1: "
        "Connection refused (errno 111)"
    )
    assert (error.host, error.port, error.os_error) == ("example.org", 8080, REFUSED)
    assert error.errno == errno.ECONNREFUSED
    assert isinstance(error, OSError)
    assert isinstance(error, ClientOSError)
    assert isinstance(error, ClientConnectionError)


def test_a_name_that_does_not_resolve_is_named_in_getaddrinfos_words() -> None:
    # getaddrinfo's EAI_* codes are not errnos: os.strerror(-2) would say "Unknown error".
    failure = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    error = ClientConnectorError(
        "nx.invalid", 80, failure, method="GET", url=URL("http://nx.invalid/")
    )
    assert str(error) == (
        "cannot connect to nx.invalid:80 for GET http://nx.invalid/: "
        f"Name or service not known (getaddrinfo error {socket.EAI_NONAME})"
    )
    assert "Unknown error" not in str(error)
    assert pickle.loads(pickle.dumps(error)).args == error.args


def test_ipv6_hosts_are_bracketed() -> None:
    error = ServerDisconnectedError("response", host="::1", port=8080)
    assert str(error) == "server [::1]:8080 disconnected before sending any response"


def test_server_disconnected_says_what_was_expected() -> None:
    assert str(ServerDisconnectedError("body", received=3, expected=13, host="h", port=1)) == (
        "server h:1 disconnected after 3 of 13 body bytes"
    )
    assert str(ServerDisconnectedError("body", received=7, host="h", port=1)) == (
        "server h:1 disconnected after 7 body bytes, before the end of the chunked body"
    )
    assert str(ServerDisconnectedError("head", host="h", port=1)) == (
        "server h:1 disconnected in the middle of the response head"
    )
    stale = ServerDisconnectedError("response", host="h", port=1, is_stale_connection=True)
    assert stale.is_stale_connection
    assert str(stale).endswith("(the pooled connection had gone stale)")


@pytest.mark.parametrize(
    "error",
    [
        ClientTimeoutError("x"),
        TotalTimeoutError("x"),
        ConnectTimeoutError(1, host="h", port=1),
        ReadTimeoutError(1, host="h", port=1),
    ],
    ids=lambda e: type(e).__name__,
)
def test_timeouts_are_asyncio_timeouts_and_print_their_message(error: ClientError) -> None:
    assert isinstance(error, asyncio.TimeoutError)
    assert isinstance(error, ClientError)
    assert not str(error).startswith("[Errno")
    assert str(error) == error.args[0]


def test_read_timeout_message() -> None:
    error = ReadTimeoutError(
        2.0,
        waiting_for="the response head",
        method="GET",
        url=URL("http://h:1/x"),
        host="h",
        port=1,
    )
    assert str(error) == (
        "no bytes received from h:1 for 2.0 s while waiting for the response head "
        "for GET http://h:1/x (sock_read timeout)"
    )
    assert isinstance(error, ServerConnectionError)


def test_connect_timeout_phases() -> None:
    assert "connecting to h:1" in str(ConnectTimeoutError(1, host="h", port=1))
    waited = ConnectTimeoutError(1, phase="connect", host="h", port=1)
    assert "getting a connection to h:1" in str(waited)
    assert "(connect timeout)" in str(waited)


def test_fingerprint_mismatch_carries_both_digests() -> None:
    error = FingerprintMismatch(b"\xaa" * 16, b"\xbb" * 16, "example.org", 443)
    assert (error.expected, error.got, error.host, error.port) == (
        b"\xaa" * 16,
        b"\xbb" * 16,
        "example.org",
        443,
    )
    assert "expected " + "aa" * 16 in str(error)
    assert "got " + "bb" * 16 in str(error)


def test_proxy_error_carries_the_status() -> None:
    error = ClientProxyError(URL("http://u:p@proxy:3128"), 407, "Proxy Authentication Required")
    assert error.status == 407
    assert str(error) == "proxy http://proxy:3128 refused: 407 Proxy Authentication Required"


def test_certificate_error_names_the_trust_store() -> None:
    error = ClientConnectorCertificateError(
        "h",
        443,
        "unable to get local issuer certificate",
        "trust store: certifi; pass ssl_context=",
    )
    assert str(error) == (
        "cannot connect to h:443: certificate verification failed: unable to get local issuer "
        "certificate (trust store: certifi; pass ssl_context=)"
    )
    assert isinstance(error, ClientSSLError)


@pytest.mark.parametrize("error", LOW, ids=lambda e: type(e).__name__)
def test_the_request_is_attached_once_at_the_boundary(
    error: ClientConnectionError | ClientPayloadError,
) -> None:
    """Raised with the endpoint only, named after the request by whoever knows it."""
    before = str(error)
    assert " for GET" not in before and error.method is None and error.url is None
    named = error.with_request("GET", URL_WITH_SECRET)
    assert named is error
    after = str(error)
    assert after.count(" for GET http://example.org:8080/path?q=1") == 1
    assert after.replace(" for GET http://example.org:8080/path?q=1", "") == before
    assert (named.method, named.url) == ("GET", URL("http://example.org:8080/path?q=1"))
    assert "secret" not in after and "secret" not in repr(error) and "u:p@" not in after
    assert error.args == (after,) and repr(error) == f"{type(error).__name__}({after!r})"
    # An inner boundary's request (or the raiser's) is kept.
    error.with_request("POST", URL("http://other/"))
    assert str(error) == after
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.url) == (type(error), after, error.url)


def test_the_message_follows_the_attributes() -> None:
    """The message is rendered when printed: an attribute set later shows in it."""
    error = ServerDisconnectedError("body", received=3, expected=13, host="h", port=1)
    error.received = 7
    assert str(error) == "server h:1 disconnected after 7 of 13 body bytes"
    assert error.args == (str(error),)


def test_a_request_named_in_part_is_completed() -> None:
    error = ClientConnectionError("the response to GET was released", method="GET")
    error.with_request("POST", URL("http://u:secret@h/x"))
    assert (error.method, error.url) == ("GET", URL("http://h/x"))
    assert str(error) == "the response to GET was released for GET http://h/x"


def test_a_free_text_message_naming_the_url_is_not_repeated() -> None:
    url = URL("http://h/x")
    error = ClientConnectionError(f"connector is closed; cannot send GET {url}", url=url)
    assert str(error.with_request("GET", url)) == f"connector is closed; cannot send GET {url}"


def test_a_proxy_url_is_kept_without_its_credentials() -> None:
    error = ClientProxyError(URL("http://u:secret@proxy:3128"), 407, "Proxy Authentication")
    assert error.proxy == URL("http://proxy:3128")
    assert "secret" not in repr(vars(error)) and "secret" not in str(error)


def test_only_a_status_is_a_refusal() -> None:
    """A proxy that answered with a status refused; one whose answer was not HTTP did not."""
    refused = ClientProxyError(URL("http://proxy:3128"), 403, "Forbidden")
    assert refused.refused and str(refused) == "proxy http://proxy:3128 refused: 403 Forbidden"
    invalid = ClientProxyError(URL("http://proxy:3128"), None, "status line b'x' is not HTTP")
    assert not invalid.refused
    assert str(invalid) == (
        "proxy http://proxy:3128 sent an invalid answer: status line b'x' is not HTTP"
    )
    broke = SocksError(URL("socks5://proxy:1080"), "reserved byte 0x07, not 0x00")
    assert not broke.refused
    assert str(broke) == (
        "proxy socks5://proxy:1080 failed the SOCKS5 handshake: reserved byte 0x07, not 0x00"
    )
    assert SocksError(URL("socks5://p:1"), "x", auth_failed=True).refused
    assert SocksError(URL("socks5://p:1"), "x", refused=True).refused


def test_an_os_error_keeps_errno_and_strerror_through_a_pickle() -> None:
    error = ClientOSError(REFUSED, during="sending the request", host="h", port=1)
    copy = pickle.loads(pickle.dumps(error.with_request("GET", URL("http://h:1/"))))
    assert (copy.errno, copy.strerror) == (errno.ECONNREFUSED, "Connection refused")
    assert copy.os_error.errno == errno.ECONNREFUSED and copy.during == "sending the request"
    assert str(copy) == (
        "connection to h:1 failed while sending the request for GET http://h:1/: "
        "Connection refused (errno 111)"
    )
