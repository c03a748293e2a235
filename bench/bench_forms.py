"""Multipart forms: httpwire.forms against aiohttp on the same data, side by side in one run.

Workloads:
  generate  stream a multipart/form-data body of three short fields and one file part
            read from a temporary file (100 MiB by default), as a client uploading it
            would: httpwire's FormData body iterated piece by piece, against aiohttp's
            FormData written to a sink writer. Both read the file on the default executor.
  read      read one such body (the same bytes for both) with a MultipartReader: the body
            sits in a StreamReader in 64 KiB pieces, as a connection would have fed it, and
            every part is read with read_chunk(65536) to its end.

Rounds alternate between the contenders; the table shows each median (and the throughput
of the body) and aiohttp's median time divided by httpwire's (above 1.0x: httpwire is
faster). The machine is shared: compare ratios within one run, not figures across runs.

Usage:
  python bench/bench_forms.py [--size-mib N] [--rounds N] [--workloads generate,read]
  python bench/bench_forms.py --profile read      # cProfile httpwire's side of a workload
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from multidict import CIMultiDict

from httpwire.forms import BodyPartReader, FormData, MultipartReader, MultipartWriter
from httpwire.streams import StreamReader

PIECE = 64 * 1024
FIELDS = [("title", "A large upload"), ("description", "x" * 200), ("tags", "a,b,c")]
WORKLOADS = ["generate", "read"]
BOUNDARY = "benchmarkboundary0123456789"


def make_file(directory: Path, size: int) -> Path:
    """A file of *size* random bytes (random, so CR and '-' occur as in real uploads)."""
    path = directory / "upload.bin"
    with path.open("wb") as fd:
        left = size
        while left:
            n = min(left, 8 * 1024 * 1024)
            fd.write(os.urandom(n))
            left -= n
    return path


class NoFlowControl:
    """The protocol side of an aiohttp StreamReader fed by hand: never pauses anyone."""

    _reading_paused = False

    def pause_reading(self, *args: object, **kwargs: object) -> None:
        return None

    def resume_reading(self, *args: object, **kwargs: object) -> None:
        return None


class CountingSink:
    """An aiohttp stream writer that counts what it is given and drops it."""

    def __init__(self) -> None:
        self.count = 0
        self.buffer_size = 0
        self.output_size = 0
        self.length: int | None = None

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.count += len(chunk)

    async def drain(self) -> None:
        return None

    async def write_eof(self, chunk: bytes = b"") -> None:
        self.count += len(chunk)

    def enable_compression(self, *args: Any, **kwargs: Any) -> None:
        return None

    def enable_chunking(self) -> None:
        return None

    async def write_headers(self, *args: Any, **kwargs: Any) -> None:
        return None


async def generate_httpwire(path: Path) -> int:
    with path.open("rb") as fd:
        form = FormData()
        for name, value in FIELDS:
            form.add_field(name, value)
        form.add_field("file", fd, filename="upload.bin", content_type="application/octet-stream")
        total = 0
        async for piece in form.build():
            total += len(piece)
    return total


async def generate_aiohttp(path: Path) -> int:
    with path.open("rb") as fd:
        form = aiohttp.FormData()
        for name, value in FIELDS:
            form.add_field(name, value)
        form.add_field("file", fd, filename="upload.bin", content_type="application/octet-stream")
        sink = CountingSink()
        await form().write(sink)  # type: ignore[arg-type]  # a duck-typed stream writer
    return sink.count


async def make_body(path: Path) -> tuple[str, list[bytes]]:
    """The body both readers parse, cut into the pieces a connection would feed."""
    with path.open("rb") as fd:
        writer = MultipartWriter("form-data", boundary=BOUNDARY)
        form = FormData()
        for name, value in FIELDS:
            form.add_field(name, value)
        form.add_field("file", fd, filename="upload.bin", content_type="application/octet-stream")
        built = form.build()
        assert isinstance(built, MultipartWriter)
        for part in built:
            writer._add(part.payload, CIMultiDict(part.headers))
        body = b"".join([piece async for piece in writer])
    view = memoryview(body)
    return writer.content_type, [bytes(view[i : i + PIECE]) for i in range(0, len(body), PIECE)]


async def read_httpwire(content_type: str, pieces: list[bytes]) -> int:
    stream = StreamReader()
    for piece in pieces:
        stream.feed_data(piece)
    stream.feed_eof()
    reader = MultipartReader(content_type, stream)
    total = 0
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        while chunk := await part.read_chunk(65536):
            total += len(chunk)
    return total


async def read_aiohttp(content_type: str, pieces: list[bytes]) -> int:
    loop = asyncio.get_running_loop()
    stream = aiohttp.StreamReader(NoFlowControl(), 2**16, loop=loop)  # type: ignore[arg-type]
    for piece in pieces:
        stream.feed_data(piece)
    stream.feed_eof()
    reader = aiohttp.MultipartReader({"Content-Type": content_type}, stream)
    total = 0
    while True:
        part = await reader.next()
        if part is None:
            break
        assert isinstance(part, aiohttp.BodyPartReader)
        while chunk := await part.read_chunk(65536):
            total += len(chunk)
    return total


async def timed(run: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    count = await run()
    return time.perf_counter() - start, count


async def bench(args: argparse.Namespace) -> None:
    size = args.size_mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp), size)
        content_type, pieces = await make_body(path)
        body_size = sum(map(len, pieces))
        runs: dict[str, dict[str, Callable[[], Awaitable[int]]]] = {
            "generate": {
                "httpwire": lambda: generate_httpwire(path),
                "aiohttp": lambda: generate_aiohttp(path),
            },
            "read": {
                "httpwire": lambda: read_httpwire(content_type, pieces),
                "aiohttp": lambda: read_aiohttp(content_type, pieces),
            },
        }
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.rounds):
                await runs[args.profile]["httpwire"]()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            return
        print(
            f"multipart/form-data with a {args.size_mib} MiB file part ({body_size} bytes of "
            f"body); median of {args.rounds} alternating rounds; Python {sys.version.split()[0]}, "
            f"aiohttp {aiohttp.__version__}"
        )
        print()
        print("| workload | httpwire | aiohttp | aiohttp time / httpwire time |")
        print("|---|---|---|---|")
        for workload in args.workloads:
            contenders = runs[workload]
            times: dict[str, list[float]] = {name: [] for name in contenders}
            for name, run in contenders.items():  # a warm-up that checks the byte counts
                _, count = await timed(run)
                if workload == "read":
                    expected = size + sum(len(v) for _, v in FIELDS)
                    ok = count == expected
                else:  # the bodies differ only by boundaries and header details
                    ok = abs(count - body_size) < 2048
                if not ok:
                    raise RuntimeError(f"{workload}: {name} produced {count} bytes")
            for round_ in range(args.rounds):
                order = list(contenders) if round_ % 2 == 0 else list(reversed(contenders))
                for name in order:
                    elapsed, _ = await timed(contenders[name])
                    times[name].append(elapsed)
            ours = statistics.median(times["httpwire"])
            theirs = statistics.median(times["aiohttp"])
            mib = body_size / 1024 / 1024
            print(
                f"| {workload} | {ours * 1000:.0f} ms ({mib / ours:.0f} MiB/s) "
                f"| {theirs * 1000:.0f} ms ({mib / theirs:.0f} MiB/s) | {theirs / ours:.2f}x |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--workloads",
        type=lambda s: [w for w in s.split(",") if w],
        default=WORKLOADS,
    )
    parser.add_argument("--profile", choices=WORKLOADS, default=None)
    args = parser.parse_args()
    for workload in args.workloads:
        if workload not in WORKLOADS:
            parser.error(f"unknown workload {workload!r}: choose from {', '.join(WORKLOADS)}")
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
