"""The sans-I/O multipart parser: every split of the input, and every kind of bad input."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpwire.forms import (
    END_OF_MULTIPART,
    END_OF_PART,
    BoundaryError,
    IncompleteMultipartError,
    MalformedMultipartError,
    MultipartError,
    MultipartLimitError,
    MultipartParser,
    PartHead,
)

BODY = (
    b"This is the preamble.\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="field"\r\n'
    b"\r\n"
    b"value\r\n"
    b"--XyZ  \t\r\n"
    b'Content-Disposition: form-data; name="file"; filename="a.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n"
    b"\r\n"
    b"x--XyZ is not at a line start--Xy\r\r\n\r\n-\r\n--Xy\r\n"
    b"--XyZ--\r\n"
    b"epilogue --XyZ\r\n"
)
EXPECTED = [
    ("head", [("Content-Disposition", 'form-data; name="field"')]),
    ("data", b"value"),
    ("end",),
    (
        "head",
        [
            ("Content-Disposition", 'form-data; name="file"; filename="a.bin"'),
            ("Content-Type", "application/octet-stream"),
        ],
    ),
    ("data", b"x--XyZ is not at a line start--Xy\r\r\n\r\n-\r\n--Xy"),
    ("end",),
    ("done",),
]


def _normalize(events: Sequence[object]) -> list[tuple[object, ...]]:
    """Merge adjacent data events, so any split of the input compares equal."""
    out: list[tuple[object, ...]] = []
    for event in events:
        if isinstance(event, bytes):
            assert event, "empty data event"
            if out and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + event)  # type: ignore[operator]
            else:
                out.append(("data", event))
        elif isinstance(event, PartHead):
            out.append(("head", list(event.headers.items())))
        elif event is END_OF_PART:
            out.append(("end",))
        elif event is END_OF_MULTIPART:
            out.append(("done",))
        else:  # pragma: no cover
            raise AssertionError(event)
    return out


def parse(
    body: bytes, cuts: list[int] | None = None, boundary: bytes = b"XyZ", **kw: int
) -> list[tuple[object, ...]]:
    parser = MultipartParser(boundary, **kw)
    events: list[object] = []
    points = sorted(set(cuts or []))
    start = 0
    for cut in [*points, len(body)]:
        events += parser.feed(body[start:cut])
        start = cut
    events += parser.feed_eof()
    return _normalize(events)


def test_whole_body_in_one_piece() -> None:
    assert parse(BODY) == EXPECTED


def test_byte_by_byte() -> None:
    assert parse(BODY, list(range(len(BODY)))) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=30))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    assert parse(BODY, cuts) == EXPECTED


def test_no_preamble_and_no_epilogue() -> None:
    body = b"--b\r\n\r\nx\r\n--b--"
    assert parse(body, boundary=b"b") == [("head", []), ("data", b"x"), ("end",), ("done",)]


def test_empty_part_body_gives_no_data_event() -> None:
    body = b"--b\r\nA: 1\r\n\r\n\r\n--b--\r\n"
    assert parse(body, boundary=b"b") == [("head", [("A", "1")]), ("end",), ("done",)]


def test_part_index_and_header_offset_are_reported() -> None:
    parser = MultipartParser(b"b")
    events = parser.feed(b"pre\r\n--b\r\nA: 1\r\n\r\nx\r\n--b\r\nB: 2\r\n\r\ny\r\n--b--")
    heads = [e for e in events if isinstance(e, PartHead)]
    assert [(h.index, h.offset) for h in heads] == [(0, 10), (1, 26)]
    assert heads[1].raw_headers == ((b"B", b"2"),)
    assert parser.finished


def test_folded_header_lines_are_unfolded() -> None:
    body = b'--b\r\nContent-Disposition: form-data;\r\n\tname="x"\r\n\r\nv\r\n--b--'
    assert parse(body, boundary=b"b")[0] == (
        "head",
        [("Content-Disposition", 'form-data; name="x"')],
    )


def test_non_utf8_header_bytes_survive_with_surrogateescape() -> None:
    parser = MultipartParser(b"b")
    (head, *_rest) = parser.feed(b"--b\r\nX: \xff\r\n\r\nv\r\n--b--")
    assert isinstance(head, PartHead)
    assert head.headers["X"].encode("utf-8", "surrogateescape") == b"\xff"


def test_missing_boundary_in_body_is_reported_at_eof() -> None:
    parser = MultipartParser(b"b")
    assert parser.feed(b"no delimiter here\r\n--c\r\n") == []
    with pytest.raises(BoundaryError, match=r"no delimiter line '--b' in the body.*\(byte 24\)"):
        parser.feed_eof()


def test_truncated_part_is_reported_with_part_and_offset() -> None:
    parser = MultipartParser(b"b")
    parser.feed(b"--b\r\n\r\nfirst\r\n--b\r\n\r\nsecond part cut sh")
    with pytest.raises(
        IncompleteMultipartError,
        match=r"body ended inside part 1 with no delimiter after its data; the close "
        r"delimiter '--b--' is missing .*\(part 1, byte 39\)",
    ):
        parser.feed_eof()


def test_missing_close_delimiter_after_a_delimiter_rfc2046_5_1_1() -> None:
    parser = MultipartParser(b"b")
    parser.feed(b"--b\r\n\r\nx\r\n--b")
    with pytest.raises(IncompleteMultipartError, match=r"body ended after a delimiter line"):
        parser.feed_eof()


def test_truncated_headers_are_reported() -> None:
    parser = MultipartParser(b"b")
    parser.feed(b"--b\r\nContent-Type: text/pl")
    with pytest.raises(
        IncompleteMultipartError, match=r"body ended in the headers of part 0.*\(part 0, byte"
    ):
        parser.feed_eof()


def test_boundary_as_prefix_of_a_content_line_is_rejected_rfc2046_5_1_1() -> None:
    parser = MultipartParser(b"b")
    # What came before the error is handed out first; the next call raises.
    assert _normalize(parser.feed(b"--b\r\n\r\nx\r\n--bogus\r\n")) == [
        ("head", []),
        ("data", b"x"),
        ("end",),
    ]
    with pytest.raises(
        BoundaryError,
        match=r"delimiter line '--b' is followed by b'ogus', not CRLF.*\(part 0, byte 13\)",
    ):
        parser.feed(b"")


def test_header_line_too_long() -> None:
    parser = MultipartParser(b"b", max_line_size=20)
    with pytest.raises(
        MultipartLimitError,
        match=r"header line b'X-Long: aaaaaaaaaaaa.*longer than max_line_size=20 bytes "
        r"\(part 0, byte 5\)",
    ):
        parser.feed(b"--b\r\nX-Long: " + b"a" * 30)


def test_header_line_at_the_limit_is_accepted_in_any_split() -> None:
    line = b"X: " + b"a" * 17
    body = b"--b\r\n" + line + b"\r\n\r\nv\r\n--b--"
    for cut in range(len(body)):
        assert parse(body, [cut], boundary=b"b", max_line_size=20)[0] == (
            "head",
            [("X", "a" * 17)],
        )


def test_too_many_headers() -> None:
    parser = MultipartParser(b"b", max_headers=2)
    with pytest.raises(
        MultipartLimitError, match=r"too many headers in one part: more than max_headers=2"
    ):
        parser.feed(b"--b\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")


def test_too_many_parts() -> None:
    parser = MultipartParser(b"b", max_parts=2)
    body = b"--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--"
    assert len(parser.feed(body)) == 6
    with pytest.raises(
        MultipartLimitError, match=r"too many parts: more than max_parts=2 \(part 2, byte 23\)"
    ):
        parser.raise_deferred()
    parser.raise_deferred()  # raised once only
    with pytest.raises(MultipartError, match="failed earlier"):
        parser.feed_eof()


@pytest.mark.parametrize(
    ("line", "shown"),
    [(b"no colon", "b'no colon'"), (b"Bad Name: x", "b'Bad Name: x'"), (b": empty", "b': empty'")],
)
def test_malformed_header_line(line: bytes, shown: str) -> None:
    parser = MultipartParser(b"b")
    with pytest.raises(MalformedMultipartError, match=rf"invalid header line {shown}.*\(part 0"):
        parser.feed(b"--b\r\n" + line + b"\r\n\r\n")


def test_continuation_line_first_is_malformed() -> None:
    parser = MultipartParser(b"b")
    with pytest.raises(MalformedMultipartError, match="starts with a continuation line"):
        parser.feed(b"--b\r\n folded\r\n\r\n")


def test_parser_is_unusable_after_an_error() -> None:
    parser = MultipartParser(b"b")
    with pytest.raises(MalformedMultipartError):
        parser.feed(b"--b\r\nnope\r\n")
    with pytest.raises(MultipartError, match="failed earlier"):
        parser.feed(b"more")
    with pytest.raises(MultipartError, match="failed earlier"):
        parser.feed_eof()


def test_boundary_length_is_checked() -> None:
    with pytest.raises(BoundaryError, match=r"must be 1 to 70 bytes long"):
        MultipartParser(b"")
    with pytest.raises(BoundaryError, match=r"must be 1 to 70 bytes long"):
        MultipartParser("x" * 71)


def test_data_after_the_close_delimiter_is_ignored() -> None:
    parser = MultipartParser(b"b")
    parser.feed(b"--b\r\n\r\nx\r\n--b--")
    assert parser.feed(b"\r\n--b\r\nanything at all") == []
    assert parser.feed_eof() == []


def test_a_large_part_is_handed_out_without_copies() -> None:
    parser = MultipartParser(b"b")
    parser.feed(b"--b\r\n\r\n")
    piece = bytes(range(256)).replace(b"\r", b"") * 1024
    (event,) = parser.feed(piece)
    assert event is piece


def test_errors_pickle_with_their_location() -> None:
    err = IncompleteMultipartError("cut short", part=3, offset=1234)
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is IncompleteMultipartError
    assert (clone.part, clone.offset, str(clone)) == (3, 1234, "cut short (part 3, byte 1234)")


@given(
    boundary=st.binary(min_size=1, max_size=12).filter(lambda b: b"\r" not in b),
    pieces=st.lists(
        st.one_of(
            st.binary(max_size=64),
            st.sampled_from([b"\r\n", b"--", b"\r\n\r\n", b"--b", b"\r\n--b", b"X: y\r\n"]),
        ),
        max_size=40,
    ),
)
def test_arbitrary_input_gives_events_or_a_multipart_error_in_bounded_memory(
    boundary: bytes, pieces: list[bytes]
) -> None:
    parser = MultipartParser(boundary, max_line_size=50)
    bound = max(50 + 2, len(boundary) + 4)
    try:
        for piece in pieces:
            parser.feed(piece)
            assert parser.buffered <= bound + len(piece)
        parser.feed_eof()
    except MultipartError as exc:
        assert str(exc)


def test_a_long_preamble_is_dropped_as_it_comes() -> None:
    parser = MultipartParser(b"boundary")
    for _ in range(1000):
        assert parser.feed(b"preamble line without the delimiter\r\n" * 100) == []
        assert parser.buffered < 16
    assert parser.feed(b"\r\n--boundary--") == [END_OF_MULTIPART]
