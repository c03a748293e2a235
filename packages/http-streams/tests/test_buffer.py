"""PieceBuffer and SeparatorSearch: consumption and search across pieces."""

from __future__ import annotations

from collections import deque

from hypothesis import given
from hypothesis import strategies as st

from httpwire.streams._buffer import PieceBuffer, SeparatorSearch


def filled(pieces: list[bytes]) -> PieceBuffer:
    buffer = PieceBuffer(None, 0, 64)
    for piece in filter(None, pieces):  # StreamReader.feed_data() drops empty pieces
        buffer._buffer.append(piece)
        buffer._size += len(piece)
    return buffer


@given(
    pieces=st.lists(st.binary(max_size=12), max_size=12),
    takes=st.lists(st.integers(1, 20), max_size=12),
)
def test_takes_return_consecutive_bytes(pieces: list[bytes], takes: list[int]) -> None:
    buffer = filled(pieces)
    whole = b"".join(pieces)
    out = []
    for n in takes:
        if not buffer._size:
            break
        n = min(n, buffer._size)
        data = buffer._take(n)
        assert len(data) == n and type(data) is bytes
        out.append(data)
    assert buffer._peek(1000) == whole[len(b"".join(out)) :]
    out.append(buffer._take(buffer._size) if buffer._size else b"")
    assert b"".join(out) == whole
    assert buffer._size == 0 and buffer._offset == 0 and not buffer._buffer


@given(
    pieces=st.lists(st.sampled_from([b"a", b"b", b"ab", b"ba", b"x", b"aab", b""]), max_size=30),
    separator=st.sampled_from([b"a", b"ab", b"aab", b"bab", b"abab"]),
    offset=st.integers(0, 2),
    arrivals=st.integers(1, 5),
)
def test_search_across_pieces_matches_bytes_find(
    pieces: list[bytes], separator: bytes, offset: int, arrivals: int
) -> None:
    # The first piece is partly read; the rest arrive in several batches, and the
    # search resumes after each batch as StreamReader does while it waits.
    pieces = [piece for piece in pieces if piece]
    if not pieces:
        return
    offset = min(offset, len(pieces[0]) - 1)
    search = SeparatorSearch(separator)
    buffer: deque[bytes] = deque()
    step = max(1, len(pieces) // arrivals)
    found = -1
    for start in range(0, len(pieces), step):
        buffer.extend(pieces[start : start + step])
        found = search.find(buffer, offset)
        unread = b"".join(buffer)[offset:]
        assert found == unread.find(separator)
        if found >= 0:
            break


def test_put_back_goes_in_front() -> None:
    buffer = filled([b"abc", b"def"])
    assert buffer._take(4) == b"abcd"
    buffer._put_back(b"xyz")
    assert buffer._size == 5
    assert buffer._take(5) == b"xyzef"
