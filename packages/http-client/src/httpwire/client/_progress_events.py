"""Progress as an async iterator: :class:`ProgressEvents` and its :class:`ProgressEvent`.

Strategy: for code that would rather ``async for`` than be called back,
:class:`ProgressEvents` is a progress callback (see :mod:`._progress`) that keeps only the
latest report (never a queue: a slow consumer skips the steps it missed, and memory stays
one report whatever the transfer's length) and hands it out as :class:`ProgressEvent`
values with the rate, at most once per its own interval, ending with the last report of
the transfer. Apart from the callbacks so that ``import httpwire.client`` does not build
its frozen dataclass: the package imports this module on first use of either name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from ._progress import DEFAULT_INTERVAL, Progress, fraction_of

__all__ = ["ProgressEvent", "ProgressEvents"]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of a transfer as :class:`ProgressEvents` hands it out.

    Attributes:
        done: Bytes transferred so far.
        total: The size when known, else ``None``.
        rate: Bytes per second between the previous event handed to this consumer and
            this one (``None`` for the first, or when no time passed between the reports).
        elapsed: Seconds from the first report of the transfer to this one.
        finished: True for the last event of the transfer.
    """

    done: int
    total: int | None
    rate: float | None
    elapsed: float
    finished: bool

    @property
    def fraction(self) -> float | None:
        """``done / total`` between 0 and 1, or ``None`` without a total (1.0 for empty)."""
        return fraction_of(self.done, self.total)

    @property
    def remaining(self) -> float | None:
        """Seconds left at the current rate, or ``None`` without a total or a rate."""
        total, rate = self.total, self.rate
        if total is None or not rate:
            return None
        return max(total - self.done, 0) / rate


class ProgressEvents:
    """The progress of one transfer as an async iterator of :class:`ProgressEvent`.

    Pass it where a progress callback goes (``on_upload_progress=`` or
    ``on_download_progress=``) and iterate it in another task. It keeps only the latest
    report: a consumer slower than the transfer gets the newest state when it comes back,
    never a backlog, so memory stays the same whatever the transfer's length. Events come
    at most once per *interval* seconds (the last one included: it may wait out the rest
    of the interval), and the iteration ends after the event of the transfer's last report
    (``finished``), or after :meth:`close`. A transfer that ends makes its last report by
    itself (a download's comes on the progress timer's next tick after the body's end, an
    error or a release); call :meth:`close` when the request fails, since an upload cut
    part-way makes none::

        events = ProgressEvents(interval=0.25)

        async def show() -> None:
            async for event in events:
                print(f"{event.done} of {event.total} bytes, {event.rate or 0:.0f} B/s")

        shown = asyncio.create_task(show())
        try:
            async with session.get(url, on_download_progress=events) as response:
                async for piece in response.content.iter_chunked(65536):
                    sink.write(piece)
        except BaseException:
            events.close()  # no last report may come: end the consumer
            raise
        finally:
            await shown

    Each ``async for`` is a consumer of its own: several tasks may follow one transfer,
    each getting the latest state at its own pace. One instance follows one transfer:
    reports that come after the last one (a body sent again by a redirect) are kept as
    :attr:`latest` but end no iteration already ended.

    Args:
        interval: The least seconds between two events handed to one consumer.
        clock: A monotonic clock in seconds (``time.monotonic`` by default), read once
            per report and once per event.

    Raises:
        ValueError: The interval is negative.
    """

    __slots__ = ("_clock", "_closed", "_first_at", "_interval", "_latest", "_version", "_waiters")

    def __init__(
        self, *, interval: float = DEFAULT_INTERVAL, clock: Callable[[], float] | None = None
    ) -> None:
        if not interval >= 0:
            raise ValueError(f"the progress interval must be >= 0 seconds, got {interval!r}")
        self._interval = interval
        self._clock = clock or time.monotonic
        self._latest: tuple[Progress, float] | None = None
        self._first_at: float | None = None
        self._version = 0
        self._closed = False
        self._waiters: list[asyncio.Future[None]] = []

    def __call__(self, progress: Progress) -> None:
        """Record a report (the progress callback): it replaces the previous one."""
        at = self._clock()
        if self._first_at is None:
            self._first_at = at
        self._latest = (progress, at)
        self._version += 1
        self._wake()

    @property
    def latest(self) -> Progress | None:
        """The last report received, or ``None`` before the first."""
        latest = self._latest
        return None if latest is None else latest[0]

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """End every iteration once it has handed out the latest report it has not seen.

        Idempotent; reports received later are still kept as :attr:`latest`.
        """
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _changed(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:  # cancelled while waiting
                self._waiters.remove(waiter)

    def __aiter__(self) -> AsyncIterator[ProgressEvent]:
        """A consumer: the events from the latest report on, paced by the interval."""
        return self._events()

    async def _events(self) -> AsyncIterator[ProgressEvent]:
        clock, interval = self._clock, self._interval
        seen = 0
        handed_at: float | None = None
        previous: tuple[int, float] | None = None
        while True:
            while self._version == seen:
                if self._closed:
                    return
                await self._changed()
            if handed_at is not None:
                wait = interval - (clock() - handed_at)
                if wait > 0:
                    await asyncio.sleep(wait)  # newer reports replace the latest meanwhile
            latest, first_at = self._latest, self._first_at
            assert latest is not None and first_at is not None
            progress, at = latest
            seen = self._version
            rate = None
            if previous is not None and at > previous[1]:
                rate = (progress.done - previous[0]) / (at - previous[1])
            previous = (progress.done, at)
            handed_at = clock()
            yield ProgressEvent(
                progress.done, progress.total, rate, at - first_at, progress.finished
            )
            if progress.finished:
                return

    def __repr__(self) -> str:
        return f"<ProgressEvents latest={self.latest!r} closed={self._closed}>"
