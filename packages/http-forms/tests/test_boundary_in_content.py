"""RFC 2046 §5.1.1: a boundary the caller chose never occurs inside a part that is sent.

The delimiter is CRLF "--" boundary. A part that holds it would end early at the
receiver, which would then read a part the content made up. Bytes and str parts are
refused when appended; every streamed part kind is stopped while it is sent, before
any byte of the forged delimiter leaves, wherever the piece borders fall.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import io
import itertools
import json
import pickle
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpwire.forms import (
    AsyncIterablePayload,
    BoundaryInContentError,
    FilePayload,
    MultipartReader,
    MultipartWriter,
    Payload,
    PayloadError,
    StreamReaderPayload,
)
from httpwire.forms._delimiters import DelimiterScan
from httpwire_testserver import LocalServer

from .helpers import collect, email_parts, stream_of

BOUNDARY = "sep"
DELIMITER = b"\r\n--" + BOUNDARY.encode()
SECRET = b"do-not-print-this"
# What an attacker puts in an uploaded file: a delimiter, then a part of their own.
FORGED = b'\r\n--sep\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin' + SECRET


def pieces_cut_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """*data* cut at *cuts*, without empty pieces."""
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


async def agen(pieces: Sequence[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


# Each streamed part kind, made to yield *content* in exactly these pieces.
def file_part(pieces: Sequence[bytes]) -> Payload:
    # A file is read in chunk_size pieces: one size per case, so use equal pieces only.
    data = b"".join(pieces)
    size = len(pieces[0]) if len(pieces) > 1 else max(1, len(data))
    return FilePayload(io.BytesIO(data), chunk_size=size)


def iterable_part(pieces: Sequence[bytes]) -> Payload:
    return AsyncIterablePayload(agen(pieces))


def reader_part(pieces: Sequence[bytes]) -> Payload:
    data = b"".join(pieces)
    cuts, at = [], 0
    for piece in pieces:
        at += len(piece)
        cuts.append(at)
    return StreamReaderPayload(stream_of(data, cuts))


def nested_part(pieces: Sequence[bytes]) -> Payload:
    # A nested writer with a random boundary: its own parts are not scanned for it, but
    # its whole output is, for the enclosing writer's chosen boundary.
    inner = MultipartWriter("mixed")
    inner.append_payload(AsyncIterablePayload(agen(pieces)), {"Content-Type": "text/plain"})
    return inner


KINDS: dict[str, Callable[[Sequence[bytes]], Payload]] = {
    "file": file_part,
    "async-iterable": iterable_part,
    "stream-reader": reader_part,
    "nested-writer": nested_part,
}


def form_with(payload: Payload) -> MultipartWriter:
    writer = MultipartWriter("form-data", boundary=BOUNDARY)
    writer.append("first field", {"Content-Disposition": 'form-data; name="first"'})
    writer.append_payload(
        payload, {"Content-Disposition": 'form-data; name="upload"; filename="a.bin"'}
    )
    return writer


async def sent_until_refused(body: Payload) -> tuple[bytes, BoundaryInContentError]:
    """The bytes the body yielded before it was refused, and the refusal."""
    sent = []
    with pytest.raises(BoundaryInContentError) as info:
        async for piece in body:
            sent.append(piece)
    return b"".join(sent), info.value


def content_sent(sent: bytes) -> bytes:
    """What of the upload part's content was sent (after its header block)."""
    head = sent.index(b'name="upload"')
    start = sent.index(b"\r\n\r\n", head) + 4
    return sent[start:]


def split_cases(content: bytes, delimiter_at: int) -> list[list[int]]:
    """Two pieces cut at every offset across the delimiter, and byte by byte."""
    cuts = [[c] for c in range(delimiter_at, delimiter_at + len(DELIMITER) + 1)]
    return [*cuts, list(range(1, len(content)))]


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_a_streamed_part_holding_the_delimiter_is_stopped_before_it_rfc2046_5_1_1(
    kind: str,
) -> None:
    content = b"0123456789" + FORGED
    forged_at = content.index(DELIMITER)
    for cuts in split_cases(content, forged_at):
        if kind == "file" and len(cuts) == 1:
            # A file reads in equal pieces: put the border at the same place that way.
            pieces = pieces_cut_at(content, range(cuts[0], len(content), cuts[0]))
        else:
            pieces = pieces_cut_at(content, cuts)
        writer = form_with(KINDS[kind](pieces))
        sent, error = await sent_until_refused(writer)
        upload = content_sent(sent)
        if kind == "nested-writer":
            # The nested writer's own delimiter and header block come first; the CRLF
            # that ends it is held back while the content's first piece might begin a
            # delimiter with it.
            upload = upload.split(b"Content-Type: text/plain\r\n", 1)[1].removeprefix(b"\r\n")
        # Not one byte of the forged delimiter left: the content stops before its CR.
        assert content.startswith(upload), cuts
        assert len(upload) <= forged_at, (cuts, len(upload))
        assert sent.count(DELIMITER) == 1  # only the real one, before the upload part
        assert error.part == 1
        message = str(error)
        assert "part 1 (" in message and 'name="upload"' in message, message
        assert "'--sep'" in message and "RFC 2046 §5.1.1" in message
        assert SECRET.decode() not in message and "admin" not in message
        if kind != "nested-writer":
            assert error.offset == forged_at + 2, cuts


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_a_streamed_part_starting_with_the_delimiter_is_stopped_rfc2046_5_1_1(
    kind: str,
) -> None:
    # The header block ends with CRLF, so content beginning "--sep" completes a delimiter.
    content = FORGED[2:]
    for cut in range(1, 8):
        writer = form_with(KINDS[kind](pieces_cut_at(content, [cut])))
        sent, error = await sent_until_refused(writer)
        if kind != "nested-writer":
            assert content_sent(sent) == b""
            assert error.offset == 0
        else:  # the CRLF ending the nested head is held back, and "--sep" never sent
            assert sent.endswith(b"Content-Type: text/plain\r\n"), cut


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_near_misses_go_out_unchanged_whatever_the_pieces(kind: str) -> None:
    # Each of these begins like the delimiter or holds "--sep" where it is not one; the
    # last one ends the part with the delimiter's first bytes, held back and then sent.
    content = b"-sep \r-sep \n--sep \r\n-sep \r\r\n--se|\r\n--s\r\n\r\n--\r\r\n--se"

    async def body_of(pieces: Sequence[bytes]) -> bytes:
        writer = form_with(KINDS[kind](pieces))
        body = await collect(writer)
        nested = writer.parts[1].payload
        if isinstance(nested, MultipartWriter):  # a new random boundary each time
            body = body.replace(nested.boundary.encode(), b"NESTED")
        return body

    whole = await body_of([content])
    assert content in whole
    for cuts in [*([c] for c in range(1, len(content))), list(range(1, len(content)))]:
        assert await body_of(pieces_cut_at(content, cuts)) == whole, cuts
    if kind != "nested-writer":
        writer = form_with(KINDS[kind]([content]))
        body = await collect(writer)
        reader = MultipartReader(writer.content_type, stream_of(body))
        got = [await part.read() async for part in reader]  # type: ignore[union-attr]
        assert got == [b"first field", content]


async def test_bytes_and_str_parts_are_refused_when_appended_rfc2046_5_1_1() -> None:
    for value in [b"x" + FORGED, ("x" + FORGED.decode())]:
        writer = MultipartWriter("form-data", boundary=BOUNDARY)
        writer.append(b"ok")
        with pytest.raises(BoundaryInContentError) as info:
            writer.append(value)
        assert (info.value.part, info.value.offset) == (1, 3)
        assert isinstance(info.value, ValueError)  # an argument error, raised where given
        assert SECRET.decode() not in str(info.value)


async def test_a_nested_writer_with_a_chosen_boundary_scans_inside_a_random_one() -> None:
    # The outer boundary is random, so the outer writer does not scan; the inner one
    # chose its boundary, so its own parts are scanned for its delimiter.
    content = b"abc\r\n--inner\r\nContent-Type: text/plain\r\n\r\nforged" + SECRET
    for cut in range(1, len(content)):
        inner = MultipartWriter("mixed", boundary="inner")
        inner.append(b"first")
        inner.append(AsyncIterablePayload(agen(pieces_cut_at(content, [cut]))))
        outer = MultipartWriter("form-data")
        outer.append_payload(inner, {"Content-Disposition": 'form-data; name="bundle"'})
        sent, error = await sent_until_refused(outer)
        # Only the nested body's two delimiters (the first after the enclosing head's CRLF).
        assert sent.count(b"\r\n--inner") == 2
        second = sent.index(b"first\r\n--inner\r\n")
        streamed = sent[sent.index(b"\r\n\r\n", second) + 4 :]
        assert content.startswith(streamed) and len(streamed) <= 3, cut
        assert (error.part, error.offset) == (1, 5)
        assert "<MultipartWriter 'multipart/mixed; boundary=inner'" in str(error)


async def test_a_random_boundary_passes_streamed_pieces_through_untouched() -> None:
    # No scan: the very same piece objects come out, however they end.
    pieces = [b"a\r\n--", b"\r\n--sep", b"tail\r"]
    writer = MultipartWriter("form-data")
    writer.append(AsyncIterablePayload(agen(pieces)))
    out = [piece async for piece in writer]
    assert len(out) == len(pieces) + 2  # the head, the pieces, the close delimiter
    assert all(a is b for a, b in zip(out[1:-1], pieces, strict=True))


async def test_a_chosen_boundary_passes_pieces_through_untouched_when_none_ends_in_a_prefix() -> (
    None
):
    pieces = [b"x" * 100, b"y\r\n-sep" * 10, b"z\r\n--se-"]
    writer = MultipartWriter("form-data", boundary=BOUNDARY)
    writer.append(AsyncIterablePayload(agen(pieces)))
    out = [piece async for piece in writer]
    assert all(a is b for a, b in zip(out[1:-1], pieces, strict=True))


async def test_base64_parts_need_no_scan() -> None:
    # base64 lines are made of A-Z a-z 0-9 + / = and CRLF: never "--".
    content = b"x" + FORGED
    writer = MultipartWriter("mixed", boundary=BOUNDARY)
    writer.append_payload(
        AsyncIterablePayload(agen([content[:5], content[5:]])),
        {"Content-Transfer-Encoding": "base64"},
    )
    body = await collect(writer)
    assert [part.payload for part in email_parts(writer.content_type, body)] == [content]


def test_a_header_name_beginning_with_the_delimiter_is_refused_rfc2046_5_1_1() -> None:
    # "-" is a token character, so "--sep" is a valid header name that would begin a line.
    writer = MultipartWriter("mixed", boundary=BOUNDARY)
    with pytest.raises(BoundaryInContentError, match=r"header name '--sep-x' of part 0"):
        writer.append(b"x", {"--sep-x": "1"})
    part = writer.append(b"x", {"-sep": "1"})
    with pytest.raises(BoundaryInContentError, match=r"of part 0 begins with the delimiter"):
        part.set_header("--sep", "1")


def test_the_error_is_a_payload_error_that_pickles() -> None:
    error = BoundaryInContentError("message", part=2, offset=7)
    assert isinstance(error, PayloadError) and isinstance(error, ValueError)
    clone = pickle.loads(pickle.dumps(error))
    assert (type(clone), str(clone), clone.part, clone.offset) == (
        BoundaryInContentError,
        "message",
        2,
        7,
    )


def reference_offset(content: bytes) -> int:
    """Where "--sep" begins a forged delimiter line in *content*, or -1 (CRLF ends the head)."""
    return (b"\r\n" + content).find(DELIMITER)


@given(
    content=st.lists(
        st.sampled_from(
            [b"\r", b"\n", b"-", b"s", b"e", b"p", b"x", b"\r\n--", b"sep", DELIMITER]
        ),
        max_size=20,
    ),
    cuts=st.lists(st.integers(min_value=1, max_value=60), max_size=12),
)
def test_the_scan_matches_a_search_of_the_whole_content(
    content: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(content)
    scan = DelimiterScan(BOUNDARY.encode(), 0, "part 0")
    out = []
    expected = reference_offset(data)
    try:
        for piece in pieces_cut_at(data, cuts):
            out.append(scan.feed(piece))
        out.append(scan.flush())
    except BoundaryInContentError as error:
        assert error.offset == expected
        # Nothing of the delimiter went out: what did stops before its CR.
        assert len(b"".join(out)) <= max(0, expected - 2)
        assert data.startswith(b"".join(out))
    else:
        assert expected == -1
        assert b"".join(out) == data


async def test_the_reader_sees_exactly_the_parts_written_when_near_misses_are_held() -> None:
    content = b"abc\r\n--se"  # ends with the delimiter's beginning: held back, then sent
    writer = MultipartWriter("form-data", boundary=BOUNDARY)
    writer.append_payload(
        AsyncIterablePayload(agen([content[:4], content[4:]])),
        {"Content-Disposition": 'form-data; name="a"'},
    )
    writer.append("b", {"Content-Disposition": 'form-data; name="b"'})
    body = await collect(writer)
    assert writer.size is None
    reader = MultipartReader(writer.content_type, stream_of(body, range(1, len(body))))
    got = [(part.name, await part.read()) async for part in reader]  # type: ignore[union-attr]
    assert got == [("a", content), ("b", b"b")]


# Against a real receiver: the local test server decodes multipart/form-data itself.


def _post(server: LocalServer, path: str, body: bytes, content_type: str) -> dict[str, object]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        text = response.read()
        assert response.status == 200, (response.status, text[:300])
    finally:
        conn.close()
    result: dict[str, object] = json.loads(text)
    return result


async def test_the_server_would_see_a_forged_part_and_the_writer_never_sends_it(
    httpwire_server: LocalServer,
) -> None:
    upload = b"report line 1" + FORGED
    # What the receiver makes of these bytes, were they sent under the chosen boundary:
    # the file ends early and a field "role" appears that the sender never added.
    unchecked = (
        b'--sep\r\nContent-Disposition: form-data; name="first"\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nfirst field"
        b'\r\n--sep\r\nContent-Disposition: form-data; name="upload"; filename="a.bin"'
        b"\r\nContent-Type: application/octet-stream\r\n\r\n" + upload + b"\r\n--sep--\r\n"
    )
    shown = await asyncio.to_thread(
        _post, httpwire_server, "/post", unchecked, "multipart/form-data; boundary=sep"
    )
    assert shown["form"] == {"first": "first field", "role": "admin" + SECRET.decode()}

    # The writer streams the same upload to the server, piece by piece as a client would
    # (chunked), and is stopped before the delimiter; the server reports what it got.
    writer = form_with(AsyncIterablePayload(agen(pieces_cut_at(upload, [5, 15, 17]))))
    reader, stream = await asyncio.open_connection(httpwire_server.host, httpwire_server.port)
    stream.write(
        b"POST /upload-digest HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        b"Content-Type: " + writer.content_type.encode() + b"\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    sent = bytearray()
    with pytest.raises(BoundaryInContentError):
        async for piece in writer:
            stream.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await stream.drain()
            sent += piece
    # A client would abort here; ending the body instead shows what had gone out.
    stream.write(b"0\r\n\r\n")
    await stream.drain()
    answer = await reader.read()
    stream.close()
    await stream.wait_closed()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    if b"transfer-encoding: chunked" in head.lower():
        payload = _dechunk(payload)
    digest = json.loads(payload)
    assert digest["bytes"] == len(sent)
    assert digest["sha256"] == hashlib.sha256(sent).hexdigest()
    assert unchecked.startswith(bytes(sent))
    # Everything up to the forged delimiter went out, and not one byte of it.
    assert len(sent) == unchecked.index(FORGED)


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[:size]
        data = data[size + 2 :]
