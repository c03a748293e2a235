"""RequestParser: request lines (RFC 9112 §3), Host (§3.2), framing (§6), upgrades, pipelining.

Also checked against a real peer: requests written by Python's http.client to a
loopback socket.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable, Sequence

import pytest
from multidict import CIMultiDict

from httpwire.parser import (
    HTTP10,
    HTTP11,
    BadStartLineError,
    EndOfMessage,
    IncompleteMessageError,
    InvalidFramingError,
    InvalidHeaderError,
    RequestHead,
    RequestParser,
)


def parse(data: bytes) -> list[object]:
    """All events of ``data`` fed at once and byte by byte; both must agree."""
    events = RequestParser().feed(data)
    single = RequestParser()
    pieces: list[object] = []
    for i in range(len(data)):
        pieces += single.feed(data[i : i + 1])
    assert _merge(pieces) == _merge(events)
    return _merge(events)


def _merge(events: Sequence[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += event
        else:
            out.append(event)
    return out


def head_of(events: Sequence[object]) -> RequestHead:
    head = events[0]
    assert isinstance(head, RequestHead)
    return head


def error_of(data: bytes) -> str:
    with pytest.raises(Exception) as info:
        RequestParser().feed(data)
    return str(info.value)


def test_get_without_body() -> None:
    events = parse(b"GET /path?q=1 HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n")
    head = head_of(events)
    assert (head.method, head.target, head.version) == ("GET", "/path?q=1", HTTP11)
    assert head.headers == CIMultiDict([("Host", "example.org"), ("Accept", "*/*")])
    assert head.raw_headers == ((b"Host", b"example.org"), (b"Accept", b"*/*"))
    assert (head.content_length, head.chunked, head.should_close, head.upgrade) == (
        0,
        False,
        False,
        False,
    )
    assert not head.expect_continue
    assert events[1:] == [EndOfMessage()]


def test_post_with_content_length_body() -> None:
    events = parse(b"POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody")
    assert head_of(events).content_length == 4
    assert events[1:] == [b"body", EndOfMessage()]


def test_chunked_request_with_trailers() -> None:
    events = parse(
        b"PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nWiki\r\n5\r\npedia\r\n0\r\nChecksum: abc\r\n\r\n"
    )
    head = head_of(events)
    assert (head.chunked, head.content_length) == (True, None)
    assert events[1] == b"Wikipedia"
    assert events[2] == EndOfMessage(CIMultiDict(Checksum="abc"), ((b"Checksum", b"abc"),))


def test_methods_are_case_sensitive_and_any_token() -> None:
    head = head_of(parse(b"get / HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert head.method == "get"
    head = head_of(parse(b"M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert (head.method, head.target) == ("M-SEARCH", "*")


def test_absolute_and_authority_form_targets() -> None:
    head = head_of(parse(b"GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n"))
    assert head.target == "http://a.example/x"
    head = head_of(parse(b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"))
    assert (head.method, head.target, head.upgrade) == ("CONNECT", "a.example:443", True)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            b"GET  / HTTP/1.1",
            "request line b'GET  / HTTP/1.1' is not method SP request-target SP HTTP-version, "
            "with single spaces (RFC 9112 §3)",
        ),
        (
            b"GET / HTTP/1.1 ",
            "request line b'GET / HTTP/1.1 ' is not method SP request-target SP HTTP-version, "
            "with single spaces (RFC 9112 §3)",
        ),
        (
            b"GET /",
            "request line b'GET /' is not method SP request-target SP HTTP-version, "
            "with single spaces (RFC 9112 §3)",
        ),
        (
            b"G(T / HTTP/1.1",
            "invalid method b'G(T' in the request line b'G(T / HTTP/1.1': a method is a token "
            "(RFC 9110 §9.1)",
        ),
        (
            b"GET /\x7f HTTP/1.1",
            "invalid request-target b'/\\x7f' in the request line b'GET /\\x7f HTTP/1.1': only "
            "visible ASCII is allowed (RFC 9112 §3.2)",
        ),
        (
            b"GET /\xc3\xa9 HTTP/1.1",
            "invalid request-target b'/\\xc3\\xa9' in the request line "
            "b'GET /\\xc3\\xa9 HTTP/1.1': only visible ASCII is allowed (RFC 9112 §3.2)",
        ),
        (
            b"GET / HTTP/2.0",
            "unsupported HTTP version b'HTTP/2.0' in the request line b'GET / HTTP/2.0': only "
            "HTTP/1.x is spoken here (RFC 9112 §2.3)",
        ),
        (
            b"GET / HTTP/1.1.1",
            "invalid HTTP version b'HTTP/1.1.1' in the request line b'GET / HTTP/1.1.1': "
            "expected HTTP/DIGIT.DIGIT (RFC 9112 §2.3)",
        ),
        (
            b"GET / HTTP/1.1\x00",
            "invalid HTTP version b'HTTP/1.1\\x00' in the request line b'GET / HTTP/1.1\\x00': "
            "expected HTTP/DIGIT.DIGIT (RFC 9112 §2.3)",
        ),
    ],
)
def test_bad_request_lines_are_rejected_with_the_line_quoted(line: bytes, message: str) -> None:
    with pytest.raises(BadStartLineError) as info:
        RequestParser().feed(line + b"\r\nHost: h\r\n\r\n")
    assert str(info.value) == message


def test_one_empty_line_before_the_request_line_is_ignored_rfc9112_2_2() -> None:
    events = parse(
        b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    heads = [e for e in events if isinstance(e, RequestHead)]
    assert [h.target for h in heads] == ["/", "/2"]


def test_bare_lf_before_the_request_line_is_rejected() -> None:
    assert error_of(b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") == (
        "bare LF before the start line b'\\nGET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n' "
        "(RFC 9112 §2.2)"
    )


def test_bare_lf_in_a_request_head_is_rejected_rfc9112_2_2() -> None:
    assert error_of(b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n") == (
        "bare LF in header line 2 b'Host: h\\nX: y': requests must end lines with CRLF "
        "(RFC 9112 §2.2)"
    )
    assert error_of(b"GET / HTTP/1.1\nHost: h\r\n\r\n") == (
        "bare LF in the request line b'GET / HTTP/1.1\\nHost: h': requests must end lines with"
        " CRLF (RFC 9112 §2.2)"
    )


def test_bare_lf_head_is_rejected_before_it_completes() -> None:
    # Without a CRLFCRLF the head never ends; the bare LF must still fail at once.
    parser = RequestParser()
    with pytest.raises(InvalidHeaderError) as info:
        parser.feed(b"GET / HTTP/1.1\nHost: h\n\n")
    assert str(info.value) == (
        "bare LF after b'GET / HTTP/1.1': requests must end lines with CRLF (RFC 9112 §2.2)"
    )


def test_obs_fold_in_a_request_is_rejected_rfc9112_5_2() -> None:
    assert error_of(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n") == (
        "obs-fold in header line 4 b' b': line folding is not allowed in requests (RFC 9112 §5.2)"
    )


def test_whitespace_before_the_first_field_is_rejected_rfc9112_2_2() -> None:
    assert error_of(b"GET / HTTP/1.1\r\n Host: h\r\n\r\n") == (
        "obs-fold in header line 2 b' Host: h': line folding is not allowed in requests "
        "(RFC 9112 §5.2)"
    )


# -- Host (RFC 9112 §3.2) -----------------------------------------------------------------


def test_http11_request_without_host_is_rejected() -> None:
    assert error_of(b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n") == (
        "HTTP/1.1 request without a Host field (RFC 9112 §3.2)"
    )


def test_http10_request_without_host_is_accepted() -> None:
    head = head_of(parse(b"GET / HTTP/1.0\r\n\r\n"))
    assert head.version == HTTP10
    assert head.should_close


def test_two_host_fields_are_rejected_even_in_http10() -> None:
    message = "more than one Host field: b'a', b'b' (RFC 9112 §3.2)"
    assert error_of(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == message
    assert error_of(b"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n") == message


@pytest.mark.parametrize("host", [b"a b", b"a/b", b"a@b", b"[::1", b"h:80x"])
def test_invalid_host_values_are_rejected(host: bytes) -> None:
    assert error_of(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n") == (
        f'invalid Host {host!r}: not uri-host [ ":" port ] (RFC 9112 §3.2)'
    )


@pytest.mark.parametrize(
    "host", [b"", b"example.org", b"example.org:8080", b"[::1]:443", b"127.0.0.1", b"xn--e-9a"]
)
def test_valid_host_values_are_accepted(host: bytes) -> None:
    head = head_of(parse(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"))
    assert head.headers["Host"] == host.decode()


# -- connection, expectations and upgrades --------------------------------------------------


@pytest.mark.parametrize(
    ("version", "connection", "should_close"),
    [
        (b"1.1", None, False),
        (b"1.1", b"close", True),
        (b"1.0", None, True),
        (b"1.0", b"Keep-Alive", False),
        (b"1.0", b"keep-alive, close", True),
        (b"1.1", b"Upgrade, Close", True),
    ],
)
def test_should_close(version: bytes, connection: bytes | None, should_close: bool) -> None:
    fields = b"Connection: " + connection + b"\r\n" if connection else b""
    head = head_of(parse(b"GET / HTTP/" + version + b"\r\nHost: h\r\n" + fields + b"\r\n"))
    assert head.should_close is should_close


def test_expect_100_continue_is_reported_for_http11_only() -> None:
    data = b"POST / HTTP/1.%d\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx"
    assert head_of(parse(data % 1)).expect_continue
    assert not head_of(parse(data % 0)).expect_continue


def test_upgrade_request_stops_after_its_body_and_hands_back_the_rest() -> None:
    parser = RequestParser()
    events = parser.feed(
        b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
        b"Upgrade: websocket\r\nContent-Length: 2\r\n\r\nab\x81\x00"
    )
    head = head_of(events)
    assert head.upgrade
    assert events[1:] == [b"ab", EndOfMessage()]
    assert parser.upgraded
    assert parser.feed(b"more") == []
    assert parser.trailing_data() == b"\x81\x00more"


@pytest.mark.parametrize("connection", [b"Upgrade", b"keep-alive, upgrade"])
def test_upgrade_in_an_http10_request_is_ignored_rfc9110_7_8(connection: bytes) -> None:
    """RFC 9110 §7.8: a server MUST ignore Upgrade received in an HTTP/1.0 request."""
    first = (
        b"GET /ws HTTP/1.0\r\nHost: h\r\nConnection: " + connection + b"\r\n"
        b"Upgrade: websocket\r\n\r\n"
    )
    second = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
    events = parse(first + second)
    head = head_of(events)
    assert not head.upgrade
    assert head.headers["Upgrade"] == "websocket"
    assert events[1] == EndOfMessage()
    # The pipelined request after it is parsed, not handed back as tunnel bytes.
    assert isinstance(events[2], RequestHead) and events[2].target == "/next"
    parser = RequestParser()
    parser.feed(first + second)
    assert not parser.upgraded
    assert parser.trailing_data() == b""


def test_connect_in_http10_still_upgrades() -> None:
    parser = RequestParser()
    head = head_of(parser.feed(b"CONNECT h:443 HTTP/1.0\r\n\r\n\x16"))
    assert head.upgrade and parser.upgraded
    assert parser.trailing_data() == b"\x16"


def test_upgrade_header_without_connection_upgrade_is_no_upgrade() -> None:
    parser = RequestParser()
    head = head_of(parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\nGET"))
    assert not head.upgrade
    assert not parser.upgraded


def test_connect_request_upgrades_at_once() -> None:
    parser = RequestParser()
    events = parser.feed(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n\x16\x03\x01")
    assert [type(e) for e in events] == [RequestHead, EndOfMessage]
    assert parser.upgraded
    assert parser.trailing_data() == b"\x16\x03\x01"


def test_pipelined_requests_all_come_out() -> None:
    one = b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n"
    post = b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
    events = parse(one % 1 + post + one % 2 + one % 3)
    heads = [e for e in events if isinstance(e, RequestHead)]
    assert [h.target for h in heads] == ["/1", "/p", "/2", "/3"]
    assert [e for e in events if isinstance(e, bytes)] == [b"abc"]


def test_eof_in_a_request_body_says_how_many_bytes_were_missing() -> None:
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n1234")
    with pytest.raises(IncompleteMessageError) as info:
        parser.feed_eof()
    assert (info.value.expected, info.value.received) == (10, 4)
    assert "6 missing" in str(info.value)


def test_chunked_in_http10_request_is_faulty_framing_rfc9112_6_1() -> None:
    with pytest.raises(InvalidFramingError) as info:
        RequestParser().feed(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert str(info.value) == (
        "Transfer-Encoding b'chunked' in an HTTP/1.0 request: its framing is faulty "
        "(RFC 9112 §6.1)"
    )


# -- a real peer: requests written by Python's http.client -----------------------------------


def _capture(*sends: Callable[[http.client.HTTPConnection], None]) -> bytes:
    """Bytes that http.client writes for each ``send(conn)``, one connection each, in order."""
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def serve() -> None:
            for _ in sends:
                sock, _ = listener.accept()
                with sock:
                    sock.settimeout(10)
                    while data := sock.recv(65536):
                        received.extend(data)

        thread = threading.Thread(target=serve)
        thread.start()
        for send in sends:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            send(conn)
            conn.close()
        thread.join(10)
    return bytes(received)


def _delete_without_accept_encoding(conn: http.client.HTTPConnection) -> None:
    conn.putrequest("DELETE", "/d", skip_accept_encoding=True)
    conn.endheaders()


def test_requests_written_by_http_client() -> None:
    data = _capture(
        lambda conn: conn.request("GET", "/a?x=1", headers={"X-Test": "caf\xe9"}),
        lambda conn: conn.request("POST", "/form", body=b"k=v&w=z"),
        lambda conn: conn.request("PUT", "/up", body=iter([b"abc", b"defg"]), encode_chunked=True),
        _delete_without_accept_encoding,
    )
    for size in (1, 5, 64, len(data)):
        parser = RequestParser()
        events: list[object] = []
        for i in range(0, len(data), size):
            events += parser.feed(data[i : i + size])
        assert parser.feed_eof() == []
        events = _merge(events)
        heads = [e for e in events if isinstance(e, RequestHead)]
        assert [(h.method, h.target) for h in heads] == [
            ("GET", "/a?x=1"),
            ("POST", "/form"),
            ("PUT", "/up"),
            ("DELETE", "/d"),
        ]
        assert all(h.headers["Host"].startswith("127.0.0.1:") for h in heads)
        assert heads[0].headers["X-Test"] == "caf\udce9"  # http.client sends latin-1
        assert heads[1].content_length == 7
        assert heads[2].chunked
        assert "Accept-Encoding" not in heads[3].headers
        assert [e for e in events if isinstance(e, bytes)] == [b"k=v&w=z", b"abcdefg"]
        assert sum(isinstance(e, EndOfMessage) for e in events) == 4


def test_http_client_multi_value_putheader_is_obs_fold_and_rejected() -> None:
    # http.client joins several values with CRLF HTAB: obs-fold, which requests must not use.
    def send(conn: http.client.HTTPConnection) -> None:
        conn.putrequest("GET", "/")
        conn.putheader("X-Multi", "a", "b")
        conn.endheaders()

    data = _capture(send)
    assert b"X-Multi: a\r\n\tb\r\n" in data
    with pytest.raises(InvalidHeaderError) as info:
        RequestParser().feed(data)
    assert str(info.value) == (
        "obs-fold in header line 5 b'\\tb': line folding is not allowed in requests "
        "(RFC 9112 §5.2)"
    )
