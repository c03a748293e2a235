"""Progress of a transfer on standard error: a rich bar, a plain line, or nothing.

Strategy: the transfer itself is followed by the library's progress API: the request gets
a :class:`~httpwire.client.ProgressEvents` as its ``on_upload_progress=`` or
``on_download_progress=`` callback, and a :class:`Transfer` task draws its events on a
:class:`Display`. The events keep only the latest state and come at most every
:data:`EVERY` seconds, so drawing never slows the transfer nor queues behind it, and the
body's pieces go their way untouched (an upload keeps its size, hence Content-Length).
Which display is chosen once, by :func:`make_display`: nothing unless standard error is a
terminal, rich's bar (size, rate, ETA when the length is known) when rich is installed,
else a plain line.
"""

from __future__ import annotations

import asyncio
from typing import IO, Final, Protocol

from httpwire.client import ProgressEvents

from ._output import rich_available

__all__ = [
    "EVERY",
    "Display",
    "NoDisplay",
    "PlainDisplay",
    "RichDisplay",
    "Transfer",
    "format_size",
    "make_display",
]

EVERY: Final = 0.1
"""Seconds between two drawings of a transfer, at most."""


def format_size(size: float) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``256.0 MiB``."""
    if size < 1024:
        return f"{int(size)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            break
    return f"{size:.1f} {unit}"


class Display(Protocol):
    """Shows how far a transfer has gone."""

    @property
    def enabled(self) -> bool:
        """Whether anything is shown (no events are asked for otherwise)."""

    def start(self, description: str, total: int | None, completed: int = 0) -> None:
        """Begin a transfer of *total* bytes (``None``: unknown), *completed* already done."""

    def update(self, completed: int, total: int | None, rate: float | None) -> None:
        """Show *completed* bytes done of *total*, at *rate* bytes per second."""

    def stop(self) -> None:
        """End the display (idempotent)."""


class NoDisplay:
    """Shows nothing (standard error is not a terminal, or ``--quiet``)."""

    @property
    def enabled(self) -> bool:
        """Always False."""
        return False

    def start(self, description: str, total: int | None, completed: int = 0) -> None:
        """Do nothing."""

    def update(self, completed: int, total: int | None, rate: float | None) -> None:
        """Do nothing."""

    def stop(self) -> None:
        """Do nothing."""


class PlainDisplay:
    """One line, redrawn in place: done, total and percentage, rate, ETA.

    Args:
        stream: The terminal (standard error).
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._description = ""
        self._total: int | None = None
        self._done = 0
        self._rate: float | None = None
        self._active = False

    @property
    def enabled(self) -> bool:
        """Always True."""
        return True

    def start(self, description: str, total: int | None, completed: int = 0) -> None:
        """Begin a transfer."""
        self._description, self._total, self._done = description, total, completed
        self._rate = None
        self._active = True
        self._draw()

    def update(self, completed: int, total: int | None, rate: float | None) -> None:
        """Redraw (the events that call this are already paced)."""
        self._done, self._total, self._rate = completed, total, rate
        self._draw()

    def _draw(self) -> None:
        rate = self._rate
        parts = [self._description, format_size(self._done)]
        if self._total is not None:
            percent = 100 * self._done / self._total if self._total else 100.0
            parts[-1] += f" of {format_size(self._total)} ({percent:.0f} %)"
        parts.append("?/s" if rate is None else f"{format_size(rate)}/s")
        if self._total is not None and rate:
            left = max(self._total - self._done, 0) / rate
            parts.append(f"ETA {int(left) // 60}:{int(left) % 60:02d}")
        self._stream.write("\r" + "  ".join(parts) + "\x1b[K")
        self._stream.flush()

    def stop(self) -> None:
        """Draw the final state and end the line."""
        if self._active:
            self._active = False
            self._draw()
            self._stream.write("\n")
            self._stream.flush()


class RichDisplay:
    """rich's progress bar: description, bar, size, rate and time left.

    Args:
        stream: The terminal (standard error).
    """

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            ProgressColumn,
            Task,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar
        from rich.text import Text

        class RateColumn(ProgressColumn):
            """The transfer's average rate, in the binary units of the size column."""

            def render(self, task: Task) -> Text:
                speed = task.fields.get("rate")
                shown = "?" if speed is None else f"{format_size(speed)}/s"
                return Text(shown, style="progress.data.speed")

        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            RateColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream, force_terminal=True),
            transient=False,
        )
        self._task: object = None
        self._active = False

    @property
    def enabled(self) -> bool:
        """Always True."""
        return True

    def start(self, description: str, total: int | None, completed: int = 0) -> None:
        """Show the bar."""
        self._task = self._bar.add_task(description, total=total, completed=completed, rate=None)
        self._bar.start()
        self._active = True

    def update(self, completed: int, total: int | None, rate: float | None) -> None:
        """Move the bar on."""
        self._bar.update(self._task, completed=completed, total=total, rate=rate)  # type: ignore[arg-type]  # a TaskID

    def stop(self) -> None:
        """Draw the final state and stop refreshing."""
        if self._active:
            self._active = False
            self._bar.refresh()
            self._bar.stop()


def make_display(stream: IO[str], *, enabled: bool) -> Display:
    """The progress display for *stream* (standard error).

    Args:
        stream: Where progress goes.
        enabled: False for ``--quiet`` and ``--json-output``.

    Returns:
        rich's bar on a terminal when rich is installed, a plain line on a terminal
        without it, nothing otherwise.
    """
    if not enabled or not stream.isatty():
        return NoDisplay()
    if rich_available():
        return RichDisplay(stream)
    return PlainDisplay(stream)


class Transfer:
    """One transfer's progress: the events the request reports, drawn by a task.

    Pass :attr:`events` to the request (``None`` when nothing is shown: then the request
    reports nothing at all), :meth:`begin` once the transfer is known to be shown,
    :meth:`end` when it is over, :meth:`abort` when it failed.

    Args:
        display: Where to draw.
    """

    def __init__(self, display: Display) -> None:
        self._display = display
        self.events = ProgressEvents(interval=EVERY) if display.enabled else None
        self._task: asyncio.Task[None] | None = None

    def begin(self, description: str, offset: int = 0) -> None:
        """Start drawing the events, each count moved on by *offset* bytes (a resumed file).

        Args:
            description: What the bar says (``uploading report.xls``, a file name).
            offset: Bytes already done before this transfer.
        """
        events = self.events
        if events is None or self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(
            self._draw(events, description, offset)
        )

    async def _draw(self, events: ProgressEvents, description: str, offset: int) -> None:
        display = self._display
        started = False
        try:
            async for event in events:
                total = None if event.total is None else offset + event.total
                # The average since the transfer's first report: steadier than the rate
                # between two events, and known at the end of a transfer drawn twice.
                rate = event.done / event.elapsed if event.elapsed > 0 else None
                if started:
                    display.update(offset + event.done, total, rate)
                else:
                    display.start(description, total, offset + event.done)
                    started = True
        finally:
            display.stop()

    async def end(self, *, last_report_due: bool) -> None:
        """Draw the last state and stop.

        Args:
            last_report_due: True when the transfer's last report is still to come by
                itself (a download's body read to its end: the library reports it on its
                next tick); False to draw what was reported so far (an upload, whose last
                report came before the response, or none if the server answered early).
        """
        task = self._task
        if not last_report_due and self.events is not None:
            self.events.close()
        if task is not None:
            await task

    def abort(self) -> None:
        """Stop drawing now, the state shown as it last was (the transfer failed)."""
        if self.events is not None:
            self.events.close()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
        self._display.stop()
