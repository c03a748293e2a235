"""Event classes: slots, equality, repr and the END_OF_CHUNK singleton."""

from __future__ import annotations

import copy
import pickle
import typing

import pytest
from multidict import CIMultiDict

from httpwire.parser import (
    END_OF_CHUNK,
    HTTP10,
    HTTP11,
    EndOfChunk,
    EndOfMessage,
    Event,
    HttpVersion,
    InformationalResponse,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
)


def _head(status: int = 200) -> ResponseHead:
    return ResponseHead(
        HTTP11, status, "OK", CIMultiDict(a="1"), ((b"A", b"1"),), False, False, False, 0, ()
    )


def test_versions_compare_as_tuples_and_print_as_on_the_wire() -> None:
    assert HttpVersion(1, 1) == HTTP11 == (1, 1)
    assert HTTP10 < HTTP11
    assert str(HTTP10) == "HTTP/1.0"


def test_events_compare_by_their_fields() -> None:
    assert _head() == _head()
    assert _head() != _head(204)
    assert EndOfMessage(CIMultiDict(), ()) == EndOfMessage(CIMultiDict(), ())
    assert _head() != EndOfMessage(CIMultiDict(), ())


def test_events_have_slots_and_no_dict() -> None:
    events: list[object] = [
        _head(),
        EndOfMessage(CIMultiDict(), ()),
        InformationalResponse(HTTP11, 100, "Continue", CIMultiDict(), ()),
        RequestHead("GET", "/", HTTP11, CIMultiDict(), (), False, False, False, 0, (), False),
    ]
    for event in events:
        assert not hasattr(event, "__dict__")
        with pytest.raises(AttributeError):
            event.unknown = 1  # type: ignore[attr-defined]  # the point of the test


def test_repr_names_every_field() -> None:
    text = repr(_head())
    assert text.startswith("ResponseHead(version=HttpVersion(major=1, minor=1), status=200")
    assert "content_coding=()" in text


def test_end_of_chunk_is_a_singleton_even_through_copy_and_pickle() -> None:
    assert repr(END_OF_CHUNK) == "END_OF_CHUNK"
    assert copy.copy(END_OF_CHUNK) is END_OF_CHUNK
    assert pickle.loads(pickle.dumps(END_OF_CHUNK)) is END_OF_CHUNK


def test_the_event_union_is_closed_and_names_every_event_type() -> None:
    assert type(END_OF_CHUNK) is EndOfChunk
    assert set(typing.get_args(Event)) == {
        ResponseHead,
        InformationalResponse,
        RequestHead,
        bytes,
        EndOfChunk,
        EndOfMessage,
    }
    wire = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
    )
    events: list[Event] = ResponseParser(mark_chunks=True).feed(wire)
    assert [type(event) for event in events] == [
        InformationalResponse,
        ResponseHead,
        bytes,
        EndOfChunk,
        EndOfMessage,
    ]
    for event in events:  # mypy narrows each branch without a cast
        if type(event) is ResponseHead:
            assert event.status == 200
        elif type(event) is bytes:
            assert event == b"hi"
        elif type(event) is InformationalResponse:
            assert event.status == 100


def test_buffered_counts_bytes_held_but_not_yet_turned_into_events() -> None:
    parser = ResponseParser()
    assert parser.buffered == 0
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-")
    assert parser.buffered == len(b"HTTP/1.1 200 OK\r\nContent-")
    events = parser.feed(b"Length: 2\r\n\r\nhi")
    assert events[-1] == EndOfMessage() and parser.buffered == 0  # a clean connection
    parser.feed(b"HTTP/1.1 2")  # a second response starts right after the first
    assert parser.buffered == 10
    chunked = ResponseParser()
    chunked.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
    assert chunked.buffered == 0  # chunk data is handed out as it comes
    chunked.feed(b"lo\r")
    assert chunked.buffered == 1  # the CR of the CRLF after the data
    chunked.feed(b"\n1")
    assert chunked.buffered == 1  # a chunk size line in progress
    request = RequestParser()
    request.feed(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\nab")
    assert request.upgraded and request.buffered == 2
    assert request.trailing_data() == b"ab" and request.buffered == 0


def test_buffered_is_read_only() -> None:
    with pytest.raises(AttributeError):
        ResponseParser().buffered = 1  # type: ignore[misc]  # the point of the test
