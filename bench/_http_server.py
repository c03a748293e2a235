"""The HTTP server the HTTP benchmarks run against, in a process of its own.

nginx serving a static 13-byte file is preferred: it is fast enough never to be the
bottleneck. When nginx is missing, it is installed with apt-get if that is possible (as root
on Debian or Ubuntu); failing that, a canned-response asyncio server runs in a subprocess.
The server in use is named in the output. Both serve the file over TLS too, on a second
port, with a certificate for ``localhost`` and ``127.0.0.1`` from a throw-away trustme CA
(``BenchServer.ca_pem``).

Run as a script (``python bench/_http_server.py PORT``), this module is that canned server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["BODY", "BenchServer", "start_server"]

BODY = b"Hello, world!"  # 13 bytes

_NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        listen 127.0.0.1:{tls_port} ssl backlog=4096;
        ssl_certificate {tmp}/server.pem;
        ssl_certificate_key {tmp}/server.key;
        ssl_session_cache off;
        ssl_session_tickets off;
        root {tmp}/www;
        location / {{ }}
    }}
}}
"""

_CANNED = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: canned\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Length: 13\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n" + BODY
)


class BenchServer:
    """A running benchmark server.

    Attributes:
        name: What serves, e.g. ``"nginx/1.22.1 (1 worker)"``.
        url: The URL of the 13-byte file.
        https_url: The same file over TLS (``https://localhost:PORT/13``).
        ca_pem: The PEM file of the CA that issued the TLS certificate.
    """

    def __init__(
        self,
        name: str,
        port: int,
        tls_port: int,
        process: subprocess.Popen[bytes],
        tmp: str,
    ) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}/13"
        self.https_url = f"https://localhost:{tls_port}/13"
        self.ca_pem = str(Path(tmp, "ca.pem"))
        self._process = process
        self._tmp = tmp

    def stop(self) -> None:
        """Stop the server and its children, and remove its files."""
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the benchmark server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the benchmark server did not listen on port {port} within 10 s")


def _find_nginx() -> str | None:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found or os.environ.get("BENCH_NO_APT"):
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("nginx is missing: installing nginx-light with apt-get", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], env=env, check=False)
        return shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/usr/bin")
    return None


def _make_certificates(tmp: str) -> None:
    """A CA (ca.pem) and a certificate for localhost and 127.0.0.1 (server.pem, server.key)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca.cert_pem.write_to_path(str(Path(tmp, "ca.pem")))
    cert.private_key_pem.write_to_path(str(Path(tmp, "server.key")))
    with open(Path(tmp, "server.pem"), "wb") as chain:
        for blob in cert.cert_chain_pems:
            chain.write(blob.bytes())
    for name in ("ca.pem", "server.pem", "server.key"):
        os.chmod(Path(tmp, name), 0o644)  # nginx's workers may run as another user


def start_server() -> BenchServer:
    """Start nginx (or the canned server when nginx cannot be had) on free loopback ports."""
    tmp = tempfile.mkdtemp(prefix="httpwire-bench-")
    port = _free_port()
    tls_port = _free_port()
    _make_certificates(tmp)
    nginx = None if os.environ.get("BENCH_CANNED") else _find_nginx()
    if nginx:
        os.chmod(tmp, 0o755)  # nginx's workers may run as another user
        www = Path(tmp, "www")
        www.mkdir(mode=0o755)
        (www / "13").write_bytes(BODY)
        conf = Path(tmp, "nginx.conf")
        conf.write_text(_NGINX_CONF.format(tmp=tmp, port=port, tls_port=tls_port))
        version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
        cmd = [nginx, "-p", tmp, "-c", str(conf), "-e", f"{tmp}/error.log"]
        name = f"{version.partition(': ')[2] or 'nginx'} (1 worker, static file)"
    else:
        cmd = [sys.executable, __file__, str(port), str(tls_port), tmp]
        name = "canned-response asyncio server in a subprocess (nginx unavailable)"
    process = subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL)
    _wait_listening(port, process)
    _wait_listening(tls_port, process)
    return BenchServer(name, port, tls_port, process, tmp)


class _CannedProtocol(asyncio.Protocol):
    """Answers every request head with the same response (bodiless requests only)."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        count = buffer.count(b"\r\n\r\n")
        if count:
            buffer = buffer[buffer.rindex(b"\r\n\r\n") + 4 :]
            assert self._transport is not None
            self._transport.write(_CANNED * count)
        self._buffer = buffer


async def _serve(port: int, tls_port: int, tmp: str) -> None:
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(Path(tmp, "server.pem")), str(Path(tmp, "server.key")))
    server = await loop.create_server(_CannedProtocol, "127.0.0.1", port, backlog=4096)
    tls_server = await loop.create_server(
        _CannedProtocol, "127.0.0.1", tls_port, backlog=4096, ssl=context
    )
    async with server, tls_server:
        await asyncio.gather(server.serve_forever(), tls_server.serve_forever())


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
