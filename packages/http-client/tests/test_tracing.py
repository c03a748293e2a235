"""Timings, trace hooks and the debug log line."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from yarl import URL

from httpwire.client._snapshots import Timings, TraceEvent
from httpwire.client._tracing import (
    TimingsRecorder,
    TraceHooks,
    emit,
    emit_connection,
    log_request,
)

URL_ = URL("http://user:pw@example.org:8080/p?q=1")


def recorded() -> TimingsRecorder:
    recorder = TimingsRecorder(10.0)
    recorder.dns_start, recorder.dns_end = 10.0, 10.25
    recorder.connect_start, recorder.connect_end = 10.25, 10.5
    recorder.tls_start, recorder.tls_end = 10.5, 11.0
    recorder.acquired = 11.0
    recorder.request_sent = 11.5
    recorder.first_byte = 13.0
    recorder.is_reused = False
    recorder.local_address = ("127.0.0.1", 50000)
    recorder.remote_address = ("::1", 8080)
    return recorder


def test_durations_are_differences_of_stamps() -> None:
    timings = recorded().snapshot()
    assert (timings.dns, timings.connect, timings.tls) == (0.25, 0.25, 0.5)
    assert (timings.pool_wait, timings.sending, timings.waiting) == (1.0, 0.5, 1.5)
    assert timings.receiving is None and timings.total is None  # the body is still arriving
    done = dataclasses.replace(timings, body_done=14.0)
    assert (done.receiving, done.total) == (1.0, 4.0)


def test_phases_that_did_not_happen_are_none() -> None:
    timings = Timings(start=1.0, acquired=1.0, request_sent=1.1, first_byte=1.2, is_reused=True)
    assert timings.dns is None and timings.connect is None and timings.tls is None
    assert timings.pool_wait == 0.0
    facts = timings.as_dict()
    assert facts["dns"] is None and facts["is_reused"] is True
    assert facts["remote_address"] is None


def test_snapshot_is_frozen_and_independent() -> None:
    recorder = recorded()
    before = recorder.snapshot()
    recorder.body_done = 20.0
    assert before.body_done is None
    assert recorder.snapshot().body_done == 20.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.start = 0.0  # type: ignore[misc]  # frozen on purpose


def test_addresses_are_shown_as_text() -> None:
    facts = recorded().snapshot().as_dict()
    assert facts["local_address"] == "127.0.0.1:50000"
    assert facts["remote_address"] == "[::1]:8080"
    assert Timings(0.0, remote_address="/run/app.sock").as_dict()["remote_address"] == (
        "/run/app.sock"
    )


async def test_emit_calls_sync_and_async_hooks_with_the_timings_so_far() -> None:
    events: list[TraceEvent] = []

    def on_start(event: TraceEvent) -> None:
        events.append(event)

    async def on_end(event: TraceEvent) -> None:
        events.append(event)

    hooks = TraceHooks(on_request_start=on_start, on_request_end=on_end)
    recorder = TimingsRecorder(5.0)
    await emit(hooks, "request_start", "GET", URL_, recorder)
    recorder.first_byte = 6.0
    await emit(hooks, "request_end", "GET", URL_, recorder)
    await emit(hooks, "redirect", "GET", URL_, recorder)  # no hook: nothing happens
    assert [e.name for e in events] == ["request_start", "request_end"]
    assert events[0].timings.first_byte is None
    assert events[1].timings.first_byte == 6.0
    assert events[1].method == "GET" and events[1].url == URL_


async def test_a_failing_hook_fails_the_emit() -> None:
    def broken(event: TraceEvent) -> None:
        raise RuntimeError("hook bug")

    with pytest.raises(RuntimeError, match="hook bug"):
        await emit(TraceHooks(on_retry=broken), "retry", "GET", URL_, TimingsRecorder(0.0))


def test_hooks_must_be_callable() -> None:
    with pytest.raises(TypeError, match=r"TraceHooks\.on_redirect must be callable, not str"):
        TraceHooks(on_redirect="print")  # type: ignore[arg-type]  # the mistake the check is for
    hooks = TraceHooks()
    for field in dataclasses.fields(hooks):
        assert hooks.hook(field.name.removeprefix("on_")) is None  # type: ignore[arg-type]  # every event name


def test_log_line_is_one_structured_debug_record(caplog: pytest.LogCaptureFixture) -> None:
    timings = dataclasses.replace(recorded().snapshot(), body_done=14.0)
    with caplog.at_level(logging.DEBUG, logger="httpwire.client"):
        log_request("GET", URL_, timings, status=200)
    (record,) = caplog.records
    assert record.name == "httpwire.client" and record.levelno == logging.DEBUG
    line = record.getMessage()
    assert line.startswith("GET http://example.org:8080/p?q=1 200 pool=1000.0ms dns=250.0ms")
    assert "reused=False" in line and "remote=[::1]:8080" in line
    assert "pw" not in line and "user" not in line
    facts = record.__dict__["httpwire"]
    assert facts["status"] == 200 and facts["total"] == 4.0 and facts["error"] is None
    assert facts["url"] == "http://example.org:8080/p?q=1"


def test_log_line_of_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="httpwire.client"):
        log_request("POST", URL_, Timings(1.0), error=ConnectionRefusedError())
    (record,) = caplog.records
    assert " failed (ConnectionRefusedError) pool=- " in record.getMessage()
    assert record.__dict__["httpwire"]["error"] == "ConnectionRefusedError"


def test_nothing_is_logged_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="httpwire.client"):
        log_request("GET", URL_, Timings(1.0), status=200)
    assert caplog.records == []


def test_recorder_takes_the_connection_layer_reports() -> None:
    recorder = TimingsRecorder(1.0)
    recorder.on_phase("dns", 1.0, 1.5)
    recorder.on_phase("connect", 1.5, 2.0)
    recorder.on_phase("tls", 2.0, 3.0)
    recorder.on_phase("unknown", 3.0, 4.0)  # a phase this client does not know: ignored
    recorder.on_connection(False, ("::1", 50000, 0, 0), ("::1", 443, 0, 0))
    recorder.on_request_sent(3.5)
    timings = recorder.snapshot()
    assert (timings.dns, timings.connect, timings.tls) == (0.5, 0.5, 1.0)
    assert timings.is_reused is False and timings.request_sent == 3.5
    assert timings.local_address == ("::1", 50000) and timings.remote_address == ("::1", 443)
    recorder.on_connection(True, "/run/app.sock", None)
    assert recorder.remote_address is None and recorder.local_address == "/run/app.sock"
    assert recorder.is_reused is True


async def test_connection_events_follow_the_reports() -> None:
    names: list[str] = []
    hooks = TraceHooks(
        on_dns_start=lambda e: names.append(e.name),
        on_dns_end=lambda e: names.append(e.name),
        on_connection_created=lambda e: names.append(e.name),
        on_connection_reused=lambda e: names.append(e.name),
    )
    recorder = TimingsRecorder(0.0)
    await emit_connection(hooks, "GET", URL_, recorder)
    assert names == []  # nothing was reported
    recorder.on_phase("dns", 0.0, 0.1)
    recorder.on_connection(False, None, None)
    await emit_connection(hooks, "GET", URL_, recorder)
    assert names == ["dns_start", "dns_end", "connection_created"]
    names.clear()
    await emit_connection(hooks, "GET", URL_, TimingsRecorder(0.0))
    reused = TimingsRecorder(0.0)
    reused.on_connection(True, None, None)
    await emit_connection(hooks, "GET", URL_, reused)
    assert names == ["connection_reused"]
