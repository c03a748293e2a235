"""The error tree: one root, the builtin each error also is, pickling."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from httpwire.streams import (
    ConcurrentReadError,
    FeedAfterEofError,
    IncompleteReadError,
    LineTooLongError,
    StreamError,
)

ERRORS = [
    (IncompleteReadError(b"ab", 5), (asyncio.IncompleteReadError, EOFError)),
    (LineTooLongError(b"\n", 10, 12, True, b"x" * 12), (ValueError,)),
    (ConcurrentReadError("read", "readline"), (RuntimeError,)),
    (FeedAfterEofError("feed_data", 3), (RuntimeError,)),
]


@pytest.mark.parametrize(("error", "bases"), ERRORS)
def test_errors_share_a_root_and_pickle(error: StreamError, bases: tuple[type, ...]) -> None:
    assert isinstance(error, StreamError)
    assert isinstance(error, bases)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.__dict__ == error.__dict__


def test_line_too_long_quotes_at_most_40_bytes() -> None:
    error = LineTooLongError(b"\r\n", 100, 5000, True, b"y" * 500)
    assert error.head == b"y" * 40
    assert str(error) == (
        "line longer than the limit of 100 bytes: the line is 5000 bytes long, separator "
        f"b'\\r\\n' included; the line starts {b'y' * 40!r}..."
    )
