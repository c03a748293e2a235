"""Head serializers and the chunked encoder: exact bytes, the injection guard, real peers."""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from httpwire.parser import (
    END_OF_CHUNK,
    HTTP10,
    HTTP11,
    ChunkedEncoder,
    EndOfMessage,
    HttpParserError,
    HttpVersion,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
    serialize_request_head,
    serialize_response_head,
)

# --- exact bytes ---------------------------------------------------------------------------


def test_request_head_bytes() -> None:
    head = serialize_request_head("GET", "/path?q=1", [("Host", "example.org"), ("Accept", "*/*")])
    assert head == b"GET /path?q=1 HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n"


def test_response_head_bytes() -> None:
    head = serialize_response_head(404, "Not Found", [("Content-Length", "0")])
    assert head == b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def test_http10_and_other_versions() -> None:
    assert serialize_request_head("GET", "/", [], HTTP10) == b"GET / HTTP/1.0\r\n\r\n"
    assert serialize_response_head(200, "OK", [], HttpVersion(2, 0)) == b"HTTP/2.0 200 OK\r\n\r\n"


def test_version_must_be_two_digits() -> None:
    # RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT
    with pytest.raises(ValueError, match=r"HTTP version .*10.* is not two single digits"):
        serialize_request_head("GET", "/", [], HttpVersion(10, 0))


def test_nothing_is_added() -> None:
    # No Host, no Content-Length, no Date: the caller decides.
    assert serialize_request_head("POST", "/", []) == b"POST / HTTP/1.1\r\n\r\n"
    assert serialize_response_head(204, "", []) == b"HTTP/1.1 204 \r\n\r\n"


def test_mapping_and_multidict_keep_every_value_in_order() -> None:
    headers = CIMultiDict([("Set-Cookie", "a=1"), ("X-A", "x"), ("Set-Cookie", "b=2")])
    assert serialize_response_head(200, "OK", headers) == (
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-A: x\r\nSet-Cookie: b=2\r\n\r\n"
    )
    assert serialize_request_head("GET", "/", {"Host": "h", "Accept": "*/*"}) == (
        b"GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"
    )


def test_host_goes_first_and_extra_fields_last_rfc9110_7_2() -> None:
    # RFC 9110 §7.2: a user agent that sends Host SHOULD send it as the first field.
    head = serialize_request_head(
        "POST", "/", {"Accept": "*/*"}, host="h:8080", extra=[("Content-Length", "2")]
    )
    assert head == b"POST / HTTP/1.1\r\nHost: h:8080\r\nAccept: */*\r\nContent-Length: 2\r\n\r\n"
    assert serialize_request_head("GET", "/", [], host="h") == b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


@pytest.mark.parametrize("bad", ["h\r\nX-Injected: 1", "h\x00", "h\n"])
def test_host_and_extra_values_are_checked_like_the_others_rfc9110_5_5(bad: str) -> None:
    with pytest.raises(ValueError, match=r"'Host' value .* contains"):
        serialize_request_head("GET", "/", [], host=bad)
    with pytest.raises(ValueError, match=r"'X-Extra' value .* contains"):
        serialize_request_head("GET", "/", [], extra=[("X-Extra", bad)])


def test_a_read_only_mapping_is_checked_again_after_its_dict_changes() -> None:
    # A read-only view's checked section is reused only while its content is unchanged.
    base = CIMultiDict([("Accept", "*/*")])
    view = CIMultiDictProxy(base)
    assert serialize_request_head("GET", "/", view) == b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"
    base["X-New"] = "1"
    assert serialize_request_head("GET", "/", view) == (
        b"GET / HTTP/1.1\r\nAccept: */*\r\nX-New: 1\r\n\r\n"
    )
    base["X-New"] = "bad\r\nX-Injected: 1"
    with pytest.raises(ValueError, match=r"'X-New' value .* contains CR"):
        serialize_request_head("GET", "/", view)
    # Another view with the same content at any address is its own object: checked itself.
    other = CIMultiDictProxy(CIMultiDict([("Accept", "text/html")]))
    assert serialize_request_head("GET", "/", other) == (
        b"GET / HTTP/1.1\r\nAccept: text/html\r\n\r\n"
    )


def test_many_read_only_mappings_keep_the_remembered_sections_bounded() -> None:
    from httpwire.parser import _serialize

    for index in range(3 * _serialize._SECTIONS_MAX):
        view = CIMultiDictProxy(CIMultiDict([("X-N", str(index))]))
        assert serialize_request_head("GET", "/", view).endswith(f"X-N: {index}\r\n\r\n".encode())
    assert len(_serialize._SECTIONS) <= _serialize._SECTIONS_MAX


def test_pairs_may_come_from_a_generator_or_as_lists() -> None:
    gen = ((name, "v") for name in ("A", "B"))
    assert serialize_request_head("GET", "/", gen) == b"GET / HTTP/1.1\r\nA: v\r\nB: v\r\n\r\n"
    pairs: Any = [["A", "1"]]
    assert serialize_request_head("GET", "/", pairs) == b"GET / HTTP/1.1\r\nA: 1\r\n\r\n"


def test_extension_methods() -> None:
    assert serialize_request_head("PROPFIND", "/dav/", []) == b"PROPFIND /dav/ HTTP/1.1\r\n\r\n"


@pytest.mark.parametrize(
    ("target", "label"), [("/café", "U+00E9"), ("/caf\udce9", "U+DCE9"), ("/\u2028", "U+2028")]
)
def test_non_ascii_target_must_be_percent_encoded(target: str, label: str) -> None:
    # RFC 9112 §3.2: the request-target is a URI (RFC 3986: ASCII, percent-encoded).
    with pytest.raises(ValueError) as info:
        serialize_request_head("GET", target, [])
    assert str(info.value) == (
        f"target {target!r} contains {label} at index {len(target) - 1}; "
        "non-ASCII characters must be percent-encoded (RFC 3986 §2.1, RFC 9112 §3.2)"
    )


def test_empty_name_among_others_is_refused() -> None:
    with pytest.raises(ValueError, match=r"header name is empty; it must be a token"):
        serialize_request_head("GET", "/", [("A", "1"), ("", "2"), ("B", "3")])


def test_strings_are_not_pairs() -> None:
    with pytest.raises(TypeError, match=r"header 1 is not a \(name, value\) pair: 'ab'"):
        serialize_request_head("GET", "/", [("A", "1"), "ab"])  # type: ignore[list-item]


def test_caller_list_is_not_modified() -> None:
    pairs: Any = [["A", "1"], ("B", "2")]
    serialize_request_head("GET", "/", pairs)
    assert pairs == [["A", "1"], ("B", "2")]


def test_name_case_and_method_case_are_kept() -> None:
    head = serialize_request_head("patch", "/", [("x-LOWER-upper", "v")])
    assert head == b"patch / HTTP/1.1\r\nx-LOWER-upper: v\r\n\r\n"


def test_surrogateescaped_values_give_the_original_bytes_back() -> None:
    # A value the parser decoded from latin-1 bytes (UTF-8 with surrogateescape).
    wire = b"caf\xe9 \xff"
    value = wire.decode("utf-8", "surrogateescape")
    head = serialize_request_head("GET", "/", [("X-Legacy", value)])
    assert head == b"GET / HTTP/1.1\r\nX-Legacy: " + wire + b"\r\n\r\n"


def test_non_ascii_text_is_encoded_as_utf8() -> None:
    head = serialize_response_head(200, "Très bien", [("X-Name", "Zoë")])
    assert head == "HTTP/1.1 200 Très bien\r\nX-Name: Zoë\r\n\r\n".encode()


def test_obs_text_and_htab_are_allowed_in_values() -> None:
    head = serialize_request_head("GET", "/", [("X", "a\tb \x7e")])
    assert head == b"GET / HTTP/1.1\r\nX: a\tb ~\r\n\r\n"


def test_lone_surrogate_that_is_not_an_escaped_byte_is_refused() -> None:
    with pytest.raises(ValueError, match=r"header 'X' value 'a\\ud800' holds a lone surrogate"):
        serialize_request_head("GET", "/", [("X", "a\ud800")])
    with pytest.raises(ValueError, match=r"reason 'O\\ud800' holds a lone surrogate"):
        serialize_response_head(200, "O\ud800", [])


def test_status_codes() -> None:
    assert serialize_response_head(HTTPStatus.OK, "OK", []) == b"HTTP/1.1 200 OK\r\n\r\n"
    assert serialize_response_head(999, "X", []).startswith(b"HTTP/1.1 999 X\r\n")
    assert serialize_response_head(100, "Continue", []) == b"HTTP/1.1 100 Continue\r\n\r\n"


@pytest.mark.parametrize("status", [0, 99, 1000, -200, 20000])
def test_status_outside_three_digits_is_refused(status: int) -> None:
    # RFC 9110 §15: status-code = 3DIGIT
    with pytest.raises(ValueError, match=rf"status {status} is not a three-digit code"):
        serialize_response_head(status, "X", [])


@pytest.mark.parametrize("status", [True, 200.0, "200"])
def test_status_must_be_an_int(status: Any) -> None:
    with pytest.raises(TypeError, match="status must be int"):
        serialize_response_head(status, "OK", [])


# --- the injection guard ---------------------------------------------------------------------

_CONTROL = [("\r", "CR"), ("\n", "LF"), ("\x00", "NUL")]


@pytest.mark.parametrize(("char", "label"), _CONTROL)
def test_cr_lf_nul_in_header_value_is_refused(char: str, label: str) -> None:
    # RFC 9110 §5.5: CR, LF and NUL in a field value are invalid and dangerous.
    value = f"x{char}Injected: yes"
    with pytest.raises(ValueError) as info:
        serialize_request_head("GET", "/", [("Host", "h"), ("X-Test", value)])
    message = str(info.value)
    assert f"header 'X-Test' value {value!r} contains {label} at index 1" in message
    assert "RFC 9110 §5.5" in message


@pytest.mark.parametrize(("char", "label"), [("\x01", "U+0001"), ("\x1b", "U+001B"),
                                             ("\x7f", "U+007F"), ("\x0b", "U+000B")])  # fmt: skip
def test_other_control_characters_in_values_are_refused(char: str, label: str) -> None:
    # RFC 9110 §5.5: field-vchar = VCHAR / obs-text; other CTLs are invalid as well.
    with pytest.raises(ValueError) as info:
        serialize_request_head("GET", "/", [("X-Term", f"red{char}[0m")])
    assert str(info.value) == (
        f"header 'X-Term' value {f'red{char}[0m'!r} contains {label} at index 3; control "
        "characters other than HTAB are invalid in field values (RFC 9110 §5.5)"
    )


@pytest.mark.parametrize(("char", "label"), _CONTROL)
def test_cr_lf_nul_in_response_header_value_is_refused(char: str, label: str) -> None:
    with pytest.raises(ValueError, match=rf"header 'Location' value .* contains {label}"):
        serialize_response_head(302, "Found", [("Location", f"/next{char}")])


@pytest.mark.parametrize(("char", "label"), [*_CONTROL, (" ", "SP"), ("\t", "HTAB")])
def test_cr_lf_nul_whitespace_in_target_is_refused(char: str, label: str) -> None:
    # RFC 9112 §3.2: no whitespace or control character in a request-target.
    target = f"/a{char}b"
    with pytest.raises(ValueError) as info:
        serialize_request_head("GET", target, [])
    assert f"target {target!r} contains {label} at index 2" in str(info.value)
    assert "RFC 9112 §3.2" in str(info.value)


def test_empty_target_is_refused() -> None:
    with pytest.raises(ValueError, match=r"target is empty \(RFC 9112 §3.2\)"):
        serialize_request_head("GET", "", [])


@pytest.mark.parametrize(
    ("method", "label"),
    [("GET\r\n", "CR"), ("GE\nT", "LF"), ("G\x00", "NUL"), ("GET /", "SP"), ("GÉT", "U+00C9"),
     ("G(T", "U+0028"), ("G:T", "U+003A"), ("G@", "U+0040")],
)  # fmt: skip
def test_method_must_be_a_token(method: str, label: str) -> None:
    # RFC 9110 §9.1 method = token; §5.6.2 tchar.
    with pytest.raises(ValueError) as info:
        serialize_request_head(method, "/", [])
    assert f"method {method!r} contains {label}" in str(info.value)
    assert "only token characters are allowed (RFC 9110 §5.6.2)" in str(info.value)


def test_empty_method_is_refused() -> None:
    with pytest.raises(ValueError, match=r"method is empty; it must be a token"):
        serialize_request_head("", "/", [])


@pytest.mark.parametrize(
    ("name", "label"),
    [("X-A\r\nEvil", "CR"), ("X\nY", "LF"), ("X\x00", "NUL"), ("X Y", "SP"), ("X:", "U+003A"),
     ("X\t", "HTAB"), ("Ä", "U+00C4"), ("X/Y", "U+002F"), ("{X}", "U+007B")],
)  # fmt: skip
def test_field_name_must_be_a_token(name: str, label: str) -> None:
    # RFC 9110 §5.1 field-name = token.
    with pytest.raises(ValueError) as info:
        serialize_request_head("GET", "/", [("Host", "h"), (name, "v")])
    assert f"header name {name!r} contains {label}" in str(info.value)
    assert "RFC 9110 §5.6.2" in str(info.value)


def test_empty_field_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"header name is empty; it must be a token"):
        serialize_response_head(200, "OK", [("", "v")])


@pytest.mark.parametrize(("char", "label"), [("\r", "CR"), ("\n", "LF"), ("\x00", "NUL"),
                                             ("\x01", "U+0001"), ("\x7f", "U+007F")])  # fmt: skip
def test_control_characters_in_reason_are_refused(char: str, label: str) -> None:
    # RFC 9112 §4: reason-phrase = *( HTAB / SP / VCHAR / obs-text )
    reason = f"OK{char}"
    with pytest.raises(ValueError) as info:
        serialize_response_head(200, reason, [])
    assert f"reason {reason!r} contains {label} at index 2" in str(info.value)
    assert "RFC 9112 §4" in str(info.value)


def test_reason_may_hold_htab_and_spaces() -> None:
    assert serialize_response_head(200, "A\tB C", []) == b"HTTP/1.1 200 A\tB C\r\n\r\n"


def test_offending_value_is_quoted_with_bounded_length() -> None:
    value = "v" * 100_000 + "\n"
    with pytest.raises(ValueError) as info:
        serialize_request_head("GET", "/", [("X-Big", value)])
    message = str(info.value)
    assert len(message) < 400
    assert "(100001 characters) contains LF at index 100000" in message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([("X", 1)], "header 'X' value must be str, not int"),
        ([(b"X", "v")], "header 0 name must be str, not bytes"),
        ([("X", "v", "w")], "header 0 is not a (name, value) pair"),
    ],
)
def test_wrong_types_are_named(headers: Any, message: str) -> None:
    with pytest.raises(TypeError) as info:
        serialize_request_head("GET", "/", headers)
    assert message in str(info.value)


# --- chunked encoder ------------------------------------------------------------------------


def test_chunked_encoder_frames_chunks_in_hex() -> None:
    enc = ChunkedEncoder()
    assert enc.encode(b"hello") == b"5\r\nhello\r\n"
    assert enc.encode(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"
    assert enc.encode(bytearray(b"ab")) == b"2\r\nab\r\n"
    assert enc.encode(memoryview(b"abcd")[1:]) == b"3\r\nbcd\r\n"
    assert not enc.finished
    assert enc.finish() == b"0\r\n\r\n"
    assert enc.finished


def test_empty_data_never_ends_the_body() -> None:
    enc = ChunkedEncoder()
    assert enc.encode(b"") == b""
    assert not enc.finished


def test_finish_with_trailers() -> None:
    enc = ChunkedEncoder()
    assert enc.finish([("Checksum", "abc"), ("X-Done", "1")]) == (
        b"0\r\nChecksum: abc\r\nX-Done: 1\r\n\r\n"
    )


def test_finish_with_mapping_trailers() -> None:
    assert ChunkedEncoder().finish({"Server-Timing": "db;dur=53"}) == (
        b"0\r\nServer-Timing: db;dur=53\r\n\r\n"
    )


def test_trailer_injection_is_refused() -> None:
    enc = ChunkedEncoder()
    with pytest.raises(ValueError, match=r"trailer 'X' value 'a\\r\\nb' contains CR"):
        enc.finish([("X", "a\r\nb")])
    with pytest.raises(ValueError, match=r"trailer name 'X Y' contains SP"):
        enc.finish([("X Y", "a")])
    assert not enc.finished  # nothing was written: the body can still end properly
    assert enc.finish() == b"0\r\n\r\n"


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Trailer"])
def test_framing_fields_are_refused_as_trailers(name: str) -> None:
    # RFC 9110 §6.5.1: message framing fields are never sent in a trailer section.
    with pytest.raises(ValueError, match=rf"trailer '{name}' is a framing field"):
        ChunkedEncoder().finish([(name, "1")])


def test_encoder_refuses_use_after_finish() -> None:
    enc = ChunkedEncoder()
    enc.finish()
    with pytest.raises(RuntimeError, match="already finished"):
        enc.encode(b"x")
    with pytest.raises(RuntimeError, match="already finished"):
        enc.finish()


# --- real peers: Python's http.server and http.client on loopback ----------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records what the stdlib parsed of our request, answers with a head we serialized."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str, list[tuple[str, str]]]] = []  # noqa: RUF012

    def _answer(self) -> None:
        self.seen.append(
            (self.command, self.path, self.request_version, list(self.headers.items()))
        )
        enc = ChunkedEncoder()
        body = enc.encode(b"hello, ") + enc.encode(b"world") + enc.finish([("X-Sum", "12")])
        head = serialize_response_head(
            201,
            "Created Here",
            [("Transfer-Encoding", "chunked"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
             ("X-Latin", b"caf\xe9".decode("utf-8", "surrogateescape"))],
        )  # fmt: skip
        self.wfile.write(head + body)
        self.wfile.flush()
        self.close_connection = True

    do_GET = do_POST = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stdlib_server() -> Iterator[tuple[str, int]]:
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[0], server.server_address[1]  # type: ignore[misc]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_stdlib_server_sees_the_head_we_serialized(stdlib_server: tuple[str, int]) -> None:
    host, port = stdlib_server
    headers = [
        ("Host", f"{host}:{port}"),
        ("User-Agent", "httpwire-test"),
        ("Accept", "*/*"),
        ("X-Repeated", "one"),
        ("X-Repeated", "two"),
        ("X-Utf8", "Zoë"),
    ]
    head = serialize_request_head("GET", "/a/b?c=d&e=%20f", headers)
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head)
        response = http.client.HTTPResponse(sock, method="GET")
        response.begin()
        body = response.read()
        response_headers = response.getheaders()
        status, reason, version = response.status, response.reason, response.version
        response.close()

    # What the stdlib server parsed of our request.
    ((method, path, request_version, seen),) = _Recorder.seen
    assert (method, path, request_version) == ("GET", "/a/b?c=d&e=%20f", "HTTP/1.1")
    # http.server decodes header bytes as latin-1; compare against the wire bytes.
    assert seen == [(n, v.encode().decode("latin-1")) for n, v in headers]

    # What http.client parsed of our response head and chunked body.
    assert (status, reason, version) == (201, "Created Here", 11)
    assert body == b"hello, world"
    assert ("Set-Cookie", "a=1") in response_headers
    assert ("Set-Cookie", "b=2") in response_headers
    assert ("X-Latin", "caf\xe9") in response_headers  # latin-1 decoding by http.client


@pytest.mark.parametrize("method", ["POST", "OPTIONS"])
def test_stdlib_server_sees_method_and_target_forms(
    stdlib_server: tuple[str, int], method: str
) -> None:
    host, port = stdlib_server
    target = f"http://{host}:{port}/absolute?x=1" if method == "POST" else "*"
    head = serialize_request_head(method, target, [("Host", host), ("Content-Length", "0")])
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        assert response.read() == b"hello, world"
        response.close()
    ((seen_method, seen_path, _, seen_headers),) = _Recorder.seen
    assert (seen_method, seen_path) == (method, target)
    assert seen_headers == [("Host", host), ("Content-Length", "0")]


# --- round trips through the parsers ---------------------------------------------------------

_TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
tokens = st.text(alphabet=_TCHARS, min_size=1, max_size=16)
_VALUE_BYTES = frozenset([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])
# Field values as a server may send them: visible ASCII, inner SP/HTAB and obs-text bytes,
# decoded as the parser does (UTF-8 with surrogateescape). The parser strips surrounding
# whitespace (RFC 9112 §5), so generated values have none.
values = st.binary(max_size=40).map(
    lambda raw: (
        bytes(b for b in raw if b in _VALUE_BYTES).strip(b" \t").decode("utf-8", "surrogateescape")
    )
)
fields = st.lists(st.tuples(tokens.map(lambda t: f"X-{t}"), values), max_size=12)


@given(method=tokens, target=st.from_regex(r"/[!-~]{0,40}", fullmatch=True), headers=fields)
def test_request_head_round_trips_through_the_parser(
    method: str, target: str, headers: list[tuple[str, str]]
) -> None:
    sent = [("Host", "example.org"), *headers]
    wire = serialize_request_head(method, target, sent)
    head, end = RequestParser().feed(wire)
    assert isinstance(head, RequestHead)
    assert (head.method, head.target, head.version) == (method, target, HTTP11)
    assert list(head.headers.items()) == sent
    assert head.raw_headers == tuple(
        (n.encode(), v.encode("utf-8", "surrogateescape")) for n, v in sent
    )
    assert end == EndOfMessage(CIMultiDict(), ())


@given(
    status=st.integers(min_value=200, max_value=599).filter(lambda s: s not in (204, 304)),
    reason=values,
    headers=fields,
)
def test_response_head_round_trips_through_the_parser(
    status: int, reason: str, headers: list[tuple[str, str]]
) -> None:
    sent = [*headers, ("Content-Length", "0")]
    wire = serialize_response_head(status, reason, sent)
    head, end = ResponseParser().feed(wire)
    assert isinstance(head, ResponseHead)
    assert (head.version, head.status, head.reason) == (HTTP11, status, reason)
    assert list(head.headers.items()) == sent
    # What the parser gives is what the serializer takes: the head comes back byte for byte.
    assert serialize_response_head(head.status, head.reason, head.headers, head.version) == wire
    assert isinstance(end, EndOfMessage)


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (Path(__file__).parent / "data").glob("*.http"))
)
def test_captured_heads_serialize_back_byte_for_byte(name: str) -> None:
    data = (Path(__file__).parent / "data" / f"{name}.http").read_bytes()
    wire = data[: data.index(b"\r\n\r\n") + 4]
    head = ResponseParser().feed(wire)[0]
    assert isinstance(head, ResponseHead)
    assert serialize_response_head(head.status, head.reason, head.headers, head.version) == wire


@given(
    chunks=st.lists(st.binary(max_size=300), max_size=8),
    trailers=st.lists(st.tuples(tokens.map(lambda t: f"X-{t}"), values), max_size=3),
)
def test_chunked_encoder_round_trips_through_the_parser(
    chunks: list[bytes], trailers: list[tuple[str, str]]
) -> None:
    enc = ChunkedEncoder()
    body = b"".join(enc.encode(chunk) for chunk in chunks) + enc.finish(trailers)
    head = serialize_request_head("POST", "/", [("Host", "h"), ("Transfer-Encoding", "chunked")])
    events = RequestParser(mark_chunks=True).feed(head + body)
    assert isinstance(events[0], RequestHead)
    assert events[0].chunked
    data = [e for e in events[1:-1] if isinstance(e, bytes)]
    assert b"".join(data) == b"".join(chunks)
    assert sum(e is END_OF_CHUNK for e in events) == sum(1 for c in chunks if c)
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    assert list(end.trailers.items()) == trailers


@given(
    method=st.sampled_from(["GET", "POST"]) | st.text(max_size=8),
    target=st.text(max_size=20).map(lambda t: "/" + t),
    headers=st.lists(
        st.tuples(tokens | st.text(max_size=8), st.text(max_size=20) | values), max_size=5
    ),
)
def test_no_input_can_inject_a_field_or_a_message(
    method: str, target: str, headers: list[tuple[str, str]]
) -> None:
    # Whatever text comes in, the serializer refuses it, or the bytes parse back as exactly
    # one head with exactly these fields (a parser may still refuse a value it finds odd).
    sent = [("Host", "h"), *((name, value.strip(" \t")) for name, value in headers)]
    try:
        wire = serialize_request_head(method, target, sent)
    except ValueError:
        return
    parser = RequestParser()
    try:
        events = parser.feed(wire)
    except HttpParserError:
        return
    head = events[0]
    assert isinstance(head, RequestHead)
    assert (head.method, head.target) == (method, target)
    assert list(head.headers.items()) == sent
    assert len(events) == 2 or head.upgrade
