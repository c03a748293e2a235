"""Upload and download progress, against the local server.

Throttling is checked with a driven clock (reports counted per clock step), never with
real waits: the event iterator's pacing is shown by what it does not hand out while its
clock stands still.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from yarl import URL

from httpwire.client import (
    ClientResponse,
    ClientSession,
    FormData,
    ProgressEvent,
    ProgressEvents,
    TCPConnector,
)
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


# -- the async iterator of events ------------------------------------------------------------


class Clock:
    """A clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _collect(events: ProgressEvents) -> list[ProgressEvent]:
    return [event async for event in events]


async def _turns(count: int = 5) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_a_slow_consumer_gets_the_latest_state_not_a_backlog() -> None:
    events = ProgressEvents(interval=0)
    for done in range(0, 1_000_000, 1000):
        events(Progress(done, 1_000_000))  # nobody reads: each report replaces the last
    assert events.latest == Progress(999_000, 1_000_000)
    consumer = aiter(events)
    first = await anext(consumer)
    assert (first.done, first.total, first.finished) == (999_000, 1_000_000, False)
    events(Progress(1_000_000, 1_000_000, True))
    last = await anext(consumer)
    assert last.finished and last.done == 1_000_000 and last.fraction == 1.0
    with pytest.raises(StopAsyncIteration):
        await anext(consumer)


async def test_events_are_paced_by_the_interval() -> None:
    clock = Clock()
    events = ProgressEvents(interval=10.0, clock=clock)
    handed: list[ProgressEvent] = []

    async def consume() -> None:
        async for event in events:
            handed.append(event)

    task = asyncio.create_task(consume())
    events(Progress(0, 100))
    await _turns()
    assert [e.done for e in handed] == [0]
    # The clock stands still: however many reports come, the next event waits out the
    # interval (ten seconds the clock never reaches).
    for done in range(1, 100):
        events(Progress(done, 100))
        await asyncio.sleep(0)
    assert [e.done for e in handed] == [0]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_interval_already_past_hands_the_next_event_at_once() -> None:
    clock = Clock()
    events = ProgressEvents(interval=1.0, clock=clock)
    task = asyncio.create_task(_collect(events))
    events(Progress(0, 3000))
    await _turns()
    clock.now = 2.0
    events(Progress(1000, 3000))
    await _turns()
    clock.now = 4.0
    events(Progress(3000, 3000, True))
    handed = await task
    assert [(e.done, e.elapsed, e.finished) for e in handed] == [
        (0, 0.0, False),
        (1000, 2.0, False),
        (3000, 4.0, True),
    ]
    assert [e.rate for e in handed] == [None, 500.0, 1000.0]
    assert handed[1].remaining == 4.0 and handed[1].fraction == 1000 / 3000
    assert handed[2].remaining == 0.0


async def test_every_consumer_follows_at_its_own_pace() -> None:
    events = ProgressEvents(interval=0)
    tasks = [asyncio.create_task(_collect(events)) for _ in range(3)]
    await _turns()
    events(Progress(0, None))
    await _turns()
    events(Progress(10, None))
    events(Progress(20, None, True))
    results = await asyncio.gather(*tasks)
    for handed in results:
        assert [e.done for e in handed] == [0, 20]
        assert handed[-1].finished and handed[-1].total is None
        assert handed[-1].fraction is None and handed[-1].remaining is None


async def test_close_ends_the_iteration_after_the_latest_unseen_state() -> None:
    events = ProgressEvents(interval=0)
    waiting = asyncio.create_task(_collect(events))
    await _turns()
    events(Progress(500, 1000))  # the transfer failed here: no last report will come
    events.close()
    handed = await waiting
    assert [(e.done, e.finished) for e in handed] == [(500, False)]
    assert events.closed
    late = await _collect(events)  # a new consumer starts from the latest state, then ends
    assert [(e.done, e.finished) for e in late] == [(500, False)]
    events.close()  # idempotent


async def test_close_before_any_report_ends_a_waiting_consumer() -> None:
    events = ProgressEvents()
    waiting = asyncio.create_task(_collect(events))
    await _turns()
    events.close()
    assert await waiting == []
    assert events.latest is None
    assert "closed=True" in repr(events)


async def test_a_cancelled_consumer_leaves_no_waiter_behind() -> None:
    events = ProgressEvents()
    task = asyncio.create_task(_collect(events))
    await _turns()
    assert len(events._waiters) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events._waiters == []


def test_the_events_interval_is_checked() -> None:
    with pytest.raises(ValueError, match="interval must be >= 0"):
        ProgressEvents(interval=-0.5)


async def _follow(events: ProgressEvents) -> asyncio.Task[list[ProgressEvent]]:
    task = asyncio.create_task(_collect(events))
    await asyncio.sleep(0)
    return task


@pytest.mark.parametrize("kind", ["bytes", "file", "multipart"])
async def test_events_of_uploads_through_the_session(
    httpwire_server: LocalServer, session: ClientSession, kind: str, tmp_path: Path
) -> None:
    data = hashlib.sha256(b"up").digest() * 20_000  # 640 000 bytes
    body: object
    opened = None
    if kind == "bytes":
        body = data
    elif kind == "file":
        path = tmp_path / "up.bin"
        path.write_bytes(data)
        body = opened = path.open("rb")
    else:
        form = FormData()
        form.add_field("note", "hello")
        form.add_field("file", io.BytesIO(data), filename="up.bin")
        body = form
    events = ProgressEvents(interval=0)
    task = await _follow(events)
    try:
        url = httpwire_server.url("/upload-digest" if kind != "multipart" else "/post")
        async with session.post(
            url, data=body, on_upload_progress=events, progress_interval=0
        ) as response:
            answer = await response.json()
    except BaseException:
        events.close()
        raise
    finally:
        if opened is not None:
            opened.close()
    handed = await task
    if kind == "multipart":
        assert answer["form"] == {"note": "hello"}
        encoded = answer["files"]["file"].split(";base64,", 1)[1]  # binary files come as data URLs
        assert base64.b64decode(encoded) == data
    else:
        assert answer["sha256"] == hashlib.sha256(data).hexdigest()
    last = handed[-1]
    assert last.finished and last.done >= len(data)
    assert last.total in (None, last.done)
    dones = [e.done for e in handed]
    assert dones == sorted(dones)


async def test_events_of_a_streamed_download_through_the_session(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    size = 2 * 2**20
    events = ProgressEvents(interval=0)
    task = await _follow(events)
    digest = hashlib.sha256()
    try:
        async with session.get(
            httpwire_server.url(f"/bytes/{size}?seed=3"),
            on_download_progress=events,
            progress_interval=0.001,
        ) as response:
            async for piece in response.content.iter_chunked(65536):
                digest.update(piece)
    except BaseException:
        events.close()
        raise
    handed = await task  # the last report comes on the timer's next tick: no close needed
    assert digest.hexdigest() == hashlib.sha256(_seeded(size, 3)).hexdigest()
    assert handed[-1].finished and handed[-1].done == size and handed[-1].total == size
    assert handed[0].done < size  # it followed the body as it came
    assert all(e.rate is None or e.rate >= 0 for e in handed)
    dones = [e.done for e in handed]
    assert dones == sorted(dones)


def _seeded(size: int, seed: int) -> bytes:
    """What the server's ``/bytes/{size}?seed=`` sends: 64 KiB pieces of one Random."""
    rng = random.Random(seed)
    return b"".join(rng.randbytes(min(65536, size - at)) for at in range(0, size, 65536))


async def test_a_consumer_that_comes_late_gets_only_the_last_state(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    """Many reports while nobody reads (a 4 MiB body reported every piece): no backlog."""
    size = 4 * 2**20
    events = ProgressEvents(interval=0)
    reports = 0

    def count(progress: Progress) -> None:
        nonlocal reports
        reports += 1
        events(progress)

    async with session.post(
        httpwire_server.url("/upload-digest"),
        data=_seeded(size, 4),
        on_upload_progress=count,
        progress_interval=0,
    ) as response:
        assert (await response.json())["bytes"] == size
    handed = await _collect(events)  # only now does anyone read
    assert reports >= 64  # one per 64 KiB piece, and the first
    assert [(e.done, e.finished) for e in handed] == [(size, True)]
