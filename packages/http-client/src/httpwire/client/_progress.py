"""Upload and download progress: a callback with the bytes done and the total when known.

Strategy: the caller passes a callback to the request (``on_upload_progress=``,
``on_download_progress=``); nothing is wrapped by hand and nothing runs when neither is
given.

* Uploads: the session wraps the request body (bytes, a form, a multipart writer, a file)
  in a :class:`ProgressBody`, itself a Body with the same ``size`` and ``reusable``, which
  counts the pieces as the connection takes them. Counting happens at the connection's
  pace, so "done" means handed to the transport (written or in its buffer, which flow
  control keeps small).
* Downloads: the body arrives in the response's ``content`` stream, which already counts
  the bytes fed to it (``total_bytes``). A :class:`DownloadProgress` reads that count on a
  timer every *interval* seconds while the body arrives, so the per-piece path stays
  untouched; it stops by itself at the end of the body, an error, or a release.

Both call the callback at most once per *interval* (default 0.1 s), always once at the
start (0 bytes) and once at the end (the final count, whether or not a total was known), so
a progress bar always reaches its end. A callback that raises stops the upload (its error
fails the request) or, for downloads, is reported through the loop's exception handler and
ends the progress reports, never the download.

For code that would rather ``async for`` than be called back, ``ProgressEvents`` (in
:mod:`._progress_events`, imported on first use of its name) is such a callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import NamedTuple, TypeAlias

from httpwire.streams import Body, StreamReader, iter_body

__all__ = [
    "DownloadProgress",
    "Progress",
    "ProgressBody",
    "ProgressCallback",
    "fraction_of",
]

DEFAULT_INTERVAL = 0.1


class Progress(NamedTuple):
    """How far a transfer is.

    Attributes:
        done: Bytes transferred so far (of the body as sent, or as decoded when the
            response is decompressed).
        total: The size when known (``Content-Length`` of an unencoded response, a body's
            size), else ``None``.
        finished: True for the last report of the transfer.
    """

    done: int
    total: int | None
    finished: bool = False

    @property
    def fraction(self) -> float | None:
        """``done / total`` between 0 and 1, or ``None`` without a total (1.0 for empty)."""
        return fraction_of(self.done, self.total)


ProgressCallback: TypeAlias = "Callable[[Progress], object]"
"""``def on_progress(p: Progress) -> None``."""


def fraction_of(done: int, total: int | None) -> float | None:
    """``done / total`` between 0 and 1; ``None`` without a total, 1.0 for an empty body."""
    if total is None:
        return None
    return 1.0 if total == 0 else min(1.0, done / total)


def _check(callback: object, interval: float) -> None:
    if not callable(callback):
        raise TypeError(f"a progress callback must be callable, not {type(callback).__name__}")
    if not interval >= 0:
        raise ValueError(f"the progress interval must be >= 0 seconds, got {interval!r}")


class ProgressBody:
    """A Body that reports the bytes taken from it: what the session sends for uploads.

    Args:
        body: The body to send: ``bytes`` or any :class:`~httpwire.streams.Body`.
        callback: Called with a :class:`Progress`.
        interval: The least seconds between two reports (the first and the last are always
            made).
        clock: A monotonic clock (the running loop's ``time()`` by default).

    Raises:
        TypeError: The callback is not callable.
        ValueError: The interval is negative.
    """

    __slots__ = ("_body", "_callback", "_clock", "_interval", "content_type")

    def __init__(
        self,
        body: Body | bytes,
        callback: ProgressCallback,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] | None = None,
    ) -> None:
        _check(callback, interval)
        self._body = body
        self._callback = callback
        self._interval = interval
        self._clock = clock
        content_type = getattr(body, "content_type", None)
        self.content_type: str | None = content_type if isinstance(content_type, str) else None

    @property
    def size(self) -> int | None:
        """The wrapped body's size."""
        body = self._body
        return len(body) if isinstance(body, bytes) else body.size

    @property
    def reusable(self) -> bool:
        """Whether the wrapped body can be sent again (every send reports from 0)."""
        body = self._body
        return True if isinstance(body, bytes) else body.reusable

    @property
    def body(self) -> Body | bytes:
        """The wrapped body."""
        return self._body

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Iterate the wrapped body's pieces, reporting as they go."""
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[bytes]:
        clock = self._clock or asyncio.get_running_loop().time
        callback, interval = self._callback, self._interval
        total = self.size
        done = 0
        callback(Progress(0, total))
        last = clock()
        body = self._body
        if isinstance(body, bytes):
            # Pieces small enough for the reports to mean something, and for flow control.
            view = memoryview(body)
            step = 65536
            pieces: AsyncIterator[bytes] = _slices(view, step)
        else:
            pieces = iter_body(body)
        async for piece in pieces:
            yield piece
            done += len(piece)
            now = clock()
            if now - last >= interval:
                last = now
                callback(Progress(done, total))
        callback(Progress(done, total, True))

    def __repr__(self) -> str:
        return (
            f"<ProgressBody of {self._body!r}>"
            if not isinstance(self._body, bytes)
            else (f"<ProgressBody of {len(self._body)} bytes>")
        )


async def _slices(view: memoryview, step: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(view), step):
        yield bytes(view[offset : offset + step])


class DownloadProgress:
    """Reports how much of a response body arrived, on a timer, until it ends.

    Started by the session for ``on_download_progress=``; reads the stream's own count of
    bytes fed, so the body's path does no extra work per piece.

    Args:
        content: The response's body stream.
        total: The expected size (``Content-Length`` of an unencoded body), or ``None``.
        callback: Called with a :class:`Progress`.
        interval: Seconds between reports (the first and the last are always made).

    Raises:
        TypeError: The callback is not callable.
        ValueError: The interval is negative.
    """

    __slots__ = ("_callback", "_content", "_handle", "_interval", "_last", "_total")

    def __init__(
        self,
        content: StreamReader,
        total: int | None,
        callback: ProgressCallback,
        *,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        _check(callback, interval)
        self._content = content
        self._total = total
        self._callback = callback
        self._interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self._last = -1

    @property
    def running(self) -> bool:
        """True while reports are still due."""
        return self._handle is not None

    def start(self) -> None:
        """Report 0 bytes (or the end at once, for a body already whole), then tick."""
        self._report(Progress(0, self._total))
        self._tick()

    def stop(self) -> None:
        """Stop reporting, without a last report."""
        handle = self._handle
        if handle is not None:
            self._handle = None
            handle.cancel()

    def finish(self) -> None:
        """The response let its body go (read whole, released or closed): the last report,
        now rather than at the next tick, unless it was made already."""
        if self._handle is not None:
            self.stop()
            self._report(Progress(self._content.total_bytes, self._total, True))

    def _report(self, progress: Progress) -> bool:
        try:
            self._callback(progress)
        except Exception as exc:  # the application's code: reported, never the download's
            self.stop()
            asyncio.get_running_loop().call_exception_handler(
                {"message": "on_download_progress callback failed", "exception": exc}
            )
            return False
        return True

    def _tick(self) -> None:
        self._handle = None
        content = self._content
        done = content.total_bytes
        if content.is_eof() or content.exception() is not None:
            self._report(Progress(done, self._total, True))
            return
        if done != self._last:
            self._last = done
            if done and not self._report(Progress(done, self._total)):
                return
        self._handle = asyncio.get_running_loop().call_later(self._interval, self._tick)
