"""Host name resolution with a bounded cache, coalesced look-ups and rotated addresses.

Strategy: ``loop.getaddrinfo`` runs in a thread, so a look-up is costly next to a request
on a kept-alive connection. Answers are cached per ``(host, port, family)`` for
``ttl_dns_cache`` seconds in a cache of bounded size (the least recently used entry goes
first). Concurrent look-ups of the same name share one ``getaddrinfo`` call, whether or not
the cache is on, so a burst of new connections to one host costs one look-up. Each answer
given out is the cached list rotated by one, so connections to a host with several addresses
spread over them. IP literals are never looked up. Failures are not cached.
"""

from __future__ import annotations

import asyncio
import socket
from collections import OrderedDict
from typing import Any

__all__ = ["AddrInfo", "Resolver"]

AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]
"""One ``getaddrinfo`` entry: family, type, proto, canonical name, socket address."""

_Key = tuple[str, int, int]


class _Entry:
    __slots__ = ("expires", "infos", "next")

    def __init__(self, infos: list[AddrInfo], expires: float | None) -> None:
        self.infos = infos
        self.expires = expires
        self.next = 0


def _literal(host: str, port: int, family: int) -> list[AddrInfo] | None:
    """The addrinfo of an IP literal without a look-up; None when ``host`` is not one."""
    for kind in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(kind, host)
        except (OSError, ValueError):
            continue
        if family not in (0, kind):
            return []
        address: tuple[Any, ...] = (host, port) if kind == socket.AF_INET else (host, port, 0, 0)
        return [(kind, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]
    return None


class Resolver:
    """Resolves host names for TCP connections, with a cache.

    Args:
        use_dns_cache: Keep answers for ``ttl_dns_cache`` seconds.
        ttl_dns_cache: How long an answer is kept (``None``: until evicted).
        max_size: The most names kept; the least recently used goes first.

    Raises:
        ValueError: ``ttl_dns_cache`` is negative or ``max_size`` is not positive.
    """

    def __init__(
        self,
        *,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        max_size: int = 1024,
    ) -> None:
        if ttl_dns_cache is not None and ttl_dns_cache < 0:
            raise ValueError(f"ttl_dns_cache must be >= 0 or None, got {ttl_dns_cache!r}")
        if max_size < 1:
            raise ValueError(f"max_size must be a positive int, got {max_size!r}")
        self._use_cache = use_dns_cache
        self._ttl = ttl_dns_cache
        self._max_size = max_size
        self._cache: OrderedDict[_Key, _Entry] = OrderedDict()
        self._pending: dict[_Key, asyncio.Future[list[AddrInfo]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lookups = 0

    @property
    def use_cache(self) -> bool:
        """Whether answers are cached."""
        return self._use_cache

    @property
    def lookups(self) -> int:
        """How many ``getaddrinfo`` calls were made (for debugging and tests)."""
        return self._lookups

    def cached_hosts(self) -> list[tuple[str, int, int]]:
        """The ``(host, port, family)`` entries held, least recently used first."""
        return list(self._cache)

    def clear(self, host: str | None = None) -> None:
        """Forget cached answers: all of them, or one host's.

        Args:
            host: The host to forget (``None``: every host).
        """
        if host is None:
            self._cache.clear()
        else:
            for key in [k for k in self._cache if k[0] == host]:
                del self._cache[key]

    async def resolve(self, host: str, port: int, family: int = 0) -> list[AddrInfo]:
        """The addresses of ``host``, rotated by one on each call.

        Args:
            host: A name or an IP literal.
            port: The port to put in the socket addresses.
            family: ``socket.AF_INET``/``AF_INET6`` to restrict the answer (0: both).

        Returns:
            The stream-socket addresses, in the order to try them.

        Raises:
            OSError: The look-up failed (``socket.gaierror``), or found no address of
                ``family``.
        """
        literal = _literal(host, port, family)
        if literal is not None:
            if not literal:
                raise socket.gaierror(
                    socket.EAI_ADDRFAMILY if hasattr(socket, "EAI_ADDRFAMILY") else 0,
                    f"address {host} is not of the requested family {family}",
                )
            return literal
        key = (host, port, family)
        loop = asyncio.get_running_loop()
        if self._use_cache:
            entry = self._cache.get(key)
            if entry is not None:
                if entry.expires is None or entry.expires > loop.time():
                    self._cache.move_to_end(key)
                    return self._rotate(entry)
                del self._cache[key]
        pending = self._pending.get(key)
        if pending is None:
            pending = loop.create_future()
            self._pending[key] = pending
            task = loop.create_task(self._lookup(key, pending))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Shielded: a caller that gives up does not cancel the look-up others wait for.
        infos = await asyncio.shield(pending)
        if self._use_cache:
            entry = self._cache.get(key)
            if entry is not None:
                return self._rotate(entry)
        return list(infos)

    async def _lookup(self, key: _Key, future: asyncio.Future[list[AddrInfo]]) -> None:
        host, port, family = key
        loop = asyncio.get_running_loop()
        self._lookups += 1
        try:
            infos: list[AddrInfo] = await loop.getaddrinfo(  # type: ignore[assignment]  # address tuples typed loosely
                host, port, family=family, type=socket.SOCK_STREAM
            )
            if not infos:
                raise socket.gaierror(socket.EAI_NONAME, f"no address found for {host}")
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning if unawaited
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._pending.pop(key, None)
        if self._use_cache and (self._ttl is None or self._ttl > 0):
            expires = None if self._ttl is None else loop.time() + self._ttl
            self._cache[key] = _Entry(infos, expires)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max_size:
                self._cache.popitem(last=False)
        if not future.done():
            future.set_result(infos)

    @staticmethod
    def _rotate(entry: _Entry) -> list[AddrInfo]:
        infos = entry.infos
        start = entry.next % len(infos)
        entry.next = start + 1
        return infos[start:] + infos[:start]
