"""What a user's type checker sees (checked by mypy --strict over the tests; runs too)."""

from __future__ import annotations

import asyncio
from http.cookies import SimpleCookie
from typing import Any, assert_type

from multidict import CIMultiDictProxy
from yarl import URL

from httpwire.client import ClientResponse, ClientSession, RequestContext, StreamReader
from httpwire.connectors import PoolStats
from httpwire_testserver import LocalServer


async def test_the_types_users_see(session: ClientSession, httpwire_server: LocalServer) -> None:
    url = httpwire_server.url("/get")
    context = session.get(url)
    assert_type(context, RequestContext)
    async with context as r:
        assert_type(r, ClientResponse)
        assert_type(r.status, int)
        assert_type(r.url, URL)
        assert_type(r.headers, CIMultiDictProxy[str])
        assert_type(r.cookies, SimpleCookie)
        assert_type(r.content, StreamReader)
        assert_type(r.history, tuple[ClientResponse, ...])
        assert_type(await r.read(), bytes)
        assert_type(await r.text(), str)
        assert_type(await r.json(), Any)
    task = asyncio.create_task(session.get(url))
    assert_type(task, asyncio.Task[ClientResponse])
    (await task).release()
    response = await asyncio.wait_for(session.get(url), 10)
    assert_type(response, ClientResponse)
    response.release()
    stats = session.connector.stats()
    assert_type(stats, PoolStats)
    assert (stats.in_use, stats.waiting) == (0, 0)
