"""The pool's bookkeeping: limits, FIFO waiters, cancellation, keep-alive expiry.

These tests drive the pool with plain objects standing for connections: the pool never
touches sockets, so there is nothing to mock. The connectors' tests prove the same rules
against a real server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

import pytest

from httpwire.connectors._pool import ConnectionPool, PoolEntry, PoolStats


class Conn:
    """A stand-in connection: only what the pool reads and calls."""

    def __init__(self, key: Hashable) -> None:
        self.pool_entry = PoolEntry(key)
        self.closes = 0

    @property
    def is_closed(self) -> bool:
        return self.closes > 0

    @property
    def is_reusable(self) -> bool:
        return self.closes == 0

    def close(self) -> None:
        self.closes += 1


async def open_one(pool: ConnectionPool[Conn], key: Hashable) -> Conn:
    got = await pool.acquire(key)
    if got is not None:
        return got
    conn = Conn(key)
    pool.fill(conn)
    return conn


def balanced(pool: ConnectionPool[Conn], **expected: int) -> None:
    stats = pool.stats()
    for name, value in expected.items():
        assert getattr(stats, name) == value, (name, stats)


async def test_released_connection_is_reused() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=10, keepalive_timeout=15)
    first = await open_one(pool, "a")
    pool.release(first)
    assert pool.stats() == PoolStats(connecting=0, in_use=0, idle=1, waiting=0)
    again = await open_one(pool, "a")
    assert again is first
    other = await open_one(pool, "b")
    assert other is not first
    balanced(pool, in_use=2, idle=0, open=2)


async def test_per_endpoint_limit_queues_fifo() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=1, total_limit=None, keepalive_timeout=15)
    held = await open_one(pool, "a")
    order: list[int] = []

    async def take(n: int) -> None:
        conn = await open_one(pool, "a")
        order.append(n)
        await asyncio.sleep(0)
        pool.release(conn)

    tasks = [asyncio.create_task(take(n)) for n in range(5)]
    await asyncio.sleep(0)
    assert pool.stats("a").waiting == 5
    # Another endpoint is not held up by "a"'s limit.
    assert await pool.acquire("b") is None
    pool.unreserve("b")
    pool.release(held)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    balanced(pool, in_use=0, idle=1, waiting=0, open=1)


async def test_total_limit_evicts_idle_connection_of_another_endpoint() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=2, keepalive_timeout=15)
    a = await open_one(pool, "a")
    b = await open_one(pool, "b")
    pool.release(a)
    c = await open_one(pool, "c")
    assert a.closes == 1
    assert pool.stats("a").open == 0
    balanced(pool, in_use=2, idle=0, open=2)
    pool.discard(b)
    pool.discard(c)
    balanced(pool, open=0)


async def test_total_limit_waiter_is_served_when_a_connection_closes() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=1, keepalive_timeout=15)
    a = await open_one(pool, "a")
    waiter = asyncio.create_task(pool.acquire("b"))
    await asyncio.sleep(0)
    assert not waiter.done()
    pool.discard(a)
    assert await waiter is None  # a slot for "b"
    balanced(pool, connecting=1, open=1)
    pool.unreserve("b")
    balanced(pool, open=0)


@pytest.mark.parametrize("granted", [False, True])
async def test_cancelled_waiter_gives_its_place_back(granted: bool) -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=1, total_limit=None, keepalive_timeout=15)
    held = await open_one(pool, "a")
    first = asyncio.create_task(pool.acquire("a"))
    second = asyncio.create_task(pool.acquire("a"))
    await asyncio.sleep(0)
    if granted:
        pool.release(held)  # served to `first`, which is cancelled before it runs
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    if not granted:
        pool.release(held)
    got = await second
    assert got is held
    balanced(pool, in_use=1, idle=0, waiting=0, open=1)


async def test_cancelled_waiter_holding_a_reserved_slot_frees_it() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=1, keepalive_timeout=15)
    a = await open_one(pool, "a")
    first = asyncio.create_task(pool.acquire("b"))
    second = asyncio.create_task(pool.acquire("c"))
    await asyncio.sleep(0)
    pool.discard(a)  # serves `first` a slot
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second is None
    balanced(pool, connecting=1, open=1, waiting=0)


async def test_keepalive_expiry_closes_idle_connections() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=10, keepalive_timeout=0.05)
    conns = [await open_one(pool, "a") for _ in range(3)]
    for conn in conns:
        pool.release(conn)
    balanced(pool, idle=3)
    await asyncio.sleep(0.15)
    assert [c.closes for c in conns] == [1, 1, 1]
    balanced(pool, open=0)


async def test_expired_idle_connection_is_not_lent() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=10, keepalive_timeout=0.01)
    conn = await open_one(pool, "a")
    pool.release(conn)
    conn.pool_entry.idle_since -= 1  # as if it had idled a second
    assert await pool.acquire("a") is None
    assert conn.closes == 1
    balanced(pool, connecting=1, idle=0, open=1)


async def test_connection_closed_by_peer_while_idle_is_dropped() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=10, keepalive_timeout=15)
    conn = await open_one(pool, "a")
    pool.release(conn)
    conn.closes = 1  # the peer closed it
    assert await pool.acquire("a") is None
    balanced(pool, connecting=1, idle=0, open=1)


async def test_discard_is_idempotent() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=10, keepalive_timeout=15)
    conn = await open_one(pool, "a")
    pool.discard(conn)
    pool.discard(conn)
    pool.release(conn)  # a closed connection is never pooled again
    assert conn.closes == 1
    balanced(pool, open=0)


async def test_close_fails_waiters_and_closes_idle() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool(limit=1, total_limit=None, keepalive_timeout=15)
    a = await open_one(pool, "a")
    b = await open_one(pool, "b")
    pool.release(b)
    waiter = asyncio.create_task(pool.acquire("a"))
    await asyncio.sleep(0)
    pool.close()
    with pytest.raises(RuntimeError, match="the connection pool was closed"):
        await waiter
    assert b.closes == 1
    with pytest.raises(RuntimeError, match="the connection pool is closed"):
        await pool.acquire("a")
    pool.release(a)  # released after close: closed, not pooled
    assert a.closes == 1
    balanced(pool, open=0, waiting=0)


async def test_discarding_a_connection_that_never_filled_its_slot_frees_nothing() -> None:
    # A connection lost while still connecting: the connector unreserves its slot.
    pool: ConnectionPool[Conn] = ConnectionPool(limit=None, total_limit=10, keepalive_timeout=15)
    assert await pool.acquire("a") is None
    unborn = Conn("a")
    pool.discard(unborn)
    assert unborn.closes == 1
    balanced(pool, connecting=1, open=1)
    pool.unreserve("a")
    balanced(pool, open=0)
