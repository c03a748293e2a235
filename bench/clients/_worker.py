"""One measurement in a fresh process: ``python -m clients._worker SPEC_JSON``.

Strategy: a worker imports only its own contender, pins itself to the client CPU before
anything starts a thread, runs one workload on the event loop asked for and prints one
JSON object of figures as its last line of output. A crash, a hang or a wrong answer
ends this process only; the orchestrator records why and goes on. Every response is
checked (the 13-byte body, the JSON document's content, the byte counts of downloads and
uploads), so a contender cannot win by skipping work.

``python -m clients._worker --probe NAME`` prints the contender's version or why it cannot
run (``--probe uvloop``: whether uvloop is there).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ._adapter import Adapter, Pool, Unavailable, distribution_version, import_optional
from ._common import (
    BODY,
    BULK_CHUNK,
    CONTENDERS,
    Spec,
    peak_rss_bytes,
    pin_to,
    raise_fd_limit,
    reset_peak_rss,
    rss_bytes,
    socket_count,
)

__all__ = ["adapter_for", "main", "measure"]

MIB = 1 << 20
TRANSFERS = 3  # timed transfers per bulk measurement (the median is reported)
IDLE_DELAY_MS = 3000  # longer than any contender takes to open 1 000 connections


def adapter_for(contender: str) -> Adapter:
    """The adapter of a contender, its library imported only now."""
    if contender == "floor":
        from ._floor import FloorAdapter

        return FloorAdapter()
    if contender == "bulk-floor":
        from ._floor import BulkFloorAdapter

        return BulkFloorAdapter()
    if contender in ("httpwire", "httpwire-conn"):
        try:
            from . import _httpwire
        except ImportError as exc:  # a connection layer older than this benchmark
            raise Unavailable(f"httpwire's connection level does not import: {exc}") from exc
        if contender == "httpwire":
            return _httpwire.HttpwireSessionAdapter()
        return _httpwire.HttpwireConnAdapter()
    if contender in ("aiohttp", "httpx"):
        from ._classic import AiohttpAdapter, HttpxAdapter

        return AiohttpAdapter() if contender == "aiohttp" else HttpxAdapter()
    from ._native import CurlCffiAdapter, NiquestsAdapter, PyreqwestAdapter, WreqAdapter

    native: dict[str, Callable[[], Adapter]] = {
        "pyreqwest": PyreqwestAdapter,
        "wreq": WreqAdapter,
        "curl_cffi": CurlCffiAdapter,
        "niquests": NiquestsAdapter,
    }
    return native[contender]()


async def _repeat(concurrency: int, count: int, one: Callable[[], Awaitable[None]]) -> None:
    """Run ``count`` calls of ``one``, ``concurrency`` of them in flight at once."""
    if concurrency == 1:
        for _ in range(count):
            await one()
        return
    left = count

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))


async def _requests(adapter: Adapter, spec: Spec) -> dict[str, float]:
    work = spec.work
    if work.name == "json":
        url = spec.base + "/doc.json"

        async def one() -> None:
            document = await adapter.get_json(url)
            if not isinstance(document, dict) or document.get("count") != 14:
                raise AssertionError(f"wrong JSON document: {str(document)[:200]}")

    else:
        url = spec.base + "/13"
        call = adapter.oneshot if work.name == "oneshot" else adapter.get

        async def one() -> None:
            body = await call(url)
            if body != BODY:
                raise AssertionError(f"wrong body: {body[:100]!r}")

    session = work.name != "oneshot"  # the module-level call uses no session
    if session:
        ca_pem = spec.ca_pem if work.https else None
        await adapter.open(Pool(spec.concurrency, ca_pem, work.keepalive))
    try:
        await _repeat(spec.concurrency, spec.warmup, one)
        start = time.perf_counter()
        await _repeat(spec.concurrency, spec.count, one)
        elapsed = time.perf_counter() - start
    finally:
        if session:
            await adapter.close()
    return {"rate": spec.count / elapsed}


async def _bulk(adapter: Adapter, spec: Spec) -> dict[str, float]:
    """``TRANSFERS`` timed transfers on one pooled connection: the median rate, and the
    peak RSS growth over all of them (one 100 MiB transfer takes tens of milliseconds, so a
    single one swings with whatever else the machine does in that instant)."""
    name = spec.workload
    size = spec.count * MIB
    await adapter.open(Pool(1, None, True))
    rates: list[float] = []
    try:
        # Warm up on the same server: a pooled connection, the code paths imported.
        if name == "download":
            await adapter.get(spec.http + "/13")
        else:
            await adapter.upload(spec.upload, b"x" * 65536)
        data = bytes(range(256)) * (size // 256) if name == "upload-mem" else b""
        gc.collect()
        reset_peak_rss()
        base = rss_bytes()
        for _ in range(TRANSFERS):
            start = time.perf_counter()
            if name == "download":
                got = await adapter.download(spec.download_url(), BULK_CHUNK)
            else:
                if name == "upload-mem":
                    answer = await adapter.upload(spec.upload, data)
                else:
                    answer = await adapter.upload_file(spec.upload, spec.upload_file)
                got = int(answer)
            elapsed = time.perf_counter() - start
            if got != size:
                raise AssertionError(f"{name}: {got} bytes moved instead of {size}")
            rates.append(size / elapsed / 1e6)
        peak = peak_rss_bytes()
    finally:
        await adapter.close()
    return {"mb_s": statistics.median(rates), "rss_mib": max(0, peak - base) / MIB}


async def _idle(adapter: Adapter, spec: Spec) -> dict[str, float]:
    # The canned server answers ``/delay-<ms>`` late, so every request is in flight at once
    # and each needs a connection of its own: the pool ends up holding ``count`` of them.
    canned = spec.upload.rpartition("/")[0]
    await adapter.open(Pool(spec.count, None, True))
    try:
        if await adapter.get(canned + "/delay-0") != BODY:  # the code paths imported
            raise AssertionError("wrong body")
        gc.collect()
        base_rss, base_sockets = rss_bytes(), socket_count()
        url = f"{canned}/delay-{IDLE_DELAY_MS}"
        bodies = await asyncio.gather(*(adapter.get(url) for _ in range(spec.count)))
        if any(body != BODY for body in bodies):
            raise AssertionError("wrong body")
        await asyncio.sleep(0.2)  # let every connection go back to its pool
        gc.collect()
        grown, opened = rss_bytes() - base_rss, socket_count() - base_sockets
    finally:
        await adapter.close()
    if opened <= 0:
        raise AssertionError(f"{spec.count} concurrent requests opened no new connection")
    return {"bytes_per_conn": grown / opened, "connections": float(opened)}


async def measure(spec: Spec) -> dict[str, float]:
    """Run the spec's workload for its contender; the figures by metric key."""
    work = spec.work
    if spec.contender == "floor" and not work.bulk and work.name != "idle":
        from ._floor import floor_requests

        return {"rate": await floor_requests(spec)}
    adapter = adapter_for(spec.contender)
    if work.bulk:
        return await _bulk(adapter, spec)
    if work.name == "idle":
        return await _idle(adapter, spec)
    return await _requests(adapter, spec)


def _run(loop: str, coroutine: Coroutine[Any, Any, dict[str, float]]) -> dict[str, float]:
    if loop == "uvloop":
        uvloop = import_optional("uvloop")
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine)
    return asyncio.run(coroutine)


def _probe(name: str) -> dict[str, str]:
    """Whether a contender (or uvloop) can run here, and its version."""
    try:
        if name == "uvloop":
            import_optional("uvloop")
            return {"ok": "yes", "version": distribution_version("uvloop")}
        contender = CONTENDERS[name]
        import_optional(contender.module)
        adapter_for(name)
        if name == "httpwire":
            from ._httpwire import client_module

            client_module()
        return {"ok": "yes", "version": distribution_version(contender.distribution)}
    except Unavailable as exc:
        return {"ok": "", "reason": str(exc)}
    except Exception as exc:
        return {"ok": "", "reason": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str]) -> None:
    """Run one measurement (or a probe) and print its JSON result."""
    if argv[:1] == ["--probe"]:
        print(json.dumps(_probe(argv[1])))
        return
    spec = Spec.from_json(argv[0])
    pin_to(spec.cpu)
    raise_fd_limit()
    try:
        result = _run(spec.loop, measure(spec))
    except Unavailable as exc:
        print(f"not available: {exc}", file=sys.stderr)
        sys.exit(3)
    print(json.dumps(result), flush=True)
    # Done: skip the interpreter's shutdown, where a native library may still abort (pyreqwest
    # 0.15 does, its runtime's threads releasing the GIL during finalization) after a
    # measurement that went well.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
