"""One decoder stage per content coding: gzip, deflate, br and zstd.

Strategy: a stage takes compressed input (possibly empty) and a limit, and
returns at most ``limit`` decoded bytes; input that would decode to more waits
inside the stage until the next call. What waits is the caller's own compressed
bytes, or decoded output of one fixed-size step at most (one brotli output step,
one zstd block of 128 KiB): never an amount that grows with the ratio of a bomb.

* gzip (``x-gzip``): zlib with the gzip wrapper, whose ``max_length`` bounds each
  call; concatenated members are decoded one after the other, and zero padding
  after a member is ignored, as gzip(1) does. zlib copies whatever follows a
  member's end, so it is handed a window of the input, never the whole rest.
* deflate: the ``zlib`` format of RFC 1950 as RFC 9110 §8.4.1.2 says, or the raw
  deflate data many servers send instead; the first two bytes tell which.
* br: brotli 1.2's ``process(data, output_buffer_limit=...)``.
* zstd: the ``zstandard`` library. Its decoder has no output limit, so the input
  is fed one zstd block at a time (a block decodes to 128 KiB at most, RFC 8878
  §3.1.1.2); the window is capped at 8 MiB as RFC 9659 §3 allows.

Every stage keeps an offset into the input it holds instead of re-slicing it, so a
body of many tiny members or blocks costs time linear in its size.
"""

from __future__ import annotations

import re
import zlib
from abc import ABC, abstractmethod
from types import ModuleType
from typing import Any, Final

from ._errors import DecodingError, bounded_repr

__all__ = ["BrotliStage", "Stage", "ZlibStage", "ZstdStage"]

_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS
_ZSTD_MAX_WINDOW: Final = 8 * 1024 * 1024
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
# zlib gets a window of the input that doubles, per stream, from the first to the largest.
_FIRST_WINDOW: Final = 64
_MAX_WINDOW: Final = 256 * 1024
_ZEROS: Final = re.compile(b"\x00*")


class Stage(ABC):
    """One coding's decoder: buffered input in, at most ``limit`` bytes out per call."""

    __slots__ = ("_consumed", "_layer", "_name")

    def __init__(self, name: str, layer: str) -> None:
        self._name = name
        self._layer = layer
        # Input bytes handed to the underlying library so far: error offsets.
        self._consumed = 0

    @property
    def name(self) -> str:
        """The coding this stage decodes."""
        return self._name

    @property
    @abstractmethod
    def pending(self) -> bool:
        """More output may come without new input."""

    @abstractmethod
    def decode(self, data: bytes, limit: int) -> bytes:
        """Take ``data`` (may be empty), return at most ``limit`` decoded bytes."""

    @abstractmethod
    def finish(self) -> None:
        """Raise :class:`DecodingError` if the input stopped inside a stream."""

    def _corrupt(self, start: int, end: int, detail: object) -> DecodingError:
        return DecodingError(
            f"corrupt {self._name} data between bytes {start} and {end} of {self._layer}: {detail}"
        )

    def _truncated(self) -> DecodingError:
        return DecodingError(
            f"{self._name} data is truncated: {self._layer} ended after {self._consumed} "
            f"bytes, before the end of the {self._name} stream"
        )


class ZlibStage(Stage):
    """gzip (with concatenated members) or deflate (zlib-wrapped or raw).

    Input waits in ``_tail`` with an offset ``_pos`` instead of being re-sliced:
    zlib copies whatever follows a stream's end into ``unused_data``, so feeding it
    the whole rest of the input at every member of a multi-member gzip would cost
    time quadratic in the input. Each call hands zlib a window that starts small
    at every stream and doubles while the stream goes on, so what zlib copies back
    is bounded by twice what it consumed (plus a constant), whatever the pieces.
    """

    __slots__ = ("_done", "_gzip", "_members", "_more", "_obj", "_pos", "_tail", "_window")

    def __init__(self, name: str, layer: str, *, gzip: bool) -> None:
        super().__init__(name, layer)
        self._gzip = gzip
        self._obj: Any = None  # zlib's Decompress type is not public before 3.12
        self._tail = b""  # input not yet consumed by zlib, from _pos on
        self._pos = 0
        self._window = _FIRST_WINDOW  # input handed to zlib in the next call
        self._more = False  # the last call stopped at its output limit
        self._members = 0  # streams (gzip members) completed
        self._done = False  # deflate: the one stream ended

    @property
    def pending(self) -> bool:
        return self._more

    def _start(self, buf: bytes, pos: int) -> bool:
        """Create the decompressor for the stream at ``buf[pos:]``; False to wait."""
        if self._gzip:
            if self._members:
                if len(buf) - pos == 1 and buf[pos] == 0x1F:
                    return False
                if buf[pos : pos + 2] != b"\x1f\x8b":
                    raise DecodingError(
                        f"unexpected bytes after the end of gzip member {self._members} "
                        f"at byte {self._consumed} of {self._layer}: "
                        f"{bounded_repr(buf[pos:], 16)} "
                        "(a new member starts with b'\\x1f\\x8b')"
                    )
            self._obj = zlib.decompressobj(_GZIP_WBITS)
            return True
        if self._done:
            raise DecodingError(
                f"unexpected bytes after the end of the deflate stream at byte "
                f"{self._consumed} of {self._layer}: {bounded_repr(buf[pos:], 16)}"
            )
        if len(buf) - pos < 2:
            return False
        # RFC 1950 §2.2: CM = 8, CINFO <= 7 and the header is a multiple of 31. Raw
        # deflate from real encoders never matches: its first byte then would be a
        # non-final stored block with nonzero padding bits.
        cmf, flg = buf[pos], buf[pos + 1]
        wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
        self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return True

    def decode(self, data: bytes, limit: int) -> bytes:
        buf, pos = self._tail, self._pos
        if data:
            buf = buf[pos:] + data if pos < len(buf) else data
            pos = 0
        n = len(buf)
        more = self._more  # zlib may still hold output of the last call
        if pos >= n and not more:
            return b""
        parts: list[bytes] = []
        size = 0
        window = self._window
        while True:
            if size >= limit:
                more = True  # stopped by the limit: there may be more
                break
            obj = self._obj
            if obj is None:
                more = False
                if self._members and self._gzip:
                    # Zero padding between members is ignored, as gzip(1) does.
                    match = _ZEROS.match(buf, pos)
                    zeros = match.end() - pos if match is not None else 0
                    self._consumed += zeros
                    pos += zeros
                if pos >= n or not self._start(buf, pos):
                    break
                obj = self._obj
                window = _FIRST_WINDOW
            elif pos >= n and not more:
                break
            room = limit - size
            given = buf[pos : pos + window]
            try:
                chunk = obj.decompress(given, room)
            except zlib.error as exc:
                raise self._corrupt(self._consumed, self._consumed + n - pos, exc) from exc
            if chunk:
                parts.append(chunk)
                size += len(chunk)
            if obj.eof:
                used = len(given) - len(obj.unused_data)
                self._consumed += used
                pos += used
                self._obj = None
                self._members += 1
                self._done = not self._gzip
                more = False
                continue
            used = len(given) - len(obj.unconsumed_tail)
            self._consumed += used
            pos += used
            more = len(chunk) >= room
            if not more:
                if pos >= n:
                    break
                window = min(window * 2, _MAX_WINDOW)  # the stream goes on: take more
        if pos >= n:
            buf, pos = b"", 0
        self._tail, self._pos, self._window = buf, pos, window
        self._more = more
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)

    def finish(self) -> None:
        if self._obj is not None or self._pos < len(self._tail):
            raise self._truncated()


class BrotliStage(Stage):
    """br, through brotli 1.2's output-limited ``process``."""

    __slots__ = ("_error", "_extra", "_more", "_obj", "_tail")

    def __init__(self, name: str, layer: str, module: ModuleType) -> None:
        super().__init__(name, layer)
        self._obj = module.Decompressor()
        self._error: type[Exception] = module.error
        self._tail = b""  # input the decoder could not take yet
        self._extra = b""  # output beyond the last call's limit (brotli overshoots)
        self._more = False

    @property
    def pending(self) -> bool:
        return self._more or bool(self._extra)

    def decode(self, data: bytes, limit: int) -> bytes:
        if data:
            self._tail = self._tail + data if self._tail else data
        parts: list[bytes] = []
        size = 0
        if self._extra:
            parts.append(self._extra[:limit])
            size = len(parts[0])
            self._extra = self._extra[limit:]
        obj = self._obj
        while True:
            if size >= limit:
                self._more = True  # stopped by the limit: there may be more
                break
            room = limit - size
            start = self._consumed
            if self._more or not obj.can_accept_more_data():
                buf = b""  # collect what the decoder holds before giving it more
            elif self._tail:
                if obj.is_finished():
                    raise DecodingError(
                        f"unexpected bytes after the end of the br stream at byte "
                        f"{self._consumed} of {self._layer}: {bounded_repr(self._tail, 16)}"
                    )
                buf, self._tail = self._tail, b""
                self._consumed += len(buf)
            else:
                break
            try:
                chunk = obj.process(buf, output_buffer_limit=room)
            except self._error as exc:
                raise self._corrupt(start, self._consumed, exc) from exc
            if len(chunk) > room:  # brotli grows its output in steps past the limit
                self._extra = chunk[room:]
                chunk = chunk[:room]
            if chunk:
                parts.append(chunk)
                size += len(chunk)
                self._more = size >= limit or not obj.can_accept_more_data()
            elif not buf:
                # Nothing was held back after all; give it input next, or stop.
                self._more = False
                if not obj.can_accept_more_data():
                    break  # pragma: no cover - brotli would be stuck; never spin
            else:
                self._more = not obj.can_accept_more_data()
        return b"".join(parts)

    def finish(self) -> None:
        if self._consumed and not self._obj.is_finished():
            raise self._truncated()


class ZstdStage(Stage):
    """zstd: frames and skippable frames, fed one block at a time (RFC 8878 §3.1)."""

    __slots__ = (
        "_checksum",
        "_dctx",
        "_error",
        "_more",
        "_obj",
        "_out",
        "_pos",
        "_state",
        "_tail",
        "_unit",
    )

    # Where the next input byte falls.
    _FRAME, _BLOCK, _CHECKSUM, _BODY = range(4)

    def __init__(self, name: str, layer: str, module: ModuleType) -> None:
        super().__init__(name, layer)
        self._dctx = module.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self._error: type[Exception] = module.ZstdError
        self._obj: Any = None
        # Input not yet given to zstd, from _pos on: an offset, never a re-slice of the
        # rest per block, which made a body of tiny blocks cost quadratic time.
        self._tail = b""
        self._pos = 0
        self._out = b""  # decoded output beyond the last call's limit (one block at most)
        self._state = self._FRAME
        self._unit = 0  # bytes left of the unit (header, block or skippable frame) being fed
        self._checksum = False  # the current frame ends with a 4-byte checksum
        self._more = False  # the last call stopped at its limit with input left

    @property
    def pending(self) -> bool:
        return self._more

    def _next_unit(self) -> bool:
        """Find the length of the next unit to feed; False when more input is needed."""
        tail = self._tail[self._pos : self._pos + 8]  # every header fits in 8 bytes
        state = self._state
        if state == self._FRAME:
            if len(tail) < 5:
                return False
            magic = tail[:4]
            if magic == _ZSTD_MAGIC:
                # RFC 8878 §3.1.1.1: the frame header's size follows from its descriptor.
                fhd = tail[4]
                single = fhd >> 5 & 1
                if not single:
                    # RFC 8878 §3.1.1.1.2: the window descriptor follows; RFC 9659 §3
                    # lets an HTTP recipient refuse windows above 8 MB.
                    if len(tail) < 6:
                        return False
                    exponent, mantissa = tail[5] >> 3, tail[5] & 7
                    window = (1 << (10 + exponent)) + (1 << (7 + exponent)) * mantissa
                    if window > _ZSTD_MAX_WINDOW:
                        raise DecodingError(
                            f"zstd frame at byte {self._consumed} of {self._layer} needs a "
                            f"{window}-byte window; at most {_ZSTD_MAX_WINDOW} bytes (8 MiB) "
                            "are accepted (RFC 9659 §3)"
                        )
                size = 5 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3]
                size += (single, 2, 4, 8)[fhd >> 6]
                self._checksum = bool(fhd & 4)
                self._state, self._unit = self._BLOCK, size
                self._obj = self._dctx.decompressobj()
                return True
            if magic[1:] == b"\x2a\x4d\x18" and magic[0] & 0xF0 == 0x50:
                if len(tail) < 8:
                    return False
                length = int.from_bytes(tail[4:8], "little")
                self._state, self._unit = self._FRAME, 8 + length
                self._obj = self._dctx.decompressobj()
                return True
            raise DecodingError(
                f"corrupt zstd data at byte {self._consumed} of {self._layer}: "
                f"{bounded_repr(magic)} is not a zstd frame magic number (RFC 8878 §3.1.1)"
            )
        if state == self._BLOCK:
            if len(tail) < 3:
                return False
            header = int.from_bytes(tail[:3], "little")
            kind, size = header >> 1 & 3, header >> 3
            if kind == 3:
                raise DecodingError(
                    f"corrupt zstd data at byte {self._consumed} of {self._layer}: "
                    "reserved block type (RFC 8878 §3.1.1.2)"
                )
            self._unit = 3 + (1 if kind == 1 else size)
            if header & 1:
                self._state = self._CHECKSUM if self._checksum else self._FRAME
            return True
        # The checksum: 4 bytes, then a new frame.
        self._state, self._unit = self._FRAME, 4
        return True

    def decode(self, data: bytes, limit: int) -> bytes:
        tail = self._tail
        if data:
            tail = self._tail = tail[self._pos :] + data if self._pos < len(tail) else data
            self._pos = 0
        out = self._out
        parts = [out] if out else []
        size = len(out)
        while size < limit and self._pos < len(tail):
            if not self._unit and not self._next_unit():
                break
            pos = self._pos
            piece = tail[pos : pos + self._unit]
            self._pos = pos + len(piece)
            self._unit -= len(piece)
            start = self._consumed
            self._consumed += len(piece)
            try:
                chunk = self._obj.decompress(piece)
            except self._error as exc:
                raise self._corrupt(start, self._consumed, exc) from exc
            if chunk:
                parts.append(chunk)
                size += len(chunk)
        if self._pos >= len(tail):
            self._tail, self._pos = b"", 0
        out = parts[0] if len(parts) == 1 else b"".join(parts)
        self._out = out[limit:]
        # More may come without input: held output, or input left when the limit stopped us.
        self._more = bool(self._out) or (size >= limit and self._pos < len(self._tail))
        return out[:limit] if size > limit else out

    def finish(self) -> None:
        if self._pos < len(self._tail) or self._unit or self._state != self._FRAME:
            raise self._truncated()
        if self._obj is not None and not self._obj.eof:
            raise self._truncated()  # pragma: no cover - only if zstd disagrees on framing
