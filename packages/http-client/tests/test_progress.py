"""Upload and download progress, against the local server.

Throttling is checked with a driven clock (reports counted per clock step), never with
real waits.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator

import pytest
from yarl import URL

from httpwire.client import ClientResponse, FormData, TCPConnector
from httpwire.client._progress import DownloadProgress, Progress, ProgressBody
from httpwire.connectors import OutgoingRequest
from httpwire.forms import payload_from
from httpwire.streams import Body, StreamReader
from httpwire_testserver import LocalServer


async def send(
    connector: TCPConnector, url: str, body: Body | bytes | None, method: str = "POST"
) -> ClientResponse:
    headers: dict[str, str] = {}
    content_type = getattr(body, "content_type", None)
    if isinstance(content_type, str):
        headers["Content-Type"] = content_type
    outgoing = OutgoingRequest(method, URL(url), headers, body)
    conn = await connector.acquire(outgoing)
    raw = await conn.send(outgoing)
    return ClientResponse(raw, method, URL(url), headers)  # type: ignore[arg-type]  # a plain dict stands for the sent headers


class Ticks:
    """A clock that moves one step per call: each piece looks one step later."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


async def test_upload_bytes_reports_up_to_the_total(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    data = bytes(range(256)) * 1024  # 256 KiB: four pieces of 64 KiB
    reports: list[Progress] = []
    body = ProgressBody(data, reports.append, interval=0)
    assert body.size == len(data) and body.reusable
    response = await send(connector, httpwire_server.url("/upload-digest"), body)
    result = await response.json()
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert reports[0] == Progress(0, len(data))
    assert [r.done for r in reports[1:-1]] == [65536, 131072, 196608, 262144]
    assert reports[-1] == Progress(len(data), len(data), True)
    assert reports[-1].fraction == 1.0


async def test_upload_multipart_with_a_file(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    form = FormData()
    form.add_field("name", "value")
    form.add_field("file", io.BytesIO(b"x" * 100_000), filename="x.bin")
    payload = payload_from(form)
    reports: list[Progress] = []
    body = ProgressBody(payload, reports.append, interval=0)
    assert body.content_type == payload.content_type
    response = await send(connector, httpwire_server.url("/post"), body)
    echoed = await response.json()
    assert echoed["form"] == {"name": "value"} and len(echoed["files"]["file"]) == 100_000
    final = reports[-1]
    assert final.finished and final.done > 100_000
    assert final.total in (None, final.done)  # a size when the payload knows it
    dones = [r.done for r in reports]
    assert dones == sorted(dones)


async def test_upload_of_a_stream_has_no_total(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    stream = StreamReader()
    for _ in range(3):
        stream.feed_data(b"a" * 1000)
    stream.feed_eof()
    reports: list[Progress] = []
    body = ProgressBody(stream, reports.append, interval=0)
    assert body.size is None and not body.reusable
    response = await send(connector, httpwire_server.url("/upload-digest"), body)
    assert (await response.json())["bytes"] == 3000
    assert reports[-1] == Progress(3000, None, True)
    assert reports[-1].fraction is None


async def test_reports_are_throttled_by_the_interval() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 10

    source = payload_from(pieces())
    reports: list[Progress] = []
    # Each clock call is 0.01 s later; with a 0.1 s interval, one report per 10 pieces.
    body = ProgressBody(source, reports.append, interval=0.1, clock=Ticks(0.01))
    received = b"".join([piece async for piece in body])
    assert len(received) == 1000
    middle = reports[1:-1]
    assert 8 <= len(middle) <= 11
    assert reports[0].done == 0 and reports[-1] == Progress(1000, None, True)


async def test_a_failing_upload_callback_stops_the_upload() -> None:
    def broken(progress: Progress) -> None:
        if progress.done:
            raise RuntimeError("callback bug")

    body = ProgressBody(b"x" * 200_000, broken, interval=0)
    with pytest.raises(RuntimeError, match="callback bug"):
        async for _ in body:
            pass


def test_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        ProgressBody(b"", "print")  # type: ignore[arg-type]  # the mistake the check is for
    with pytest.raises(ValueError, match="interval must be >= 0"):
        ProgressBody(b"", print, interval=-1)
    assert Progress(0, 0).fraction == 1.0
    assert Progress(5, 10).fraction == 0.5


async def test_download_reports_until_the_end(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    size = 300_000
    response = await send(connector, httpwire_server.url(f"/stream-bytes/{size}"), None, "GET")
    reports: list[Progress] = []
    progress = DownloadProgress(response.content, None, reports.append, interval=0)
    progress.start()
    body = await response.read()
    assert len(body) == size
    for _ in range(3):  # the last tick runs on the next loop turns
        await asyncio.sleep(0)
    assert not progress.running
    assert reports[0] == Progress(0, None)
    assert reports[-1] == Progress(size, None, True)
    dones = [r.done for r in reports]
    assert dones == sorted(dones)


async def test_download_of_a_whole_body_reports_the_end_at_once(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    response = await send(connector, httpwire_server.url("/bytes/100"), None, "GET")
    await asyncio.sleep(0)
    reports: list[Progress] = []
    DownloadProgress(response.content, 100, reports.append).start()
    assert reports == [Progress(0, 100), Progress(100, 100, True)]
    await response.read()


async def test_download_stops_when_the_response_is_closed(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    response = await send(
        connector, httpwire_server.url("/drip?numbytes=5&duration=5"), None, "GET"
    )
    reports: list[Progress] = []
    progress = DownloadProgress(response.content, None, reports.append, interval=0)
    progress.start()
    response.close()
    for _ in range(3):
        await asyncio.sleep(0)
    assert not progress.running
    assert reports[-1].finished


async def test_a_failing_download_callback_is_reported_not_raised(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    errors: list[BaseException] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: errors.append(context["exception"]))
    try:
        response = await send(connector, httpwire_server.url("/stream-bytes/200000"), None, "GET")

        def broken(progress: Progress) -> None:
            if progress.done:
                raise RuntimeError("callback bug")

        progress = DownloadProgress(response.content, None, broken, interval=0)
        progress.start()
        assert len(await response.read()) == 200_000  # the download went on
        await asyncio.sleep(0)
        assert not progress.running
        assert [str(e) for e in errors] == ["callback bug"]
    finally:
        loop.set_exception_handler(None)
