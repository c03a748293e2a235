"""Event classes: slots, equality, repr and the END_OF_CHUNK singleton."""

from __future__ import annotations

import copy
import pickle

import pytest
from multidict import CIMultiDict

from httpwire.parser import (
    END_OF_CHUNK,
    HTTP10,
    HTTP11,
    EndOfMessage,
    HttpVersion,
    InformationalResponse,
    RequestHead,
    ResponseHead,
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
