"""Flow control: pause above high_water, resume at low_water, memory stays bounded."""

from __future__ import annotations

import asyncio
import hashlib
import resource
import sys
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import CountingProducer

from httpwire.streams import IncompleteReadError, LineTooLongError, StreamReader

KiB = 1024
MiB = 1024 * KiB


async def test_pause_and_resume_are_called_once_per_transition() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=100, low_water=20)
    for cycle in range(1, 4):
        for _ in range(5):
            reader.feed_data(b"x" * 30)  # 150 bytes: paused once, at 120
        assert (producer.pauses, producer.resumes) == (cycle, cycle - 1)
        assert (reader.paused, producer.paused) == (True, True)
        assert await reader.read(100) == b"x" * 90  # the whole pieces that fit
        assert producer.resumes == cycle - 1  # 60 left, above low_water
        assert await reader.read(40) == b"x" * 30
        assert producer.resumes == cycle - 1  # 30 left
        assert await reader.read(10) == b"x" * 10
        assert producer.resumes == cycle  # 20 left: at low_water
        assert (reader.paused, producer.paused) == (False, False)
        assert await reader.read(100) == b"x" * 20
        assert producer.resumes == cycle
    assert (producer.pauses, producer.resumes) == (3, 3)


async def test_many_tiny_pieces_pause_the_producer_too() -> None:
    # Each piece costs about 40 bytes beyond its data: past high_water // 64 pieces
    # the producer is paused however few bytes they hold, and resumed at half as many.
    producer = CountingProducer()
    reader = StreamReader(producer)  # 256 KiB: at most 4096 pieces
    for _ in range(4096):
        reader.feed_data(b"x")
    assert producer.pauses == 0
    reader.feed_data(b"x")
    assert producer.pauses == 1 and reader.buffered == 4097
    for _ in range(2048):
        assert await reader.readany() == b"x"
    assert producer.resumes == 0
    assert await reader.readany() == b"x"
    assert producer.resumes == 1  # 2048 pieces left


async def test_a_waiting_read_takes_tiny_pieces_without_pausing() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=1024)  # at most 64 pieces
    for _ in range(50):
        reader.feed_data(b"y")
    task = asyncio.create_task(reader.readline())
    await asyncio.sleep(0)
    for _ in range(100):
        reader.feed_data(b"y")
    reader.feed_data(b"\n")
    assert await task == b"y" * 150 + b"\n"
    assert producer.pauses == 0


async def test_no_producer_means_no_pause() -> None:
    reader = StreamReader(high_water=10)
    reader.feed_data(b"x" * 100)
    assert not reader.paused
    assert reader.buffered == 100


def test_watermarks_are_validated() -> None:
    with pytest.raises(
        ValueError, match=r"^high_water must be a positive number of bytes, got 0$"
    ):
        StreamReader(high_water=0)
    with pytest.raises(
        ValueError, match=r"^low_water must be between 0 and high_water \(10\), got 11$"
    ):
        StreamReader(high_water=10, low_water=11)
    with pytest.raises(ValueError, match=r"^limit must be a positive number of bytes, got -1$"):
        StreamReader(limit=-1)
    reader = StreamReader(high_water=1000)
    assert (reader.high_water, reader.low_water, reader.limit) == (1000, 250, 65536)
    reader = StreamReader()
    assert (reader.high_water, reader.low_water) == (256 * KiB, 64 * KiB)


async def until_paused(producer: CountingProducer) -> None:
    """Let the producer task run (loop turns, not wall-clock time) until it is paused."""
    for _ in range(1000):
        if producer.paused:
            return
        await asyncio.sleep(0)
    raise AssertionError("the producer was never paused")


async def _download(
    size: int, piece_size: int, high_water: int
) -> tuple[CountingProducer, StreamReader, int]:
    """A producer task faster than its consumer; returns the largest buffer seen."""
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=high_water)
    largest = 0
    digest_in = hashlib.sha1()
    digest_out = hashlib.sha1()

    async def produce() -> None:
        nonlocal largest
        for i in range(size // piece_size):
            if producer.paused:
                await producer.resumed.wait()
            # A fresh piece each time, as a socket would give, so memory is really used.
            piece = i.to_bytes(8, "big") * (piece_size // 8)
            digest_in.update(piece)
            reader.feed_data(piece)
            largest = max(largest, reader.buffered)
            if i % 8 == 0:
                await asyncio.sleep(0)
        reader.feed_eof()

    task = asyncio.create_task(produce())
    received = 0
    turn = 0
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            break
        digest_out.update(chunk)
        received += len(chunk)
        turn += 1
        if turn % 3 == 0:
            # The consumer is slower: it stops for a few loop turns now and then.
            for _ in range(4):
                await asyncio.sleep(0)
    await task
    assert received == size
    assert digest_out.digest() == digest_in.digest()
    return producer, reader, largest


async def test_download_64_mib_keeps_the_buffer_bounded() -> None:
    high_water = 256 * KiB
    piece = 16 * KiB
    tracemalloc.start()
    try:
        producer, reader, largest = await _download(64 * MiB, piece, high_water)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert largest <= high_water + piece
    assert largest > high_water  # the producer did outrun the consumer
    assert producer.pauses >= 10
    assert producer.resumes in (producer.pauses, producer.pauses - 1)
    # Far below the 64 MiB that went through: the buffer plus a few pieces in flight.
    assert peak < 4 * MiB, peak
    assert reader.at_eof()


@pytest.mark.slow
async def test_download_1_gib_keeps_the_buffer_and_the_process_bounded() -> None:
    high_water = 256 * KiB
    piece = 64 * KiB
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    unit = 1 if sys.platform == "darwin" else KiB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
    producer, _, largest = await _download(1024 * MiB, piece, high_water)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
    assert largest <= high_water + piece
    assert producer.pauses >= 100
    assert producer.resumes in (producer.pauses, producer.pauses - 1)
    # The peak resident size grew by far less than the gibibyte that went through.
    assert after - before < 64 * MiB, (before, after)


async def test_read_needing_more_than_high_water_resumes_the_producer() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=100, low_water=50)

    async def produce() -> None:
        for _ in range(20):
            await producer.resumed.wait()
            reader.feed_data(b"y" * 30)
            await asyncio.sleep(0)
        reader.feed_eof()

    task = asyncio.create_task(produce())
    await until_paused(producer)
    # 500 bytes can only come if the producer runs past high_water.
    assert await reader.readexactly(500) == b"y" * 500
    assert await reader.read() == b"y" * 100
    await task
    assert producer.pauses == producer.resumes >= 1


async def test_long_line_within_limit_above_high_water_is_read() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=64, low_water=16, limit=1000)
    line = b"z" * 700 + b"\n"

    async def produce() -> None:
        for i in range(0, len(line), 50):
            await producer.resumed.wait()
            reader.feed_data(line[i : i + 50])
            await asyncio.sleep(0)
        reader.feed_eof()

    task = asyncio.create_task(produce())
    await until_paused(producer)
    assert await reader.readline() == line
    await task


async def test_a_line_found_early_leaves_the_producer_paused_above_high_water() -> None:
    # readline() lifts the pause threshold to its limit while it waits, but it ends as
    # soon as a separator arrives: what is buffered beyond the line may then be above
    # high_water, and the producer must be paused again before it feeds more.
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=100, low_water=25, limit=400)
    reader.feed_data(b"a" * 150)  # above high_water: paused
    assert (producer.pauses, producer.resumes) == (1, 0)
    assert await reader.read(150) == b"a" * 150
    assert (producer.pauses, producer.resumes) == (1, 1)
    line = asyncio.create_task(reader.readline())
    await asyncio.sleep(0)
    reader.feed_data(b"b" * 90)
    reader.feed_data(b"c" * 9 + b"\n" + b"d" * 150)  # 250 buffered: under the lifted 400
    assert producer.pauses == 1
    assert await line == b"b" * 90 + b"c" * 9 + b"\n"
    assert reader.buffered == 150
    assert (producer.paused, producer.pauses, producer.resumes) == (True, 2, 1)


async def test_a_cancelled_long_read_leaves_the_producer_paused_above_high_water() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=100, low_water=25)
    for read in (reader.readexactly(500), reader.read()):
        task = asyncio.create_task(read)
        await asyncio.sleep(0)
        reader.feed_data(b"e" * 300)  # under what the read needs: not paused
        assert producer.pauses == producer.resumes
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert reader.buffered == 300  # nothing lost
        assert producer.pauses == producer.resumes + 1
        assert await reader.readexactly(300) == b"e" * 300
        assert producer.pauses == producer.resumes


async def test_overlong_line_raises_instead_of_waiting_forever() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=64, low_water=16, limit=200)

    async def produce() -> None:
        for _ in range(100):
            await producer.resumed.wait()
            reader.feed_data(b"q" * 50)
            await asyncio.sleep(0)

    task = asyncio.create_task(produce())
    with pytest.raises(LineTooLongError) as info:
        await reader.readline()
    assert str(info.value) == (
        "line longer than the limit of 200 bytes: no separator b'\\n' in the first "
        f"{info.value.size} bytes; the line starts {b'q' * 40!r}..."
    )
    # Bounded: at most the limit plus one piece was buffered.
    assert 200 < reader.buffered <= 250
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_read_everything_does_not_deadlock_on_a_paused_producer() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=100, low_water=10)
    for _ in range(5):
        reader.feed_data(b"a" * 40)
    assert producer.paused

    async def produce() -> None:
        for _ in range(50):
            await producer.resumed.wait()
            reader.feed_data(b"b" * 40)
            await asyncio.sleep(0)
        reader.feed_eof()

    task = asyncio.create_task(produce())
    assert await reader.read() == b"a" * 200 + b"b" * 2000
    await task


class SocketFeeder(asyncio.Protocol):
    """A client protocol that feeds a StreamReader and pauses its transport when told to."""

    def __init__(self) -> None:
        self.reader = StreamReader(self, high_water=64 * KiB, low_water=16 * KiB)
        self.transport: asyncio.Transport | None = None
        self.pauses = 0
        self.resumes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed_data(data)

    def eof_received(self) -> bool | None:
        self.reader.feed_eof()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.reader.set_exception(exc)
        elif not self.reader.is_eof():
            self.reader.feed_eof()

    def pause_reading(self) -> None:
        assert self.transport is not None
        self.pauses += 1
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        assert self.transport is not None
        self.resumes += 1
        self.transport.resume_reading()


async def test_loopback_socket_transport_is_paused_and_resumed() -> None:
    body = bytes(range(256)) * (32 * KiB)  # 8 MiB

    async def serve(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(body)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(SocketFeeder, "127.0.0.1", port)
    try:
        reader = protocol.reader
        # Read nothing until the reader has paused the socket.
        for _ in range(500):
            if reader.paused:
                break
            await asyncio.sleep(0.01)
        assert reader.paused
        assert not transport.is_reading()
        # One socket read (at most 256 KiB in asyncio) past the high-water mark.
        assert 64 * KiB < reader.buffered <= 64 * KiB + 256 * KiB
        buffered = reader.buffered
        await asyncio.sleep(0.05)
        assert reader.buffered == buffered  # paused means paused
        received = [await reader.read(65536)]
        while reader.buffered > 16 * KiB:
            received.append(await reader.read(4096))
        assert transport.is_reading()
        while chunk := await reader.read(65536):
            received.append(chunk)
        assert b"".join(received) == body
        assert protocol.pauses >= 1
        assert protocol.resumes in (protocol.pauses, protocol.pauses - 1)
    finally:
        transport.close()
        server.close()
        await server.wait_closed()


@given(
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=60),
    high_water=st.integers(1, 600),
    low_fraction=st.floats(0, 1),
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("read"), st.integers(1, 700)),
            st.tuples(st.just("readany"), st.just(0)),
            st.tuples(st.just("readexactly"), st.integers(1, 700)),
            st.tuples(st.just("readline"), st.just(0)),
            st.tuples(st.just("sleep"), st.integers(1, 5)),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_buffer_bound_holds_under_any_interleaving(
    sizes: list[int], high_water: int, low_fraction: float, ops: list[tuple[str, int]]
) -> None:
    async def main() -> None:
        producer = CountingProducer()
        low_water = int(high_water * low_fraction)
        reader = StreamReader(producer, high_water=high_water, low_water=low_water, limit=400)
        need = 0  # what the waiting read requires to be buffered, when more than high_water

        async def produce() -> None:
            for i, size in enumerate(sizes):
                await producer.resumed.wait()
                reader.feed_data(bytes([i % 256]) * (size - 1) + (b"\n" if i % 3 else b"-"))
                # The bound: high_water (or what a waiting read needs) plus one piece.
                assert reader.buffered <= max(high_water, need) + size
                assert reader.paused == producer.paused
                await asyncio.sleep(0)
            reader.feed_eof()

        task = asyncio.create_task(produce())

        # A failed assertion in the producer fails the reads too, instead of leaving
        # them waiting for bytes that will never come.
        def fail_reads(done: asyncio.Task[None]) -> None:
            if not done.cancelled() and (exc := done.exception()) is not None:
                reader.set_exception(exc)

        task.add_done_callback(fail_reads)
        for op, arg in ops:
            if op == "sleep":
                for _ in range(arg):
                    await asyncio.sleep(0)
                continue
            need = arg if op == "readexactly" else (401 if op == "readline" else 0)
            try:
                if op == "read":
                    await reader.read(arg)
                elif op == "readany":
                    await reader.readany()
                elif op == "readexactly":
                    await reader.readexactly(arg)
                else:
                    await reader.readline()
            except (IncompleteReadError, LineTooLongError):
                pass
            need = 0
            if reader.buffered <= low_water:
                assert not producer.paused
        while await reader.read(1000):
            pass
        await task
        assert producer.resumes == producer.pauses

    # Bounded too: a stall must fail here rather than hold the whole run.
    asyncio.run(asyncio.wait_for(main(), 10))
