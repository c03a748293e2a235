"""Real peers: httpbin on gunicorn's gthread worker, and proxy.py, on loopback only.

Each runs as a :class:`~httpwire_testserver._process.PeerProcess` (its own
process group, ended whole). Their listening sockets are bound here and handed
over where the program allows it (gunicorn's ``fd://``), and a peer counts as
ready once it answers, not merely once it accepts a connection.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import shutil
import socket
import ssl
import sys
import time
from pathlib import Path
from urllib.parse import quote

from ._net import bind_loopback, bind_unix, short_tempdir
from ._process import PeerProcess, PeerUnavailableError
from ._tls import TlsFiles, client_context

__all__ = ["HttpbinPeer", "ProxyPeer"]


def _require(module: str, distribution: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise PeerUnavailableError(f"{what} needs {distribution}: pip install {distribution}")


class HttpbinPeer:
    """httpbin served by gunicorn with the gthread worker, on loopback TCP and a Unix socket.

    Args:
        workers: gunicorn worker processes.
        threads: Threads per worker (requests served at once by each).
        keepalive: Seconds an idle keep-alive connection is kept.
        tls: Serve HTTPS with these files instead of plain HTTP (on TCP only).

    Attributes:
        host: ``"127.0.0.1"``.
        port: The TCP port.
        unix_path: The Unix socket path (``""`` with TLS).
        tls: The certificate files, when serving HTTPS.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        workers: int = 1,
        threads: int = 8,
        keepalive: int = 30,
        tls: TlsFiles | None = None,
    ) -> None:
        self.workers = workers
        self.threads = threads
        self.keepalive = keepalive
        self.tls = tls
        self.port = 0
        self.unix_path = ""
        self._dir: str | None = None
        self._process: PeerProcess | None = None

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` when serving TLS)."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def https_url(self) -> str:
        """``https://127.0.0.1:PORT``; the certificate is valid for that address.

        Raises:
            RuntimeError: This instance serves plain HTTP.
        """
        if self.tls is None:
            raise RuntimeError("this httpbin serves plain HTTP; start one with tls=...")
        return self.http_url

    @property
    def pid(self) -> int | None:
        """The pid of the keeper of gunicorn's process group, which is the group id."""
        return self._process.pid if self._process is not None else None

    def ssl_context(self) -> ssl.SSLContext:
        """A new client context trusting only the CA of this instance's certificate.

        Raises:
            RuntimeError: No TLS, or its CA is unknown.
        """
        if self.tls is None or self.tls.ca_pem is None:
            raise RuntimeError("this httpbin has no TLS CA to trust")
        return client_context(self.tls.ca_pem)

    def start(self, timeout: float = 60.0) -> HttpbinPeer:
        """Start gunicorn and wait until each of its sockets answers a request.

        Raises:
            PeerUnavailableError: gunicorn or httpbin is not installed.
        """
        _require("gunicorn", "gunicorn", "httpbin_server")
        _require("httpbin", "httpbin", "httpbin_server")
        self._dir = short_tempdir("httpbin-")
        # The sockets are bound here and handed over (gunicorn's fd://), so no
        # other process can take the port between choosing and binding it.
        (tcp,) = bind_loopback(0, ipv6=False)
        listeners = [tcp]
        if self.tls is None:
            self.unix_path = os.path.join(self._dir, "httpbin.sock")
            listeners.append(bind_unix(self.unix_path))
        for listener in listeners:
            listener.setblocking(True)
        self.port = tcp.getsockname()[1]
        argv = [
            sys.executable, "-m", "gunicorn",
            "--worker-class", "gthread",
            "--workers", str(self.workers),
            "--threads", str(self.threads),
            "--keep-alive", str(self.keepalive),
            "--graceful-timeout", "2",
            "--log-level", "warning",
            "--worker-tmp-dir", self._dir,
        ]  # fmt: skip
        for listener in listeners:
            argv += ["--bind", f"fd://{listener.fileno()}"]
        if self.tls is not None:
            argv += ["--certfile", str(self.tls.cert_pem), "--keyfile", str(self.tls.key_pem)]
        if _gunicorn_has_control_socket():
            # Else every instance shares one socket at ~/.gunicorn/gunicorn.ctl.
            argv.append("--no-control-socket")
        argv.append("httpbin:app")
        fds = tuple(listener.fileno() for listener in listeners)
        name = "gunicorn (httpbin" + (", TLS)" if self.tls else ")")
        workdir = Path(self._dir)
        self._process = PeerProcess(name, argv, workdir / "gunicorn.log", fds, workdir)
        try:
            self._process.start()
        finally:
            for listener in listeners:
                listener.close()
        try:
            # The sockets listen already, so a connection proves nothing: wait for an answer.
            tls = self.ssl_context() if self.tls is not None else None
            _wait_http(self._process, (self.host, self.port), timeout, tls)
            if self.unix_path:
                _wait_http(self._process, self.unix_path, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop gunicorn and its workers and remove the socket directory."""
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __repr__(self) -> str:
        unix = f" unix={self.unix_path}" if self.unix_path else ""
        return f"<HttpbinPeer {self.http_url}{unix}>"


def _wait_http(
    process: PeerProcess,
    address: tuple[str, int] | str,
    timeout: float,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Wait until ``GET /status/204`` at ``address`` is answered."""
    deadline = time.monotonic() + timeout
    request = b"GET /status/204 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    while True:
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as raw:
                raw.settimeout(1.0)
                raw.connect(address)
                sock = raw if tls is None else tls.wrap_socket(raw, server_hostname="127.0.0.1")
                with sock:
                    sock.sendall(request)
                    if sock.recv(12).startswith(b"HTTP/1.1 204"):
                        return
        except OSError:
            pass
        reason = process.exit_reason()
        if reason is not None:
            raise RuntimeError(reason)
        if time.monotonic() > deadline:
            where = f"{process.name} did not answer at {address!r} in {timeout} s"
            raise TimeoutError(f"{where}\n{process.log_tail()}")
        time.sleep(0.05)


def _gunicorn_has_control_socket() -> bool:
    try:
        version = importlib.metadata.version("gunicorn")
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(part) for part in [*version.split("."), "0"][:2])
    return (major, minor) >= (25, 1)


class ProxyPeer:
    """proxy.py, a forwarding proxy with CONNECT, on loopback; optionally with Basic auth.

    Args:
        auth: ``(user, password)`` the proxy requires, or ``None`` for an open proxy.

    Attributes:
        host: ``"127.0.0.1"``.
        port: The proxy's port.
        auth: The credentials it requires (``None``: open).
        url: ``http://127.0.0.1:PORT`` (no credentials).
        auth_url: The URL with the credentials percent-encoded in its userinfo
            (equal to ``url`` for an open proxy).
    """

    host = "127.0.0.1"

    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        self.auth = auth
        self.port = 0
        self._dir: str | None = None
        self._process: PeerProcess | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The pid of the keeper of proxy.py's process group, which is the group id."""
        return self._process.pid if self._process is not None else None

    @property
    def auth_url(self) -> str:
        """The proxy URL with percent-encoded credentials (``url`` for an open proxy)."""
        if self.auth is None:
            return self.url
        user, password = (quote(part, safe="") for part in self.auth)
        return f"http://{user}:{password}@{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> ProxyPeer:
        """Start proxy.py and wait until it accepts connections.

        Raises:
            PeerUnavailableError: proxy.py is not installed.
        """
        try:
            importlib.metadata.version("proxy.py")
        except importlib.metadata.PackageNotFoundError:
            raise PeerUnavailableError(
                "the proxy fixture needs proxy.py: pip install proxy.py"
            ) from None
        self._dir = short_tempdir("proxypy-")
        port_file = Path(self._dir) / "port"
        argv = [
            sys.executable, "-m", "proxy",
            "--hostname", self.host,
            "--port", "0",
            "--port-file", str(port_file),
            "--num-acceptors", "1",
            "--num-workers", "2",
            "--data-dir", self._dir,
            "--cache-dir", os.path.join(self._dir, "cache"),  # else made under ~/.proxy
            "--log-level", "WARNING",
            "--timeout", "30",
        ]  # fmt: skip
        if self.auth is not None:
            # proxy.py compares the Proxy-Authorization token with base64("user:password").
            argv += ["--basic-auth", f"{self.auth[0]}:{self.auth[1]}"]
        name = "proxy.py" + (" (auth)" if self.auth else "")
        workdir = Path(self._dir)
        self._process = PeerProcess(name, argv, workdir / "proxy.log", workdir=workdir)
        self._process.start()
        try:
            self.port = _read_port_file(port_file, self._process, timeout)
            self._process.wait_ready((self.host, self.port), timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop proxy.py and its workers and remove its directory."""
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __repr__(self) -> str:
        return f"<ProxyPeer url={self.url} auth={'yes' if self.auth else 'no'}>"


def _read_port_file(path: Path, process: PeerProcess, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, ValueError):
            text = path.read_text().strip()
            if text:
                return int(text.split()[0])
        reason = process.exit_reason()
        if reason is not None:
            raise RuntimeError(reason)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{process.name} wrote no port to {path} in {timeout} s")
        time.sleep(0.05)
