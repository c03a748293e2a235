"""Streaming content decoders: every coding, any split, bounded output, clear errors."""

from __future__ import annotations

import gzip
import io
import os
import struct
import subprocess
import sys
import tracemalloc
import types
import zlib
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpwire.parser import ContentDecoder, DecodingError, make_decoder, supported_codings
from httpwire.parser import _decoders as decoders_module

try:
    import brotli  # type: ignore[import-untyped]  # brotli ships no type information
except ImportError:  # pragma: no cover - the test group installs it
    brotli = None
try:
    import zstandard

    HAVE_ZSTD = True
except ImportError:  # pragma: no cover - the test group installs it
    HAVE_ZSTD = False

needs_brotli = pytest.mark.skipif(
    brotli is None or "br" not in supported_codings(), reason="brotli>=1.2 not installed"
)
needs_zstd = pytest.mark.skipif(not HAVE_ZSTD, reason="zstandard not installed")

# Text-like data: compressible, but not trivially.
DATA = b"".join(b"line %d: %s\n" % (i, os.urandom(8).hex().encode()) for i in range(3000))


def raw_deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


def zstd_stream(data: bytes, *, checksum: bool = True, frames: int = 1) -> bytes:
    """zstd as a streaming server writes it: no content size, several blocks, a checksum."""
    cctx = zstandard.ZstdCompressor(level=3, write_checksum=checksum, write_content_size=False)
    out = io.BytesIO()
    step = len(data) // frames + 1
    for start in range(0, len(data), step):
        with cctx.stream_writer(out, closefd=False) as writer:
            writer.write(data[start : start + step])
    return out.getvalue()


def encode(codings: Sequence[str], data: bytes) -> bytes:
    """Apply codings in order, as a server does."""
    for coding in codings:
        if coding in ("gzip", "x-gzip"):
            data = gzip.compress(data)
        elif coding == "deflate":
            data = zlib.compress(data)
        elif coding == "br":
            assert brotli is not None
            data = brotli.compress(data, quality=5)
        elif coding == "zstd":
            data = zstd_stream(data)
        else:
            raise AssertionError(coding)
    return data


def drain(
    dec: ContentDecoder, body: bytes, *, step: int, check: Callable[[bytes], None] | None = None
) -> bytes:
    """Feed ``body`` in ``step``-sized pieces the way a reader does; return all output."""
    out: list[bytes] = []

    def take(piece: bytes) -> None:
        assert len(piece) <= dec.max_output
        if check is not None:
            check(piece)
        out.append(piece)

    for start in range(0, len(body), step):
        take(dec.feed(body[start : start + step]))
        while dec.pending:
            take(dec.feed(b""))
    take(dec.flush())
    while dec.pending:
        take(dec.flush())
    return b"".join(out)


def decoder(codings: Sequence[str], max_output: int = 65536) -> ContentDecoder:
    dec = make_decoder(codings, max_output=max_output)
    assert dec is not None
    return dec


ALL_SINGLE = [
    pytest.param("gzip"),
    pytest.param("x-gzip"),
    pytest.param("deflate"),
    pytest.param("br", marks=needs_brotli),
    pytest.param("zstd", marks=needs_zstd),
]


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("coding", ALL_SINGLE)
@pytest.mark.parametrize(
    ("step", "max_output"), [(1, 65536), (7, 1), (1000, 1000), (1 << 20, 4096)]
)
def test_round_trip(coding: str, step: int, max_output: int) -> None:
    body = encode([coding], DATA[:20000] if step < 10 else DATA)
    expected = DATA[:20000] if step < 10 else DATA
    assert drain(decoder([coding], max_output), body, step=step) == expected


@given(
    data=st.binary(max_size=3000),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=8),
    max_output=st.integers(min_value=1, max_value=5000),
    coding=st.sampled_from(["gzip", "deflate", "raw", "br", "zstd"]),
)
def test_any_split_and_any_limit_give_the_same_output(
    data: bytes, cuts: list[int], max_output: int, coding: str
) -> None:
    if coding == "raw":
        body, coding = raw_deflate(data), "deflate"
    elif (coding == "br" and "br" not in supported_codings()) or (
        coding == "zstd" and not HAVE_ZSTD
    ):
        return
    else:
        body = encode([coding], data)
    dec = decoder([coding], max_output)
    out = []
    start = 0
    for cut in [*sorted(c % (len(body) + 1) for c in cuts), len(body)]:
        piece = dec.feed(body[start:cut])
        assert len(piece) <= max_output
        out.append(piece)
        start = max(start, cut)
        while dec.pending:
            piece = dec.feed(b"")
            assert len(piece) <= max_output
            out.append(piece)
    out.append(dec.flush())
    assert not dec.pending
    assert b"".join(out) == data


def test_names_are_case_insensitive_and_identity_is_ignored() -> None:
    assert make_decoder([]) is None
    assert make_decoder(["identity"]) is None
    assert make_decoder(["IDENTITY", " identity "]) is None
    dec = decoder(["identity", "GZIP", "Identity"])
    assert dec.codings == ("gzip",)
    assert drain(dec, gzip.compress(b"abc"), step=2) == b"abc"


def test_multi_member_gzip() -> None:
    # RFC 1952 §2.2: a gzip file is a series of members; gzip(1) decodes them all.
    body = gzip.compress(DATA[:1000]) + gzip.compress(b"") + gzip.compress(DATA[1000:])
    for step in (1, 13, len(body)):
        assert drain(decoder(["gzip"], 500), body, step=step) == DATA


def test_zero_padding_after_a_gzip_member_is_ignored() -> None:
    body = gzip.compress(b"first") + b"\x00" * 10 + gzip.compress(b" second") + b"\x00\x00"
    for step in (1, 3, len(body)):
        assert drain(decoder(["gzip"]), body, step=step) == b"first second"


def test_deflate_zlib_wrapped_and_raw() -> None:
    # RFC 9110 §8.4.1.2 says zlib format; many servers send raw deflate. Both decode,
    # told apart by the first two bytes, even when they arrive one at a time.
    for body in (zlib.compress(DATA), raw_deflate(DATA), zlib.compress(b""), raw_deflate(b"")):
        expected = DATA if len(body) > 20 else b""
        assert drain(decoder(["deflate"], 3000), body, step=1) == expected


def test_deflate_with_every_zlib_window_size() -> None:
    for wbits in range(9, 16):
        comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
        body = comp.compress(DATA) + comp.flush()
        assert drain(decoder(["deflate"]), body, step=4096) == DATA


@needs_brotli
def test_stacked_codings_decode_in_reverse_order() -> None:
    # RFC 9110 §8.4: codings are listed in the order they were applied.
    body = encode(["gzip", "br"], DATA)
    assert drain(decoder(["gzip", "br"], 777), body, step=101) == DATA
    with pytest.raises(DecodingError, match=r"corrupt gzip data .* of the body"):
        drain(decoder(["br", "gzip"]), body, step=101)


@needs_brotli
@needs_zstd
def test_deep_stack_of_every_coding() -> None:
    codings = ["deflate", "br", "gzip", "zstd", "x-gzip"]
    body = encode(codings, DATA)
    for step, max_output in ((1 << 20, 65536), (97, 1)):
        dec = decoder(codings, max_output)
        assert drain(dec, body if step > 1 else encode(codings, DATA[:3000]), step=step) == (
            DATA if step > 1 else DATA[:3000]
        )


def test_more_than_five_codings_are_refused() -> None:
    with pytest.raises(DecodingError, match=r"6 stacked content codings .* at most 5"):
        make_decoder(["gzip"] * 6)


@needs_zstd
def test_zstd_frames_skippable_frames_and_checksums() -> None:
    skippable = struct.pack("<II", 0x184D2A53, 5) + b"12345"
    one_shot = zstandard.ZstdCompressor(write_checksum=True).compress(DATA[:5000])
    body = (
        zstd_stream(DATA[:10000], frames=3)
        + skippable
        + one_shot
        + zstd_stream(DATA[15000:], checksum=False)
    )
    expected = DATA[:10000] + DATA[:5000] + DATA[15000:]
    for step in (1, 5, 4096, len(body)):
        assert drain(decoder(["zstd"], 4096), body, step=step) == expected


@needs_zstd
def test_zstd_window_above_8_mib_is_refused() -> None:
    # RFC 9659 §3: a decoder may refuse windows larger than 8 MB.
    params = zstandard.ZstdCompressionParameters.from_level(
        3, window_log=24, write_content_size=False
    )
    cctx = zstandard.ZstdCompressor(compression_params=params)
    out = io.BytesIO()
    with cctx.stream_writer(out, closefd=False) as writer:
        writer.write(DATA)
    with pytest.raises(DecodingError) as info:
        drain(decoder(["zstd"]), out.getvalue(), step=1)
    assert str(info.value) == (
        "zstd frame at byte 0 of the body needs a 16777216-byte window; at most 8388608 bytes "
        "(8 MiB) are accepted (RFC 9659 §3)"
    )


# --- bounded output: decompression bombs -----------------------------------------------------


def gzip_zeros(mib: int) -> bytes:
    """A valid gzip of ``mib`` MiB of zeros, built without compressing all of it."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    assert comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH) == block
    end = comp.flush()[:-8]  # the final empty block, without the 3-MiB trailer
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)
    return first + block * (mib - 1) + end + trailer


def test_gzip_helper_makes_valid_gzip() -> None:
    assert gzip.decompress(gzip_zeros(3)) == bytes(3 << 20)


def test_gzip_bomb_fed_whole_is_drained_piecewise() -> None:
    bomb = gzip_zeros(64)  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < 100_000
    dec = decoder(["gzip"], max_output=65536)
    first = dec.feed(bomb)
    assert len(first) == 65536
    pending = dec.pending
    assert pending
    total, calls = len(first), 1
    while dec.pending:
        piece = dec.feed(b"")
        assert len(piece) <= 65536
        assert piece.count(0) == len(piece)
        total += len(piece)
        calls += 1
    dec.flush()
    assert total == 64 << 20
    assert calls >= (64 << 20) // 65536


def test_bomb_decoding_keeps_memory_bounded() -> None:
    bomb = gzip_zeros(32)
    dec = decoder(["gzip", "gzip"], max_output=16384)  # stacked: every stage bounded
    body = gzip.compress(bomb)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        total = 0
        for start in range(0, len(body), 65536):
            total += len(dec.feed(body[start : start + 65536]))
            while dec.pending:
                total += len(dec.feed(b""))
        total += len(dec.flush())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 32 << 20
    # Input (~150 KiB) plus a few output-sized buffers; never the 32 MiB.
    assert peak < 2 << 20, peak


@pytest.mark.parametrize(
    "coding", [pytest.param("br", marks=needs_brotli), pytest.param("zstd", marks=needs_zstd)]
)
def test_brotli_and_zstd_bombs_are_bounded(coding: str) -> None:
    zeros = bytes(48 << 20)
    if coding == "br":
        assert brotli is not None
        body = brotli.compress(zeros, quality=1)
    else:
        body = zstd_stream(zeros)
    assert len(body) < 1 << 20
    dec = decoder([coding], max_output=32768)
    tracemalloc.start()
    try:
        total = 0
        piece = dec.feed(body)
        while True:
            assert len(piece) <= 32768
            total += len(piece)
            if not dec.pending:
                break
            piece = dec.feed(b"")
        total += len(dec.flush())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 48 << 20
    # The held-back output is one brotli step or one zstd block (128 KiB) at most.
    assert peak < len(body) + (1 << 20), peak


@pytest.mark.slow
def test_ten_gib_gzip_bomb_drains_with_bounded_calls() -> None:
    bomb = gzip_zeros(10 * 1024)
    dec = decoder(["gzip"], max_output=1 << 20)
    total = len(dec.feed(bomb))
    while dec.pending:
        piece = dec.feed(b"")
        assert len(piece) <= 1 << 20
        total += len(piece)
    dec.flush()
    assert total == 10 << 30


# --- errors ---------------------------------------------------------------------------------


def test_corrupt_gzip_names_coding_and_offsets() -> None:
    body = bytearray(gzip.compress(DATA))
    body[200:210] = b"\xff" * 10
    with pytest.raises(DecodingError) as info:
        drain(decoder(["gzip"]), bytes(body), step=100)
    message = str(info.value)
    assert message.startswith("corrupt gzip data between bytes ")
    assert "of the body: Error -3 while decompressing data" in message


def test_not_gzip_at_all() -> None:
    with pytest.raises(
        DecodingError,
        match=r"corrupt gzip data between bytes 0 and 11 of the body: .*incorrect header check",
    ):
        decoder(["gzip"]).feed(b"hello world")


def test_garbage_after_gzip_member_is_an_error() -> None:
    body = gzip.compress(b"abc") + b"<html>"
    with pytest.raises(DecodingError) as info:
        drain(decoder(["gzip"]), body, step=len(body))
    assert str(info.value) == (
        f"unexpected bytes after the end of gzip member 1 at byte {len(body) - 6} of the body: "
        "b'<html>' (a new member starts with b'\\x1f\\x8b')"
    )


def test_garbage_after_deflate_stream_is_an_error() -> None:
    body = zlib.compress(b"abc") + b"xyz"
    with pytest.raises(
        DecodingError,
        match=r"after the end of the deflate stream at byte \d+ of the body: b'xyz'",
    ):
        drain(decoder(["deflate"]), body, step=len(body))


def test_corrupt_deflate() -> None:
    body = bytearray(zlib.compress(DATA))
    body[-4:] = b"\x00\x00\x00\x00"  # the Adler-32 checksum
    with pytest.raises(DecodingError, match=r"corrupt deflate data .*incorrect data check"):
        drain(decoder(["deflate"]), bytes(body), step=4096)


@pytest.mark.parametrize("coding", ALL_SINGLE)
def test_truncated_stream_is_an_error_at_flush(coding: str) -> None:
    body = encode(["gzip" if coding == "x-gzip" else coding], DATA)
    cut = body[: len(body) // 2]
    dec = decoder([coding])
    while True:
        dec.feed(cut)
        cut = b""
        if not dec.pending:
            break
    with pytest.raises(DecodingError) as info:
        dec.flush()
    name = "gzip" if coding == "x-gzip" else coding
    assert str(info.value) == (
        f"{name} data is truncated: the body ended after {len(body) // 2} bytes, "
        f"before the end of the {name} stream"
    )


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_body_cut_inside_the_first_two_bytes_is_truncated(coding: str) -> None:
    dec = decoder([coding])
    assert dec.feed(b"\x1f" if coding == "gzip" else b"\x78") == b""
    assert not dec.pending
    with pytest.raises(DecodingError, match=f"{coding} data is truncated: the body ended after"):
        dec.flush()


@pytest.mark.parametrize("coding", ALL_SINGLE)
def test_empty_body_decodes_to_nothing(coding: str) -> None:
    # A 200 with Content-Length: 0 and Content-Encoding: gzip is common; it is not an error.
    dec = decoder([coding])
    assert dec.feed(b"") == b""
    assert dec.flush() == b""


@needs_brotli
def test_corrupt_brotli() -> None:
    body = bytearray(encode(["br"], DATA))
    body[100:140] = bytes(40)
    with pytest.raises(
        DecodingError, match=r"corrupt br data between bytes \d+ and \d+ of the body"
    ):
        drain(decoder(["br"]), bytes(body), step=64)


@needs_brotli
def test_garbage_after_brotli_stream() -> None:
    body = encode(["br"], b"abc") + b"tail"
    with pytest.raises(
        DecodingError, match=r"(unexpected bytes after the end of the br stream|corrupt br data)"
    ):
        drain(decoder(["br"]), body, step=1)


@needs_zstd
def test_corrupt_zstd() -> None:
    body = bytearray(zstd_stream(DATA))
    body[-4:] = b"\x00\x00\x00\x00"  # the content checksum
    with pytest.raises(
        DecodingError, match=r"corrupt zstd data between bytes \d+ and \d+ of the body: .*checksum"
    ):
        drain(decoder(["zstd"]), bytes(body), step=4096)


@needs_zstd
def test_not_zstd_at_all() -> None:
    with pytest.raises(DecodingError) as info:
        decoder(["zstd"]).feed(b"hello world")
    assert str(info.value) == (
        "corrupt zstd data at byte 0 of the body: b'hell' is not a zstd frame magic number "
        "(RFC 8878 §3.1.1)"
    )


def test_inner_layer_error_names_the_layer() -> None:
    body = gzip.compress(b"not deflate at all")
    with pytest.raises(DecodingError, match=r"corrupt deflate data .* of the gzip-decoded data"):
        drain(decoder(["deflate", "gzip"]), body, step=4)


def test_unsupported_coding_lists_what_is_supported() -> None:
    with pytest.raises(DecodingError) as info:
        make_decoder(["compress"])
    supported = ", ".join(supported_codings())
    assert str(info.value) == (
        f"content coding 'compress' is not supported; supported: {supported}"
    )


@pytest.mark.parametrize(
    ("coding", "library", "extra"), [("br", "brotli", "brotli"), ("zstd", "zstandard", "zstd")]
)
def test_missing_library_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, coding: str, library: str, extra: str
) -> None:
    # No real peer can uninstall a library mid-run: hide it from the import system.
    monkeypatch.setitem(sys.modules, library, None)
    monkeypatch.setattr(decoders_module, "_modules", {})
    assert coding not in supported_codings()
    with pytest.raises(DecodingError) as info:
        make_decoder(["gzip", coding])
    assert f"content coding {coding!r} needs " in str(info.value)
    assert f"pip install 'httpwire-parser[{extra}]'" in str(info.value)


def test_brotli_without_an_output_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # brotli < 1.2 decodes a whole bomb in one call; it is treated as missing.
    old = types.ModuleType("brotli")

    class Decompressor:
        def process(self, data: bytes) -> bytes:
            raise AssertionError("never used")

    old.Decompressor = Decompressor  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "brotli", old)
    monkeypatch.setattr(decoders_module, "_modules", {})
    assert "br" not in supported_codings()
    with pytest.raises(DecodingError, match=r"'br' needs brotli 1.2 or newer: pip install"):
        make_decoder(["br"])


def test_supported_codings() -> None:
    codings = supported_codings()
    assert codings[:3] == ("gzip", "x-gzip", "deflate")
    assert ("br" in codings) == (
        brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data")
    )
    assert ("zstd" in codings) == HAVE_ZSTD


@pytest.mark.parametrize("max_output", [0, -1])
def test_max_output_must_be_positive(max_output: int) -> None:
    with pytest.raises(ValueError, match=rf"max_output must be a positive int, not {max_output}"):
        make_decoder(["gzip"], max_output=max_output)


def test_one_str_is_not_a_list_of_codings() -> None:
    with pytest.raises(TypeError, match="not one str"):
        make_decoder("gzip")


def test_feed_after_flush_is_refused() -> None:
    dec = decoder(["gzip"])
    dec.feed(gzip.compress(b"x"))
    assert dec.flush() == b""
    assert dec.flush() == b""
    with pytest.raises(RuntimeError, match=r"feed\(\) after flush\(\)"):
        dec.feed(b"more")


def test_flush_returns_held_output_in_bounded_pieces() -> None:
    dec = decoder(["gzip"], max_output=10)
    assert dec.feed(gzip.compress(b"0123456789abcdefghij!")) == b"0123456789"
    assert dec.flush() == b"abcdefghij"
    assert dec.pending
    assert dec.flush() == b"!"
    assert not dec.pending


def test_decoder_is_unusable_after_an_error() -> None:
    dec = decoder(["gzip"])
    with pytest.raises(DecodingError) as first:
        dec.feed(b"not gzip at all")
    with pytest.raises(DecodingError) as again:
        dec.feed(gzip.compress(b"valid now"))
    assert again.value is first.value
    with pytest.raises(DecodingError) as at_flush:
        dec.flush()
    assert at_flush.value is first.value


def test_truncation_error_is_kept_too() -> None:
    dec = decoder(["deflate"])
    dec.feed(zlib.compress(DATA)[:100])
    with pytest.raises(DecodingError, match="truncated") as first:
        dec.flush()
    with pytest.raises(DecodingError) as again:
        dec.flush()
    assert again.value is first.value


@given(
    coding=st.sampled_from(["gzip", "deflate", "br", "zstd", "gzip,br", "zstd,deflate"]),
    data=st.binary(max_size=2000),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), max_size=4),
    cut=st.integers(min_value=0),
    step=st.integers(min_value=1, max_value=600),
)
def test_damaged_input_raises_only_decoding_error(
    coding: str, data: bytes, flips: list[tuple[int, int]], cut: int, step: int
) -> None:
    codings = coding.split(",")
    if ("br" in codings and "br" not in supported_codings()) or (
        "zstd" in codings and not HAVE_ZSTD
    ):
        return
    body = bytearray(encode(codings, data))
    for where, xor in flips if body else ():
        body[where % len(body)] ^= xor
    trim = cut % (len(body) + 1) // 2
    body = body[: len(body) - trim]
    dec = decoder(codings, max_output=512)
    out = []
    calls = 0
    try:
        for start in range(0, len(body), step):
            out.append(dec.feed(bytes(body[start : start + step])))
            while dec.pending:
                calls += 1
                assert calls < 10_000, "pending never cleared"
                out.append(dec.feed(b""))
        while True:
            out.append(dec.flush())
            if not dec.pending:
                break
    except DecodingError:
        return
    assert all(len(piece) <= 512 for piece in out)
    if not flips and not trim:
        assert b"".join(out) == data


def test_optional_libraries_load_only_when_used() -> None:
    # A server importing the parser does not pay for brotli or zstandard until a body needs them.
    code = (
        "import sys, httpwire.parser\n"
        "assert 'brotli' not in sys.modules and 'zstandard' not in sys.modules, sys.modules\n"
        "httpwire.parser.make_decoder(['gzip'])\n"
        "assert 'brotli' not in sys.modules and 'zstandard' not in sys.modules\n"
        "httpwire.parser.supported_codings()\n"
        "print(sorted(m for m in ('brotli', 'zstandard') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    expected = [m for m, ok in (("brotli", brotli is not None), ("zstandard", HAVE_ZSTD)) if ok]
    assert result.stdout.strip() == repr(expected)
