"""The resolver against the system's real ``getaddrinfo``.

Names with several addresses exist only in a hosts file of the test's own, seen by a
script in a private mount namespace (see ``_hosts.py``).
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from httpwire.connectors import TCPConnector
from httpwire.connectors._resolver import Resolver

from ._hosts import run_with_hosts


async def test_localhost_resolves_to_loopback() -> None:
    resolver = Resolver()
    infos = await resolver.resolve("localhost", 8080)
    assert ("127.0.0.1", 8080) in [info[4][:2] for info in infos]
    assert all(info[1] == socket.SOCK_STREAM for info in infos)


@pytest.mark.parametrize(
    ("host", "family", "address"),
    [
        ("127.0.0.1", socket.AF_INET, ("127.0.0.1", 80)),
        ("::1", socket.AF_INET6, ("::1", 80, 0, 0)),
    ],
)
async def test_ip_literals_are_not_looked_up(
    host: str, family: int, address: tuple[object, ...]
) -> None:
    resolver = Resolver()
    infos = await resolver.resolve(host, 80)
    assert infos == [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]
    assert resolver.lookups == 0
    assert resolver.cached_hosts() == []


async def test_ip_literal_of_the_wrong_family_is_an_error() -> None:
    with pytest.raises(
        socket.gaierror, match=r"address 127\.0\.0\.1 is not of the requested family"
    ):
        await Resolver().resolve("127.0.0.1", 80, socket.AF_INET6)


async def test_answers_are_cached() -> None:
    resolver = Resolver()
    first = await resolver.resolve("localhost", 80)
    second = await resolver.resolve("localhost", 80)
    assert sorted(first) == sorted(second)
    assert resolver.lookups == 1
    assert resolver.cached_hosts() == [("localhost", 80, 0)]


async def test_without_the_cache_every_call_looks_up() -> None:
    resolver = Resolver(use_dns_cache=False)
    await resolver.resolve("localhost", 80)
    await resolver.resolve("localhost", 80)
    assert resolver.lookups == 2
    assert resolver.cached_hosts() == []


async def test_expired_answers_are_looked_up_again() -> None:
    resolver = Resolver(ttl_dns_cache=0.05)
    await resolver.resolve("localhost", 80)
    await resolver.resolve("localhost", 80)
    assert resolver.lookups == 1
    await asyncio.sleep(0.1)
    await resolver.resolve("localhost", 80)
    assert resolver.lookups == 2


async def test_zero_ttl_caches_nothing() -> None:
    resolver = Resolver(ttl_dns_cache=0)
    await resolver.resolve("localhost", 80)
    await resolver.resolve("localhost", 80)
    assert resolver.lookups == 2


@pytest.mark.parametrize("use_dns_cache", [True, False])
async def test_concurrent_identical_lookups_are_coalesced(use_dns_cache: bool) -> None:
    resolver = Resolver(use_dns_cache=use_dns_cache)
    answers = await asyncio.gather(*(resolver.resolve("localhost", 443) for _ in range(50)))
    assert resolver.lookups == 1
    assert all(sorted(answer) == sorted(answers[0]) for answer in answers)
    # Different ports or families are different look-ups.
    await asyncio.gather(
        resolver.resolve("localhost", 1), resolver.resolve("localhost", 1, socket.AF_INET)
    )
    assert resolver.lookups == 3


async def test_a_cancelled_caller_does_not_cancel_the_shared_lookup() -> None:
    resolver = Resolver()
    first = asyncio.ensure_future(resolver.resolve("localhost", 80))
    second = asyncio.ensure_future(resolver.resolve("localhost", 80))
    await asyncio.sleep(0)
    first.cancel()
    infos = await second
    assert ("127.0.0.1", 80) in [info[4][:2] for info in infos]
    assert first.cancelled()
    assert resolver.lookups == 1


async def test_the_cache_is_bounded_least_recently_used_first() -> None:
    resolver = Resolver(max_size=2)
    await resolver.resolve("localhost", 1)
    await resolver.resolve("localhost", 2)
    await resolver.resolve("localhost", 1)  # now the most recently used
    await resolver.resolve("localhost", 3)
    assert resolver.cached_hosts() == [("localhost", 1, 0), ("localhost", 3, 0)]


async def test_failures_are_raised_and_not_cached() -> None:
    resolver = Resolver()
    for _ in range(2):
        with pytest.raises(socket.gaierror) as caught:
            await resolver.resolve("no-such-host.invalid", 80)
        assert caught.value.errno in (socket.EAI_NONAME, socket.EAI_AGAIN)
    assert resolver.lookups == 2
    assert resolver.cached_hosts() == []


async def test_family_is_respected() -> None:
    infos = await Resolver().resolve("localhost", 80, socket.AF_INET)
    assert {info[0] for info in infos} == {socket.AF_INET}


def test_the_cache_setting_is_visible_on_the_connector() -> None:
    assert Resolver().use_cache and not Resolver(use_dns_cache=False).use_cache
    assert TCPConnector().use_dns_cache
    assert not TCPConnector(use_dns_cache=False).use_dns_cache


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="ttl_dns_cache must be >= 0 or None, got -1"):
        Resolver(ttl_dns_cache=-1)
    with pytest.raises(ValueError, match="max_size must be a positive int, got 0"):
        Resolver(max_size=0)


async def test_clear_forgets_one_host_or_all() -> None:
    resolver = Resolver()
    await resolver.resolve("localhost", 1)
    await resolver.resolve("localhost", 2)
    resolver.clear("localhost")
    assert resolver.cached_hosts() == []
    await resolver.resolve("localhost", 1)
    resolver.clear()
    assert resolver.cached_hosts() == []


_MULTI_SCRIPT = """
    import asyncio, json, socket
    from httpwire.connectors._resolver import Resolver

    async def main():
        resolver = Resolver()
        orders = [[i[4][0] for i in await resolver.resolve("multi.test", 80)] for _ in range(4)]
        v4 = [(i[0], i[4][0]) for i in await resolver.resolve("multi.test", 80, socket.AF_INET)]
        v6 = [(i[0], i[4][0]) for i in await resolver.resolve("multi.test", 80, socket.AF_INET6)]
        print(json.dumps({"orders": orders, "v4": v4, "v6": v6, "lookups": resolver.lookups}))

    asyncio.run(main())
"""


def test_addresses_rotate_between_calls_and_family_filters(tmp_path: Path) -> None:
    hosts = """
        127.0.0.2 multi.test
        127.0.0.3 multi.test
        ::1 multi.test
    """
    result = json.loads(run_with_hosts(tmp_path, hosts, _MULTI_SCRIPT))
    orders = result["orders"]
    first = orders[0]
    assert sorted(first) == ["127.0.0.2", "127.0.0.3", "::1"]
    # Each call starts one address further along the same list.
    assert orders[1] == first[1:] + first[:1]
    assert orders[2] == first[2:] + first[:2]
    assert orders[3] == first
    # family= keeps only that family (glibc's hosts file maps ::1 to 127.0.0.1 for AF_INET).
    v4 = [tuple(entry) for entry in result["v4"]]
    assert {family for family, _ in v4} == {socket.AF_INET}
    assert {(socket.AF_INET, "127.0.0.2"), (socket.AF_INET, "127.0.0.3")} <= set(v4)
    assert [tuple(entry) for entry in result["v6"]] == [(socket.AF_INET6, "::1")]
    assert result["lookups"] == 3


_ROTATION_SCRIPT = """
    import asyncio, json
    from multidict import CIMultiDict
    from yarl import URL
    from httpwire.connectors import OutgoingRequest, TCPConnector

    seen = []

    async def handle(reader, writer):
        seen.append(writer.get_extra_info("sockname")[0])
        await reader.readuntil(b"\\r\\n\\r\\n")
        writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n")
        await writer.drain()
        writer.close()

    async def main():
        first = await asyncio.start_server(handle, "127.0.0.2", 0)
        port = first.sockets[0].getsockname()[1]
        second = await asyncio.start_server(handle, "127.0.0.3", port)
        url = URL(f"http://rr.test:{port}/")
        async with TCPConnector(force_close=True) as connector:
            for _ in range(4):
                conn = await connector.acquire(OutgoingRequest("GET", url))
                response = await conn.send(OutgoingRequest("GET", url, CIMultiDict()))
                await response.content.read()
                response.release()
        first.close()
        second.close()
        print(json.dumps(seen))

    asyncio.run(main())
"""


def test_connector_spreads_new_connections_over_the_addresses(tmp_path: Path) -> None:
    hosts = """
        127.0.0.2 rr.test
        127.0.0.3 rr.test
    """
    seen = json.loads(run_with_hosts(tmp_path, hosts, _ROTATION_SCRIPT))
    assert len(seen) == 4
    assert seen[0] != seen[1] and seen[0] == seen[2] and seen[1] == seen[3]
    assert set(seen) == {"127.0.0.2", "127.0.0.3"}
