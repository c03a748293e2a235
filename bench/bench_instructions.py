"""Instructions per request of httpwire's connection level and client, counted, not timed.

On a shared machine requests per second and even CPU seconds per request swing with the
load of other processes; the number of instructions the client executes per request does
not. This runs a fixed number of GETs (sequential, or over 100 connections, or one-shot
``request()`` calls with a connection each) through the connection level or
``ClientSession`` under ``valgrind --tool=callgrind``, twice with different counts, and
reports the difference divided by the difference in requests, which cancels the start-up,
imports and connection set-up. Each ``--checkout`` is measured the same way, so a change is
compared before and after in one run. The server (nginx, or the canned server) runs
outside valgrind, in its own process.

Usage:
  python bench/bench_instructions.py --checkout before=../base --checkout after=.
      [--levels connection,client] [--workloads sequential,concurrent,oneshot] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _http_server import BODY, start_server

BENCH = Path(__file__).resolve().parent
CONCURRENCY = {"sequential": 1, "concurrent": 100, "oneshot": 0}
LEVELS = ("connection", "client")


def _sources(checkout: str) -> list[str]:
    root = Path(checkout).resolve() / "packages"
    names = ("connectors", "parser", "streams", "forms", "client")
    return [str(root / f"http-{name}" / "src") for name in names]


async def _requests(url: str, concurrency: int, count: int) -> None:
    from yarl import URL

    if not concurrency:
        raise SystemExit("the oneshot workload runs at the client level only")

    from httpwire.connectors import OutgoingRequest, TCPConnector

    target = URL(url)
    headers = {"Host": f"{target.host}:{target.port}", "User-Agent": "bench", "Accept": "*/*"}
    connector = TCPConnector(total_limit=concurrency)

    async def one() -> None:
        request = OutgoingRequest("GET", target, headers)
        conn = await connector.acquire(request)
        response = await conn.send(request)
        body = await response.content.read()
        response.release()
        assert body == BODY

    async def worker(share: int) -> None:
        for _ in range(share):
            await one()

    await asyncio.gather(*(one() for _ in range(concurrency)))  # every connection opened
    await asyncio.gather(*(worker(count // concurrency) for _ in range(concurrency)))
    await connector.close()


async def _client_requests(url: str, concurrency: int, count: int) -> None:
    from httpwire.client import ClientSession, TCPConnector, request

    if not concurrency:  # one-shot: the module-level request(), a connection per call
        for _ in range(count):
            async with request("GET", url) as response:
                assert await response.read() == BODY
        return

    connector = TCPConnector(limit=concurrency, total_limit=concurrency)

    async def one() -> None:
        async with session.get(url) as response:
            body = await response.read()
        assert body == BODY

    async def worker(share: int) -> None:
        for _ in range(share):
            await one()

    async with ClientSession(connector=connector) as session:
        await asyncio.gather(*(one() for _ in range(concurrency)))  # every connection opened
        await asyncio.gather(*(worker(count // concurrency) for _ in range(concurrency)))


def _count(path: list[str], url: str, level: str, concurrency: int, count: int) -> int:
    """Instructions of one worker process running ``count`` requests."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path),
        "PYTHONMALLOC": "malloc",
        "PYTHONHASHSEED": "0",
    }
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={tmp}/out",
            sys.executable,
            __file__,
            "--worker",
            level,
            url,
            str(concurrency),
            str(count),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output: {done.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--workloads", default="sequential,concurrent")
    parser.add_argument("--levels", default="connection,client")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        level, url, concurrency, count = args.worker
        run = _client_requests if level == "client" else _requests
        asyncio.run(run(url, int(concurrency), int(count)))
        return
    checkouts = {n: _sources(p) for n, _, p in (c.partition("=") for c in args.checkout)}
    server = start_server()
    try:
        print(f"server: {server.name}; python {sys.version.split()[0]}; instructions per")
        print("request = (count(2N) - count(N)) / N, N = " + str(args.requests))
        for level in args.levels.split(","):
            for workload in args.workloads.split(","):
                concurrency = CONCURRENCY[workload]
                for name, path in checkouts.items():
                    small = _count(path, server.url, level, concurrency, args.requests)
                    large = _count(path, server.url, level, concurrency, 2 * args.requests)
                    per = (large - small) / args.requests
                    print(
                        f"| {level} | {workload} | {name} | {per:,.0f} instructions/request |",
                        flush=True,
                    )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
