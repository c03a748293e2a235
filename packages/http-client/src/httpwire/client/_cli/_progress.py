"""Progress of a transfer on standard error: a rich bar, a plain line, or nothing.

Strategy: a transfer reports bytes to a :class:`Progress`; which one is chosen once, by
:func:`make_progress`: nothing unless standard error is a terminal, rich's bar (size, rate,
ETA when the length is known) when rich is installed, else a plain line redrawn at most
every :data:`_PLAIN_EVERY` seconds. Uploads report through :class:`ProgressPayload`, a
payload around the real one that counts the pieces as the connection takes them, so the
body keeps its size (Content-Length) and stays streamed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import IO, Final, Protocol

from httpwire.client import Payload

from ._output import rich_available

__all__ = [
    "NoProgress",
    "PlainProgress",
    "Progress",
    "ProgressPayload",
    "RichProgress",
    "format_size",
    "make_progress",
]

_PLAIN_EVERY: Final = 0.25


def format_size(size: float) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``256.0 MiB``."""
    if size < 1024:
        return f"{int(size)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            break
    return f"{size:.1f} {unit}"


class Progress(Protocol):
    """Shows how far a transfer has gone."""

    def start(self, description: str, total: int | None, completed: int = 0) -> None:
        """Begin a transfer of *total* bytes (``None``: unknown), *completed* already done."""

    def advance(self, count: int) -> None:
        """Count *count* more bytes."""

    def stop(self) -> None:
        """End the display (idempotent)."""


class NoProgress:
    """Shows nothing (standard error is not a terminal, or ``--quiet``)."""

    def start(self, description: str, total: int | None, completed: int = 0) -> None:
        """Do nothing."""

    def advance(self, count: int) -> None:
        """Do nothing."""

    def stop(self) -> None:
        """Do nothing."""


class PlainProgress:
    """One line, redrawn in place: done, total and percentage, rate, ETA.

    Args:
        stream: The terminal (standard error).
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._description = ""
        self._total: int | None = None
        self._done = 0
        self._started_at = 0.0
        self._start_done = 0
        self._shown_at = 0.0
        self._active = False

    def start(self, description: str, total: int | None, completed: int = 0) -> None:
        """Begin a transfer."""
        self._description, self._total, self._done = description, total, completed
        self._start_done = completed
        self._started_at = self._shown_at = time.monotonic()
        self._active = True
        self._draw()

    def advance(self, count: int) -> None:
        """Count bytes; redraw when the last drawing is old enough."""
        self._done += count
        now = time.monotonic()
        if now - self._shown_at >= _PLAIN_EVERY:
            self._shown_at = now
            self._draw()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self._started_at
        rate = (self._done - self._start_done) / elapsed if elapsed > 0 else 0.0
        parts = [self._description, format_size(self._done)]
        if self._total is not None:
            percent = 100 * self._done / self._total if self._total else 100.0
            parts[-1] += f" of {format_size(self._total)} ({percent:.0f} %)"
        parts.append(f"{format_size(rate)}/s")
        if self._total is not None and rate > 0:
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


class RichProgress:
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
            """The rate in the binary units of the size column (rich's own is decimal)."""

            def render(self, task: Task) -> Text:
                speed = task.finished_speed or task.speed
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

    def start(self, description: str, total: int | None, completed: int = 0) -> None:
        """Show the bar."""
        self._task = self._bar.add_task(description, total=total, completed=completed)
        self._bar.start()
        self._active = True

    def advance(self, count: int) -> None:
        """Move the bar on."""
        self._bar.advance(self._task, count)  # type: ignore[arg-type]  # a TaskID

    def stop(self) -> None:
        """Draw the final state and stop refreshing."""
        if self._active:
            self._active = False
            self._bar.refresh()
            self._bar.stop()


def make_progress(stream: IO[str], *, enabled: bool) -> Progress:
    """The progress display for *stream* (standard error).

    Args:
        stream: Where progress goes.
        enabled: False for ``--quiet`` and ``--json-output``.

    Returns:
        rich's bar on a terminal when rich is installed, a plain line on a terminal
        without it, nothing otherwise.
    """
    if not enabled or not stream.isatty():
        return NoProgress()
    if rich_available():
        return RichProgress(stream)
    return PlainProgress(stream)


class ProgressPayload(Payload):
    """A payload that reports how much of another one the connection has taken.

    It has the other payload's size, content type and reusability, so the request is
    framed the same (Content-Length when the size is known).

    Args:
        inner: The payload to send.
        progress: Where to report.
        description: What the bar says (``uploading report.xls``).
    """

    __slots__ = ("_description", "_inner", "_progress")

    def __init__(self, inner: Payload, progress: Progress, description: str) -> None:
        super().__init__(
            size=inner.size,
            reusable=inner.reusable,
            content_type=inner.content_type,
            filename=inner.filename,
        )
        self._inner = inner
        self._progress = progress
        self._description = description

    async def _iterate(self) -> AsyncIterator[bytes]:
        progress = self._progress
        progress.start(self._description, self.size)
        try:
            async for piece in self._inner:
                progress.advance(len(piece))
                yield piece
        finally:
            progress.stop()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()
