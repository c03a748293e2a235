"""Uploads through Python's http.client to real servers: ours and httpbin on gunicorn.

Both servers decode what they receive into httpbin's ``form`` and ``files``; the
same form must come back from each.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import io
import json
import tracemalloc
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from httpwire.forms import (
    DEFAULT_CHUNK_SIZE,
    AsyncIterablePayload,
    FormData,
    Payload,
    payload_from,
)
from httpwire_testserver import LocalServer
from httpwire_testserver.plugin import Peer

from .helpers import collect


async def post(server: Peer, body: Payload, path: str = "/post") -> dict[str, Any]:
    """POST *body* with http.client; Content-Length when its size is known, else chunked."""
    data = await collect(body)
    url = urllib.parse.urlsplit(server.http_url)
    assert url.hostname is not None
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        headers = {"Content-Type": body.content_type}
        if body.size is not None:
            assert body.size == len(data)
            conn.request("POST", path, body=data, headers=headers)
        else:
            pieces = [data[i : i + 1000] for i in range(0, len(data), 1000)]
            conn.request("POST", path, body=iter(pieces), headers=headers, encode_chunked=True)
        response = conn.getresponse()
        text = response.read()
        assert response.status == 200, (response.status, text[:300])
    finally:
        conn.close()
    result: dict[str, Any] = json.loads(text)
    return result


def file_bytes(value: str) -> bytes:
    """A file's content as httpbin shows it: text, or a data URL when it is not UTF-8."""
    if value.startswith("data:"):
        return base64.b64decode(value.partition(",")[2])
    return value.encode("utf-8")


async def test_the_guides_form_is_decoded(server: Peer) -> None:
    result = await post(server, payload_from({"key1": "value1", "key2": "value2"}))
    assert result["form"] == {"key1": "value1", "key2": "value2"}
    assert result["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_urlencoded_repeats_and_non_ascii(server: Peer) -> None:
    body = payload_from([("k", "1"), ("k", "2 & 3"), ("имя", "zoë")])
    result = await post(server, body)
    assert result["form"] == {"k": ["1", "2 & 3"], "имя": "zoë"}


async def test_multipart_fields_and_files(server: Peer, tmp_path: Path) -> None:
    report = tmp_path / "report.xls"
    report.write_bytes(bytes(range(256)) * 64)
    with report.open("rb") as fd:
        form = FormData()
        form.add_field("title", "Quarterly report")
        form.add_field("note", "naïve café\r\nsecond line")
        form.add_field("file", fd, filename="report.xls", content_type="application/vnd.ms-excel")
        form.add_field("readme", io.BytesIO(b"plain text file\n"), filename="README.txt")
        result = await post(server, form.build())
    assert result["form"] == {"title": "Quarterly report", "note": "naïve café\r\nsecond line"}
    assert sorted(result["files"]) == ["file", "readme"]
    assert file_bytes(result["files"]["file"]) == report.read_bytes()
    assert file_bytes(result["files"]["readme"]) == b"plain text file\n"
    assert result["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


async def test_a_dict_with_an_open_file_uploads_multipart(server: Peer, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    with path.open("rb") as fd:
        result = await post(server, payload_from({"file": fd, "kind": "csv"}))
    assert result["form"] == {"kind": "csv"}
    assert result["files"] == {"file": "a,b\n1,2\n"}


async def test_utf8_field_names_and_boundary_lookalikes(server: Peer) -> None:
    form = FormData()
    form.add_field("поле", "значение")
    form.add_field("tricky", "--\r\n--not-a-boundary\r\n\r\n--")
    form.add_field("empty", "")
    result = await post(server, form.build())
    assert result["form"] == {
        "поле": "значение",
        "tricky": "--\r\n--not-a-boundary\r\n\r\n--",
        "empty": "",
    }


async def test_chunked_upload_of_a_streamed_part(server: Peer) -> None:
    async def generate() -> AsyncIterator[bytes]:
        for i in range(50):
            yield b"%04d," % i

    form = FormData()
    form.add_field("stream", AsyncIterablePayload(generate()), filename="numbers.txt")
    body = form.build()
    assert body.size is None
    result = await post(server, body)
    assert result["files"] == {"stream": "".join(f"{i:04d}," for i in range(50))}
    assert result["headers"]["Transfer-Encoding"] == "chunked"


async def test_a_big_file_streams_to_a_real_server_in_bounded_memory(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    """The body is pulled piece by piece by http.client in a thread, as a socket drains it."""
    path = tmp_path / "big.bin"
    with path.open("wb") as out:
        out.truncate(64 * 1024 * 1024)  # sparse: no disk used
    loop = asyncio.get_running_loop()
    digest = hashlib.sha256()
    with path.open("rb") as fd:
        form = FormData()
        form.add_field("file", fd, filename="big.bin")
        body = form.build()
        assert body.size is not None
        pieces = body.__aiter__()

        async def next_piece() -> bytes:
            return await pieces.__anext__()

        def pull() -> Iterator[bytes]:
            while True:
                try:
                    piece = asyncio.run_coroutine_threadsafe(next_piece(), loop).result()
                except StopAsyncIteration:
                    return
                digest.update(piece)
                yield piece

        def send() -> dict[str, Any]:
            conn = http.client.HTTPConnection("127.0.0.1", httpwire_server.port, timeout=60)
            try:
                headers = {"Content-Type": body.content_type, "Content-Length": str(body.size)}
                conn.request("POST", "/upload-digest", body=pull(), headers=headers)
                response = conn.getresponse()
                assert response.status == 200
                result: dict[str, Any] = json.loads(response.read())
                return result
            finally:
                conn.close()

        tracemalloc.start()
        try:
            result = await loop.run_in_executor(None, send)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result["bytes"] == body.size
    assert result["sha256"] == digest.hexdigest()
    assert result["content_length"] == body.size
    # The server runs in a thread of this process, so its buffers are traced too, and it
    # hashes one piece in a worker thread while it reads the next: a few MiB on both sides
    # together for a 64 MiB upload (an eighth of it at most), and the same for any size.
    assert peak < 32 * DEFAULT_CHUNK_SIZE, peak
