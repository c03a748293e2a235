"""Scripted loopback servers, for the faults and answers no general server produces.

A test hands :func:`scripted_servers`' ``start`` a handler that gets each connection's
asyncio streams and writes exactly the bytes the case needs (a stray byte after a
response, a truncated chunk, a head that never ends). Every server and connection is
closed when the context ends, so a test leaves no socket behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

__all__ = ["Handler", "StartServer", "scripted_servers"]

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
"""Serves one connection of a scripted server."""

StartServer = Callable[[Handler], Awaitable[str]]
"""Starts a scripted server with a handler; returns its base URL ``http://127.0.0.1:PORT``."""


@asynccontextmanager
async def scripted_servers() -> AsyncIterator[StartServer]:
    """Start scripted loopback servers on the running loop; close them all on exit.

    Yields:
        ``start``: ``await start(handler)`` serves each connection with ``handler`` and
        returns the server's base URL. A handler's connection errors and incomplete reads
        end that connection quietly; its writer is closed when the handler returns.
    """
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(handler: Handler) -> str:
        async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            try:
                await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(run, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    try:
        yield start
    finally:
        for writer in writers:
            writer.close()
        for server in servers:
            server.close()
            await server.wait_closed()
