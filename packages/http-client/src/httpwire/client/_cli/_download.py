"""``--download``: the body to a file, streamed, with progress, resumable.

Strategy: the body is written to ``NAME.part`` piece by piece as it arrives (so memory
holds one piece whatever the size) and renamed to ``NAME`` only once complete: a file
without ``.part`` is always whole, and one with it says plainly that it is not. Whatever
stops the transfer (Ctrl-C, a cut connection, a timeout), the ``.part`` file keeps what
arrived, and ``--continue`` asks for the rest with ``Range: bytes=N-`` (RFC 9110 §14.2):

- ``206`` whose Content-Range starts at N: the rest is appended;
- ``200``: the server sends the whole again (it ignores ranges): the file starts over;
- ``416`` whose Content-Range says the length is N: the file was already complete.

Downloads ask for ``Accept-Encoding: identity`` and do not decode content codings, so the
bytes on disk are the representation the ranges count (RFC 9110 §14.1.2).

The name is ``--output``, else the ``filename`` of Content-Disposition (its last path
component only), else the URL's last path segment, else ``index``; a name that exists is
never overwritten (``name-1``, ``name-2``... are tried) unless given with ``--output``.
With ``--continue`` the name must be known before the request: ``--output`` or the URL's.
"""

from __future__ import annotations

import mimetypes
import os
import re
import time
from dataclasses import dataclass
from typing import IO, Final

from yarl import URL

from httpwire.client import ClientResponse
from httpwire.forms import parse_header_params

from ._build import LocalFileError
from ._items import UsageError, shown, shown_url
from ._progress import Transfer, format_size

__all__ = [
    "Download",
    "content_range_start",
    "name_from_response",
    "name_from_url",
    "partial_path",
    "unique_name",
]

PART_SUFFIX: Final = ".part"
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)


def _safe(name: str) -> str | None:
    """The last path component of *name*, or ``None`` when nothing usable is left."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    name = "".join(ch for ch in name if ch.isprintable())
    return name or None


def name_from_url(url: URL) -> str | None:
    """The file name a URL's last path segment gives, if any."""
    segment = url.path.rstrip("/").rsplit("/", 1)[-1] if url.path else ""
    return _safe(segment)


def name_from_response(response: ClientResponse) -> str:
    """The file name for a response: Content-Disposition's, the URL's, or ``index``.

    Args:
        response: The response.

    Returns:
        A bare file name (no directory part).
    """
    disposition = response.headers.get("Content-Disposition")
    if disposition:
        _, params = parse_header_params(disposition)
        for key in ("filename*", "filename"):
            value = params.get(key)
            if value:
                if key == "filename*" and "''" in value:
                    value = value.split("''", 1)[1]
                named = _safe(value)
                if named:
                    return named
    named = name_from_url(response.url)
    if named:
        return named
    extension = mimetypes.guess_extension(response.content_type) or ""
    return f"index{extension}"


def unique_name(name: str) -> str:
    """*name*, or ``name-1``, ``name-2``... the first that exists neither whole nor partial."""
    candidate = name
    number = 0
    while os.path.exists(candidate) or os.path.exists(candidate + PART_SUFFIX):
        number += 1
        stem, ext = os.path.splitext(name)
        candidate = f"{stem}-{number}{ext}"
    return candidate


def partial_path(name: str) -> str:
    """Where the bytes of *name* are kept until it is complete."""
    return name + PART_SUFFIX


def content_range_start(value: str | None) -> tuple[int, int | None] | None:
    """The first byte and the complete length of a ``Content-Range`` (RFC 9110 §14.4).

    Returns:
        ``(first, length)`` (length ``None`` for ``*``), or ``None`` when it is no byte range.
    """
    if value is None:
        return None
    match = _CONTENT_RANGE.match(value)
    if match is None:
        return None
    length = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), length


def _write_all(file: IO[bytes], data: bytes) -> None:
    """Write all of *data* (an unbuffered write may take only part of it)."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        view = view[written or 0 :]


@dataclass(slots=True)
class Download:
    """A download in progress: where it goes, how much is there, what was said about it.

    Attributes:
        name: The final file name (``None`` until the response names it).
        offset: Bytes already on disk when the request was sent (``--continue``).
        written: Bytes written by this run.
        resumed: Whether the server sent the rest (206) rather than the whole.
        complete: Whether the file was renamed to its final name.
    """

    name: str | None
    offset: int = 0
    written: int = 0
    resumed: bool = False
    complete: bool = False
    started_at: float = 0.0
    finished_at: float = 0.0

    @classmethod
    def prepare(cls, output: str | None, url: URL, resume: bool) -> Download:
        """Decide what can be decided before the request: the name and the resume offset.

        Args:
            output: ``--output``.
            url: The URL requested.
            resume: ``--continue``.

        Raises:
            UsageError: ``--continue`` without a name to resume.
        """
        name = output
        if name is None and resume:
            name = name_from_url(url)
            if name is None:
                raise UsageError(
                    f"--continue needs a file name: the URL {shown_url(str(url))} has none; "
                    "give one with --output"
                )
        offset = 0
        if resume and name is not None:
            try:
                offset = os.path.getsize(partial_path(name))
            except OSError:
                offset = 0
        return cls(name, offset)

    def range_header(self) -> str | None:
        """The ``Range`` field asking for the rest, when there is something to resume."""
        return f"bytes={self.offset}-" if self.offset else None

    def already_complete(self, response: ClientResponse) -> bool:
        """True for a 416 whose complete length is what is on disk: nothing was missing."""
        if response.status != 416 or not self.offset:
            return False
        match = _UNSATISFIED_RANGE.match(response.headers.get("Content-Range", ""))
        return match is not None and int(match.group(1)) == self.offset

    def finish_complete(self) -> None:
        """Rename the partial file, found complete by a 416."""
        assert self.name is not None
        os.replace(partial_path(self.name), self.name)
        self.complete = True

    async def save(self, response: ClientResponse, progress: Transfer) -> None:
        """Write the body of a 2xx response to the partial file, then rename it.

        Args:
            response: The response, its body not read yet.
            progress: The transfer's progress, whose events the request reports
                (``on_download_progress=``): drawn from here on, moved on by the offset.

        Raises:
            LocalFileError: The file cannot be written.
            ClientError: The transfer failed; what arrived stays in the partial file.
        """
        mode = "wb"
        if self.offset and response.status == 206:
            first = content_range_start(response.headers.get("Content-Range"))
            if first is None or first[0] != self.offset:
                raise LocalFileError(
                    f"the server answered the range request for bytes {self.offset}- with "
                    f"Content-Range {shown(response.headers.get('Content-Range', ''))}: "
                    f"cannot append it to {shown(partial_path(self.name or ''))}"
                )
            mode, self.resumed = "ab", True
        else:
            self.offset = 0
        if self.name is None:
            self.name = unique_name(name_from_response(response))
        part = partial_path(self.name)
        try:
            # Unbuffered: each piece goes to the file as it arrives, so what the .part file
            # holds is exactly what was received, even if the process is killed. A local
            # write of one piece is not worth a hop to a thread.
            file = open(part, mode, buffering=0)  # noqa: SIM115, ASYNC230
        except OSError as exc:
            raise LocalFileError(f"cannot write {shown(part)}: {exc.strerror}") from None
        self.started_at = time.monotonic()
        progress.begin(os.path.basename(self.name), self.offset)
        try:
            content = response.content
            while True:
                piece = await content.readany()
                if not piece:
                    break
                try:
                    _write_all(file, piece)
                except OSError as exc:
                    raise LocalFileError(f"cannot write {shown(part)}: {exc.strerror}") from None
                self.written += len(piece)
        except BaseException:
            progress.abort()
            raise
        finally:
            self.finished_at = time.monotonic()
            file.close()
        await progress.end(last_report_due=True)
        os.replace(part, self.name)
        self.complete = True

    def summary(self) -> str:
        """One line saying what was saved, how fast."""
        elapsed = max(self.finished_at - self.started_at, 1e-9)
        size = self.offset + self.written
        resumed = f", resumed at {format_size(self.offset)}" if self.resumed else ""
        return (
            f"saved {format_size(size)} to {self.name} in {elapsed:.1f} s "
            f"({format_size(self.written / elapsed)}/s{resumed})"
        )

    def kept_note(self) -> str | None:
        """What is kept after a failure, and how to resume, when anything is."""
        if self.complete or self.name is None:
            return None
        part = partial_path(self.name)
        if not os.path.exists(part):
            return None
        size = os.path.getsize(part)
        return f"{size} bytes kept in {part}; resume with --continue --output {self.name}"
