"""The error tree: hierarchy, messages, attributes and pickling."""

from __future__ import annotations

import pickle

import pytest

from httpwire.parser import (
    BadStartLineError,
    DecodingError,
    FieldTooLargeError,
    HeadTooLargeError,
    HttpParserError,
    IncompleteMessageError,
    InvalidChunkError,
    InvalidFramingError,
    InvalidHeaderError,
    LimitExceededError,
    LineTooLongError,
    TooManyHeadersError,
)
from httpwire.parser._errors import bounded_repr


@pytest.mark.parametrize(
    "cls",
    [
        BadStartLineError,
        InvalidHeaderError,
        InvalidFramingError,
        InvalidChunkError,
        IncompleteMessageError,
        DecodingError,
        LimitExceededError,
    ],
)
def test_every_error_is_an_http_parser_error_and_a_value_error(cls: type[Exception]) -> None:
    assert issubclass(cls, HttpParserError)
    assert issubclass(cls, ValueError)


@pytest.mark.parametrize(
    "cls", [LineTooLongError, FieldTooLargeError, TooManyHeadersError, HeadTooLargeError]
)
def test_limit_errors_share_one_parent(cls: type[LimitExceededError]) -> None:
    exc = cls("too big", 10)
    assert isinstance(exc, LimitExceededError)
    assert exc.limit == 10
    assert str(exc) == "too big"


def test_chunk_errors_are_framing_errors() -> None:
    assert issubclass(InvalidChunkError, InvalidFramingError)


def test_status_hints_suit_a_server() -> None:
    assert InvalidHeaderError("x").status_hint == 400
    assert FieldTooLargeError("x", 1).status_hint == 431
    assert LineTooLongError("x", 1).status_hint == 414


@pytest.mark.parametrize(
    "exc",
    [
        BadStartLineError("bad line b'x' (RFC 9112 §3)"),
        InvalidChunkError("chunk size b'-1' is not hex (RFC 9112 §7.1)"),
        TooManyHeadersError("more than 3 fields", 3),
        IncompleteMessageError("cut", 10, 4),
        IncompleteMessageError("cut in the head"),
        DecodingError("corrupt gzip"),
    ],
)
def test_errors_pickle_with_their_attributes(exc: HttpParserError) -> None:
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert str(copy) == str(exc)
    assert vars(copy) == vars(exc)


def test_incomplete_message_error_keeps_counts() -> None:
    exc = IncompleteMessageError("cut", expected=10, received=4)
    assert (exc.expected, exc.received) == (10, 4)
    assert (IncompleteMessageError("x").expected, IncompleteMessageError("x").received) == (
        None,
        None,
    )


def test_bounded_repr_cuts_long_values_and_says_their_length() -> None:
    assert bounded_repr(b"abc") == "b'abc'"
    assert bounded_repr(b"x" * 64) == repr(b"x" * 64)
    assert bounded_repr(b"x" * 1000) == f"{b'x' * 64!r}... (1000 bytes)"
    assert bounded_repr(bytearray(b"\r\n")) == "b'\\r\\n'"
