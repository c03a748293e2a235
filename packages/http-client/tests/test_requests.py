"""Requests against the local test server: methods, URLs, bodies, headers and auth."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from multidict import MultiDict

from httpwire.client import (
    BasicAuth,
    ClientSession,
    FormData,
    InvalidURL,
    MultipartWriter,
    StreamReader,
    TCPConnector,
    UnixConnector,
    __version__,
)
from httpwire.forms import PayloadError
from httpwire_testserver import LocalServer


async def echo(session: ClientSession, method: str, url: str, **kwargs: Any) -> Any:
    async with session.request(method, url, **kwargs) as r:
        assert r.status == 200, await r.text()
        return await r.json()


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
async def test_every_method_by_its_session_method(
    session: ClientSession, httpwire_server: LocalServer, method: str
) -> None:
    url = httpwire_server.url("/anything")
    async with getattr(session, method)(url) as r:
        assert r.status == 200
        assert r.method == method.upper()
        assert (await r.json())["method"] == method.upper()


async def test_head_has_no_body(session: ClientSession, httpwire_server: LocalServer) -> None:
    async with session.head(httpwire_server.url("/get")) as r:
        assert r.status == 200
        assert int(r.headers["Content-Length"]) > 0
        assert await r.read() == b""


async def test_any_token_method_case_insensitive(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    assert (await echo(session, "propfind", httpwire_server.url("/anything")))[
        "method"
    ] == "PROPFIND"


async def test_an_invalid_method_is_refused_before_connecting(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    with pytest.raises(ValueError, match="invalid method 'GE T'"):
        await session.request("GE T", httpwire_server.url("/get"))
    assert connector.stats().open == 0


async def test_params_in_order_and_the_url_requested(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's "Passing Parameters In URLs" (its errata: the order given is kept)."""
    base = httpwire_server.url("/get")
    async with session.get(base, params={"key1": "value1", "key2": "value2"}) as r:
        assert str(r.url) == f"{base}?key1=value1&key2=value2"
    async with session.get(base, params=[("key", "value1"), ("key", "value2")]) as r:
        assert str(r.url) == f"{base}?key=value1&key=value2"
        assert (await r.json())["args"] == {"key": ["value1", "value2"]}
    async with session.get(base + "?a=0", params=MultiDict([("b", "1")])) as r:
        assert r.url.query_string == "a=0&b=1"
    async with session.get(base, params="x=a%20b") as r:
        assert (await r.json())["args"] == {"x": "a b"}


async def test_base_url(connector: TCPConnector, httpwire_server: LocalServer) -> None:
    async with (
        ClientSession(httpwire_server.url("/"), connector=connector, connector_owner=False) as s,
        s.get("anything/x", params={"q": "1"}) as r,
    ):
        assert str(r.url) == httpwire_server.url("/anything/x?q=1")


async def test_unsupported_scheme_is_invalid_url(session: ClientSession) -> None:
    with pytest.raises(InvalidURL, match="ftp"):
        await session.get("ftp://127.0.0.1/file")


async def test_form_from_a_dict(session: ClientSession, httpwire_server: LocalServer) -> None:
    """The guide's "More complicated POST requests"."""
    payload = {"key1": "value1", "key2": "value2"}
    data = await echo(session, "POST", httpwire_server.url("/post"), data=payload)
    assert data["form"] == payload
    assert data["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_str_and_bytes_are_sent_as_they_are(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    url = httpwire_server.url("/post")
    text = json.dumps({"some": "data"})
    data = await echo(session, "POST", url, data=text)
    assert data["data"] == text
    assert data["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    data = await echo(
        session, "POST", url, data="é", headers={"content-type": "text/plain; charset=latin-1"}
    )
    assert data["headers"]["Content-Type"] == "text/plain; charset=latin-1"
    assert data["headers"]["Content-Length"] == "1"
    data = await echo(session, "POST", url, data=b"\x00\x01")
    assert data["headers"]["Content-Type"] == "application/octet-stream"


async def test_custom_headers_with_json_text(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's "Custom Headers": the caller's Content-Type wins."""
    payload = {"some": "data"}
    data = await echo(
        session,
        "POST",
        httpwire_server.url("/post"),
        data=json.dumps(payload),
        headers={"content-type": "application/json"},
    )
    assert data["json"] == payload
    assert data["headers"]["Content-Type"] == "application/json"


async def test_json_uses_the_session_serializer(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    def dumps(value: object) -> str:
        return json.dumps(value, separators=(",", ":"))

    async with ClientSession(
        connector=connector, connector_owner=False, json_serialize=dumps
    ) as s:
        data = await echo(s, "POST", httpwire_server.url("/post"), json={"a": [1, 2]})
    assert data["data"] == '{"a":[1,2]}'
    assert data["headers"]["Content-Type"] == "application/json"


async def test_data_and_json_together(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    with pytest.raises(ValueError, match="data and json"):
        await session.post(httpwire_server.url("/post"), data=b"x", json={})


async def test_a_file_is_streamed(
    session: ClientSession, httpwire_server: LocalServer, tmp_path: Path
) -> None:
    """The guide's "Streaming uploads": a file object is read in pieces, never whole."""
    path = tmp_path / "massive-body"
    content = bytes(range(256)) * 4096 * 3  # 3 MiB
    path.write_bytes(content)
    with path.open("rb") as f:
        data = await echo(session, "POST", httpwire_server.url("/upload-digest"), data=f)
    assert data["sha256"] == hashlib.sha256(content).hexdigest()
    assert data["content_length"] == len(content)
    assert data["chunks"] > 1 or data["bytes"] == len(content)


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_a_regular_file_goes_out_whole_by_sendfile_or_streamed(
    httpwire_server: LocalServer, tmp_path: Path, scheme: str
) -> None:
    # Over plain TCP on the default loop the kernel sends the file (loop.sendfile); over
    # TLS, or where the loop cannot, it is read and streamed: the server gets every byte.
    path = tmp_path / "regular"
    content = bytes(range(256)) * 4096 * 5 + b"tail"  # 5 MiB and 4 bytes
    path.write_bytes(content)
    connector = TCPConnector(ssl_context=httpwire_server.ssl_context())
    async with ClientSession(connector=connector) as session:
        for _ in range(2):  # the file's payload is reusable: the second send starts over
            with path.open("rb") as f:
                f.seek(4096)  # the body starts where the file stands
                url = httpwire_server.url("/upload-digest", scheme=scheme)
                data = await echo(session, "POST", url, data=f)
            assert data["sha256"] == hashlib.sha256(content[4096:]).hexdigest()
            assert data["content_length"] == len(content) - 4096


async def test_a_regular_file_goes_out_whole_over_a_unix_socket(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    # A Unix socket takes loop.sendfile too: every byte arrives, in order.
    path = tmp_path / "regular"
    content = bytes(range(256)) * 4096 * 3 + b"end"
    path.write_bytes(content)
    async with ClientSession(connector=UnixConnector(httpwire_server.unix_path)) as session:
        with path.open("rb") as f:
            data = await echo(session, "POST", "http://localhost/upload-digest", data=f)
    assert data["sha256"] == hashlib.sha256(content).hexdigest()
    assert data["content_length"] == len(content)


async def test_a_file_that_shrinks_while_sent_is_an_error_not_a_short_body(
    session: ClientSession, httpwire_server: LocalServer, tmp_path: Path
) -> None:
    from httpwire.forms import FilePayload

    path = tmp_path / "shrinking"
    path.write_bytes(b"x" * 100_000)
    with path.open("rb") as f:
        payload = FilePayload(f)  # its size is taken now: 100 000 bytes
        path.write_bytes(b"x" * 10)
        with pytest.raises((ValueError, PayloadError), match="100000"):
            await session.post(httpwire_server.url("/upload-digest"), data=payload)


async def test_multipart_file_from_a_dict_and_from_formdata(
    session: ClientSession, httpwire_server: LocalServer, tmp_path: Path
) -> None:
    """The guide's "POST a Multipart-Encoded File"."""
    report = tmp_path / "report.xls"
    report.write_bytes(b"\xd0\xcf\x11\xe0 spreadsheet")
    url = httpwire_server.url("/post")
    with report.open("rb") as f:
        data = await echo(session, "POST", url, data={"file": f})
    assert data["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert "file" in data["files"]
    form = FormData()
    with report.open("rb") as f:
        form.add_field("file", f, filename="report.xls", content_type="application/vnd.ms-excel")
        data = await echo(session, "POST", url, data=form)
    assert "file" in data["files"]


async def test_multipart_writer(session: ClientSession, httpwire_server: LocalServer) -> None:
    writer = MultipartWriter("form-data")
    writer.append("hello").set_content_disposition("form-data", name="greeting")
    data = await echo(session, "POST", httpwire_server.url("/post"), data=writer)
    assert data["form"] == {"greeting": "hello"}


async def test_an_async_generator_is_sent_chunked(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    async def my_coroutine() -> AsyncIterator[bytes]:
        for piece in (b"abc", b"", b"def"):
            await asyncio.sleep(0)
            yield piece

    data = await echo(session, "POST", httpwire_server.url("/upload-digest"), data=my_coroutine())
    assert data["chunked"] is True
    assert data["sha256"] == hashlib.sha256(b"abcdef").hexdigest()


async def test_a_stream_fed_by_another_response(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's feed_stream example, with its errata applied."""

    async def feed_stream(resp_content: StreamReader, stream: StreamReader) -> str:
        h = hashlib.sha1()
        while True:
            chunk = await resp_content.readany()
            if not chunk:
                break
            h.update(chunk)
            stream.feed_data(chunk)
        stream.feed_eof()
        return h.hexdigest()

    resp = await session.get(httpwire_server.url("/bytes/300000?seed=1"))
    stream = StreamReader()
    upload = asyncio.create_task(session.post(httpwire_server.url("/upload-digest"), data=stream))
    file_hash = await feed_stream(resp.content, stream)
    resp.release()
    async with await upload as r:
        sent = await r.json()
    expected = hashlib.sha1(await _bytes(session, httpwire_server.url("/bytes/300000?seed=1")))
    assert file_hash == expected.hexdigest()
    assert sent["bytes"] == 300000


async def test_a_response_content_as_data(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide: `data=r.content` chains a GET into a POST."""
    r = await session.get(httpwire_server.url("/bytes/100000?seed=2"))
    async with session.post(httpwire_server.url("/upload-digest"), data=r.content) as posted:
        sent = await posted.json()
    r.release()
    body = await _bytes(session, httpwire_server.url("/bytes/100000?seed=2"))
    assert sent["sha256"] == hashlib.sha256(body).hexdigest()


async def _bytes(session: ClientSession, url: str) -> bytes:
    async with session.get(url) as r:
        return await r.read()


async def test_default_headers(session: ClientSession, httpwire_server: LocalServer) -> None:
    headers = (await echo(session, "GET", httpwire_server.url("/headers")))["headers"]
    assert headers["Accept"] == "*/*"
    assert headers["User-Agent"] == f"httpwire/{__version__}"
    assert headers["Accept-Encoding"].startswith("gzip, deflate")
    assert headers["Host"] == f"127.0.0.1:{httpwire_server.port}"


async def test_session_headers_under_request_headers(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    """The guide: default headers for all session requests."""
    async with ClientSession(
        connector=connector,
        connector_owner=False,
        headers={"Authorization": "Basic bG9naW46cGFzcw==", "X-Both": "session"},
        skip_auto_headers=["User-Agent"],
    ) as s:
        data = await echo(s, "GET", httpwire_server.url("/headers"), headers={"x-both": "request"})
    headers = data["headers"]
    assert headers["Authorization"] == "Basic bG9naW46cGFzcw=="
    assert headers["X-Both"] == "request"
    assert "User-Agent" not in headers


async def test_skip_auto_headers_per_request(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    data = await echo(
        session,
        "POST",
        httpwire_server.url("/post"),
        data=b"x",
        skip_auto_headers=["accept", "Content-Type"],
    )
    assert "Accept" not in data["headers"]
    assert "Content-Type" not in data["headers"]


async def test_header_injection_is_refused_before_anything_is_sent(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    """RFC 9110 §5.5."""
    with pytest.raises(ValueError, match="CR, LF and NUL are forbidden"):
        await session.get(httpwire_server.url("/get"), headers={"X-A": "1\r\nX-B: 2"})
    assert connector.stats().open == 0


@pytest.mark.parametrize("where", ["request", "session", "url"])
async def test_basic_auth(
    connector: TCPConnector, httpwire_server: LocalServer, where: str
) -> None:
    auth = BasicAuth("user", "p@ss")
    path = "/basic-auth/user/p@ss"
    url = httpwire_server.url(path)
    kwargs: dict[str, Any] = {}
    session_auth = None
    if where == "request":
        kwargs["auth"] = auth
    elif where == "session":
        session_auth = auth
    else:
        url = f"http://user:p%40ss@127.0.0.1:{httpwire_server.port}{path}"
    async with (
        ClientSession(connector=connector, connector_owner=False, auth=session_auth) as s,
        s.get(url, **kwargs) as r,
    ):
        assert r.status == 200, await r.text()
        assert await r.json() == {"authenticated": True, "user": "user"}
        assert r.url.user is None


async def test_auth_twice_is_refused(session: ClientSession, httpwire_server: LocalServer) -> None:
    url = f"http://u:p@127.0.0.1:{httpwire_server.port}/get"
    with pytest.raises(ValueError, match="both in the URL and as auth="):
        await session.get(url, auth=BasicAuth("a", "b"))
    with pytest.raises(ValueError, match="Authorization header and auth="):
        await session.get(
            httpwire_server.url("/get"), auth=BasicAuth("a"), headers={"authorization": "x"}
        )


async def test_file_like_bytesio(session: ClientSession, httpwire_server: LocalServer) -> None:
    data = await echo(session, "PUT", httpwire_server.url("/put"), data=io.BytesIO(b"abc"))
    assert data["data"] == "abc"


async def test_a_request_authorization_header_wins_over_the_session_auth(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    async with ClientSession(
        connector=connector, connector_owner=False, auth=BasicAuth("session", "x")
    ) as s:
        data = await echo(
            s, "GET", httpwire_server.url("/headers"), headers={"Authorization": "Bearer t"}
        )
        assert data["headers"]["Authorization"] == "Bearer t"
        data = await echo(s, "GET", httpwire_server.url("/headers"), headers={"X-A": "1"})
        assert data["headers"]["Authorization"] == BasicAuth("session", "x").encode()


async def test_expect100_and_chunked(session: ClientSession, httpwire_server: LocalServer) -> None:
    url = httpwire_server.url("/upload-digest")
    data = await echo(session, "POST", url, data=b"abc", expect100=True)
    assert data["expect_continue"] is True
    assert data["bytes"] == 3
    data = await echo(session, "POST", url, data=b"abc", chunked=True)
    assert data["chunked"] is True
    assert data["sha256"] == hashlib.sha256(b"abc").hexdigest()


class _SizedBody:
    """A user's own Body (the streams protocol, not a forms payload) of known size."""

    def __init__(self, pieces: list[bytes], *, size: int | None, reusable: bool) -> None:
        self._pieces = pieces
        self.size = size
        self.reusable = reusable

    async def _iterate(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            await asyncio.sleep(0)
            yield piece

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()


async def test_a_body_of_known_size_is_sent_with_content_length(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """A Body that states its size is framed by Content-Length (RFC 9112 §6.2), not chunked."""
    body = _SizedBody([b"abc", b"", b"defg"], size=7, reusable=False)
    data = await echo(session, "POST", httpwire_server.url("/upload-digest"), data=body)
    assert data["chunked"] is False
    assert data["bytes"] == 7
    assert data["sha256"] == hashlib.sha256(b"abcdefg").hexdigest()


async def test_a_reusable_body_follows_a_307_redirect(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    body = _SizedBody([b"abc", b"def"], size=6, reusable=True)
    target = httpwire_server.url("/upload-digest")
    data = await echo(
        session,
        "POST",
        httpwire_server.url("/redirect-to"),
        params={"url": target, "status_code": "307"},
        data=body,
    )
    assert data["bytes"] == 6
    assert data["sha256"] == hashlib.sha256(b"abcdef").hexdigest()


@pytest.mark.parametrize("pieces", [[b"abc"], [b"abc", b"defgh"]], ids=["short", "long"])
async def test_a_body_whose_bytes_do_not_match_its_size_is_refused(
    session: ClientSession, httpwire_server: LocalServer, pieces: list[bytes]
) -> None:
    """Sending more or fewer bytes than Content-Length would desynchronise the connection
    (RFC 9112 §6.2): the request fails with an error that names both counts."""
    body = _SizedBody(pieces, size=6, reusable=False)
    with pytest.raises(PayloadError, match=r"_SizedBody yielded .*the 6 bytes its size states"):
        async with session.post(httpwire_server.url("/upload-digest"), data=body):
            pass
    stats = session.connector.stats() if session.connector is not None else None
    assert stats is None or stats.in_use == 0
