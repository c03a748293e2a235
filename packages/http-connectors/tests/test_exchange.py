"""The exchange's phases, driven the way a connection drives them.

The host is a recorder: what crosses the :class:`ExchangeHost` seam (pause, resume, ended,
dropped) is exactly what these tests assert, and no peer can show it from outside. The
response heads come from the real parser.
"""

from __future__ import annotations

import asyncio
import gzip

import pytest
from yarl import URL

from httpwire.connectors import ClientConnectionError, RawResponse
from httpwire.connectors._exchange import Exchange, Phase
from httpwire.parser import EndOfMessage, ResponseHead, ResponseParser


class _Host:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")

    def exchange_ended(self, exchange: Exchange) -> None:
        self.calls.append("ended")

    def exchange_dropped(self, exchange: Exchange) -> None:
        self.calls.append("dropped")


def _head(raw: bytes) -> ResponseHead:
    parser = ResponseParser()
    parser.expect_response("GET")
    event = parser.feed(raw)[0]
    assert isinstance(event, ResponseHead)
    return event


def _phase(exchange: Exchange) -> Phase:
    """The phase, read anew (a plain attribute read would stay narrowed by an assert)."""
    return exchange.phase


def _exchange(host: _Host, decode: bool = False) -> Exchange:
    waiter: asyncio.Future[RawResponse] = asyncio.get_running_loop().create_future()
    return Exchange(host, "GET", URL("http://h/"), waiter, decode, False, ("h", 80))


async def _response(exchange: Exchange) -> RawResponse:
    """The response the exchange handed out (its waiter is let go once the exchange ends)."""
    assert exchange.waiter is not None
    return await exchange.waiter


async def test_a_request_goes_through_every_phase_in_order() -> None:
    host = _Host()
    exchange = _exchange(host)
    assert _phase(exchange) is Phase.SENDING
    exchange.sent_all()
    assert _phase(exchange) is Phase.AWAITING_HEAD
    body = exchange.on_head(_head(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"))
    assert _phase(exchange) is Phase.RECEIVING and exchange.body is body
    response = await _response(exchange)
    assert repr(response) == "<RawResponse GET 200 'OK' receiving>"
    assert response.content is body.reader
    body.on_data(b"ok")
    body.on_end(EndOfMessage())
    assert _phase(exchange) is Phase.DONE and response.is_complete
    # The ended exchange let go of what pointed back at it: no reference cycle is left.
    assert exchange.waiter is None and exchange.body is not body
    assert not hasattr(body, "reader")
    response.release()  # after the end: the connection is already pooled
    assert host.calls == ["ended"]
    assert await response.content.read() == b"ok"


async def test_an_early_answer_cuts_the_upload_short() -> None:
    """A head that arrives while sending moves on; the request stays not sent."""
    exchange = _exchange(_Host())
    exchange.on_head(_head(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n"))
    assert (_phase(exchange), exchange.sent) == (Phase.RECEIVING, False)
    exchange.sent_all()
    assert _phase(exchange) is Phase.RECEIVING


async def test_a_100_continue_wait_returns_to_sending() -> None:
    exchange = _exchange(_Host())
    exchange.await_continue()
    assert (_phase(exchange), exchange.sent) == (Phase.AWAITING_HEAD, False)
    exchange.resume_sending()
    assert _phase(exchange) is Phase.SENDING


async def test_releasing_before_the_end_drops_the_connection_once() -> None:
    host = _Host()
    exchange = _exchange(host)
    exchange.sent_all()
    exchange.on_head(_head(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"))
    response = await _response(exchange)
    response.release()
    response.release()
    assert _phase(exchange) is Phase.FAILED
    assert host.calls == ["dropped"]
    with pytest.raises(ClientConnectionError, match="released before its body was read"):
        await response.content.read()


async def test_a_failure_after_the_end_changes_nothing() -> None:
    exchange = _exchange(_Host())
    exchange.sent_all()
    body = exchange.on_head(_head(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    reader = body.reader
    body.on_end(EndOfMessage())
    exchange.fail(ClientConnectionError("late"))
    assert _phase(exchange) is Phase.DONE
    assert reader.exception() is None


async def test_compressed_input_waits_in_the_body_while_the_reader_is_full() -> None:
    """Paused, the body decodes nothing more; resumed, it decodes what it held."""
    host = _Host()
    exchange = _exchange(host, decode=True)
    exchange.sent_all()
    body = exchange.on_head(_head(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n"))
    reader = body.reader
    body.pause_reading()
    packed = gzip.compress(b"x" * 1000)
    body.on_data(packed)
    assert reader.total_bytes == 0
    assert body.held_bytes == len(packed)
    body.on_end(EndOfMessage())
    assert _phase(exchange) is Phase.RECEIVING  # the end waits for decoding
    body.resume_reading()
    assert _phase(exchange) is Phase.DONE
    assert host.calls == ["pause", "resume", "ended"]
    assert await reader.read() == b"x" * 1000
