"""The guide's "Custom Headers", "More complicated POST requests", "POST a Multipart-Encoded
File" and "Streaming uploads", in modern form, against our server and httpbin on gunicorn.

The guide's ``api.github.com/some/endpoint``, ``httpbin.org/post`` and
``some.url/streamed`` map to ``/post`` (or ``/upload-digest`` on our server, which
hashes a body of any size as it arrives). ``feed_stream`` is read with DESIGN.md's
errata: ``while True``, ``stream.feed_data(chunk)``, then ``stream.feed_eof()``, and
the source is a GET of ``/bytes/N``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.guide_support import leak_check, posted_bytes, recording_server

from httpwire.client import ClientResponse, ClientSession, FormData, request
from httpwire.streams import StreamReader

if TYPE_CHECKING:
    from tests.conftest import Clients

    from httpwire_testserver import LocalServer
    from httpwire_testserver.plugin import Peer


@pytest.fixture(autouse=True)
async def _no_leaks() -> AsyncIterator[None]:
    async with leak_check():
        yield


# -- Custom Headers ---------------------------------------------------------------------------


async def test_custom_headers_with_a_json_string_body(server: Peer) -> None:
    """``data=json.dumps(payload), headers={'content-type': 'application/json'}``."""
    payload = {"some": "data"}
    headers = {"content-type": "application/json"}
    r = await request("post", server.url("/post"), data=json.dumps(payload), headers=headers)
    echo = await r.json()
    r.release()
    assert r.status == 200
    assert echo["headers"]["Content-Type"] == "application/json"
    assert echo["data"] == json.dumps(payload)
    assert echo["json"] == payload


async def test_custom_headers_are_sent_beside_the_default_ones(server: Peer) -> None:
    headers = {"X-Guide": "custom", "user-agent": "guide-test/1"}
    async with request("get", server.url("/headers"), headers=headers) as r:
        sent = (await r.json())["headers"]
    assert sent["X-Guide"] == "custom"
    assert sent["User-Agent"] == "guide-test/1"  # the caller's value replaces the default
    assert sent["Accept"] == "*/*"
    assert sent["Host"] == server.http_url.removeprefix("http://")


async def test_json_keyword_sends_json(server: Peer) -> None:
    async with request("post", server.url("/post"), json={"some": "data"}) as r:
        echo = await r.json()
    assert echo["json"] == {"some": "data"}
    assert echo["headers"]["Content-Type"].startswith("application/json")


# -- More complicated POST requests ------------------------------------------------------------


async def test_post_a_dict_is_form_encoded(server: Peer) -> None:
    """``data={'key1': 'value1', 'key2': 'value2'}`` arrives as ``form``."""
    payload = {"key1": "value1", "key2": "value2"}
    r = await request("post", server.url("/post"), data=payload)
    text = await r.text()
    r.release()
    echo = json.loads(text)
    assert echo["form"] == payload
    assert echo["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert echo["data"] == ""
    assert echo["files"] == {}


async def test_post_a_list_of_pairs_keeps_order_and_repeats(server: Peer) -> None:
    payload = [("b", "1"), ("a", "2 & 3"), ("b", "é")]
    async with request("post", server.url("/post"), data=payload) as r:
        echo = await r.json()
    assert echo["form"] == {"b": ["1", "é"], "a": "2 & 3"}


async def test_post_a_str_is_sent_as_is(server: Peer) -> None:
    """Data that is not form-encoded: a str is "posted directly"."""
    payload = {"some": "data"}
    async with request("post", server.url("/post"), data=json.dumps(payload)) as r:
        echo = await r.json()
    assert echo["data"] == json.dumps(payload)
    assert echo["form"] == {}
    assert int(echo["headers"]["Content-Length"]) == len(json.dumps(payload))


async def test_post_bytes_are_sent_as_is(server: Peer) -> None:
    body = bytes(range(256))
    async with request("post", server.url("/post"), data=body) as r:
        echo = await r.json()
    assert posted_bytes(echo) == body


# -- POST a Multipart-Encoded File -------------------------------------------------------------


def _report(tmp_path: Path) -> tuple[Path, bytes]:
    content = b"".join(b"row %d;%d;%d\n" % (i, i * i, i * 7) for i in range(2000))
    path = tmp_path / "report.xls"
    path.write_bytes(content)
    return path, content


async def test_post_a_dict_with_an_open_file_is_multipart(server: Peer, tmp_path: Path) -> None:
    """``files = {'file': open('report.xls', 'rb')}``; ``request('post', url, data=files)``."""
    path, content = _report(tmp_path)
    with open(path, "rb") as file:  # noqa: ASYNC230 (the guide\'s own file example)
        files = {"file": file}
        async with request("post", server.url("/post"), data=files) as r:
            echo = await r.json()
    assert r.status == 200
    assert echo["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert echo["files"] == {"file": content.decode()}


async def test_post_formdata_with_filename_and_content_type(server: Peer, tmp_path: Path) -> None:
    """``FormData().add_field('file', open(...), filename=..., content_type=...)``."""
    path, content = _report(tmp_path)
    with open(path, "rb") as file:  # noqa: ASYNC230 (the guide\'s own file example)
        data = FormData()
        data.add_field(
            "file", file, filename="report.xls", content_type="application/vnd.ms-excel"
        )
        data.add_field("comment", "quarterly")
        async with request("post", server.url("/post"), data=data) as r:
            echo = await r.json()
    assert echo["files"] == {"file": content.decode()}
    assert echo["form"] == {"comment": "quarterly"}


async def test_multipart_parts_carry_filename_and_content_type(tmp_path: Path) -> None:
    """The part's filename and content type as they go on the wire (RFC 7578 §4.2, §4.4)."""
    path, content = _report(tmp_path)
    async with recording_server() as peer:
        with open(path, "rb") as file:  # noqa: ASYNC230 (the guide\'s own file example)
            data = FormData()
            data.add_field(
                "file", file, filename="report.xls", content_type="application/vnd.ms-excel"
            )
            async with request("post", peer.url + "/post", data=data) as r:
                assert r.status == 204
    (head,) = peer.heads
    (body,) = peer.bodies
    content_type = head.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    part_head, _, rest = body.partition(b"\r\n\r\n")
    assert part_head.startswith(b"--" + boundary + b"\r\n")
    fields = part_head.lower()
    assert b'name="file"' in fields
    assert b'filename="report.xls"' in fields
    assert b"content-type: application/vnd.ms-excel" in fields
    assert rest.startswith(content + b"\r\n--" + boundary + b"--")


# -- Streaming uploads -------------------------------------------------------------------------


def _massive(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    content = random.Random(size).randbytes(size)
    path = tmp_path / "massive-body"
    path.write_bytes(content)
    return path, content


async def test_stream_a_file_object(server: Peer, tmp_path: Path) -> None:
    """``with open('massive-body', 'rb') as f: await request('post', url, data=f)``."""
    path, content = _massive(tmp_path, 300_000)
    with open(path, "rb") as f:  # noqa: ASYNC230 (the guide\'s own file example)
        async with request("post", server.url("/post"), data=f) as r:
            echo = await r.json()
    assert posted_bytes(echo) == content
    assert echo["headers"].get("Content-Length") == str(len(content))


async def test_a_streamed_file_is_never_read_whole(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    """DESIGN.md: a file object is streamed, never read whole (memory stays far below it).

    tracemalloc counts the in-process server's buffers too, hence the loose bound.
    """
    size = 64 * 2**20
    path = tmp_path / "massive-body"
    piece = random.Random(1).randbytes(2**20)
    with open(path, "wb") as out:  # noqa: ASYNC230 (the guide\'s own file example)
        for _ in range(size // len(piece)):
            out.write(piece)
    expected = hashlib.sha256(piece * (size // len(piece))).hexdigest()
    tracemalloc.start()
    try:
        with open(path, "rb") as f:  # noqa: ASYNC230 (the guide\'s own file example)
            async with request("put", httpwire_server.url("/upload-digest"), data=f) as r:
                digest = await r.json()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest["sha256"] == expected
    assert digest["bytes"] == size
    assert peak < size // 4, f"peak {peak} bytes of Python memory for a {size}-byte upload"


async def test_stream_an_async_generator(server: Peer) -> None:
    """The guide's generator that yields bytes objects, as an async generator: chunked."""
    pieces = [random.Random(i).randbytes(10_000 + i) for i in range(12)]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for piece in [*pieces, b""]:
        queue.put_nowait(piece)

    async def read_some_data_from_somewhere() -> bytes:
        await asyncio.sleep(0)
        return await queue.get()

    async def my_coroutine() -> AsyncIterator[bytes]:
        while True:
            chunk = await read_some_data_from_somewhere()
            if not chunk:
                return
            yield chunk

    async with request("post", server.url("/post"), data=my_coroutine()) as r:
        echo = await r.json()
    assert posted_bytes(echo) == b"".join(pieces)
    assert echo["headers"].get("Transfer-Encoding", "chunked") == "chunked"


async def test_an_async_generator_is_sent_chunked(httpwire_server: LocalServer) -> None:
    async def gen() -> AsyncIterator[bytes]:
        for i in range(5):
            yield b"%d" % i * 1000

    async with request("post", httpwire_server.url("/upload-digest"), data=gen()) as r:
        digest = await r.json()
    assert digest["chunked"] is True
    assert digest["bytes"] == 5000
    assert (
        digest["sha256"]
        == hashlib.sha256(b"".join(b"%d" % i * 1000 for i in range(5))).hexdigest()
    )


async def feed_stream(resp: ClientResponse, stream: StreamReader) -> str:
    """The guide's ``feed_stream`` with the errata applied."""
    h = hashlib.sha1()
    while True:
        chunk = await resp.content.readany()
        if not chunk:
            break
        h.update(chunk)
        stream.feed_data(chunk)
    stream.feed_eof()
    return h.hexdigest()


async def test_upload_another_responses_body_through_a_stream_reader(
    server: Peer, stdlib: type[Clients]
) -> None:
    """``feed_stream(resp, stream)`` while ``request('post', ..., data=stream)`` runs as a task."""
    source = server.url("/bytes/100000?seed=11")
    expected = stdlib.request(source).body
    resp = await request("get", source)
    stream = StreamReader()
    upload = asyncio.create_task(request("post", server.url("/post"), data=stream))
    try:
        file_hash = await feed_stream(resp, stream)
    finally:
        resp.release()
    async with await upload as posted:
        echo = await posted.json()
    assert file_hash == hashlib.sha1(expected).hexdigest()
    assert posted_bytes(echo) == expected


async def test_upload_a_stream_reader_of_any_size(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    size = 20 * 2**20
    source = httpwire_server.url(f"/bytes/{size}?seed=3")
    expected = stdlib.request(source).body
    resp = await request("get", source)
    stream = StreamReader()
    upload = asyncio.create_task(
        request("put", httpwire_server.url("/upload-digest"), data=stream)
    )
    try:
        file_hash = await feed_stream(resp, stream)
    finally:
        resp.release()
    async with await upload as posted:
        digest = await posted.json()
    assert digest["bytes"] == size
    assert file_hash == hashlib.sha1(expected).hexdigest()
    assert digest["sha256"] == hashlib.sha256(expected).hexdigest()
    assert digest["chunked"] is True


async def test_chain_a_get_into_a_post(server: Peer, stdlib: type[Clients]) -> None:
    """``r = await request('get', ...)``; ``await request('post', ..., data=r.content)``."""
    expected = stdlib.request(server.url("/html")).body
    r = await request("get", server.url("/html"))
    try:
        async with request("post", server.url("/post"), data=r.content) as posted:
            echo = await posted.json()
    finally:
        r.release()
    assert posted_bytes(echo) == expected


async def test_chain_in_a_session(server: Peer, stdlib: type[Clients]) -> None:
    source = server.url("/bytes/60000?seed=9")
    expected = stdlib.request(source).body
    async with (
        ClientSession() as session,
        session.get(source) as r,
        session.post(server.url("/post"), data=r.content) as posted,
    ):
        echo = await posted.json()
    assert posted_bytes(echo) == expected
