"""The per-coding stages under the decoders: zlib wrappers, zstd framing, output limits."""

from __future__ import annotations

import gzip
import os
import zlib
from typing import Any, SupportsIndex

import pytest

from httpwire.parser import DecodingError
from httpwire.parser._codings import Stage, ZlibStage

try:
    import zstandard

    from httpwire.parser._codings import ZstdStage

    HAVE_ZSTD = True
except ImportError:  # pragma: no cover - the test group installs it
    HAVE_ZSTD = False

needs_zstd = pytest.mark.skipif(not HAVE_ZSTD, reason="zstandard not installed")

TEXT = b"".join(b"%05d %s\n" % (i, os.urandom(6).hex().encode()) for i in range(20000))


def run(stage: Stage, body: bytes, *, step: int, limit: int) -> bytes:
    """Feed ``body`` in ``step`` pieces with ``limit`` per call, drain, finish."""
    out = []
    for start in range(0, len(body) or 1, step):
        piece = stage.decode(body[start : start + step], limit)
        assert len(piece) <= limit
        out.append(piece)
        while stage.pending:
            piece = stage.decode(b"", limit)
            assert len(piece) <= limit
            out.append(piece)
    stage.finish()
    return b"".join(out)


@pytest.mark.parametrize("level", [0, 1, 6, 9])
@pytest.mark.parametrize("wbits", [9, 12, 15])
def test_every_zlib_header_is_told_from_raw_deflate(level: int, wbits: int) -> None:
    # RFC 1950 §2.2: CMF/FLG vary with the window size and the level (FLEVEL); each header
    # is recognised, and the raw deflate from the same settings is too.
    for raw in (False, True):
        comp = zlib.compressobj(level, zlib.DEFLATED, -wbits if raw else wbits)
        body = comp.compress(TEXT[:5000]) + comp.flush()
        stage = ZlibStage("deflate", "the body", gzip=False)
        assert run(stage, body, step=1 if level == 9 else 700, limit=333) == TEXT[:5000]


def test_zlib_stage_stops_exactly_at_the_limit() -> None:
    stage = ZlibStage("gzip", "the body", gzip=True)
    body = gzip.compress(TEXT)
    assert len(stage.decode(body, 4096)) == 4096
    assert stage.pending
    assert len(stage.decode(b"", 10)) == 10
    assert run(stage, b"", step=1, limit=50_000)  # the rest drains in bounded calls


def test_gzip_members_split_anywhere() -> None:
    members = [gzip.compress(TEXT[i : i + 7000]) for i in range(0, 21000, 7000)]
    body = b"".join(members)
    for step in (1, 2, 9, 10, 11, 4096):
        stage = ZlibStage("gzip", "the body", gzip=True)
        assert run(stage, body, step=step, limit=1000) == TEXT[:21000]


def test_gzip_header_fields_are_skipped() -> None:
    # FNAME and MTIME in the header (RFC 1952 §2.3), as gzip(1) writes them.
    out = gzip.compress(b"named")
    with_name = bytearray(out[:10])
    with_name[3] |= 0x08  # FNAME
    body = bytes(with_name) + b"file.txt\x00" + out[10:]
    assert run(ZlibStage("gzip", "the body", gzip=True), body, step=3, limit=100) == b"named"


@needs_zstd
@pytest.mark.parametrize("size", [0, 1, 255, 256, 65791, 65792, 300_000])
def test_zstd_frame_headers_with_every_content_size_field(size: int) -> None:
    # RFC 8878 §3.1.1.1: Frame_Content_Size takes 1, 2, 4 or 8 bytes, and a single-segment
    # frame has no window descriptor; the stage must find the first block after each form.
    data = (TEXT * 2)[:size]
    for checksum in (False, True):
        body = zstandard.ZstdCompressor(write_checksum=checksum).compress(data)
        for step in (1, 7, 1 << 20):
            stage = ZstdStage("zstd", "the body", zstandard)
            assert run(stage, body, step=step, limit=4096) == data


@needs_zstd
def test_zstd_rle_and_raw_blocks() -> None:
    # Zeros give RLE blocks (3-byte header + 1 byte for up to 128 KiB); random bytes give
    # raw blocks. Both are units of their own.
    data = bytes(300_000) + os.urandom(200_000) + bytes(100_000)
    cctx = zstandard.ZstdCompressor(level=1, write_content_size=False)
    body = cctx.compress(data)
    assert len(body) < 250_000
    stage = ZstdStage("zstd", "the body", zstandard)
    assert run(stage, body, step=5000, limit=65536) == data


@needs_zstd
def test_zstd_frame_with_a_dictionary_id_is_refused_cleanly() -> None:
    samples: list[bytes | bytearray | memoryview] = [
        b"sample %d: " % i + TEXT[i * 50 : i * 50 + 200] for i in range(400)
    ]
    dictionary = zstandard.train_dictionary(2048, samples)
    body = zstandard.ZstdCompressor(dict_data=dictionary).compress(TEXT[:3000])
    stage = ZstdStage("zstd", "the body", zstandard)
    with pytest.raises(DecodingError, match=r"corrupt zstd data between bytes \d+ and \d+"):
        run(stage, body, step=100, limit=4096)


@needs_zstd
def test_zstd_reserved_block_type_is_refused() -> None:
    header = zstandard.ZstdCompressor(write_content_size=False).compress(b"x")[:6]
    body = header + (0b111).to_bytes(3, "little")  # last block, type 3 (reserved)
    stage = ZstdStage("zstd", "the body", zstandard)
    with pytest.raises(DecodingError) as info:
        stage.decode(body, 100)
    assert str(info.value) == (
        "corrupt zstd data at byte 6 of the body: reserved block type (RFC 8878 §3.1.1.2)"
    )


@needs_zstd
def test_zstd_stream_cut_between_frames_is_complete_but_inside_is_truncated() -> None:
    frame = zstandard.ZstdCompressor().compress(TEXT[:1000])
    stage = ZstdStage("zstd", "the body", zstandard)
    assert run(stage, frame * 2, step=50, limit=4096) == TEXT[:1000] * 2
    stage = ZstdStage("zstd", "the body", zstandard)
    stage.decode(frame + frame[:10], 4096)
    with pytest.raises(DecodingError, match="zstd data is truncated: the body ended after"):
        stage.finish()


# --- work linear in the input, whatever the pieces (a hostile server's worst cases) ----------

MIB = 1 << 20


class _Counted(bytes):
    """Body bytes that count every byte copied out of them by slicing."""

    copied = 0

    def __getitem__(self, key: SupportsIndex | slice) -> Any:
        if isinstance(key, slice):
            out = _Counted(super().__getitem__(key))
            _Counted.copied += len(out)
            return out
        return super().__getitem__(key)

    def __add__(self, other: bytes) -> _Counted:  # type: ignore[override]  # bytes only here
        out = _Counted(bytes(self) + bytes(other))
        _Counted.copied += len(out)
        return out


class _CountingZlib:
    """A zlib decompressor that counts the bytes handed to it and copied back out of it."""

    handled = 0

    def __init__(self, wbits: int) -> None:
        self._obj = _REAL_DECOMPRESSOBJ(wbits)

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        _CountingZlib.handled += len(data)
        return self._obj.decompress(data, max_length)

    @property
    def eof(self) -> bool:
        return self._obj.eof

    @property
    def unused_data(self) -> bytes:
        _CountingZlib.handled += len(self._obj.unused_data)
        return self._obj.unused_data

    @property
    def unconsumed_tail(self) -> bytes:
        _CountingZlib.handled += len(self._obj.unconsumed_tail)
        return self._obj.unconsumed_tail


_REAL_DECOMPRESSOBJ = zlib.decompressobj


def _work_to_decode(stage: Stage, body: bytes, limit: int) -> int:
    """Bytes copied or handed to the library while ``body`` is decoded fed whole."""
    _Counted.copied = _CountingZlib.handled = 0
    out = run(stage, _Counted(body), step=len(body), limit=limit)
    assert len(out) < len(body)
    return _Counted.copied + _CountingZlib.handled


@pytest.mark.parametrize("limit", [65536, 1024])
def test_gzip_of_many_empty_members_costs_work_linear_in_its_size(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """4 MiB of empty gzip members (with zero padding between some), fed whole: zlib copies
    what follows a member's end, so the stage must never hand it the whole rest."""
    monkeypatch.setattr(zlib, "decompressobj", _CountingZlib)
    member = gzip.compress(b"", mtime=0) + gzip.compress(b"x", mtime=0) + b"\x00" * 3
    small = member * (MIB // len(member))
    large = member * (4 * MIB // len(member))
    work_small = _work_to_decode(ZlibStage("gzip", "the body", gzip=True), small, limit)
    work_large = _work_to_decode(ZlibStage("gzip", "the body", gzip=True), large, limit)
    assert work_large <= 16 * len(large)
    assert work_large <= 4.2 * work_small  # four times the input, four times the work


@needs_zstd
def test_zstd_of_one_byte_raw_blocks_costs_work_linear_in_its_size() -> None:
    """4 MiB of 1-byte raw blocks (RFC 8878 §3.1.1.2), fed whole: the stage must keep an
    offset into its input, never re-slice the rest of it for every block."""

    def frame(blocks: int) -> bytes:
        header = _ZSTD_MAGIC_BYTES + b"\x00\x00"  # no content size, 1 KiB window
        block = (1 << 3).to_bytes(3, "little") + b"z"  # raw block of one byte, not last
        last = ((1 << 3) | 1).to_bytes(3, "little") + b"z"
        return header + block * (blocks - 1) + last

    large = frame(4 * MIB // 4)
    work = _work_to_decode(ZstdStage("zstd", "the body", zstandard), large, 65536)
    assert work <= 16 * len(large)  # quadratic, it would be about 2 * 10**12


_ZSTD_MAGIC_BYTES = b"\x28\xb5\x2f\xfd"
