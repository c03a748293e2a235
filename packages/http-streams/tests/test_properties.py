"""Every read method under random chunkings, interleavings, chunk marks, EOF, errors and cancels.

A producer task feeds the input in random pieces, yielding to the loop a random
number of times between them, marking chunk ends at random, and ends with EOF
or an exception. The consumer runs random operations (some of them in a task
cancelled after a random number of loop turns) and checks each result against
the input: what the reads return, concatenated, is the input, and each method
returns what its contract says whatever the timing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpwire.streams import IncompleteReadError, LineTooLongError, StreamReader


class Boom(Exception):
    """The producer's failure."""


SEPARATORS = [b"\n", b"\r\n", b"ab", b"xyz"]

op_strategy = st.one_of(
    st.tuples(st.just("read"), st.integers(-1, 12)),
    st.tuples(st.just("readany"), st.just(0)),
    st.tuples(st.just("readexactly"), st.integers(0, 12)),
    st.tuples(st.just("readline"), st.just(0)),
    st.tuples(st.just("readuntil"), st.integers(0, len(SEPARATORS) - 1)),
    st.tuples(st.just("readuntil"), st.integers(0, len(SEPARATORS) - 1)),
    st.tuples(st.just("readchunk"), st.just(0)),
    st.tuples(st.just("anext_line"), st.just(0)),
)

# Input rich in separators and their halves, so that separators often straddle pieces.
TOKENS = [b"a", b"b", b"ab", b"\n", b"\r", b"\r\n", b"x", b"y", b"z", b"xyz", b"hello "]
data_strategy = st.one_of(
    st.lists(st.sampled_from(TOKENS), min_size=20, max_size=200).map(b"".join),
    st.binary(min_size=20, max_size=300),
)


@dataclass
class Model:
    """What the consumer knows: the input, its chunk marks, and how much was consumed."""

    data: bytes
    limit: int
    marks: set[int] = field(default_factory=set)
    pos: int = 0
    failed: bool = False

    @property
    def rest(self) -> bytes:
        return self.data[self.pos :]

    def line(self, sep: bytes) -> bytes:
        i = self.rest.find(sep)
        return self.rest if i < 0 else self.rest[: i + len(sep)]

    def consume(self, got: bytes) -> None:
        assert got == self.data[self.pos : self.pos + len(got)]
        self.pos += len(got)


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    """Cut ``data`` into pieces whose sizes cycle through ``sizes`` (0 gives an empty piece)."""
    pieces = []
    start = 0
    i = 0
    while start < len(data):
        size = sizes[i % len(sizes)]
        i += 1
        if not size and i % len(sizes) == 0:
            size = 1  # sizes of zeros only would never end
        pieces.append(data[start : start + size])
        start += size
    return pieces


async def run_op(reader: StreamReader, op: str, arg: int) -> object:
    if op == "read":
        return await reader.read(arg)
    if op == "readany":
        return await reader.readany()
    if op == "readexactly":
        return await reader.readexactly(arg)
    if op == "readline":
        return await reader.readline()
    if op == "readuntil":
        return await reader.readuntil(SEPARATORS[arg])
    if op == "readchunk":
        return await reader.readchunk()
    assert op == "anext_line"
    try:
        return await reader.__aiter__().__anext__()
    except StopAsyncIteration:
        return b""


def check(model: Model, op: str, arg: int, outcome: object) -> None:
    """Check one completed operation against the model and advance it."""
    if isinstance(outcome, Boom):
        # Once the producer failed, every read raises its exception.
        model.failed = True
        return
    assert not model.failed, f"{op} returned after the stream failed"
    if op == "read":
        assert isinstance(outcome, bytes)
        if arg < 0:
            assert outcome == model.rest
        elif arg == 0:
            assert outcome == b""
        else:
            assert len(outcome) <= arg
            assert outcome or not model.rest
        model.consume(outcome)
    elif op == "readany":
        assert isinstance(outcome, bytes)
        assert outcome or not model.rest
        model.consume(outcome)
    elif op == "readexactly":
        if isinstance(outcome, IncompleteReadError):
            assert len(model.rest) < arg
            assert outcome.partial == model.rest
            assert outcome.expected == arg
            model.consume(outcome.partial)
        else:
            assert outcome == model.rest[:arg]
            assert isinstance(outcome, bytes)
            model.consume(outcome)
    elif op in ("readline", "readuntil"):
        sep = b"\n" if op == "readline" else SEPARATORS[arg]
        line = model.line(sep)
        if isinstance(outcome, LineTooLongError):
            assert len(line) > model.limit
            assert outcome.limit == model.limit
            assert outcome.separator == sep
            assert outcome.head and model.rest.startswith(outcome.head)
        else:
            assert len(line) <= model.limit
            assert outcome == line
            model.consume(line)
    elif op == "anext_line":
        line = model.line(b"\n")[: model.limit]
        assert outcome == line
        model.consume(line)
    else:
        assert op == "readchunk"
        assert isinstance(outcome, tuple)
        data, end_of_chunk = outcome
        start = model.pos
        end = start + len(data)
        # A chunk never runs over a mark, and ends on one when it says so.
        assert not any(start < m < end for m in model.marks)
        if end_of_chunk:
            assert end in model.marks
        else:
            assert data or not model.rest
        model.consume(data)


async def scenario(
    data: bytes,
    sizes: list[int],
    turns: list[int],
    marks: list[bool],
    ops: list[tuple[tuple[str, int], int | None]],
    limit: int,
    fail: bool,
) -> None:
    reader = StreamReader(limit=limit)
    model = Model(data, limit)
    pieces = split(data, sizes)

    async def produce() -> None:
        fed = 0
        for i, piece in enumerate(pieces):
            reader.feed_data(piece)
            fed += len(piece)
            if marks[i % len(marks)] and fed:
                reader.end_chunk()
                model.marks.add(fed)
            for _ in range(turns[i % len(turns)]):
                await asyncio.sleep(0)
        if fail:
            reader.set_exception(Boom("producer failed"))
        else:
            reader.feed_eof()

    producer = asyncio.create_task(produce())
    for (op, arg), cancel_after in ops:
        outcome: object
        if cancel_after is None:
            try:
                outcome = await run_op(reader, op, arg)
            except (Boom, IncompleteReadError, LineTooLongError) as exc:
                outcome = exc
            check(model, op, arg, outcome)
            continue
        task = asyncio.create_task(run_op(reader, op, arg))
        for _ in range(cancel_after):
            await asyncio.sleep(0)
        task.cancel()
        try:
            outcome = await task
        except asyncio.CancelledError:
            # A cancelled read consumed nothing.
            if not model.failed and reader.exception() is None:
                assert reader.total_bytes - reader.buffered == model.pos
            continue
        except (Boom, IncompleteReadError, LineTooLongError) as exc:
            outcome = exc
        check(model, op, arg, outcome)
    try:
        rest = await reader.read()
    except Boom:
        assert fail
    else:
        assert not fail and not model.failed
        model.consume(rest)
        assert model.pos == len(data)
        assert reader.at_eof()
    await producer


@given(
    data=data_strategy,
    sizes=st.lists(st.one_of(st.integers(0, 6), st.integers(0, 60)), min_size=1, max_size=10),
    turns=st.lists(st.integers(0, 3), min_size=1, max_size=10),
    marks=st.lists(st.booleans(), min_size=1, max_size=10),
    ops=st.lists(
        st.tuples(op_strategy, st.one_of(st.none(), st.none(), st.integers(0, 3))),
        min_size=1,
        max_size=30,
    ),
    limit=st.one_of(st.integers(1, 80), st.just(2**16)),
    fail=st.integers(0, 3).map(lambda n: n == 0),
)
def test_random_operations_match_the_input(
    data: bytes,
    sizes: list[int],
    turns: list[int],
    marks: list[bool],
    ops: list[tuple[tuple[str, int], int | None]],
    limit: int,
    fail: bool,
) -> None:
    asyncio.run(scenario(data, sizes, turns, marks, ops, limit, fail))


@given(data=data_strategy, sizes=st.lists(st.integers(0, 50), min_size=1, max_size=10))
def test_iterators_rebuild_the_input(data: bytes, sizes: list[int]) -> None:
    async def main() -> None:
        for kind in ("lines", "chunked", "any", "chunks"):
            reader = StreamReader(limit=16)
            pieces = split(data, sizes)

            async def produce(reader: StreamReader = reader, pieces: list[bytes] = pieces) -> None:
                for piece in pieces:
                    reader.feed_data(piece)
                    reader.end_chunk()
                    await asyncio.sleep(0)
                reader.feed_eof()

            task = asyncio.create_task(produce())
            got: list[bytes] = []
            if kind == "lines":
                async for line in reader:
                    assert 0 < len(line) <= 16
                    assert line.endswith(b"\n") or len(line) == 16 or b"\n" not in line
                    got.append(line)
            elif kind == "chunked":
                got = [piece async for piece in reader.iter_chunked(7)]
                assert all(0 < len(p) <= 7 for p in got)
            elif kind == "any":
                got = [piece async for piece in reader.iter_any()]
            else:
                async for piece, _ in reader.iter_chunks():
                    got.append(piece)
            await task
            assert b"".join(got) == data, kind

    asyncio.run(main())


@pytest.mark.parametrize("method", ["read", "readany", "readexactly", "readline", "readchunk"])
async def test_eof_and_exception_at_every_point(method: str) -> None:
    data = b"line one\nline two\r\nend"
    for cut in range(len(data) + 1):
        for fail in (False, True):
            reader = StreamReader()
            reader.feed_data(data[:cut])
            arg = len(data) if method == "readexactly" else (-1 if method == "read" else 0)
            task = asyncio.create_task(run_op(reader, method, arg))
            await asyncio.sleep(0)
            error = Boom(f"failed at {cut}")
            if fail:
                reader.set_exception(error)
            else:
                reader.feed_eof()
            try:
                outcome: object = await task
            except (Boom, IncompleteReadError) as exc:
                outcome = exc
            if fail and not task.done():
                pytest.fail("task not done")
            model = Model(data[:cut], 2**16)
            if fail:
                # The read either finished before the failure or raised it; later reads raise it.
                if isinstance(outcome, Boom):
                    assert outcome is error
                with pytest.raises(Boom) as info:
                    await run_op(reader, method, arg)
                assert info.value is error
            else:
                check(model, method, arg, outcome)
                rest = await reader.read()
                model.consume(rest)
                assert model.pos == cut
