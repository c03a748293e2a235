"""Streaming decoders for content codings (RFC 9110 §8.4.1): gzip, deflate, br, zstd.

Strategy: a decoder is a chain of stages, one per coding, in the reverse of the
order the codings were applied. Every call's output is bounded by
``max_output``: compressed input that would decode to more waits inside the
decoder (zlib's ``unconsumed_tail``, brotli's own buffer, or our input buffer)
until the caller asks again with ``feed(b"")``. A decompression bomb therefore
costs the caller time, never memory: each stage holds at most about
``max_output`` bytes of decoded data (plus one zstd block or one brotli output
step, a fixed 128 KiB at most).

The stages themselves, one per coding (gzip, deflate, br, zstd), are in
``_codings``; br and zstd need their optional library, imported on first use.

A body with no bytes at all (an empty response carrying ``Content-Encoding``) is
accepted and decodes to nothing; a body cut inside a stream is a
:class:`DecodingError` at :meth:`ContentDecoder.flush`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Final

from ._codings import BrotliStage, Stage, ZlibStage, ZstdStage
from ._errors import DecodingError

__all__ = ["ContentDecoder", "make_decoder", "split_codings", "supported_codings"]

MAX_CODINGS: Final = 5
"""More stacked codings than this are refused: no real server stacks that many."""

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

    Any other coding (``compress``, ``x-compress``, a name no registry knows, or
    ``br``/``zstd`` without their library) is never decoded: the parsers report it
    in the head's ``undecoded_coding`` and leave the body as it came.

    Returns:
        ``("gzip", "x-gzip", "deflate")``, followed by ``"br"`` when brotli 1.2
        or newer is installed and ``"zstd"`` when zstandard is installed.
    """
    codings = list(_ALWAYS)
    if _optional("brotli") is not None:
        codings.append("br")
    if _optional("zstandard") is not None:
        codings.append("zstd")
    return tuple(codings)


_ALWAYS: Final = ("gzip", "x-gzip", "deflate")


def split_codings(codings: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split a body's codings into those :func:`make_decoder` undoes and those that stay.

    Codings are undone last applied first, so only the longest run at the end
    whose every coding is in :func:`supported_codings` can be undone; the codings
    before it (from the last one that cannot be decoded on) stay on the body.

    Args:
        codings: Lowercased codings in the order they were applied.

    Returns:
        ``(decoded, undecoded)``: ``undecoded + decoded == codings``.
    """
    cut = len(codings)
    supported: tuple[str, ...] = _ALWAYS
    while cut:
        coding = codings[cut - 1]
        if coding not in supported:
            if supported is not _ALWAYS:
                break
            supported = supported_codings()  # looked up only past the common codings
            if coding not in supported:
                break
        cut -= 1
    if not cut:
        return codings, ()
    return codings[cut:], codings[:cut]


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

    __slots__ = ("_codings", "_error", "_flushed", "_input", "_max", "_single", "_stages")

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
        stages: list[Stage] = []
        for index, name in enumerate(reversed(self._codings)):
            layer = "the body" if index == 0 else f"the {stages[-1].name}-decoded data"
            stages.append(_make_stage(name, layer))
        self._stages = tuple(stages)
        self._single: Stage | None = stages[0] if len(stages) == 1 else None
        self._input = b""
        self._flushed = False
        self._error: DecodingError | None = None

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
                where the bad bytes are. The decoder is unusable afterwards: every
                later call raises the same error.
            RuntimeError: :meth:`flush` already ended the body.
        """
        if self._flushed:
            raise RuntimeError("feed() after flush(): the body already ended")
        if self._error is not None:
            raise self._error
        try:
            single = self._single
            if single is not None:
                return single.decode(data, self._max)
            if data:
                self._input = self._input + data if self._input else data
            return self._pull(len(self._stages) - 1, self._max)
        except DecodingError as exc:
            self._error = exc
            raise

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
        try:
            for stage in self._stages:
                stage.finish()
        except DecodingError as exc:
            self._error = exc
            raise
        self._flushed = True
        return out


def _make_stage(name: str, layer: str) -> Stage:
    if name in ("gzip", "x-gzip"):
        return ZlibStage("gzip", layer, gzip=True)
    if name == "deflate":
        return ZlibStage("deflate", layer, gzip=False)
    if name in _EXTRAS:
        library, extra = _EXTRAS[name]
        module = _optional(library)
        if module is None:
            need = "brotli 1.2 or newer" if name == "br" else library
            raise DecodingError(
                f"content coding {name!r} needs {need}: pip install 'httpwire-parser[{extra}]'"
            )
        if name == "br":
            return BrotliStage(name, layer, module)
        return ZstdStage(name, layer, module)
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
