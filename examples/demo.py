"""The httpwire client at work: every section of the user guide, against a local server.

The demo starts the local httpbin-like test server (``httpwire-testserver``) in a
thread of this process, on plain HTTP, on HTTPS with a throw-away certificate
authority (made with trustme; without it the TLS section is skipped) and on a Unix
socket, plus a small forwarding proxy with Basic auth written below. Then it walks
through the guide's sections, from "Make a Request" to "Timeouts", with
``httpwire.client`` in modern async/await form, and prints what each one shows.

It exits with status 1 if anything it opened was left for the garbage collector
(a ``ResourceWarning``): every session, connector, response and server is closed.

Run it with ``python3 bootstrap.py -s demo`` (or ``nox -s demo``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import ssl
import sys
import tempfile
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from yarl import URL

from httpwire.client import (
    BasicAuth,
    ClientConnectorCertificateError,
    ClientResponse,
    ClientSession,
    ClientTimeout,
    FingerprintMismatch,
    FormData,
    ProxyConnector,
    ReadTimeoutError,
    StreamReader,
    TCPConnector,
    UnixConnector,
    request,
)
from httpwire.parser import RequestHead, RequestParser, serialize_request_head
from httpwire_testserver import LocalServer, TlsFiles, make_certificates


def section(title: str) -> None:
    """Print a section heading of the guide."""
    print(f"\n== {title}")


def show(*parts: object) -> None:
    """Print one indented line of what a section shows."""
    print("  " + " ".join(str(part) for part in parts))


def short(value: object, limit: int = 70) -> str:
    """A repr cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- A forwarding proxy for the "Proxy support" section ----------------------------------------


class DemoProxy:
    """A minimal HTTP forwarding proxy (absolute-form requests without bodies; Basic auth).

    It adds ``Via: 1.1 demo-proxy`` to what it forwards, so the target's echo shows
    the request came through it. Each client connection carries one request.
    """

    def __init__(self, auth: BasicAuth | None = None) -> None:
        self.auth = auth
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> DemoProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await self._read_head(reader)
            if head is None:
                return
            if (
                self.auth is not None
                and head.headers.get("Proxy-Authorization") != self.auth.encode()
            ):
                writer.write(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="demo"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                await writer.drain()
                return
            await self._forward(head, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> RequestHead | None:
        parser = RequestParser()
        while data := await reader.read(65536):
            for event in parser.feed(data):
                if isinstance(event, RequestHead):
                    return event
        return None

    @staticmethod
    async def _forward(head: RequestHead, writer: asyncio.StreamWriter) -> None:
        target = URL(head.target)
        assert target.host is not None and target.port is not None, head.target
        skip = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}
        fields = [
            (name, value) for name, value in head.headers.items() if name.lower() not in skip
        ]
        fields += [("Via", "1.1 demo-proxy"), ("Connection", "close")]
        up_reader, up_writer = await asyncio.open_connection(target.host, target.port)
        try:
            up_writer.write(serialize_request_head(head.method, target.raw_path_qs, fields))
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            up_writer.close()
            with contextlib.suppress(OSError):
                await up_writer.wait_closed()


# -- The guide, section by section -------------------------------------------------------------


async def make_a_request(server: LocalServer) -> None:
    section("Make a Request")
    r = await request("get", server.url("/get"))
    r.release()
    show(f"request('get', '{r.url}') -> {r.status} {r.reason}")
    results = []
    for method, path in [
        ("post", "/post"),
        ("put", "/put"),
        ("delete", "/delete"),
        ("head", "/get"),
        ("options", "/get"),
        ("patch", "/patch"),
    ]:
        async with request(method, server.url(path)) as r:
            results.append(f"{r.method} {path} {r.status}")
    show(" | ".join(results))


async def passing_parameters(server: LocalServer) -> None:
    section("Passing Parameters In URLs")
    payload: Any = {"key1": "value1", "key2": "value2"}
    async with request("get", server.url("/get"), params=payload) as r:
        show(r.url)
    payload = [("key", "value1"), ("key", "value2")]
    async with request("get", server.url("/get"), params=payload) as r:
        args = (await r.json())["args"]
        show(r.url, "-> the server saw", args)


async def response_content(server: LocalServer) -> None:
    section("Response Content")
    async with request("get", server.url("/encoding/utf8")) as r:
        text = await r.text()
        line = next(line for line in text.splitlines() if 'lang="ru"' in line)
        show(f"text() with charset {r.charset}:", short(line.strip(), 60))
        other = await r.text(encoding="windows-1251", errors="replace")
        line = next(line for line in other.splitlines() if 'lang="ru"' in line)
        show("text(encoding='windows-1251'):", short(line.strip(), 60))

    section("Binary Response Content")
    async with request("get", server.url("/bytes/16?seed=1")) as r:
        show("read():", await r.read())
    async with request("get", server.url("/gzip")) as r:
        data = await r.json()
        show(
            f"/gzip sent with Content-Encoding {r.headers['Content-Encoding']},",
            f"read decoded: json()['gzipped'] = {data['gzipped']}",
        )

    section("JSON Response Content")
    async with request("get", server.url("/json")) as r:
        slideshow = (await r.json())["slideshow"]
        show(
            "json()['slideshow']['title'] =",
            repr(slideshow["title"]),
            f"({len(slideshow['slides'])} slides)",
        )


async def streaming_response_content(server: LocalServer, workdir: Path) -> None:
    section("Streaming Response Content")
    async with request("get", server.url("/gzip")) as r:
        show(
            f"content is a {type(r.content).__name__}; content.read(10) =",
            await r.content.read(10),
            "(decoded gzip)",
        )
    filename = workdir / "download.bin"
    chunk_size = 65536
    r = await request("get", server.url("/bytes/1048576?seed=2"))
    try:
        with open(filename, "wb") as fd:  # noqa: ASYNC230 (a small local file, as in the guide)
            while True:
                chunk = await r.content.read(chunk_size)
                if not chunk:
                    break
                fd.write(chunk)
    finally:
        r.release()
    show(
        f"saved {filename.stat().st_size} bytes to {filename.name},",
        f"in pieces of at most {chunk_size}",
    )


async def custom_headers_and_posts(server: LocalServer, workdir: Path) -> None:
    section("Custom Headers")
    payload = {"some": "data"}
    headers = {"content-type": "application/json"}
    async with request(
        "post", server.url("/post"), data=json.dumps(payload), headers=headers
    ) as r:
        echo = await r.json()
        show(
            "the server saw Content-Type",
            echo["headers"]["Content-Type"],
            "and json",
            echo["json"],
        )

    section("Custom Cookies")
    async with request("get", server.url("/cookies"), cookies={"cookies_are": "working"}) as r:
        show(json.dumps(await r.json()))

    section("More complicated POST requests")
    async with request(
        "post", server.url("/post"), data={"key1": "value1", "key2": "value2"}
    ) as r:
        show("data=dict -> form", (await r.json())["form"])
    async with request("post", server.url("/post"), data=json.dumps(payload)) as r:
        show("data=str  -> data", repr((await r.json())["data"]))

    section("POST a Multipart-Encoded File")
    report = workdir / "report.xls"
    report.write_bytes(b"".join(b"row %d;%d\n" % (i, i * i) for i in range(100)))
    with open(report, "rb") as file:  # noqa: ASYNC230 (a small local file, as in the guide)
        async with request("post", server.url("/post"), data={"file": file}) as r:
            echo = await r.json()
            show(
                "data={'file': open(...)} -> files['file'] of",
                len(echo["files"]["file"]),
                "bytes,",
                echo["headers"]["Content-Type"].split(";")[0],
            )
    with open(report, "rb") as file:  # noqa: ASYNC230 (a small local file, as in the guide)
        data = FormData()
        data.add_field(
            "file", file, filename="report.xls", content_type="application/vnd.ms-excel"
        )
        async with request("post", server.url("/post"), data=data) as r:
            echo = await r.json()
            show("FormData with filename and content_type -> files", list(echo["files"]))


async def feed_stream(resp: ClientResponse, stream: StreamReader) -> str:
    """The guide's ``feed_stream``: copy one response's body into a stream, hashing it."""
    h = hashlib.sha1()
    while True:
        chunk = await resp.content.readany()
        if not chunk:
            break
        h.update(chunk)
        stream.feed_data(chunk)
    stream.feed_eof()
    return h.hexdigest()


async def streaming_uploads(server: LocalServer, workdir: Path) -> None:
    section("Streaming uploads")
    massive = workdir / "massive-body"
    with open(massive, "wb") as out:  # noqa: ASYNC230 (a small local file, as in the guide)
        for i in range(64):
            out.write(bytes([i]) * 2**17)
    with open(massive, "rb") as f:  # noqa: ASYNC230 (a small local file, as in the guide)
        async with request("post", server.url("/upload-digest"), data=f) as r:
            digest = await r.json()
    same = digest["sha256"] == hashlib.sha256(massive.read_bytes()).hexdigest()
    show(
        f"file object: {digest['bytes']} bytes streamed,",
        f"Content-Length {digest['content_length']}, sha256 matches: {same}",
    )

    async def my_coroutine() -> AsyncIterator[bytes]:
        for i in range(5):
            await asyncio.sleep(0)  # read_some_data_from_somewhere()
            yield b"piece %d " % i * 1000

    async with request("post", server.url("/upload-digest"), data=my_coroutine()) as r:
        digest = await r.json()
    show(
        f"async generator: {digest['bytes']} bytes,",
        f"chunked={digest['chunked']} in {digest['chunks']} chunks",
    )

    resp = await request("get", server.url("/bytes/2000000?seed=3"))
    stream = StreamReader()
    upload = asyncio.create_task(request("post", server.url("/upload-digest"), data=stream))
    try:
        file_hash = await feed_stream(resp, stream)
    finally:
        resp.release()
    async with await upload as r:
        digest = await r.json()
    show(
        f"StreamReader fed by feed_stream(): sha1 {file_hash[:16]}...,",
        f"the server got {digest['bytes']} bytes",
    )

    r = await request("get", server.url("/html"))
    try:
        async with request("post", server.url("/post"), data=r.content) as posted:
            echo = await posted.json()
    finally:
        r.release()
    show(f"GET /html chained into POST /post via r.content: {len(echo['data'])} characters posted")


async def keep_alive(server: LocalServer) -> None:
    section("Keep-Alive, connection pooling and cookie sharing")
    base = server.localhost_url  # the cookie jar keeps no cookies from IP-address hosts
    session = ClientSession()
    try:
        r = await session.get(base + "/cookies/set/my_cookie/my_value")
        r.release()
        r = await session.get(base + "/cookies")
        json_ = await r.json()
        r.release()
        show("cookies shared by the session:", json_["cookies"])
    finally:
        await session.close()
    async with ClientSession(headers={"Authorization": "Basic bG9naW46cGFzcw=="}) as s:
        async with s.get(server.url("/headers")) as r:
            show(
                "session default header Authorization:",
                (await r.json())["headers"]["Authorization"],
            )
        ids = set()
        for _ in range(4):
            async with s.get(server.url("/connection-id")) as r:
                ids.add((await r.json())["connection_id"])
    single = set()
    for _ in range(3):
        async with request("get", server.url("/connection-id")) as r:
            single.add((await r.json())["connection_id"])
    show(
        f"4 requests in one session: {len(ids)} connection;",
        f"3 calls of request(): {len(single)} connections",
    )


async def connectors(server: LocalServer) -> None:
    section("Connectors")
    async with TCPConnector() as conn:
        r = await request("get", server.url("/html"), connector=conn)
        await r.read()
        r.release()
        show(f"request(..., connector=TCPConnector()) -> {r.status}; pool now {conn.stats()}")

    section("Limiting connection pool size")
    conn = TCPConnector(limit=2)
    async with ClientSession(connector=conn) as session:
        async with session.get(server.url("/inflight-stats?key=demo&reset=1")) as r:
            await r.read()

        async def one() -> None:
            async with session.get(server.url("/inflight?key=demo&delay=0.2")) as r:
                await r.read()

        await asyncio.gather(*(one() for _ in range(6)))
        async with session.get(server.url("/inflight-stats?key=demo")) as r:
            stats = await r.json()
    show(
        f"TCPConnector(limit=2), 6 requests at once: at most {stats['max']} in flight,",
        f"on {stats['connections']} connections",
    )


async def ssl_control(server: LocalServer) -> None:
    section("SSL control for tcp sockets")
    if not server.has_tls:
        show("skipped: the server's certificate is made with trustme (pip install trustme)")
        return
    url = server.url("/get", scheme="https")
    async with ClientSession() as session:
        try:
            async with session.get(url) as r:
                show("default checks: unexpectedly", r.status)
        except ClientConnectorCertificateError as exc:
            show("strict checks by default:", type(exc).__name__, "-", short(exc.reason, 50))
    async with (
        ClientSession(connector=TCPConnector(verify_ssl=False)) as session,
        session.get(url) as r,
    ):
        show("TCPConnector(verify_ssl=False) ->", r.status)
    sslcontext = ssl.create_default_context(cafile=str(server.ca_pem))
    async with (
        ClientSession(connector=TCPConnector(ssl_context=sslcontext)) as session,
        session.get(url) as r,
    ):
        show("TCPConnector(ssl_context=<the test CA>) ->", r.status)

    assert server.tls is not None
    pem = server.tls.cert_pem.read_text()
    der = ssl.PEM_cert_to_DER_cert(pem[: pem.index("-----END CERTIFICATE-----") + 25])
    statuses = []
    for name in ("md5", "sha1", "sha256"):
        pin = hashlib.new(name, der).digest()
        async with (
            ClientSession(connector=TCPConnector(verify_ssl=False, fingerprint=pin)) as session,
            session.get(url) as r,
        ):
            statuses.append(f"{name} {r.status}")
    show("fingerprint pins:", ", ".join(statuses))
    bad_md5 = b"\xa2\x06G\xad\xaa\xf5\xd8\\J\x99^by;\x06="
    session = ClientSession(connector=TCPConnector(verify_ssl=False, fingerprint=bad_md5))
    try:
        async with session.get(url) as r:
            show("bogus pin: unexpectedly", r.status)
    except FingerprintMismatch as exc:
        show(
            "bogus md5 pin: FingerprintMismatch,",
            f"expected {exc.expected.hex()}, got {exc.got.hex()}",
        )
    finally:
        await session.close()


async def unix_sockets(server: LocalServer) -> None:
    section("Unix domain sockets")
    async with UnixConnector(path=server.unix_path) as conn:
        r = await request("get", "http://python.org/connection-id", connector=conn)
        answer = await r.json()
        r.release()
    show(
        f"UnixConnector(path={server.unix_path!r}) -> {r.status}, transport {answer['transport']}"
    )


async def proxy_support(server: LocalServer) -> None:
    section("Proxy support")
    auth = BasicAuth("user", "p@ss word")
    async with DemoProxy() as open_proxy, DemoProxy(auth) as auth_proxy:
        async with ProxyConnector(proxy=open_proxy.url) as conn:
            async with request("get", server.url("/headers"), connector=conn) as r:
                via = (await r.json())["headers"].get("Via")
            show(
                f"ProxyConnector(proxy={open_proxy.url!r}) -> {r.status},",
                f"the server saw Via: {via}",
            )
        async with (
            ProxyConnector(proxy=auth_proxy.url) as conn,
            request("get", server.url("/get"), connector=conn) as r,
        ):
            show("the authenticating proxy without credentials ->", r.status, r.reason)
        async with (
            ProxyConnector(proxy=auth_proxy.url, proxy_auth=auth) as conn,
            request("get", server.url("/get"), connector=conn) as r,
        ):
            show("proxy_auth=BasicAuth('user', 'p@ss word') ->", r.status)
        in_url = URL(auth_proxy.url).with_user(auth.login).with_password(auth.password)
        async with (
            ProxyConnector(proxy=in_url) as conn,
            request("get", server.url("/get"), connector=conn) as r,
        ):
            show(
                f"credentials in the URL ({in_url.raw_user}:{in_url.raw_password}@...) ->",
                r.status,
            )


async def responses(server: LocalServer) -> None:
    section("Response Status Codes")
    r = await request("get", server.url("/get"))
    r.release()
    show("r.status =", r.status)
    async with request("get", server.url("/status/418")) as r:
        show(f"/status/418 -> {r.status} {r.reason}, ok={r.ok}")

    section("Response Headers")
    async with request("get", server.url("/get")) as r:
        show(dict(r.headers))
        show(
            "r.headers['Content-Type'] =",
            repr(r.headers["Content-Type"]),
            " r.headers.get('content-type') =",
            repr(r.headers.get("content-type")),
        )

    section("Response Cookies")
    params = {"Set-Cookie": "example_cookie_name=example_cookie_value"}
    async with request("get", server.url("/response-headers"), params=params) as r:
        show(
            "r.cookies['example_cookie_name'].value =",
            repr(r.cookies["example_cookie_name"].value),
        )
    url = server.localhost_url + "/cookies/set?example_cookie_name=example_cookie_value"
    async with request("get", url) as r:
        show(
            f"after a redirect: r.cookies has {len(r.cookies)} cookies, r.history[0].cookies has",
            list(r.history[0].cookies),
        )
    async with ClientSession() as session, session.get(url) as r:
        gathered = session.cookie_jar.filter_cookies(URL(server.localhost_url))
        show(
            "a session gathers them across the redirects:",
            {k: m.value for k, m in gathered.items()},
        )


async def timeouts(server: LocalServer) -> None:
    section("Timeouts")
    try:
        r = await asyncio.wait_for(request("get", server.url("/delay/1")), 0.001)
    except TimeoutError as exc:
        show("asyncio.wait_for(request(...), 0.001) ->", type(exc).__name__)
    else:
        r.release()
        show("asyncio.wait_for(request(...), 0.001) -> the response came first:", r.status)
    try:
        async with request("get", server.url("/delay/2"), timeout=0.3) as r:
            show("no timeout: unexpectedly", r.status)
    except ReadTimeoutError as exc:
        show("timeout=0.3, no byte for 0.3 s ->", type(exc).__name__, "-", exc)
    async with request("get", server.url("/drip?duration=1&numbytes=5&delay=0"), timeout=0.3) as r:
        body = await r.read()
    show(f"timeout=0.3, a byte every 0.2 s for 1 s -> {body!r}: a slow but steady body is not cut")
    async with ClientSession(timeout=ClientTimeout(total=0.5)) as session:
        try:
            async with session.get(server.url("/drip?duration=2&numbytes=10&delay=0")) as r:
                await r.read()
        except TimeoutError as exc:
            show("ClientTimeout(total=0.5) on a 2 s download ->", type(exc).__name__)


async def walk_through(server: LocalServer, workdir: Path) -> None:
    """Every section of the guide, in its order."""
    await make_a_request(server)
    await passing_parameters(server)
    await response_content(server)
    await streaming_response_content(server, workdir)
    await custom_headers_and_posts(server, workdir)
    await streaming_uploads(server, workdir)
    await keep_alive(server)
    await connectors(server)
    await ssl_control(server)
    await unix_sockets(server)
    await proxy_support(server)
    await responses(server)
    await timeouts(server)


def _certificates(directory: Path) -> TlsFiles | None:
    try:
        return make_certificates(directory)
    except ModuleNotFoundError:
        return None


def main() -> int:
    """Start the local server, run the walk-through, and report anything left unclosed."""
    with warnings.catch_warnings(record=True) as caught, tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("always", ResourceWarning)
        workdir = Path(tmp)
        with LocalServer(tls=_certificates(workdir / "certs")) as server:
            print("httpwire client demo: the user guide's sections against a local server")
            show("http:", server.http_url, " unix:", server.unix_path)
            if server.has_tls:
                show("https:", server.https_url, "(a throw-away CA made with trustme)")
            asyncio.run(walk_through(server, workdir))
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    for warning in leaks:
        print(f"ResourceWarning: {warning.message}", file=sys.stderr)
    print("\ndone: every session, connector and response closed" if not leaks else "")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
