"""What ``session.get(...)`` and ``request(...)`` return: a coroutine and a context manager.

Strategy: the request itself is one coroutine (the session's ``_request``); this object wraps
it without adding a task, a future or a frame per request. As a
``collections.abc.Coroutine`` it forwards ``send``/``throw``/``close`` to the wrapped
coroutine, so ``await``, ``asyncio.create_task()``, ``asyncio.wait_for()`` and
``asyncio.gather()`` take it as they take any coroutine. As an async context manager it
hands the coroutine itself to ``async with`` on entry (no coroutine of its own, so no extra
frame to create or to pass each resumption through) and releases the response on exit, so
``async with session.get(url) as r:`` never leaks a connection, whatever happens in the
block. The request's coroutine puts its response in a one-item list the context shares with
it (a list, not the context: the coroutine's frame must not reference the context that
references the coroutine, or an unawaited request would linger until the cycle collector).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import Any

from ._response import ClientResponse

__all__ = ["RequestContext"]


class RequestContext(Coroutine[Any, Any, ClientResponse]):
    """A pending request: await it for the response, or use it with ``async with``.

    Examples::

        r = await session.get(url)  # release r yourself (or read its body)
        task = asyncio.create_task(session.get(url))
        r = await asyncio.wait_for(session.get(url), 10)
        async with session.get(url) as r:  # released when the block ends
            ...

    Awaiting it twice, or entering it after awaiting it, is an error, as for any coroutine.
    """

    __slots__ = ("_coro", "_out")

    def __init__(
        self, coro: Coroutine[Any, Any, ClientResponse], out: list[ClientResponse]
    ) -> None:
        self._coro = coro
        self._out = out  # the coroutine appends its response here

    def send(self, value: Any) -> Any:
        """Advance the request (the coroutine protocol)."""
        return self._coro.send(value)

    def throw(
        self,
        typ: type[BaseException] | BaseException,
        val: object = None,
        tb: TracebackType | None = None,
    ) -> Any:
        """Raise an exception inside the request (the coroutine protocol)."""
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)  # type: ignore[arg-type]  # the legacy form, passed on as given

    def close(self) -> None:
        """Close the request's coroutine (the coroutine protocol)."""
        self._coro.close()

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._coro.__await__()

    def __aenter__(self) -> Coroutine[Any, Any, ClientResponse]:
        return self._coro

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        out = self._out
        if out:
            response = out.pop()
            if not response._exit_now():
                await response._exit(exc_type is None)

    def __repr__(self) -> str:
        return f"<RequestContext {self._coro!r}>"
