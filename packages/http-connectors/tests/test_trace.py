"""The connection trace: phases, addresses and the request's sending, when a request asks."""

from __future__ import annotations

from typing import Any

from yarl import URL

from httpwire.connectors import (
    ConnectionTrace,
    OutgoingRequest,
    TCPConnector,
    UnixConnector,
)


class Recorder:
    """Keeps every report, in order."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, float, float]] = []
        self.connections: list[tuple[bool, object, object]] = []
        self.sent: list[float] = []

    def on_phase(self, phase: str, start: float, end: float) -> None:
        self.phases.append((phase, start, end))

    def on_connection(self, reused: bool, local: object, remote: object) -> None:
        self.connections.append((reused, local, remote))

    def on_request_sent(self, at: float) -> None:
        self.sent.append(at)


async def get(connector: Any, url: str, trace: ConnectionTrace | None) -> None:
    request = OutgoingRequest("GET", URL(url), {}, trace=trace)
    conn = await connector.acquire(request)
    response = await conn.send(request)
    await response.content.read()
    response.release()


async def test_new_then_reused_connection(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        first = Recorder()
        await get(connector, httpwire_server.url("/get"), first)
        assert [p[0] for p in first.phases] == ["dns", "connect"]
        for _, start, end in first.phases:
            assert start <= end
        assert first.phases[0][2] <= first.phases[1][1]  # connect starts after resolving
        ((reused, local, remote),) = first.connections
        assert not reused
        assert remote == ("127.0.0.1", httpwire_server.port)
        assert isinstance(local, tuple) and local[0] == "127.0.0.1"
        assert len(first.sent) == 1 and first.sent[0] >= first.phases[-1][2]

        second = Recorder()
        await get(connector, httpwire_server.url("/get"), second)
        assert second.phases == []  # nothing was opened
        assert second.connections == [(True, local, remote)]
        assert len(second.sent) == 1


async def test_tls_handshake_is_its_own_phase(httpwire_server: Any) -> None:
    async with TCPConnector(ssl_context=httpwire_server.ssl_context()) as connector:
        recorder = Recorder()
        await get(connector, httpwire_server.https_url + "/get", recorder)
        assert [p[0] for p in recorder.phases] == ["dns", "connect", "tls"]
        assert recorder.phases[1][2] <= recorder.phases[2][1]


async def test_unix_socket_connect(httpwire_server: Any) -> None:
    async with UnixConnector(httpwire_server.unix_path) as connector:
        recorder = Recorder()
        await get(connector, "http://localhost/get", recorder)
        assert [p[0] for p in recorder.phases] == ["connect"]
        ((reused, _, remote),) = recorder.connections
        assert not reused and remote == httpwire_server.unix_path


async def test_untraced_requests_report_nothing_and_leave_no_trace_behind(
    httpwire_server: Any,
) -> None:
    async with TCPConnector() as connector:
        recorder = Recorder()
        await get(connector, httpwire_server.url("/get"), recorder)
        # A later untraced request on a new connection (another endpoint) reports nothing:
        # the trace of the first was only current while its connection was opened.
        await get(connector, httpwire_server.localhost_url + "/get", None)
        assert len(recorder.phases) == 2 and len(recorder.connections) == 1
