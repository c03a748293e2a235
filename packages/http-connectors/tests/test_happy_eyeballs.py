"""Happy Eyeballs (RFC 8305) with real sockets on loopback.

An unreachable address is a real one: a listening socket whose accept queue is full, so
the kernel drops further SYNs and a connect() neither succeeds nor fails (on ``::1`` or
``127.0.0.1``). Refused addresses are ports nobody listens on.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from httpwire.connectors import ClientConnectorError, ConnectTimeoutError, _happy_eyeballs
from httpwire.connectors._happy_eyeballs import connect_happy_eyeballs, interleave
from httpwire.connectors._resolver import AddrInfo

from ._hosts import run_with_hosts
from .conftest import client_sockets

V4, V6 = socket.AF_INET, socket.AF_INET6


def _info(host: str, port: int) -> AddrInfo:
    if ":" in host:
        return (V6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port, 0, 0))
    return (V4, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))


def _has_ipv6() -> bool:
    try:
        with socket.socket(V6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback")


def _unaccepting(host: str) -> tuple[int, list[socket.socket]]:
    family = V6 if ":" in host else V4
    listener = socket.socket(family)
    if family == V6:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    listener.bind((host, 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    held = [listener]
    for _ in range(8):
        filler = socket.socket(family)
        filler.setblocking(False)
        try:
            filler.connect((host, port))
        except BlockingIOError:
            pass
        held.append(filler)
    return port, held


@pytest.fixture
def hanging() -> Iterator[dict[str, int]]:
    """Unreachable ports: {'v4': port on 127.0.0.1, 'v6': port on ::1 (when available)}."""
    ports: dict[str, int] = {}
    held: list[socket.socket] = []
    for name, host in (("v4", "127.0.0.1"), ("v6", "::1")):
        if name == "v6" and not _has_ipv6():
            continue
        ports[name], socks = _unaccepting(host)
        held += socks
    yield ports
    for sock in held:
        sock.close()


@pytest.fixture
def refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed without listen(): connecting is refused


@pytest.fixture
async def listening() -> AsyncIterator[list[int]]:
    """Two accepting servers on 127.0.0.1; yields their ports."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    for _ in range(2):
        servers.append(await asyncio.start_server(handle, "127.0.0.1", 0))
    yield [server.sockets[0].getsockname()[1] for server in servers]
    for server in servers:
        server.close()  # nothing is accepted from here on
    # A loopback connect is over within connect(), so a test can end before the loop has
    # accepted its connection: let the handlers of those accepted start, then close them all
    # (from Python 3.12 on, wait_closed() waits for every connection a server accepted).
    for _ in range(10):
        await asyncio.sleep(0)
    for writer in writers:
        writer.close()
    for server in servers:
        await server.wait_closed()


# -- ordering (RFC 8305 §4) ----------------------------------------------------------------


def test_families_alternate_starting_with_the_first() -> None:
    a6, b6, c6 = _info("::1", 1), _info("::1", 2), _info("::1", 3)
    a4, b4 = _info("127.0.0.1", 1), _info("127.0.0.1", 2)
    assert interleave([a6, b6, c6, a4, b4]) == [a6, a4, b6, b4, c6]
    assert interleave([a4, b4, a6]) == [a4, a6, b4]
    assert interleave([a4, b4]) == [a4, b4]
    assert interleave([a6]) == [a6]


# -- racing (RFC 8305 §5) ------------------------------------------------------------------


@needs_ipv6
async def test_an_unreachable_ipv6_address_costs_the_delay_not_a_timeout(
    hanging: dict[str, int], listening: list[int]
) -> None:
    before = client_sockets(hanging["v6"])
    infos = [_info("::1", hanging["v6"]), _info("127.0.0.1", listening[0])]
    loop = asyncio.get_running_loop()
    started = loop.time()
    # No per-attempt timeout: without racing, the first attempt would never end.
    sock = await asyncio.wait_for(
        connect_happy_eyeballs(infos, "example.test", 80, delay=0.25), 10
    )
    elapsed = loop.time() - started
    with sock:
        assert sock.getpeername() == ("127.0.0.1", listening[0])
        assert elapsed >= 0.25  # the second attempt waited for the delay, not longer
    # The losing attempt's socket was closed.
    assert client_sockets(hanging["v6"]) == before


async def test_a_failed_attempt_starts_the_next_at_once(
    refused_port: int, listening: list[int]
) -> None:
    infos = [_info("127.0.0.1", refused_port), _info("127.0.0.1", listening[0])]
    # A delay of an hour: only the failure can start the second attempt.
    sock = await asyncio.wait_for(connect_happy_eyeballs(infos, "h", 80, delay=3600), 10)
    with sock:
        assert sock.getpeername()[1] == listening[0]


async def test_the_first_to_connect_wins_and_the_others_are_closed(
    listening: list[int],
) -> None:
    infos = [_info("127.0.0.1", listening[0]), _info("127.0.0.1", listening[1])]
    sock = await connect_happy_eyeballs(infos, "h", 80, delay=0)
    with sock:
        won = sock.getpeername()[1]
        lost = listening[1] if won == listening[0] else listening[0]
        await asyncio.sleep(0)
        assert client_sockets(won) == 1
        assert client_sockets(lost) == 0


async def test_every_error_is_reported_with_host_and_port(refused_port: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        other: int = probe.getsockname()[1]
    infos = [_info("127.0.0.1", refused_port), _info("127.0.0.1", other)]
    with pytest.raises(ClientConnectorError) as caught:
        await connect_happy_eyeballs(infos, "example.test", 8080, delay=0.25)
    error = caught.value
    assert (error.host, error.port) == ("example.test", 8080)
    assert str(error) == (
        "cannot connect to example.test:8080: every address failed "
        f"(127.0.0.1:{refused_port}: Connection refused (errno 111); "
        f"127.0.0.1:{other}: Connection refused (errno 111))"
    )
    assert isinstance(error.os_error, ConnectionRefusedError)


async def test_one_address_error_is_the_os_error(refused_port: int) -> None:
    with pytest.raises(ClientConnectorError) as caught:
        await connect_happy_eyeballs([_info("127.0.0.1", refused_port)], "localhost", 81)
    assert str(caught.value) == ("cannot connect to localhost:81: Connection refused (errno 111)")


async def test_every_attempt_timing_out_is_a_connect_timeout(hanging: dict[str, int]) -> None:
    infos = [_info("127.0.0.1", hanging["v4"])] * 2
    with pytest.raises(ConnectTimeoutError) as caught:
        await connect_happy_eyeballs(infos, "example.test", 443, delay=0.05, timeout=0.2)
    assert str(caught.value) == (
        "timed out after 0.2 s connecting to example.test:443 (sock_connect timeout)"
    )


async def test_a_timeout_and_a_refusal_are_both_named(
    hanging: dict[str, int], refused_port: int
) -> None:
    infos = [_info("127.0.0.1", hanging["v4"]), _info("127.0.0.1", refused_port)]
    with pytest.raises(ClientConnectorError) as caught:
        await connect_happy_eyeballs(infos, "h", 1, delay=0.05, timeout=0.3)
    assert str(caught.value) == (
        f"cannot connect to h:1: every address failed (127.0.0.1:{refused_port}: "
        f"Connection refused (errno 111); 127.0.0.1:{hanging['v4']}: timed out after 0.3 s)"
    )


async def test_cancelling_closes_every_attempt(hanging: dict[str, int]) -> None:
    before = client_sockets(hanging["v4"])
    infos = [_info("127.0.0.1", hanging["v4"])] * 3
    task = asyncio.ensure_future(connect_happy_eyeballs(infos, "h", 1, delay=0.01))
    await asyncio.sleep(0.1)
    assert client_sockets(hanging["v4"]) == before + 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client_sockets(hanging["v4"]) == before


async def test_without_a_delay_attempts_run_one_at_a_time(
    refused_port: int, listening: list[int]
) -> None:
    infos = [_info("127.0.0.1", refused_port), _info("127.0.0.1", listening[0])]
    sock = await connect_happy_eyeballs(infos, "h", 1, delay=None)
    with sock:
        assert sock.getpeername()[1] == listening[0]


async def test_local_addr_is_bound(listening: list[int]) -> None:
    infos = [_info("127.0.0.1", listening[0])]
    sock = await connect_happy_eyeballs(infos, "h", 1, local_addr=("127.0.0.1", 0))
    with sock:
        assert sock.getsockname()[0] == "127.0.0.1"


@needs_ipv6
async def test_local_addr_of_another_family_is_named(listening: list[int]) -> None:
    with pytest.raises(ClientConnectorError) as caught:
        await connect_happy_eyeballs(
            [_info("::1", listening[0])], "h", 1, local_addr=("127.0.0.1", 0)
        )
    assert str(caught.value) == (
        f"cannot connect to h:1: local_addr has no address of the family of "
        f"[::1]:{listening[0]} to bind to"
    )


# -- through TCPConnector, with a name that has an unreachable IPv6 address -------------------

_CONNECTOR_SCRIPT = """
    import asyncio, json, socket
    from multidict import CIMultiDict
    from yarl import URL
    from httpwire.connectors import OutgoingRequest, TCPConnector

    def unaccepting(port):
        listener = socket.socket(socket.AF_INET6)
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.bind(("::1", port))
        listener.listen(0)
        held = [listener]
        for _ in range(8):
            filler = socket.socket(socket.AF_INET6)
            filler.setblocking(False)
            try:
                filler.connect(("::1", port))
            except BlockingIOError:
                pass
            held.append(filler)
        return held

    async def handle(reader, writer):
        await reader.readuntil(b"\\r\\n\\r\\n")
        writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
        await writer.drain()
        writer.close()

    async def get(connector, url, **kwargs):
        loop = asyncio.get_running_loop()
        started = loop.time()
        request = OutgoingRequest("GET", url, CIMultiDict(), **kwargs)
        conn = await asyncio.wait_for(connector.acquire(request), 20)
        elapsed = loop.time() - started
        peer = conn.transport.get_extra_info("peername")[0]
        response = await conn.send(request)
        body = await response.content.read()
        response.release()
        return {"elapsed": elapsed, "peer": peer, "body": body.decode()}

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        held = unaccepting(port)
        order = [i[4][0] for i in socket.getaddrinfo("dual.test", port, type=socket.SOCK_STREAM)]
        url = URL(f"http://dual.test:{port}/")
        async with TCPConnector(force_close=True) as connector:
            racing = await get(connector, url)
        async with TCPConnector(happy_eyeballs_delay=None, force_close=True) as connector:
            one_by_one = await get(connector, url, sock_connect=1.0)
        for sock in held:
            sock.close()
        server.close()
        print(json.dumps({"order": order, "racing": racing, "one_by_one": one_by_one}))

    asyncio.run(main())
"""


def test_connector_races_past_an_unreachable_ipv6_address(tmp_path: Path) -> None:
    if not _has_ipv6():
        pytest.skip("no IPv6 loopback")
    hosts = """
        ::1 dual.test
        127.0.0.1 dual.test
    """
    result = json.loads(run_with_hosts(tmp_path, hosts, _CONNECTOR_SCRIPT))
    assert result["order"][0] == "::1"  # the resolver puts the unreachable address first
    racing, one_by_one = result["racing"], result["one_by_one"]
    assert racing["peer"] == one_by_one["peer"] == "127.0.0.1"
    assert racing["body"] == one_by_one["body"] == "ok"
    # Racing: the IPv4 attempt started a quarter of a second in, not after the timeout.
    assert 0.25 <= racing["elapsed"] < 5.0
    # One address at a time: the IPv6 attempt used up its whole sock_connect first.
    assert one_by_one["elapsed"] >= 1.0


async def test_a_cancel_at_any_loop_turn_of_a_connect_propagates(listening: list[int]) -> None:
    """A cancellation is never swallowed, even when it lands as the connect completes.

    ``asyncio.wait_for`` on Python 3.11 returned the inner result when the cancellation
    arrived between the inner future's completion and the waiting task's next step
    (CPython gh-86296): the request carried on with a connected socket. The connect is
    cancelled after 0, 1, 2, ... loop turns until it finishes first, so every turn of it is
    hit, including the one right after the socket connects.
    """
    infos = [_info("127.0.0.1", listening[0])]
    swallowed: list[int] = []
    turns = 0
    while True:
        task = asyncio.ensure_future(connect_happy_eyeballs(infos, "h", 1, timeout=60.0))
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.done():
            task.result().close()
            break
        task.cancel()
        try:
            sock = await task
        except asyncio.CancelledError:
            pass
        else:
            sock.close()
            swallowed.append(turns)
        turns += 1
        assert turns < 1000, "the connect never completed"
    assert turns > 0
    assert swallowed == []


# -- a loop that cannot watch sockets --------------------------------------------------------


class _NoWatchLoop(asyncio.SelectorEventLoop):
    """Refuses ``add_writer`` as Windows' proactor loop does: connects take the other path."""

    def add_writer(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("this loop does not watch sockets")


@pytest.mark.skipif(sys.platform != "linux", reason="Linux completes a loopback connect at once")
async def test_a_connect_that_settled_at_once_does_not_wait_for_the_loop(
    hanging: dict[str, int], refused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On loopback the handshake is over when connect() returns: no socket is watched."""
    loop = asyncio.get_running_loop()
    watching = loop.add_writer
    watched: list[object] = []

    def counting(fd: Any, *args: Any) -> None:
        watched.append(fd)
        watching(fd, *args)

    monkeypatch.setattr(loop, "add_writer", counting)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        sock = await connect_happy_eyeballs([_info("127.0.0.1", port)], "h", port, timeout=5)
        with sock:
            assert sock.getpeername() == ("127.0.0.1", port)
        assert watched == []
        with pytest.raises(ClientConnectorError) as refused:
            await connect_happy_eyeballs([_info("127.0.0.1", refused_port)], "h", 1)
        assert str(refused.value) == "cannot connect to h:1: Connection refused (errno 111)"
        assert watched == []
        # A connect still in progress (a full backlog: the SYN is dropped) is waited for.
        with pytest.raises(ConnectTimeoutError):
            await connect_happy_eyeballs([_info("127.0.0.1", hanging["v4"])], "h", 1, timeout=0.2)
        assert len(watched) == 1


def test_a_loop_that_cannot_watch_sockets_connects_through_sock_connect(
    hanging: dict[str, int], refused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As with a remote peer, the connect has not settled when connect() returns (on
    # loopback it has: no peer here can show a slow connect that then succeeds).
    monkeypatch.setattr(_happy_eyeballs, "_settled_now", lambda sock: False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)  # the kernel completes the connect: nothing needs to accept
        port = server.getsockname()[1]

        async def main() -> None:
            sock = await connect_happy_eyeballs([_info("127.0.0.1", port)], "h", port)
            with sock:
                assert sock.getpeername() == ("127.0.0.1", port)
            with pytest.raises(ClientConnectorError) as refused:
                await connect_happy_eyeballs([_info("127.0.0.1", refused_port)], "h", 1)
            assert str(refused.value) == "cannot connect to h:1: Connection refused (errno 111)"
            with pytest.raises(ConnectTimeoutError) as timed_out:
                await connect_happy_eyeballs(
                    [_info("127.0.0.1", hanging["v4"])], "h", 1, timeout=0.2
                )
            assert str(timed_out.value) == (
                "timed out after 0.2 s connecting to h:1 (sock_connect timeout)"
            )

        with asyncio.Runner(loop_factory=_NoWatchLoop) as runner:
            runner.run(main())
