"""The error tree of httpwire.forms.

Everything this package raises on purpose is a :class:`FormsError`. Mistakes in
the caller's own arguments (a value of the wrong type, a header that would
inject another header, an invalid boundary) are plain :class:`TypeError` and
:class:`ValueError`, raised where the argument is given.

Errors about bytes received from a peer carry where they happened: the index of
the part (0 for the first part, ``None`` before the first delimiter) and the
offset in the multipart body at which the problem was found.
"""

from __future__ import annotations

__all__ = [
    "BoundaryError",
    "BoundaryInContentError",
    "FormsError",
    "IncompleteMultipartError",
    "MalformedMultipartError",
    "MultipartError",
    "MultipartLimitError",
    "PayloadError",
]


class FormsError(Exception):
    """Root of every error raised by httpwire.forms."""


class PayloadError(FormsError):
    """A payload could not produce the bytes it promised.

    Raised, for example, when a file is shorter than the size it had when the
    payload was made, when a payload that cannot be replayed is iterated twice,
    or when an async iterable yields something other than bytes.
    """


class BoundaryInContentError(PayloadError, ValueError):
    """A part of a multipart being sent holds the delimiter of a boundary the caller chose.

    RFC 2046 §5.1.1: the delimiter (CRLF ``--`` boundary) must not occur inside any
    part, or a receiver reads a part the content made up. Bytes and str parts are
    checked when appended; streamed parts (files, async iterables, StreamReaders,
    nested writers) while they are sent, and the body stops before the first byte of
    the delimiter. The message names the part, never its content.

    Attributes:
        part: Index of the part (0-based) in the multipart whose boundary it holds.
        offset: Offset in the part's content where the delimiter line ``--boundary``
            begins.
    """

    def __init__(self, message: str, *, part: int, offset: int) -> None:
        self.message = message
        self.part = part
        self.offset = offset
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_boundary, (self.message, self.part, self.offset))


def _rebuild_boundary(message: str, part: int, offset: int) -> BoundaryInContentError:
    return BoundaryInContentError(message, part=part, offset=offset)


class MultipartError(FormsError, ValueError):
    """A multipart body received from a peer is malformed or over a limit.

    Attributes:
        part: Index of the part being read (0-based), or ``None`` when the error
            came before the first part started.
        offset: Offset in bytes, from the start of the multipart body, of the
            point where the error was found, or ``None`` when it does not apply.
    """

    def __init__(
        self, message: str, *, part: int | None = None, offset: int | None = None
    ) -> None:
        self.message = message
        self.part = part
        self.offset = offset
        where = []
        if part is not None:
            where.append(f"part {part}")
        if offset is not None:
            where.append(f"byte {offset}")
        text = f"{message} ({', '.join(where)})" if where else message
        super().__init__(text)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.message, self.part, self.offset))


def _rebuild(
    cls: type[MultipartError], message: str, part: int | None, offset: int | None
) -> MultipartError:
    return cls(message, part=part, offset=offset)


class BoundaryError(MultipartError):
    """The Content-Type has no usable boundary, or a delimiter line is malformed."""


class MalformedMultipartError(MultipartError):
    """A part's header block or a delimiter line breaks RFC 2046 / RFC 7578."""


class IncompleteMultipartError(MultipartError):
    """The body ended before the close delimiter (a truncated part or a missing end)."""


class MultipartLimitError(MultipartError):
    """A configured limit (header line size, headers per part, parts) was exceeded."""
