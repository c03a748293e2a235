"""httpbin's endpoints, driven by http.client, against our server and httpbin on gunicorn alike.

Each test runs twice through the ``server`` fixture, so our server's JSON
shapes and behaviour are checked against httpbin's own, not against our idea
of them.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from typing import TYPE_CHECKING

import pytest

from httpwire_testserver.plugin import Peer

if TYPE_CHECKING:
    from tests.conftest import Clients


def test_get_reports_args_headers_origin_and_url(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/get?a=1&a=2&b=&c=x%20y"), headers={"X-Test": "yes"})

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    data = reply.json()
    assert set(data) == {"args", "headers", "origin", "url"}
    assert data["args"] == {"a": ["1", "2"], "b": "", "c": "x y"}
    headers = data["headers"]
    assert isinstance(headers, dict)
    assert headers["X-Test"] == "yes"
    assert headers["Host"] == server.http_url.removeprefix("http://")
    assert data["origin"] == "127.0.0.1"
    assert data["url"] == server.url("/get?a=1&a=2&b=&c=x%20y")


def test_post_json(server: Peer, stdlib: type[Clients]) -> None:
    body = json.dumps({"k": [1, 2, {"n": None}], "é": "ü"}).encode()
    reply = stdlib.request(
        server.url("/post"), "POST", body=body, headers={"Content-Type": "application/json"}
    )

    assert reply.status == 200
    data = reply.json()
    assert set(data) == {"args", "data", "files", "form", "headers", "json", "origin", "url"}
    assert data["json"] == {"k": [1, 2, {"n": None}], "é": "ü"}
    assert data["data"] == body.decode()
    assert data["form"] == {}
    assert data["files"] == {}


def test_post_urlencoded_form(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(
        server.url("/post"),
        "POST",
        body=b"a=1&b=two+words&a=3&empty=",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    data = reply.json()
    assert data["form"] == {"a": ["1", "3"], "b": "two words", "empty": ""}
    assert data["data"] == ""
    assert data["json"] is None


def test_post_multipart_form_with_files(server: Peer, stdlib: type[Clients]) -> None:
    boundary = "----boundary-7MA4YWxkTrZu0gW"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="field"\r\n\r\n'
            "value one\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="upload"; filename="hello.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
            "hello file\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="binary"; filename="b.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"\xff\x00\xfe"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    reply = stdlib.request(
        server.url("/post"),
        "POST",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    data = reply.json()
    assert data["form"] == {"field": "value one"}
    expected_binary = (
        "data:application/octet-stream;base64," + base64.b64encode(b"\xff\x00\xfe").decode()
    )
    assert data["files"] == {"upload": "hello file", "binary": expected_binary}
    assert data["data"] == ""


def test_chunked_request_body_is_read(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(
        server.url("/anything/some/path?q=1"),
        "PATCH",
        body=iter([b"part one, ", b"part two"]),
        headers={"Content-Type": "text/plain"},
    )

    data = reply.json()
    assert data["method"] == "PATCH"
    assert data["url"] == server.url("/anything/some/path?q=1")
    assert data["args"] == {"q": "1"}
    # gunicorn hands httpbin a chunked body only as a stream; both must read it whole.
    assert data["data"] == "part one, part two"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_methods_with_bodies(server: Peer, stdlib: type[Clients], method: str) -> None:
    reply = stdlib.request(server.url(f"/{method.lower()}"), method, body=b"payload")

    assert reply.status == 200
    assert reply.json()["data"] == "payload"


def test_wrong_method_is_405_with_allow(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/post"))

    assert reply.status == 405
    assert "POST" in reply.headers["Allow"]


def test_options_lists_the_allowed_methods(server: Peer, stdlib: type[Clients]) -> None:
    for path, methods in (("/get", {"GET", "HEAD", "OPTIONS"}), ("/post", {"POST", "OPTIONS"})):
        reply = stdlib.request(server.url(path), "OPTIONS")

        assert reply.status == 200
        assert {m.strip() for m in reply.headers["Allow"].split(",")} == methods


def test_headers_ip_user_agent(server: Peer, stdlib: type[Clients]) -> None:
    headers = stdlib.request(server.url("/headers"), headers={"User-Agent": "probe/1"}).json()
    assert headers["headers"]["User-Agent"] == "probe/1"
    assert stdlib.request(server.url("/ip")).json() == {"origin": "127.0.0.1"}
    agent = stdlib.request(server.url("/user-agent"), headers={"User-Agent": "probe/2"}).json()
    assert agent == {"user-agent": "probe/2"}


@pytest.mark.parametrize("code", [200, 201, 204, 400, 404, 418, 500, 503])
def test_status(server: Peer, stdlib: type[Clients], code: int) -> None:
    assert stdlib.request(server.url(f"/status/{code}")).status == code


def test_status_401_challenges(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/status/401"))

    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"].startswith("Basic")


def test_redirect_chain(server: Peer, stdlib: type[Clients]) -> None:
    first = stdlib.request(server.url("/redirect/3"))
    assert first.status == 302
    assert first.headers["Location"] == "/relative-redirect/2"
    last = stdlib.request(server.url("/relative-redirect/1"))
    assert last.headers["Location"] == "/get"


def test_absolute_redirect(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/absolute-redirect/2"))

    assert reply.status == 302
    assert reply.headers["Location"] == server.url("/absolute-redirect/1")


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_to(server: Peer, stdlib: type[Clients], code: int) -> None:
    reply = stdlib.request(server.url(f"/redirect-to?url=/get%3Fx%3D1&status_code={code}"))

    assert reply.status == code
    assert reply.headers["Location"] == "/get?x=1"


def test_cookies_set_and_show(server: Peer, stdlib: type[Clients]) -> None:
    setter = stdlib.request(server.url("/cookies/set?a=1&b=two"))
    assert setter.status == 302
    assert setter.headers["Location"] == "/cookies"
    set_cookies = sorted(setter.headers.get_all("Set-Cookie") or [])
    assert [c.split(";")[0] for c in set_cookies] == ["a=1", "b=two"]
    assert all("Path=/" in c for c in set_cookies)

    shown = stdlib.request(server.url("/cookies"), headers={"Cookie": "a=1; b=two"}).json()
    assert shown == {"cookies": {"a": "1", "b": "two"}}


def test_cookie_set_by_path_and_delete(server: Peer, stdlib: type[Clients]) -> None:
    setter = stdlib.request(server.url("/cookies/set/name/value"))
    assert (setter.headers["Set-Cookie"] or "").startswith("name=value")

    deleter = stdlib.request(server.url("/cookies/delete?name"))
    assert deleter.status == 302
    cookie = deleter.headers["Set-Cookie"] or ""
    assert cookie.startswith("name=;")
    assert "1970" in cookie


def test_basic_auth(server: Peer, stdlib: type[Clients]) -> None:
    good = base64.b64encode(b"user:pass").decode()
    bad = base64.b64encode(b"user:wrong").decode()

    ok = stdlib.request(
        server.url("/basic-auth/user/pass"), headers={"Authorization": f"Basic {good}"}
    )
    assert ok.status == 200
    assert ok.json() == {"authenticated": True, "user": "user"}
    denied = stdlib.request(
        server.url("/basic-auth/user/pass"), headers={"Authorization": f"Basic {bad}"}
    )
    assert denied.status == 401
    assert denied.headers["WWW-Authenticate"].startswith("Basic")
    hidden = stdlib.request(server.url("/hidden-basic-auth/user/pass"))
    assert hidden.status == 404


def test_gzip_and_deflate(server: Peer, stdlib: type[Clients]) -> None:
    zipped = stdlib.request(server.url("/gzip"))
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.body))["gzipped"] is True

    deflated = stdlib.request(server.url("/deflate"))
    assert deflated.headers["Content-Encoding"] == "deflate"
    assert json.loads(zlib.decompress(deflated.body))["deflated"] is True


def test_brotli(server: Peer, stdlib: type[Clients]) -> None:
    brotli = pytest.importorskip("brotli")
    reply = stdlib.request(server.url("/brotli"))

    assert reply.headers["Content-Encoding"] == "br"
    assert json.loads(brotli.decompress(reply.body))["brotli"] is True


def test_bytes_have_the_length_asked(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/bytes/1000"))

    assert reply.headers["Content-Length"] == "1000"
    assert len(reply.body) == 1000


def test_stream_bytes_is_chunked(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/stream-bytes/5000?chunk_size=1000"))

    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert len(reply.body) == 5000


def test_stream_lines(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/stream/4"))

    lines = reply.body.decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [0, 1, 2, 3]


def test_drip(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/drip?duration=0.2&numbytes=5&delay=0"))

    assert reply.body == b"*****"
    assert reply.headers["Content-Length"] == "5"


def test_range(server: Peer, stdlib: type[Clients]) -> None:
    whole = stdlib.request(server.url("/range/50"))
    assert whole.body == b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx"
    part = stdlib.request(server.url("/range/50"), headers={"Range": "bytes=10-19"})
    assert part.status == 206
    assert part.headers["Content-Range"] == "bytes 10-19/50"
    assert part.body == b"klmnopqrst"
    beyond = stdlib.request(server.url("/range/50"), headers={"Range": "bytes=60-70"})
    assert beyond.status == 416


def test_cache_validators(server: Peer, stdlib: type[Clients]) -> None:
    fresh = stdlib.request(server.url("/cache"))
    assert fresh.status == 200
    assert fresh.headers["ETag"]
    assert fresh.headers["Last-Modified"]
    cached = stdlib.request(server.url("/cache"), headers={"If-None-Match": fresh.headers["ETag"]})
    assert cached.status == 304
    assert cached.body == b""


def test_etag(server: Peer, stdlib: type[Clients]) -> None:
    url = server.url("/etag/abc")
    # httpbin sends the tag bare; an entity-tag is a quoted string (RFC 9110 §8.8.3),
    # as ours sends it.
    expected = '"abc"' if server.name == "httpwire" else "abc"
    assert stdlib.request(url).headers["ETag"] == expected
    assert stdlib.request(url, headers={"If-None-Match": '"abc"'}).status == 304
    assert stdlib.request(url, headers={"If-Match": '"other"'}).status == 412


def test_base64(server: Peer, stdlib: type[Clients]) -> None:
    encoded = base64.urlsafe_b64encode(b"httpwire decodes this").decode()

    assert stdlib.request(server.url(f"/base64/{encoded}")).body == b"httpwire decodes this"


def test_text_documents(server: Peer, stdlib: type[Clients]) -> None:
    utf8 = stdlib.request(server.url("/encoding/utf8"))
    assert utf8.headers["Content-Type"] == "text/html; charset=utf-8"
    assert utf8.body.decode("utf-8")
    assert stdlib.request(server.url("/html")).body.lstrip().lower().startswith(b"<!doctype html>")
    assert "slideshow" in stdlib.request(server.url("/json")).json()


def test_response_headers(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/response-headers?X-One=1&X-Two=a&X-Two=b"))

    assert reply.headers["X-One"] == "1"
    assert reply.headers.get_all("X-Two") == ["a", "b"]
    data = reply.json()
    assert data["X-One"] == "1"
    assert data["X-Two"] == ["a", "b"]


def test_delay(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/delay/0.2?x=1"))

    assert reply.json()["args"] == {"x": "1"}


def test_keep_alive_carries_several_requests(server: Peer, stdlib: type[Clients]) -> None:
    conn = stdlib.UnixHTTPConnection(server.unix_path)
    try:
        for number in range(3):
            reply = stdlib.send(conn, "GET", f"/get?n={number}", None, ())
            assert reply.json()["args"] == {"n": str(number)}
        sock = conn.sock
        reply = stdlib.send(conn, "GET", "/headers", None, ())
        assert conn.sock is sock  # the same connection carried every request
        assert reply.status == 200
    finally:
        conn.close()


def test_unix_socket(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.unix_request(server.unix_path, "/anything?via=unix", "POST", body=b"over unix")

    data = reply.json()
    assert data["data"] == "over unix"
    assert data["args"] == {"via": "unix"}
