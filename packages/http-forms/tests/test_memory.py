"""A big file upload keeps memory bounded: the file is never read whole."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from httpwire.forms import DEFAULT_CHUNK_SIZE, FormData, MultipartWriter


def _sparse_file(path: Path, size: int) -> Path:
    """A file of *size* bytes that takes no disk space (a hole, read back as zeros)."""
    with path.open("wb") as fd:
        fd.truncate(size)
    return path


async def _stream_form_measuring_peak(path: Path) -> tuple[int, int]:
    """Stream a form holding *path*; return the bytes yielded and the peak traced memory."""
    with path.open("rb") as fd:
        form = FormData()
        form.add_field("title", "big upload")
        form.add_field("file", fd, content_type="application/octet-stream")
        body = form.build()
        assert isinstance(body, MultipartWriter)
        total = 0
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            async for piece in body:
                total += len(piece)  # a consumer that forwards and drops each piece
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert body.size == total
    return total, peak


async def test_a_64_mib_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    total, peak = await _stream_form_measuring_peak(_sparse_file(tmp_path / "big.bin", size))
    assert total > size
    # A few pieces in flight at most (the one sent, the one being read, and those the
    # executor's futures have not released yet), whatever the file's size.
    assert peak < 8 * DEFAULT_CHUNK_SIZE, peak


@pytest.mark.slow
async def test_a_2_gib_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    size = 2 * 1024 * 1024 * 1024
    total, peak = await _stream_form_measuring_peak(_sparse_file(tmp_path / "huge.bin", size))
    assert total > size
    assert peak < 8 * DEFAULT_CHUNK_SIZE, peak
