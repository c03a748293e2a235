"""The connection pool: slots per endpoint and in total, idle connections, FIFO waiters.

Strategy: the pool counts *slots*. A slot is one connection to one endpoint that exists or is
being opened: reserved before connecting, filled by the connection, freed when that
connection is closed. Both limits count slots, so idle connections count too; when the total
limit is reached and a waiter needs a slot, the oldest idle connection of another endpoint is
closed to make room.

Every change that can let a waiter proceed (a release, a close, a failed connect) calls
:meth:`ConnectionPool._wake`, which serves waiters in arrival order, each either with an idle
connection of its endpoint or with a fresh slot. Hence the queue never holds a waiter that
could proceed, and a newcomer that finds room can take it without overtaking anyone. A waiter
cancelled after it was served gives back what it was given, so counts always balance.

The pool knows nothing of sockets: it calls ``close()`` on what it evicts, reads
``is_closed``, and asks ``is_reusable`` of an idle connection before lending it. Its
bookkeeping of each connection (key, state, idle time) is a :class:`PoolEntry` that the
connection makes once and hands over as ``pool_entry``: the pool's record, which only the
pool writes, so the hot path allocates nothing and the connection has no slots of the
pool's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["ConnectionPool", "PoolEntry", "PoolStats", "PooledConnection"]

# Values of PoolEntry.state.
NEW = 0  # not yet in the pool's books (still connecting): its slot is the connector's
ACTIVE = 1  # lent out (in use by a request)
IDLE = 2  # in an idle list, ready for reuse
GONE = 3  # closed; its slot was freed

_NOTHING = object()  # a waiter that cannot be served yet


class PoolEntry:
    """The pool's record of one connection; only the pool writes it.

    Args:
        key: The connection's pool key.

    Attributes:
        key: The connection's pool key.
        state: ``NEW``, ``ACTIVE``, ``IDLE`` or ``GONE``.
        idle_since: The loop time the connection last became idle.
    """

    __slots__ = ("idle_since", "key", "state")

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.state = NEW
        self.idle_since = 0.0


class PooledConnection(Protocol):
    """What the pool needs from a connection."""

    @property
    def pool_entry(self) -> PoolEntry:
        """The pool's record of the connection, made with it."""

    @property
    def is_closed(self) -> bool:
        """True once the connection was closed or the peer closed it."""

    @property
    def is_reusable(self) -> bool:
        """True when an idle connection may be lent: open, and nothing arrived on it."""

    def close(self) -> None:
        """Close the connection now."""


C = TypeVar("C", bound=PooledConnection)


@dataclass(frozen=True, slots=True)
class PoolStats:
    """A snapshot of a pool's (or one endpoint's) counts, for debugging and tests.

    Attributes:
        connecting: Slots reserved by connections being opened.
        in_use: Connections lent out to requests.
        idle: Connections waiting in the pool for reuse.
        waiting: Requests waiting for a slot.
    """

    connecting: int
    in_use: int
    idle: int
    waiting: int

    @property
    def open(self) -> int:
        """Slots taken: connecting, in use and idle together (what the limits cap)."""
        return self.connecting + self.in_use + self.idle


class _Waiter:
    __slots__ = ("future", "key")

    def __init__(self, key: Hashable, future: asyncio.Future[object]) -> None:
        self.key = key
        self.future = future


def _same(key: Hashable) -> Hashable:
    return key


class ConnectionPool(Generic[C]):
    """Slots, idle connections and FIFO waiters for many endpoints.

    Args:
        limit: The most slots one endpoint may hold at once (``None``: no cap).
        endpoint: Maps a pool key to the endpoint that ``limit`` counts for; keys that
            differ only in other settings (trust, proxy) share their endpoint's cap.
            By default each key is its own endpoint.
        total_limit: The most slots all endpoints may hold at once (``None``: no cap).
        keepalive_timeout: Seconds an idle connection is kept (``None``: until the peer
            closes it; ``0``: never kept, every released connection is closed).
    """

    __slots__ = (
        "_cleanup",
        "_closed",
        "_connecting",
        "_endpoint",
        "_endpoint_open",
        "_idle",
        "_keepalive",
        "_limit",
        "_loop",
        "_open",
        "_total",
        "_total_limit",
        "_waiters",
        "_waking",
    )

    def __init__(
        self,
        *,
        limit: int | None,
        total_limit: int | None,
        keepalive_timeout: float | None,
        endpoint: Callable[[Hashable], Hashable] | None = None,
    ) -> None:
        self._limit = limit
        self._endpoint: Callable[[Hashable], Hashable] = endpoint or _same
        self._endpoint_open: dict[Hashable, int] = {}  # slots per endpoint, when limited
        self._total_limit = total_limit
        self._keepalive = keepalive_timeout
        self._idle: dict[Hashable, deque[C]] = {}
        self._open: dict[Hashable, int] = {}  # slots per pool key
        self._connecting: dict[Hashable, int] = {}
        self._total = 0
        self._waiters: deque[_Waiter] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cleanup: asyncio.TimerHandle | None = None
        self._closed = False
        self._waking = False

    # -- taking --------------------------------------------------------------------------

    def take_idle(self, key: Hashable) -> C | None:
        """Lend an idle connection to ``key`` at once, if there is one.

        The synchronous fast path of :meth:`acquire`: no coroutine when a connection is
        ready.
        """
        idle = self._idle.get(key)
        if idle and not self._closed:
            return self._take_idle(idle)
        return None

    async def acquire(self, key: Hashable) -> C | None:
        """Take an idle connection to ``key``, or reserve a slot to open one.

        Waits (FIFO) while the limits leave no room.

        Args:
            key: The endpoint.

        Returns:
            An idle connection, now lent out; or ``None``, meaning a slot was reserved and
            the caller must open a connection and :meth:`fill` the slot, or
            :meth:`unreserve` it if opening fails.

        Raises:
            RuntimeError: The pool was closed.
        """
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        idle = self._idle.get(key)
        if idle:
            conn = self._take_idle(idle)
            if conn is not None:
                return conn
        if not self._waiters and self._has_room(key):
            self._reserve(key)
            return None
        return await self._wait(key)

    async def _wait(self, key: Hashable) -> C | None:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        waiter = _Waiter(key, loop.create_future())
        self._waiters.append(waiter)
        # Capacity may already exist (idle connections elsewhere to evict, or the queue
        # held only waiters blocked on other endpoints).
        self._wake()
        try:
            got = await waiter.future
        except BaseException:
            future = waiter.future
            if future.done() and not future.cancelled():
                self._give_back(key, future.result())
            else:
                future.cancel()
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            raise
        if isinstance(got, BaseException):
            raise got
        return got  # type: ignore[return-value]  # futures carry C | None or an exception

    def _give_back(self, key: Hashable, got: object) -> None:
        """Undo a grant whose waiter was cancelled before it could use it."""
        if got is None:
            self.unreserve(key)
        elif not isinstance(got, BaseException):
            self.release(got)  # type: ignore[arg-type]  # a connection lent to the waiter

    def _take_idle(self, idle: deque[C]) -> C | None:
        keepalive = self._keepalive
        now = self._loop.time() if (keepalive is not None and self._loop is not None) else 0.0
        while idle:
            conn = idle.pop()  # most recently used first: the likeliest to be alive
            entry = conn.pool_entry
            entry.state = ACTIVE
            if not conn.is_reusable or (
                keepalive is not None and now - entry.idle_since > keepalive
            ):
                self.discard(conn)
                continue
            return conn
        return None

    def _endpoint_full(self, key: Hashable) -> bool:
        limit = self._limit
        return limit is not None and self._endpoint_open.get(self._endpoint(key), 0) >= limit

    def _has_room(self, key: Hashable) -> bool:
        if self._endpoint_full(key):
            return False
        return self._total_limit is None or self._total < self._total_limit

    def _reserve(self, key: Hashable) -> None:
        self._open[key] = self._open.get(key, 0) + 1
        self._connecting[key] = self._connecting.get(key, 0) + 1
        self._total += 1
        if self._limit is not None:
            endpoint = self._endpoint(key)
            self._endpoint_open[endpoint] = self._endpoint_open.get(endpoint, 0) + 1

    def _free_slot(self, key: Hashable) -> None:
        self._decrement(self._open, key)
        self._total -= 1
        if self._limit is not None:
            self._decrement(self._endpoint_open, self._endpoint(key))

    # -- giving back ---------------------------------------------------------------------

    def fill(self, conn: C) -> None:
        """Record that a connection was opened in a slot reserved for its ``pool_key``."""
        entry = conn.pool_entry
        self._decrement(self._connecting, entry.key)
        entry.state = ACTIVE

    def unreserve(self, key: Hashable) -> None:
        """Free a slot reserved by :meth:`acquire` whose connection was never opened."""
        self._decrement(self._connecting, key)
        self._free_slot(key)
        self._wake()

    def release(self, conn: C) -> None:
        """Take back a connection that is ready for another request.

        When the oldest waiter is for the same pool key it gets the connection at once;
        otherwise the connection goes to the idle list and waiters are served in arrival
        order (an older waiter for another endpoint may have it closed to make room).
        """
        entry = conn.pool_entry
        if entry.state != ACTIVE:
            return
        if self._closed or conn.is_closed or self._keepalive == 0:
            self.discard(conn)
            return
        key = entry.key
        waiters = self._waiters
        while waiters and waiters[0].future.done():
            waiters.popleft()
        if waiters and waiters[0].key == key:
            # The oldest waiter wants this very endpoint: hand the connection over. A waiter
            # for another endpoint that came first is served first (below, by _wake), even
            # if that takes closing this connection: waiters are served in arrival order,
            # never by endpoint, so that a busy endpoint cannot starve a quiet one.
            waiters.popleft().future.set_result(conn)
            return
        entry.state = IDLE
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        entry.idle_since = loop.time()
        idle = self._idle.get(key)
        if idle is None:
            idle = self._idle[key] = deque()
        idle.append(conn)
        if self._cleanup is None and self._keepalive is not None:
            self._cleanup = loop.call_at(entry.idle_since + self._keepalive, self._sweep)
        if self._waiters:
            self._wake()  # a waiter of another endpoint may evict it

    def discard(self, conn: C) -> None:
        """Close a connection (if it is not closed) and free its slot; idempotent."""
        entry = conn.pool_entry
        state = entry.state
        if state == GONE:
            return
        entry.state = GONE
        if state == NEW:
            # Never filled a slot: whoever reserved it unreserves it.
            if not conn.is_closed:
                conn.close()
            return
        key = entry.key
        if state == IDLE:
            idle = self._idle.get(key)
            if idle is not None:
                try:
                    idle.remove(conn)
                except ValueError:
                    pass
                if not idle:
                    del self._idle[key]
        self._free_slot(key)
        if not conn.is_closed:
            conn.close()
        if self._waiters:
            self._wake()

    @staticmethod
    def _decrement(counts: dict[Hashable, int], key: Hashable) -> None:
        left = counts[key] - 1
        if left:
            counts[key] = left
        else:
            del counts[key]

    # -- serving waiters -----------------------------------------------------------------

    def _wake(self) -> None:
        """Serve waiters in arrival order with whatever capacity there is now."""
        if self._waking or not self._waiters:
            return
        self._waking = True  # closing an evicted connection must not re-enter
        try:
            progress = True
            while progress and self._waiters:
                progress = False
                for waiter in list(self._waiters):
                    if waiter.future.done():
                        self._waiters.remove(waiter)
                        continue
                    got = self._serve(waiter.key)
                    if got is _NOTHING:
                        if not self._idle and not self._has_total_room():
                            break  # no one behind can get a slot either
                        continue
                    self._waiters.remove(waiter)
                    waiter.future.set_result(got)
                    progress = True
        finally:
            self._waking = False

    def _serve(self, key: Hashable) -> object:
        idle = self._idle.get(key)
        if idle:
            conn = self._take_idle(idle)
            if conn is not None:
                return conn
        if self._has_room(key) or self._evict_for(key):
            self._reserve(key)
            return None
        return _NOTHING

    def _has_total_room(self) -> bool:
        return self._total_limit is None or self._total < self._total_limit

    def _evict_for(self, key: Hashable) -> bool:
        """Close the oldest idle connection of another key to make room for ``key``.

        When ``key``'s endpoint is at its limit, only an idle connection to the same
        endpoint (with other settings) frees a slot that helps.
        """
        same_endpoint = self._endpoint_full(key)
        endpoint = self._endpoint(key)
        oldest: C | None = None
        for other, idle in self._idle.items():
            if (
                other != key
                and idle
                and (not same_endpoint or self._endpoint(other) == endpoint)
                and (
                    oldest is None or idle[0].pool_entry.idle_since < oldest.pool_entry.idle_since
                )
            ):
                oldest = idle[0]
        if oldest is None:
            return False
        self.discard(oldest)
        return True

    def _sweep(self) -> None:
        """Close idle connections past the keep-alive timeout; re-arm for the next one."""
        self._cleanup = None
        keepalive = self._keepalive
        loop = self._loop
        if keepalive is None or loop is None or self._closed:
            return
        now = loop.time()
        next_due: float | None = None
        for idle in list(self._idle.values()):
            while idle and (idle[0].is_closed or now - idle[0].pool_entry.idle_since >= keepalive):
                self.discard(idle[0])
            if idle:
                due = idle[0].pool_entry.idle_since + keepalive
                next_due = due if next_due is None else min(next_due, due)
        if next_due is not None:
            self._cleanup = loop.call_at(next_due, self._sweep)

    # -- observing and closing -----------------------------------------------------------

    def stats(self, key: Hashable | None = None) -> PoolStats:
        """Counts for one endpoint, or for the whole pool when ``key`` is ``None``."""
        # Lent-out connections are not counted as they come and go (a per-request cost):
        # they are the slots that are neither being opened nor idle.
        if key is None:
            connecting = sum(self._connecting.values())
            idle = sum(len(idle) for idle in self._idle.values())
            return PoolStats(
                connecting=connecting,
                in_use=self._total - connecting - idle,
                idle=idle,
                waiting=sum(1 for w in self._waiters if not w.future.done()),
            )
        connecting = self._connecting.get(key, 0)
        idle = len(self._idle.get(key, ()))
        return PoolStats(
            connecting=connecting,
            in_use=self._open.get(key, 0) - connecting - idle,
            idle=idle,
            waiting=sum(1 for w in self._waiters if w.key == key and not w.future.done()),
        )

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Refuse new requests, fail waiters with RuntimeError and close idle connections.

        Connections in use are the caller's to close.
        """
        self._closed = True
        if self._cleanup is not None:
            self._cleanup.cancel()
            self._cleanup = None
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_result(RuntimeError("the connection pool was closed"))
        for idle in list(self._idle.values()):
            while idle:
                self.discard(idle[0])
