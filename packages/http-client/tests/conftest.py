"""Test settings and fixtures shared by this package's tests.

Every test that touches the network runs against the local test server (the
``httpwire_server`` fixture of ``httpwire-testserver``) through a session whose connector is
checked after the test: no connection in use, nobody waiting, and no task left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import settings

from httpwire.client import ClientSession, TCPConnector

# No deadline (a loaded CI machine is slow at random) and a bounded number of
# examples, so property tests cost the same on every run.
settings.register_profile("ci", deadline=None, max_examples=150, print_blob=True)


async def assert_no_leaks(connector: TCPConnector) -> None:
    """The pool is balanced and no task of the test is still running."""
    await asyncio.sleep(0)
    stats = connector.stats()
    assert stats.in_use == 0, stats
    assert stats.waiting == 0, stats
    assert stats.connecting == 0, stats
    current = asyncio.current_task()
    pending = [
        t
        for t in asyncio.all_tasks()
        if t is not current
        and not t.done()
        and "scripted_servers" not in getattr(t.get_coro(), "__qualname__", "")
    ]
    assert not pending, pending


@pytest.fixture
async def connector() -> AsyncIterator[TCPConnector]:
    """A TCPConnector checked for leaks after the test, then closed."""
    conn = TCPConnector()
    yield conn
    try:
        await assert_no_leaks(conn)
    finally:
        await conn.close()


@pytest.fixture
async def session(connector: TCPConnector) -> AsyncIterator[ClientSession]:
    """A session on the checked connector (which the fixture closes)."""
    async with ClientSession(connector=connector, connector_owner=False) as s:
        yield s


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """A request head, up to its blank line."""
    return await reader.readuntil(b"\r\n\r\n")
