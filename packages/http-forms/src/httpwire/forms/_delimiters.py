"""Finding a forged delimiter in a part's content while it streams (RFC 2046 §5.1.1).

A multipart body's delimiter is CRLF ``--`` boundary, and it must not occur inside
any part: a receiver would end the part there and read what follows as a part of
its own. A random boundary cannot be predicted by whoever wrote the content, so
only a boundary the caller chose needs this check; bytes held in memory are checked
when appended, everything else (files, async iterables, StreamReaders, nested
writers) piece by piece as it is sent, here.

Strategy: a piece is searched whole with ``bytes.find`` (C speed, no copy). A
delimiter cut by a piece border is caught by holding back the end of a piece
when, and only when, it is the beginning of the delimiter: since the delimiter
starts with the only CR it holds (a boundary has no CR, RFC 2046 §5.1.1), that
candidate is the suffix from the last CR among the piece's last ``len - 1``
bytes. Usually there is none and the piece goes out untouched; otherwise those
few bytes go out with the next piece, or are refused with it. So not one byte of
a forged delimiter leaves before it is refused. The header block of a part ends
with CRLF, which counts as the start of the content: content that begins with
``--`` boundary completes a delimiter with it.
"""

from __future__ import annotations

from ._errors import BoundaryInContentError

__all__ = ["DelimiterScan"]


class DelimiterScan:
    """Passes one part's content through, refusing it where it holds the delimiter.

    Args:
        boundary: The enclosing multipart's boundary.
        part: Index of the part in its multipart (for the error).
        where: Names the part and its multipart in the error message.
    """

    __slots__ = ("_delimiter", "_held", "_offset", "_part", "_sent", "_where")

    def __init__(self, boundary: bytes, part: int, where: str) -> None:
        self._delimiter = b"\r\n--" + boundary
        self._part = part
        self._where = where
        # Bytes that may begin a delimiter, the first _sent of them already sent: at the
        # start, the CRLF that ends the part's header block.
        self._held = b"\r\n"
        self._sent = 2
        # Offset in the content of the first byte of _held (-2: the header block's CRLF).
        self._offset = -2

    def feed(self, piece: bytes) -> bytes:
        """The bytes of *piece* (with any held back before) that can be sent now.

        Raises:
            BoundaryInContentError: When the content holds the delimiter; nothing of
                that delimiter has been returned.
        """
        delimiter = self._delimiter
        keep = len(delimiter) - 1
        held = self._held
        size = len(piece)
        if held:
            at = (held + piece[:keep]).find(delimiter)
            if at != -1:
                self._found(self._offset + at)
        at = piece.find(delimiter)
        if at != -1:
            self._found(self._offset + len(held) + at)
        if size >= keep:
            # The start of a delimiter cut by the next border lies in the last keep bytes.
            cut = piece.rfind(b"\r", size - keep)
            if cut == -1 or not delimiter.startswith(piece[cut:]):
                cut = size
            out = piece if cut == size else piece[:cut]
            if self._sent < len(held):
                out = held[self._sent :] + out
            self._offset += len(held) + cut
            self._held = piece[cut:] if cut < size else b""
            self._sent = 0
            return out
        # A short piece: the candidate may begin in the held bytes.
        data = held + piece
        cut = data.rfind(b"\r", max(0, len(data) - keep))
        if cut == -1 or not delimiter.startswith(data[cut:]):
            cut = len(data)
        sent = self._sent
        out = data[sent:cut] if cut > sent else b""
        self._sent = max(0, sent - cut)
        self._offset += cut
        self._held = data[cut:]
        return out

    def flush(self) -> bytes:
        """The held-back bytes still to send once the content has ended."""
        rest = self._held[self._sent :]
        self._held = b""
        self._sent = 0
        return rest

    def _found(self, at: int) -> None:
        # at is where the CRLF begins; the delimiter line "--boundary" starts 2 later.
        boundary = self._delimiter[4:].decode("ascii")
        raise BoundaryInContentError(
            f"the content of {self._where} holds the delimiter line '--{boundary}' at byte "
            f"{at + 2}: a receiver would read a part of the sender's making there, so the "
            "body was stopped before it (RFC 2046 §5.1.1); leave the boundary to the "
            "writer (random) or choose one that cannot occur in the content",
            part=self._part,
            offset=at + 2,
        )
