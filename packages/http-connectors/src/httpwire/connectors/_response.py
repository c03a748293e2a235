"""The response the connection layer hands out: the parsed head and a stream of the body."""

from __future__ import annotations

from typing import TYPE_CHECKING

from httpwire.parser import InformationalResponse, ResponseHead
from httpwire.streams import StreamReader

from ._errors import ClientConnectionError

if TYPE_CHECKING:
    from ._feeding import ResponseFeeder

__all__ = ["RawResponse", "closed_error"]


def closed_error(response: RawResponse, how: str) -> ClientConnectionError:
    """What reading the body of a response let go of before its end raises."""
    return ClientConnectionError(
        f"the response to {response.method} was {how} before its body was read to the end; "
        "the rest of the body is gone",
        method=response.method,
    )


class RawResponse:
    """The head and the body stream of one response, as a connection received them.

    The connection goes back to its pool by itself as soon as the whole body has arrived
    (the unread rest waits in :attr:`content`), so a fully received response holds no
    connection. :meth:`release` must still be called once the caller is done: when the body
    did not arrive whole, it closes the connection, whose state is then unknown.

    Attributes:
        head: The final response head (status, reason, headers, raw headers, framing).
        content: The body, decoded when decoding was asked for and the response had a
            content coding; a reader that is at EOF at once for bodiless responses.
        informational: Interim 1xx responses received before the final one, in order.
        method: The method of the request this answers.
    """

    __slots__ = ("_conn", "_done", "content", "head", "informational", "method")

    def __init__(
        self,
        conn: ResponseFeeder,
        method: str,
        head: ResponseHead,
        content: StreamReader,
        informational: tuple[InformationalResponse, ...],
    ) -> None:
        self._conn: ResponseFeeder | None = conn
        self._done = False
        self.method = method
        self.head = head
        self.content = content
        self.informational = informational

    @property
    def status(self) -> int:
        """The status code of the final response."""
        return self.head.status

    @property
    def is_complete(self) -> bool:
        """True once the whole body arrived (and the connection went back to the pool)."""
        return self._done

    def release(self) -> None:
        """Let go of the response once done with it, whether or not its body was read.

        When the whole body arrived the connection is already back in the pool and unread
        bytes stay readable in :attr:`content`. Otherwise the connection, whose state is
        then unknown, is closed, and reading :attr:`content` raises
        :class:`ClientConnectionError` (rather than wait for bytes that will never come).
        Idempotent.
        """
        conn = self._conn
        if conn is not None:
            self._conn = None
            if not self._done:
                conn._abort_exchange(self, "released")

    def close(self) -> None:
        """Abandon the response: drop the connection unless the whole body already arrived.

        Unlike :meth:`release`, unread bytes of a whole body are discarded too: every later
        read of :attr:`content` raises :class:`ClientConnectionError`. Idempotent.
        """
        self.release()
        if self.content.exception() is None and not self.content.at_eof():
            self.content.set_exception(closed_error(self, "closed"))

    def __repr__(self) -> str:
        state = "complete" if self._done else "receiving"
        return f"<RawResponse {self.method} {self.head.status} {self.head.reason!r} {state}>"
