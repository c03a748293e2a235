"""The local server run in a thread of its own, with its own event loop.

Tests start it once per session; their event loops (a new one per test with
pytest-asyncio) never share anything with the server's, so no fixture scope can
tangle with it. Sockets are bound before the thread starts, so the ports are
known, and any bind error raised, as soon as :meth:`LocalServer.start` returns.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from ._net import bind_loopback, bind_unix, short_tempdir
from ._routes import make_app
from ._server import HttpServer
from ._tls import TlsFiles, client_context, server_context

if TYPE_CHECKING:
    import trustme

__all__ = ["LocalServer"]


class LocalServer:
    """The httpbin-like server on loopback TCP (IPv4 and IPv6), TLS and a Unix socket.

    Args:
        port: TCP port for plain HTTP (0: a free one).
        tls: Certificate files; ``None`` serves no TLS.
        tls_port: TCP port for TLS (0: a free one).
        unix_path: Path of the Unix socket; ``None`` makes one in a new private
            directory, ``""`` serves no Unix socket.
        ipv6: Also listen on ``::1`` (same port) where the machine allows it.
        idle_timeout: Close keep-alive connections idle for this many seconds
            (``None``: never), to test how clients handle a server that does.

    Attributes:
        host: ``"127.0.0.1"``.
        port: The plain HTTP port.
        ipv6: Whether ``::1`` is served too.
        tls: The certificate files (``None`` without TLS).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        port: int = 0,
        tls: TlsFiles | None = None,
        tls_port: int = 0,
        unix_path: str | None = None,
        ipv6: bool = True,
        idle_timeout: float | None = None,
    ) -> None:
        self.idle_timeout = idle_timeout
        self._want_port = port
        self._want_tls_port = tls_port
        self._want_unix = unix_path
        self._want_ipv6 = ipv6
        self.tls = tls
        self.port = 0
        self._tls_port: int | None = None
        self.ipv6 = False
        self._unix_path: str | None = None
        self._tempdir: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- URLs ------------------------------------------------------------------

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def localhost_url(self) -> str:
        """``http://localhost:PORT``: reaches the server over IPv4 or IPv6."""
        return f"http://localhost:{self.port}"

    @property
    def http_url_v6(self) -> str | None:
        """``http://[::1]:PORT``, or ``None`` where IPv6 loopback is unavailable."""
        return f"http://[::1]:{self.port}" if self.ipv6 else None

    @property
    def https_url(self) -> str:
        """``https://localhost:TLS_PORT``; the certificate is valid for localhost, 127.0.0.1, ::1.

        Raises:
            RuntimeError: The server was started without TLS.
        """
        return f"https://localhost:{self.tls_port}"

    @property
    def has_unix(self) -> bool:
        """Whether the server serves a Unix socket."""
        return self._unix_path is not None

    @property
    def unix_path(self) -> str:
        """The Unix socket's path.

        Raises:
            RuntimeError: The server was started without a Unix socket.
        """
        if self._unix_path is None:
            raise RuntimeError("this server was started without a Unix socket")
        return self._unix_path

    @property
    def has_tls(self) -> bool:
        """Whether the server serves TLS."""
        return self._tls_port is not None

    @property
    def tls_port(self) -> int:
        """The TLS port.

        Raises:
            RuntimeError: The server was started without TLS.
        """
        if self._tls_port is None:
            raise RuntimeError("this server was started without TLS")
        return self._tls_port

    @property
    def ca_pem(self) -> Path:
        """The PEM file of the CA that issued the server certificate.

        Raises:
            RuntimeError: No TLS, or certificate files given without their CA.
        """
        if self.tls is None or self.tls.ca_pem is None:
            raise RuntimeError("this server has no TLS CA to trust")
        return self.tls.ca_pem

    @property
    def ca(self) -> trustme.CA:
        """The ``trustme.CA`` behind the certificate.

        Raises:
            RuntimeError: No TLS, or the certificate was not made with trustme here.
        """
        if self.tls is None or self.tls.ca is None:
            raise RuntimeError("this server's certificate does not come from a trustme CA")
        return self.tls.ca

    def url(self, path: str = "/", *, scheme: str = "http") -> str:
        """The URL of ``path`` over ``scheme`` (``"http"`` or ``"https"``)."""
        base = self.https_url if scheme == "https" else self.http_url
        return base + (path if path.startswith("/") else "/" + path)

    def ssl_context(self) -> ssl.SSLContext:
        """A new client context trusting only this server's CA.

        Raises:
            RuntimeError: The server has no TLS, or its CA is unknown.
        """
        return client_context(self.ca_pem)

    # -- life cycle ------------------------------------------------------------

    def start(self) -> LocalServer:
        """Bind every socket and start serving; return once connections are accepted.

        Raises:
            OSError: A port or path could not be bound.
        """
        sockets: list[tuple[socket.socket, ssl.SSLContext | None]] = []
        try:
            plain = bind_loopback(self._want_port, ipv6=self._want_ipv6)
            self.port = plain[0].getsockname()[1]
            self.ipv6 = len(plain) > 1
            sockets += [(sock, None) for sock in plain]
            if self.tls is not None:
                context = server_context(self.tls)
                secure = bind_loopback(self._want_tls_port, ipv6=self._want_ipv6)
                self._tls_port = secure[0].getsockname()[1]
                sockets += [(sock, context) for sock in secure]
            if self._want_unix != "":
                if self._want_unix is None:
                    self._tempdir = short_tempdir("httpwire-")
                    self._unix_path = os.path.join(self._tempdir, "server.sock")
                else:
                    self._unix_path = self._want_unix
                sockets.append((bind_unix(self._unix_path), None))
        except BaseException:
            for sock, _ in sockets:
                sock.close()
            self._cleanup_files()
            raise
        self._thread = threading.Thread(
            target=self._run, args=(sockets,), name=f"httpwire-testserver:{self.port}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        atexit.register(self.stop)  # the Unix socket's directory goes even without a finalizer
        return self

    def _run(self, sockets: list[tuple[socket.socket, ssl.SSLContext | None]]) -> None:
        try:
            asyncio.run(self._main(sockets))
        except BaseException as exc:  # reported by start(), or lost at interpreter exit
            self._error = exc
            self._ready.set()

    async def _main(self, sockets: list[tuple[socket.socket, ssl.SSLContext | None]]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = HttpServer(make_app(), idle_timeout=self.idle_timeout)
        try:
            for sock, context in sockets:
                await server.serve(sock, tls=context)
        except BaseException:
            for sock, _ in sockets:
                sock.close()
            raise
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.close()

    def stop(self) -> None:
        """Stop serving, end every connection, and remove the Unix socket."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is not None and loop is not None and stop is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
            thread.join(10.0)
        self._thread = None
        atexit.unregister(self.stop)
        self._cleanup_files()

    def _cleanup_files(self) -> None:
        if self._unix_path is not None and self._want_unix is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._unix_path)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        parts = [f"http={self.http_url}"]
        if self.has_tls:
            parts.append(f"https={self.https_url}")
        if self._unix_path:
            parts.append(f"unix={self._unix_path}")
        return f"<LocalServer {' '.join(parts)}>"
