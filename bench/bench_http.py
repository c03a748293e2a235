"""HTTP request throughput: httpwire's connection layer against the raw-asyncio floor,
aiohttp and httpx, on the same server in one run.

Workloads:
  sequential        GET of a 13-byte body, one request at a time on one kept-alive connection;
  concurrent        100 requests in flight at once over 100 kept-alive connections;
  https-sequential  as sequential, over TLS (certificate verified against a test CA);
  tls-setup         one request at a time, each on a new TLS connection (TCP connect, full
                    handshake with verification, request, close): the cost of setting up.

Each measurement runs in a fresh subprocess (so every library is imported alone and no
garbage from another contender lingers) for a fixed duration after a short warm-up, and
reports requests per second. Contenders alternate, round after round, and the table shows
the median of the rounds, and each median as a share of the floor's. The machine is shared:
compare ratios within one run, not absolute figures across runs.

Usage:
  python bench/bench_http.py [--runs N] [--duration S] [--only a,b] [--workloads w,...]
  python bench/bench_http.py --profile httpwire:sequential   # cProfile one contender
  python bench/bench_http.py --checkout before=../a --checkout after=../b --only floor,before,after
      # adds contenders "before" and "after": httpwire's connection level imported from
      # other checkouts' packages (a change measured in the same run, interleaved)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import socket
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _http_server import BODY, start_server

CONCURRENCY = 100
_CPU = [0.0, 0.0]  # process CPU time at the start and the end of the measured window
WARMUP = 0.3
CONTENDERS = ["floor", "httpwire", "client", "aiohttp", "httpx"]
WORKLOADS = ["sequential", "concurrent", "https-sequential", "tls-setup"]


class Workload(NamedTuple):
    """What one measurement does."""

    url: str  # the 13-byte file, over http or https
    concurrency: int  # requests in flight at once, each worker on its own connection
    ca_pem: str | None  # the CA to verify the server with (https only)
    new_connection: bool  # a new connection for every request


def _workload(name: str, http_url: str, https_url: str, ca_pem: str) -> Workload:
    if name == "sequential":
        return Workload(http_url, 1, None, False)
    if name == "concurrent":
        return Workload(http_url, CONCURRENCY, None, False)
    if name == "https-sequential":
        return Workload(https_url, 1, ca_pem, False)
    if name == "tls-setup":
        return Workload(https_url, 1, ca_pem, True)
    raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")


def _context(work: Workload) -> ssl.SSLContext | None:
    """The client context of an https workload, built once per measurement."""
    return None if work.ca_pem is None else ssl.create_default_context(cafile=work.ca_pem)


LABELS = {
    "floor": "raw asyncio.Protocol (floor)",
    "httpwire": "httpwire connector level",
    "client": "httpwire ClientSession",
    "aiohttp": "aiohttp ClientSession",
    "httpx": "httpx AsyncClient",
}

Runner = Callable[[Workload, float], Coroutine[Any, Any, int]]
Result = tuple[float, float]  # requests per second, CPU seconds of this process per request


def _request_bytes(host: str, port: int) -> bytes:
    return (
        f"GET /13 HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
    ).encode("ascii")


def _probe_response_length(host: str, port: int, context: ssl.SSLContext | None = None) -> int:
    """The byte length of one complete response (the floor counts responses by length)."""
    lengths = set()
    raw = socket.create_connection((host, port))
    with raw if context is None else context.wrap_socket(raw, server_hostname=host) as sock:
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


async def _run_floor(work: Workload, duration: float) -> int:
    from yarl import URL

    parsed = URL(work.url)
    host, port = parsed.host or "", parsed.port or 80
    context = _context(work)
    length = _probe_response_length(host, port, context)
    request = _request_bytes(host, port)
    loop = asyncio.get_running_loop()
    server_hostname = None if context is None else host
    if work.new_connection:
        return await _run_floor_setup(work, duration, request, length, context)
    protocols = []
    for _ in range(work.concurrency):
        _, protocol = await loop.create_connection(
            lambda: _FloorProtocol(request, length),
            host,
            port,
            ssl=context,
            server_hostname=server_hostname,
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


class _OneShotProtocol(asyncio.Protocol):
    """Sends a fixed GET once connected and completes a future when its response is in."""

    def __init__(self, request: bytes, response_length: int) -> None:
        self.request = request
        self.left = response_length
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.left -= len(data)
        if self.left <= 0 and not self.done.done():
            self.done.set_result(None)


async def _run_floor_setup(
    work: Workload, duration: float, request: bytes, length: int, context: ssl.SSLContext | None
) -> int:
    """The floor of tls-setup: connect (with TLS), one GET, close, again."""
    from yarl import URL

    parsed = URL(work.url)
    host, port = parsed.host or "", parsed.port or 80
    loop = asyncio.get_running_loop()
    # Resolved once, as a floor should: the clients cache their look-ups too.
    address = str(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0])

    async def one() -> None:
        transport, protocol = await loop.create_connection(
            lambda: _OneShotProtocol(request, length),
            address,
            port,
            ssl=context,
            server_hostname=None if context is None else host,
        )
        await protocol.done
        transport.close()

    return await _drive(work.concurrency, duration, one)


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


async def _run_httpwire(work: Workload, duration: float) -> int:
    from yarl import URL

    from httpwire.connectors import OutgoingRequest, TCPConnector

    target = URL(work.url)
    headers = {"Host": f"{target.host}:{target.port}", "User-Agent": "bench", "Accept": "*/*"}
    connector = TCPConnector(
        total_limit=work.concurrency, ssl_context=_context(work), force_close=work.new_connection
    )

    async def one() -> None:
        request = OutgoingRequest("GET", target, headers)  # built per request, as a client does
        conn = await connector.acquire(request)
        response = await conn.send(request)
        body = await response.content.read()
        response.release()
        assert body == BODY

    try:
        return await _drive(work.concurrency, duration, one)
    finally:
        await connector.close()


async def _run_client(work: Workload, duration: float) -> int:
    from httpwire.client import ClientSession, TCPConnector

    connector = TCPConnector(
        total_limit=work.concurrency, ssl_context=_context(work), force_close=work.new_connection
    )
    async with ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(work.url) as response:
                body = await response.read()
            assert body == BODY

        return await _drive(work.concurrency, duration, one)


async def _run_aiohttp(work: Workload, duration: float) -> int:
    import aiohttp

    context = _context(work)
    connector = aiohttp.TCPConnector(
        limit=work.concurrency,
        ssl=context if context is not None else True,
        force_close=work.new_connection,
    )
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(work.url) as response:
                body = await response.read()
            assert body == BODY

        return await _drive(work.concurrency, duration, one)


async def _run_httpx(work: Workload, duration: float) -> int:
    import httpx

    keep = 0 if work.new_connection else work.concurrency
    limits = httpx.Limits(max_connections=work.concurrency, max_keepalive_connections=keep)
    context = _context(work)
    verify: ssl.SSLContext | bool = context if context is not None else True
    async with httpx.AsyncClient(limits=limits, verify=verify) as client:

        async def one() -> None:
            response = await client.get(work.url)
            assert response.content == BODY

        return await _drive(work.concurrency, duration, one)


RUNNERS: dict[str, Runner] = {
    "floor": _run_floor,
    "httpwire": _run_httpwire,
    "client": _run_client,
    "aiohttp": _run_aiohttp,
    "httpx": _run_httpx,
}


def _worker(contender: str, work: Workload, duration: float) -> None:
    done = asyncio.run(RUNNERS[contender](work, duration))
    cpu = (_CPU[1] - _CPU[0]) / max(done, 1)
    print(json.dumps({"rate": done / duration, "cpu": cpu}))


CHECKOUTS: dict[str, list[str]] = {}  # contender -> another checkout's package sources


def _checkout_path(checkout: str) -> list[str]:
    root = Path(checkout).resolve() / "packages"
    return [
        str(root / f"http-{name}" / "src")
        for name in ("connectors", "parser", "streams", "forms", "client")
    ]


def _measure(contender: str, work: Workload, duration: float) -> Result:
    spec = json.dumps(work._asdict())
    cmd = [sys.executable, __file__, "--worker", contender, spec, str(duration)]
    env = None
    if contender in CHECKOUTS:
        # Ahead of the installed packages: the other checkout's httpwire is imported.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(CHECKOUTS[contender])}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration * 10 + 60, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{contender} {work} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["rate"]), float(result["cpu"])


def _profile(spec: str, works: dict[str, Workload], duration: float) -> None:
    contender, _, workload = spec.partition(":")
    profiler = cProfile.Profile()
    profiler.enable()
    done = asyncio.run(RUNNERS[contender](works[workload or "sequential"], duration))
    profiler.disable()
    print(f"{contender} {workload}: {done / duration:,.0f} req/s under the profiler")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(
        int(os.environ.get("BENCH_PROFILE_ROWS", "30"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "2"))
    )
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--profile", metavar="CONTENDER:WORKLOAD")
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="measure httpwire's connection level from another checkout too, as NAME",
    )
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        contender, spec, duration = args.worker
        RUNNERS.setdefault(contender, _run_httpwire)  # a --checkout contender
        _worker(contender, Workload(**json.loads(spec)), float(duration))
        return

    for spec in args.checkout:
        name, _, path = spec.partition("=")
        CHECKOUTS[name] = _checkout_path(path)
        RUNNERS[name] = _run_httpwire
        LABELS[name] = f"httpwire connector level, {name} ({Path(path).name})"
    server = start_server()
    try:
        works = {
            name: _workload(name, server.url, server.https_url, server.ca_pem)
            for name in WORKLOADS
        }
        if args.profile:
            _profile(args.profile, works, args.duration)
            return
        contenders = args.only.split(",")
        workloads = args.workloads.split(",")
        for name in workloads:
            if name not in works:
                parser.error(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
        print(f"server: {server.name} at {server.url}")
        print(
            f"python {sys.version.split()[0]}, {args.runs} rounds of {args.duration:g} s each, "
            f"concurrent = {CONCURRENCY} connections; contenders alternate within each round; "
            f"TLS: {ssl.OPENSSL_VERSION}"
        )
        rates: dict[tuple[str, str], list[Result]] = {}
        for round_no in range(args.runs):
            order = (
                contenders[round_no % len(contenders) :] + contenders[: round_no % len(contenders)]
            )
            for workload in workloads:
                for contender in order:
                    result = _measure(contender, works[workload], args.duration)
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
    for ours in ("httpwire", "client"):
        if "aiohttp" in contenders and ours in contenders:
            for workload in workloads:
                ratio = medians[(ours, workload)] / medians[("aiohttp", workload)]
                print(f"{LABELS[ours]} / aiohttp, {workload}: {ratio:.2f}x")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"(measured {started}; ± is half the range over the rounds)")


if __name__ == "__main__":
    main()
