"""StreamReader throughput: httpwire.streams against aiohttp.streams, side by side.

Both readers get the same feed from the same producer: pieces of 16 KiB, four
per event-loop turn (one 64 KiB socket read cut into pieces), and the producer
honours pause_reading()/resume_reading() as a transport does. Both readers pause
above 256 KiB and resume at 128 KiB. Three consumers:

- ``read(65536)`` in a loop over 256 MiB,
- ``readany()`` in a loop over 256 MiB,
- ``readline()`` over 16 MiB of text lines of 8 to 160 bytes (lines straddle pieces),
- and, beyond those three, ``read()`` of a whole 64 MiB body.

Each round runs every contender once, in alternating order; the figure is the
median of the rounds, in MiB/s, and the ratio is httpwire over aiohttp (above
1.0 means httpwire is faster). Run with ``nox -s bench -- streams``.
"""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import aiohttp
import aiohttp.streams

import httpwire.streams

ROUNDS = 7
PIECE = 16 * 1024
PIECES_PER_TURN = 4
HIGH_WATER = 256 * 1024
LOW_WATER = 128 * 1024
MiB = 1024 * 1024


class Reader(Protocol):
    """What the consumers use of either reader."""

    def feed_data(self, data: bytes) -> object: ...
    def feed_eof(self) -> None: ...
    async def read(self, n: int = -1) -> bytes: ...
    async def readany(self) -> bytes: ...
    async def readline(self) -> bytes: ...


class Feeder:
    """The producer: feeds pieces each loop turn, stops while paused, like a transport.

    It also stands in for aiohttp's protocol (``connected``, and pause/resume that
    tolerate repeated calls, as aiohttp's own protocol does).
    """

    connected = True

    def __init__(self, loop: asyncio.AbstractEventLoop, pieces: list[bytes]) -> None:
        self.loop = loop
        self.pieces = pieces
        self.next = 0
        self.paused = False
        self.scheduled = False
        self.reader: Reader | None = None

    def start(self, reader: Reader) -> None:
        self.reader = reader
        self.scheduled = True
        self.loop.call_soon(self.turn)

    def turn(self) -> None:
        self.scheduled = False
        reader = self.reader
        assert reader is not None
        pieces = self.pieces
        for _ in range(PIECES_PER_TURN):
            if self.paused:
                return
            if self.next == len(pieces):
                reader.feed_eof()
                return
            reader.feed_data(pieces[self.next])
            self.next += 1
        if not self.paused:
            self.scheduled = True
            self.loop.call_soon(self.turn)

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self, resume_parser: bool = True) -> None:
        if self.paused:
            self.paused = False
            if not self.scheduled:
                self.scheduled = True
                self.loop.call_soon(self.turn)


def make_httpwire(feeder: Feeder) -> Reader:
    return httpwire.streams.StreamReader(feeder, high_water=HIGH_WATER, low_water=LOW_WATER)


def make_aiohttp(feeder: Feeder) -> Reader:
    # As aiohttp's own tests build one: a protocol, a limit, a loop. The limit is the
    # low-water mark and twice it the high-water mark; it also caps readline().
    return aiohttp.streams.StreamReader(
        feeder,  # type: ignore[arg-type]  # a stand-in for aiohttp's BaseProtocol
        LOW_WATER,
        loop=feeder.loop,
    )


async def consume_read(reader: Reader) -> int:
    total = 0
    read = reader.read
    while True:
        chunk = await read(65536)
        if not chunk:
            return total
        total += len(chunk)


async def consume_readany(reader: Reader) -> int:
    total = 0
    readany = reader.readany
    while True:
        chunk = await readany()
        if not chunk:
            return total
        total += len(chunk)


async def consume_read_all(reader: Reader) -> int:
    return len(await reader.read())


async def consume_readline(reader: Reader) -> int:
    total = 0
    readline = reader.readline
    while True:
        line = await readline()
        if not line:
            return total
        total += len(line)


def binary_feed(size: int) -> list[bytes]:
    piece = bytes(range(256)) * (PIECE // 256)
    return [piece] * (size // PIECE)


def line_feed(size: int) -> list[bytes]:
    rng = random.Random(1)
    lines = []
    length = 0
    while length < size:
        line = b"x" * rng.randint(7, 159) + b"\n"
        lines.append(line)
        length += len(line)
    text = b"".join(lines)[:size]
    return [text[i : i + PIECE] for i in range(0, len(text), PIECE)]


async def run_once(
    make: Callable[[Feeder], Reader],
    consume: Callable[[Reader], Awaitable[int]],
    pieces: list[bytes],
    expected: int,
) -> float:
    feeder = Feeder(asyncio.get_running_loop(), pieces)
    reader = make(feeder)
    gc.collect()
    start = time.perf_counter()
    feeder.start(reader)
    got = await consume(reader)
    elapsed = time.perf_counter() - start
    assert got == expected, (got, expected)
    return elapsed


CONTENDERS: dict[str, Callable[[Feeder], Reader]] = {
    "httpwire": make_httpwire,
    "aiohttp": make_aiohttp,
}


async def scenario(
    name: str, consume: Callable[[Reader], Awaitable[int]], pieces: list[bytes]
) -> float:
    expected = sum(len(p) for p in pieces)
    times: dict[str, list[float]] = {c: [] for c in CONTENDERS}
    order = list(CONTENDERS)
    for _ in range(ROUNDS):
        for contender in order:
            times[contender].append(
                await run_once(CONTENDERS[contender], consume, pieces, expected)
            )
        order.reverse()
    rates = {c: expected / MiB / statistics.median(t) for c, t in times.items()}
    ratio = rates["httpwire"] / rates["aiohttp"]
    print(
        f"| {name:<14} | {expected // MiB:>4} MiB | {rates['httpwire']:>10.0f} "
        f"| {rates['aiohttp']:>10.0f} | {ratio:>5.2f}x |",
        flush=True,
    )
    return ratio


async def main() -> None:
    print(
        f"Python {sys.version.split()[0]}, aiohttp {aiohttp.__version__}, "
        f"httpwire-streams {httpwire.streams.__version__}; median of {ROUNDS} rounds, MiB/s"
    )
    print("| consumer       | feed     | httpwire   | aiohttp    | ratio |")
    print("|----------------|----------|------------|------------|-------|")
    binary = binary_feed(256 * MiB)
    await scenario("read(65536)", consume_read, binary)
    await scenario("readany()", consume_readany, binary)
    await scenario("readline()", consume_readline, line_feed(16 * MiB))
    await scenario("read() whole", consume_read_all, binary_feed(64 * MiB))


if __name__ == "__main__":
    asyncio.run(main())
