"""Streaming decoders for content codings (RFC 9110 §8.4.1): gzip, deflate, br, zstd.

Strategy: a decoder is a chain of stages, one per coding, in the reverse of the
order the codings were applied. Every call's output is bounded by
``max_output``: compressed input that would decode to more waits inside the
decoder (zlib's ``unconsumed_tail``, brotli's own buffer, or our input buffer)
until the caller asks again with ``feed(b"")``. A decompression bomb therefore
costs the caller time, never memory: each stage holds at most about
``max_output`` bytes of decoded data (plus one zstd block or one brotli output
step, a fixed 128 KiB at most).

* gzip (``x-gzip``): zlib with the gzip wrapper; concatenated members are decoded
  one after the other, and zero padding after a member is ignored, as gzip(1) does.
* deflate: the ``zlib`` format of RFC 1950 as RFC 9110 §8.4.1.2 says, or the raw
  deflate data many servers send instead; the first two bytes tell which.
* br: the ``brotli`` library (1.2 or newer, whose decoder takes an output limit).
* zstd: the ``zstandard`` library. Its decoder has no output limit, so the input
  is fed one zstd block at a time (a block decodes to 128 KiB at most); the
  window is capped at 8 MiB as RFC 9659 §3 allows.

A body with no bytes at all (an empty response carrying ``Content-Encoding``) is
accepted and decodes to nothing; a body cut inside a stream is a
:class:`DecodingError` at :meth:`ContentDecoder.flush`.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Final

from ._errors import DecodingError, bounded_repr

__all__ = ["ContentDecoder", "make_decoder", "supported_codings"]

MAX_CODINGS: Final = 5
"""More stacked codings than this are refused: no real server stacks that many."""

_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS
_ZSTD_MAX_WINDOW: Final = 8 * 1024 * 1024
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"

_EXTRAS: Final = {"br": ("brotli", "brotli"), "zstd": ("zstandard", "zstd")}
_modules: dict[str, ModuleType | None] = {}


def _optional(name: str) -> ModuleType | None:
    """Import an optional library once; ``None`` when missing or too old to bound output."""
    if name not in _modules:
        try:
            module: ModuleType | None = importlib.import_module(name)
        except ImportError:
            module = None
        # brotli < 1.2 cannot limit the output of one call: refuse it, or a bomb
        # would decode whole.
        if (
            name == "brotli"
            and module is not None
            and not hasattr(module.Decompressor, "can_accept_more_data")
        ):
            module = None
        _modules[name] = module
    return _modules[name]


def supported_codings() -> tuple[str, ...]:
    """The content codings this installation decodes, for an ``Accept-Encoding`` field.

    Returns:
        ``("gzip", "x-gzip", "deflate")``, followed by ``"br"`` when brotli 1.2
        or newer is installed and ``"zstd"`` when zstandard is installed.
    """
    codings = ["gzip", "x-gzip", "deflate"]
    if _optional("brotli") is not None:
        codings.append("br")
    if _optional("zstandard") is not None:
        codings.append("zstd")
    return tuple(codings)


class _Stage:
    """One coding's decoder: buffered input in, at most ``limit`` bytes out per call."""

    __slots__ = ("_consumed", "_layer", "_name")

    def __init__(self, name: str, layer: str) -> None:
        self._name = name
        self._layer = layer
        # Input bytes handed to the underlying library so far: error offsets.
        self._consumed = 0

    @property
    def pending(self) -> bool:
        """More output may come without new input."""
        raise NotImplementedError

    def decode(self, data: bytes, limit: int) -> bytes:
        """Take ``data`` (may be empty), return at most ``limit`` decoded bytes."""
        raise NotImplementedError

    def finish(self) -> None:
        """Raise :class:`DecodingError` if the input stopped inside a stream."""
        raise NotImplementedError

    def _corrupt(self, start: int, end: int, detail: object) -> DecodingError:
        return DecodingError(
            f"corrupt {self._name} data between bytes {start} and {end} of {self._layer}: {detail}"
        )

    def _truncated(self) -> DecodingError:
        return DecodingError(
            f"{self._name} data is truncated: {self._layer} ended after {self._consumed} "
            f"bytes, before the end of the {self._name} stream"
        )


class _ZlibStage(_Stage):
    """gzip (with concatenated members) or deflate (zlib-wrapped or raw)."""

    __slots__ = ("_done", "_gzip", "_members", "_more", "_obj", "_tail")

    def __init__(self, name: str, layer: str, *, gzip: bool) -> None:
        super().__init__(name, layer)
        self._gzip = gzip
        self._obj: Any = None  # zlib's Decompress type is not public before 3.12
        self._tail = b""  # input not yet consumed by zlib
        self._more = False  # the last call stopped at its output limit
        self._members = 0  # streams (gzip members) completed
        self._done = False  # deflate: the one stream ended

    @property
    def pending(self) -> bool:
        return self._more

    def _start(self, buf: bytes) -> bool:
        """Create the decompressor for the stream starting at ``buf``; False to wait."""
        if self._gzip:
            if self._members:
                if buf == b"\x1f":
                    return False
                if buf[:2] != b"\x1f\x8b":
                    raise DecodingError(
                        f"unexpected bytes after the end of gzip member {self._members} "
                        f"at byte {self._consumed} of {self._layer}: {bounded_repr(buf, 16)} "
                        "(a new member starts with b'\\x1f\\x8b')"
                    )
            self._obj = zlib.decompressobj(_GZIP_WBITS)
            return True
        if self._done:
            raise DecodingError(
                f"unexpected bytes after the end of the deflate stream at byte "
                f"{self._consumed} of {self._layer}: {bounded_repr(buf, 16)}"
            )
        if len(buf) < 2:
            return False
        # RFC 1950 §2.2: CM = 8, CINFO <= 7 and the header is a multiple of 31. Raw
        # deflate from real encoders never matches: its first byte then would be a
        # non-final stored block with nonzero padding bits.
        cmf, flg = buf[0], buf[1]
        wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
        self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return True

    def decode(self, data: bytes, limit: int) -> bytes:
        buf = self._tail + data if self._tail else data
        more = self._more  # zlib may still hold output of the last call
        if not buf and not more:
            return b""
        parts: list[bytes] = []
        size = 0
        while True:
            if size >= limit:
                more = True  # stopped by the limit: there may be more
                break
            obj = self._obj
            if obj is None:
                more = False
                if self._members and self._gzip:
                    # Zero padding between members is ignored, as gzip(1) does.
                    stripped = buf.lstrip(b"\x00")
                    self._consumed += len(buf) - len(stripped)
                    buf = stripped
                if not buf or not self._start(buf):
                    break
                obj = self._obj
            elif not buf and not more:
                break
            room = limit - size
            try:
                chunk = obj.decompress(buf, room)
            except zlib.error as exc:
                raise self._corrupt(self._consumed, self._consumed + len(buf), exc) from exc
            if chunk:
                parts.append(chunk)
                size += len(chunk)
            if obj.eof:
                rest: bytes = obj.unused_data
                self._consumed += len(buf) - len(rest)
                buf = rest
                self._obj = None
                self._members += 1
                self._done = not self._gzip
                more = False
                continue
            tail: bytes = obj.unconsumed_tail
            self._consumed += len(buf) - len(tail)
            buf = tail
            more = len(chunk) >= room
            if not more:
                break
        self._tail = buf
        self._more = more
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)

    def finish(self) -> None:
        if self._obj is not None or self._tail:
            raise self._truncated()


class _BrotliStage(_Stage):
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


class _ZstdStage(_Stage):
    """zstd: frames and skippable frames, fed one block at a time (RFC 8878 §3.1)."""

    __slots__ = (
        "_checksum",
        "_dctx",
        "_error",
        "_more",
        "_obj",
        "_out",
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
        self._tail = b""  # input not yet given to zstd
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
        tail = self._tail
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
        if data:
            self._tail = self._tail + data if self._tail else data
        out = self._out
        parts = [out] if out else []
        size = len(out)
        while size < limit and self._tail:
            if not self._unit and not self._next_unit():
                break
            piece = self._tail[: self._unit]
            self._tail = self._tail[len(piece) :]
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
        out = parts[0] if len(parts) == 1 else b"".join(parts)
        self._out = out[limit:]
        # More may come without input: held output, or input left when the limit stopped us.
        self._more = bool(self._out) or (size >= limit and bool(self._tail))
        return out[:limit] if size > limit else out

    def finish(self) -> None:
        if self._tail or self._unit or self._state != self._FRAME:
            raise self._truncated()
        if self._obj is not None and not self._obj.eof:
            raise self._truncated()  # pragma: no cover - only if zstd disagrees on framing


class ContentDecoder:
    """Decodes a body's content codings piece by piece, with bounded output per call.

    Made by :func:`make_decoder`. Feed the body's pieces in order; each call
    returns at most ``max_output`` decoded bytes. When :attr:`pending` is True
    more output is ready without new input: call ``feed(b"")`` (a flow-controlled
    reader does so when its consumer has caught up). At the end of the body call
    :meth:`flush`, which finds a truncated stream.

    Example:
        >>> import gzip
        >>> dec = make_decoder(["gzip"], max_output=4)
        >>> dec.feed(gzip.compress(b"hello world"))
        b'hell'
        >>> dec.pending
        True
    """

    __slots__ = ("_codings", "_flushed", "_input", "_max", "_single", "_stages")

    def __init__(self, codings: Sequence[str], *, max_output: int = 65536) -> None:
        """Build the stages for ``codings``; prefer :func:`make_decoder`.

        Args:
            codings: Content codings in the order they were applied (as in the
                ``Content-Encoding`` field), without ``identity``.
            max_output: The most bytes one call returns.

        Raises:
            DecodingError: A coding is not supported here.
            ValueError: ``max_output`` is not positive, or ``codings`` is empty.
        """
        if type(max_output) is not int or max_output < 1:
            raise ValueError(f"max_output must be a positive int, not {max_output!r}")
        if not codings:
            raise ValueError("a ContentDecoder needs at least one coding")
        if len(codings) > MAX_CODINGS:
            raise DecodingError(
                f"{len(codings)} stacked content codings {tuple(codings)!r:.120}; "
                f"at most {MAX_CODINGS} are decoded"
            )
        self._codings = tuple(codings)
        self._max = max_output
        stages: list[_Stage] = []
        for index, name in enumerate(reversed(self._codings)):
            layer = "the body" if index == 0 else f"the {stages[-1]._name}-decoded data"
            stages.append(_make_stage(name, layer))
        self._stages = tuple(stages)
        self._single: _Stage | None = stages[0] if len(stages) == 1 else None
        self._input = b""
        self._flushed = False

    @property
    def codings(self) -> tuple[str, ...]:
        """The codings decoded, in the order they were applied."""
        return self._codings

    @property
    def max_output(self) -> int:
        """The most bytes one :meth:`feed` or :meth:`flush` call returns."""
        return self._max

    @property
    def pending(self) -> bool:
        """Whether more decoded output is ready without new input (call ``feed(b"")``)."""
        return bool(self._input) or any(stage.pending for stage in self._stages)

    def feed(self, data: bytes) -> bytes:
        """Decode the next piece of the body.

        Args:
            data: The next body bytes, as received (may be empty, to collect
                output that is :attr:`pending`).

        Returns:
            At most ``max_output`` decoded bytes (possibly none yet).

        Raises:
            DecodingError: The data is corrupt; the message names the coding and
                where the bad bytes are.
            RuntimeError: :meth:`flush` already ended the body.
        """
        if self._flushed:
            raise RuntimeError("feed() after flush(): the body already ended")
        single = self._single
        if single is not None:
            return single.decode(data, self._max)
        if data:
            self._input = self._input + data if self._input else data
        return self._pull(len(self._stages) - 1, self._max)

    def _pull(self, index: int, limit: int) -> bytes:
        stage = self._stages[index]
        if index == 0:
            data, self._input = self._input, b""
            return stage.decode(data, limit)
        out = stage.decode(b"", limit)
        parts = [out] if out else []
        size = len(out)
        while size < limit and not stage.pending:
            # The stage needs input: decode one bounded step of the layer below.
            upstream = self._pull(index - 1, self._max)
            if not upstream and not self._stages[index - 1].pending:
                break
            out = stage.decode(upstream, limit - size)
            if out:
                parts.append(out)
                size += len(out)
        return b"".join(parts)

    def flush(self) -> bytes:
        """End the body: return the remaining output and check that every stream ended.

        Returns:
            At most ``max_output`` bytes. If :attr:`pending` is still True
            afterwards, more remains: call ``flush()`` again.

        Raises:
            DecodingError: The body stopped in the middle of a coded stream
                (truncated), or the last bytes are corrupt.
        """
        if self._flushed:
            return b""
        out = self.feed(b"")
        if self.pending:
            return out
        for stage in self._stages:
            stage.finish()
        self._flushed = True
        return out


def _make_stage(name: str, layer: str) -> _Stage:
    if name in ("gzip", "x-gzip"):
        return _ZlibStage("gzip", layer, gzip=True)
    if name == "deflate":
        return _ZlibStage("deflate", layer, gzip=False)
    if name in _EXTRAS:
        library, extra = _EXTRAS[name]
        module = _optional(library)
        if module is None:
            need = "brotli 1.2 or newer" if name == "br" else library
            raise DecodingError(
                f"content coding {name!r} needs {need}: pip install 'httpwire-parser[{extra}]'"
            )
        if name == "br":
            return _BrotliStage(name, layer, module)
        return _ZstdStage(name, layer, module)
    raise DecodingError(
        f"content coding {name!r:.40} is not supported; supported: "
        f"{', '.join(supported_codings())}"
    )


def make_decoder(codings: Sequence[str], *, max_output: int = 65536) -> ContentDecoder | None:
    """Make a streaming decoder for a body's content codings.

    Args:
        codings: The codings in the order they were applied, as in the
            ``Content-Encoding`` field and ``ResponseHead.content_coding``
            (``["gzip", "br"]`` means gzip first, then br: br is decoded first).
            Names are case-insensitive; ``identity`` is ignored.
        max_output: The most bytes one call of the decoder returns.

    Returns:
        A :class:`ContentDecoder`, or ``None`` when there is nothing to decode
        (no codings, or only ``identity``).

    Raises:
        DecodingError: A coding is not supported (the message says which extra
            to install for ``br`` and ``zstd``), or more than five are stacked.
        ValueError: ``max_output`` is not positive.
    """
    if isinstance(codings, str):
        raise TypeError("codings must be a sequence of coding names, not one str")
    names = [name.strip().lower() for name in codings]
    names = [name for name in names if name and name != "identity"]
    if not names:
        if type(max_output) is not int or max_output < 1:
            raise ValueError(f"max_output must be a positive int, not {max_output!r}")
        return None
    return ContentDecoder(names, max_output=max_output)
