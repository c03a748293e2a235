"""A first request through the session."""

from __future__ import annotations

from httpwire.client import ClientSession
from httpwire_testserver import LocalServer


async def test_get(session: ClientSession, httpwire_server: LocalServer) -> None:
    async with session.get(httpwire_server.url("/get"), params={"a": "1"}) as r:
        assert r.status == 200
        data = await r.json()
    assert data["args"] == {"a": "1"}
    assert data["headers"]["User-Agent"].startswith("httpwire/")
