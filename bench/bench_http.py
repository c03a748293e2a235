"""HTTP request throughput: httpwire's connection layer against the raw-asyncio floor,
aiohttp and httpx, on the same server in one run.

Workloads:
  sequential  GET of a 13-byte body, one request at a time on one kept-alive connection;
  concurrent  100 requests in flight at once over 100 kept-alive connections.

Each measurement runs in a fresh subprocess (so every library is imported alone and no
garbage from another contender lingers) for a fixed duration after a short warm-up, and
reports requests per second. Contenders alternate, round after round, and the table shows
the median of the rounds, and each median as a share of the floor's. The machine is shared:
compare ratios within one run, not absolute figures across runs.

Usage:
  python bench/bench_http.py [--runs N] [--duration S] [--only a,b] [--workloads w,...]
  python bench/bench_http.py --profile httpwire:sequential   # cProfile one contender
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _http_server import BODY, start_server

CONCURRENCY = 100
_CPU = [0.0, 0.0]  # process CPU time at the start and the end of the measured window
WARMUP = 0.3
CONTENDERS = ["floor", "httpwire", "aiohttp", "httpx"]
WORKLOADS = ["sequential", "concurrent"]
LABELS = {
    "floor": "raw asyncio.Protocol (floor)",
    "httpwire": "httpwire connector level",
    "aiohttp": "aiohttp ClientSession",
    "httpx": "httpx AsyncClient",
}

Runner = Callable[[str, int, float], Coroutine[Any, Any, int]]
Result = tuple[float, float]  # requests per second, CPU seconds of this process per request


def _request_bytes(host: str, port: int) -> bytes:
    return (
        f"GET /13 HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
    ).encode("ascii")


def _probe_response_length(host: str, port: int) -> int:
    """The byte length of one complete response (the floor counts responses by length)."""
    lengths = set()
    with socket.create_connection((host, port)) as sock:
        for _ in range(3):
            sock.sendall(_request_bytes(host, port))
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(rest) < length:
                rest += sock.recv(65536)
            assert rest == BODY, rest
            lengths.add(len(head) + 4 + length)
    if len(lengths) != 1:
        raise RuntimeError(f"responses vary in length {lengths}: the floor cannot count them")
    return lengths.pop()


class _FloorProtocol(asyncio.Protocol):
    """Sends a fixed GET, counts responses by their known length, sends the next."""

    def __init__(self, request: bytes, response_length: int) -> None:
        self.request = request
        self.response_length = response_length
        self.pending = 0
        self.count = 0
        self.running = True
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.pending += len(data)
        while self.pending >= self.response_length:
            self.pending -= self.response_length
            self.count += 1
            if self.running:
                assert self.transport is not None
                self.transport.write(self.request)


async def _run_floor(url: str, concurrency: int, duration: float) -> int:
    from yarl import URL

    parsed = URL(url)
    host, port = parsed.host or "", parsed.port or 80
    length = _probe_response_length(host, port)
    request = _request_bytes(host, port)
    loop = asyncio.get_running_loop()
    protocols = []
    for _ in range(concurrency):
        _, protocol = await loop.create_connection(
            lambda: _FloorProtocol(request, length), host, port
        )
        protocols.append(protocol)
    await asyncio.sleep(WARMUP)
    start = sum(p.count for p in protocols)
    _CPU[0] = time.process_time()
    await asyncio.sleep(duration)
    _CPU[1] = time.process_time()
    done = sum(p.count for p in protocols) - start
    for p in protocols:
        p.running = False
        assert p.transport is not None
        p.transport.close()
    return done


async def _drive(concurrency: int, duration: float, one: Callable[[], Awaitable[None]]) -> int:
    """Run ``one`` request after another in ``concurrency`` workers; count during ``duration``."""
    count = 0
    measuring = False
    stop = False

    async def worker() -> None:
        nonlocal count
        while not stop:
            await one()
            if measuring:
                count += 1

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(WARMUP)
    measuring = True
    _CPU[0] = time.process_time()
    await asyncio.sleep(duration)
    _CPU[1] = time.process_time()
    measuring = False
    stop = True
    await asyncio.gather(*tasks)
    return count


async def _run_httpwire(url: str, concurrency: int, duration: float) -> int:
    from yarl import URL

    from httpwire.connectors import TCPConnector

    target = URL(url)
    headers = {"Host": f"{target.host}:{target.port}", "User-Agent": "bench", "Accept": "*/*"}
    connector = TCPConnector(total_limit=concurrency)

    async def one() -> None:
        conn = await connector.acquire("GET", target)
        response = await conn.send("GET", target, headers)
        body = await response.content.read()
        response.release()
        assert body == BODY

    try:
        return await _drive(concurrency, duration, one)
    finally:
        await connector.close()


async def _run_aiohttp(url: str, concurrency: int, duration: float) -> int:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(url) as response:
                body = await response.read()
            assert body == BODY

        return await _drive(concurrency, duration, one)


async def _run_httpx(url: str, concurrency: int, duration: float) -> int:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one() -> None:
            response = await client.get(url)
            assert response.content == BODY

        return await _drive(concurrency, duration, one)


RUNNERS: dict[str, Runner] = {
    "floor": _run_floor,
    "httpwire": _run_httpwire,
    "aiohttp": _run_aiohttp,
    "httpx": _run_httpx,
}


def _worker(contender: str, workload: str, url: str, duration: float) -> None:
    concurrency = 1 if workload == "sequential" else CONCURRENCY
    done = asyncio.run(RUNNERS[contender](url, concurrency, duration))
    cpu = (_CPU[1] - _CPU[0]) / max(done, 1)
    print(json.dumps({"rate": done / duration, "cpu": cpu}))


def _measure(contender: str, workload: str, url: str, duration: float) -> Result:
    cmd = [sys.executable, __file__, "--worker", contender, workload, url, str(duration)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration * 10 + 60)
    if out.returncode != 0:
        raise RuntimeError(f"{contender} {workload} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["rate"]), float(result["cpu"])


def _profile(spec: str, url: str, duration: float) -> None:
    contender, _, workload = spec.partition(":")
    concurrency = 1 if (workload or "sequential") == "sequential" else CONCURRENCY
    profiler = cProfile.Profile()
    profiler.enable()
    done = asyncio.run(RUNNERS[contender](url, concurrency, duration))
    profiler.disable()
    print(f"{contender} {workload}: {done / duration:,.0f} req/s under the profiler")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "2"))
    )
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--profile", metavar="CONTENDER:WORKLOAD")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        contender, workload, url, duration = args.worker
        _worker(contender, workload, url, float(duration))
        return

    server = start_server()
    try:
        if args.profile:
            _profile(args.profile, server.url, args.duration)
            return
        contenders = args.only.split(",")
        workloads = args.workloads.split(",")
        print(f"server: {server.name} at {server.url}")
        print(
            f"python {sys.version.split()[0]}, {args.runs} rounds of {args.duration:g} s each, "
            f"concurrent = {CONCURRENCY} connections; contenders alternate within each round"
        )
        rates: dict[tuple[str, str], list[Result]] = {}
        for round_no in range(args.runs):
            order = (
                contenders[round_no % len(contenders) :] + contenders[: round_no % len(contenders)]
            )
            for workload in workloads:
                for contender in order:
                    result = _measure(contender, workload, server.url, args.duration)
                    rates.setdefault((contender, workload), []).append(result)
            print(f"  round {round_no + 1}/{args.runs} done", file=sys.stderr)
        _report(rates, contenders, workloads)
    finally:
        server.stop()


def _report(
    rates: dict[tuple[str, str], list[Result]], contenders: list[str], workloads: list[str]
) -> None:
    """Print the medians as a Markdown table, with shares of the floor and CPU per request."""
    medians = {key: statistics.median(r for r, _ in values) for key, values in rates.items()}
    cpus = {key: statistics.median(c for _, c in values) for key, values in rates.items()}
    columns = " | ".join(f"{w} req/s | vs floor | CPU µs/req" for w in workloads)
    print()
    print(f"| contender | {columns} |")
    print("|" + "---|" * (1 + 3 * len(workloads)))
    for contender in contenders:
        cells = []
        for workload in workloads:
            key = (contender, workload)
            floor = medians.get(("floor", workload))
            spread = [r for r, _ in rates[key]]
            cells.append(f"{medians[key]:,.0f} (±{(max(spread) - min(spread)) / 2:,.0f})")
            cells.append(f"{100 * medians[key] / floor:.0f} %" if floor else "n/a")
            cells.append(f"{cpus[key] * 1e6:.1f}")
        print(f"| {LABELS.get(contender, contender)} | " + " | ".join(cells) + " |")
    if "aiohttp" in contenders and "httpwire" in contenders:
        for workload in workloads:
            ratio = medians[("httpwire", workload)] / medians[("aiohttp", workload)]
            print(f"httpwire / aiohttp, {workload}: {ratio:.2f}x")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"(measured {started}; ± is half the range over the rounds)")


if __name__ == "__main__":
    main()
