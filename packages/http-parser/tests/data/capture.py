"""How the ``*.http`` fixtures next to this file were captured (the tests never run this).

Each fixture holds the raw bytes a real server sent back on one connection, read
from a socket until the server closed it. The requests are in ``REQUESTS`` below;
the servers ran on 127.0.0.1 only:

* nginx 1.22.1 (Debian's ``nginx-light``), started by hand in the foreground with
  the tiny configuration in ``NGINX_CONF`` and a temporary document root;
* gunicorn (27.0.1 at capture time) serving the WSGI app in ``WSGI_APP``
  (installed in a scratch venv, never a dependency of this package);
* Python 3.11's ``http.server`` (``SimpleHTTPRequestHandler``, HTTP/1.0) over the same
  document root.

Run it again with::

    python capture.py --gunicorn /path/to/venv/bin/gunicorn [--nginx /usr/sbin/nginx]

It overwrites the fixtures; ``test_captured.py`` then checks them against what
each server is known to send, so a recapture with other versions should still
pass unless the server changed its behaviour.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent

INDEX_HTML = b"<!doctype html>\n<title>httpwire</title>\n<p>Hello from a captured server.</p>\n"
# Text large enough that nginx compresses it and streams the result chunked.
BIG_TEXT = b"".join(b"%06d the quick brown fox jumps over the lazy dog\n" % i for i in range(4000))

NGINX_CONF = """\
daemon off;
master_process off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp-body;
    proxy_temp_path {root}/tmp-proxy;
    fastcgi_temp_path {root}/tmp-fastcgi;
    uwsgi_temp_path {root}/tmp-uwsgi;
    scgi_temp_path {root}/tmp-scgi;
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        gzip on;
        gzip_types text/plain;
        gzip_min_length 1000;
    }}
}}
"""

WSGI_APP = '''\
"""A tiny WSGI app for capturing gunicorn's responses."""


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/json":
        body = b'{"hello": "world"}'
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if path == "/cookies":
        start_response("201 Created", [("Content-Type", "text/plain"),
                                       ("Set-Cookie", "a=1; Path=/"),
                                       ("Set-Cookie", "b=2; Path=/; HttpOnly"),
                                       ("Content-Length", "7")])
        return [b"created"]
    if path == "/stream":
        # No Content-Length: gunicorn frames HTTP/1.1 responses chunked,
        # HTTP/1.0 responses by closing the connection.
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (b"part %d\\n" % i for i in range(5))
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("Content-Length", "9")])
    return [b"not found"]
'''

# fixture name -> the request bytes sent (each ends the connection).
_CLOSE = b"Host: localhost\r\nConnection: close\r\n\r\n"
REQUESTS: dict[str, dict[str, bytes]] = {
    "nginx": {
        "nginx_static": b"GET /index.html HTTP/1.1\r\n" + _CLOSE,
        "nginx_404": b"GET /missing HTTP/1.1\r\n" + _CLOSE,
        "nginx_head": b"HEAD /index.html HTTP/1.1\r\n" + _CLOSE,
        "nginx_304": (
            b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: *\r\n"
            b"Connection: close\r\n\r\n"
        ),
        "nginx_gzip_chunked": (
            b"GET /big.txt HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n"
            b"Connection: close\r\n\r\n"
        ),
        "nginx_pipelined": (
            b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"
            b"HEAD /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"
            b"GET /missing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        ),
    },
    "gunicorn": {
        "gunicorn_json": b"GET /json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "gunicorn_cookies": (
            b"GET /cookies HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        ),
        "gunicorn_chunked": (
            b"GET /stream HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        ),
        "gunicorn_http10_close": b"GET /stream HTTP/1.0\r\nHost: localhost\r\n\r\n",
        "gunicorn_404": b"GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    },
    "stdlib": {
        "stdlib_file": b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "stdlib_404": b"GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "stdlib_head": b"HEAD /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n",
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` and read everything until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def make_docroot(root: Path) -> Path:
    www = root / "www"
    www.mkdir()
    (www / "index.html").write_bytes(INDEX_HTML)
    (www / "big.txt").write_bytes(BIG_TEXT)
    return www


@contextlib.contextmanager
def nginx(binary: str, root: Path) -> Iterator[int]:
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port))
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(root)])
    try:
        wait_for(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def gunicorn(binary: str, root: Path) -> Iterator[int]:
    port = free_port()
    (root / "capture_app.py").write_text(WSGI_APP)
    proc = subprocess.Popen(
        [binary, "--bind", f"127.0.0.1:{port}", "--chdir", str(root), "--workers", "1",
         "capture_app:app"],
    )  # fmt: skip
    try:
        wait_for(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def stdlib(www: Path) -> Iterator[int]:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nginx", default="/usr/sbin/nginx")
    parser.add_argument("--gunicorn", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        www = make_docroot(root)
        servers = {
            "nginx": nginx(args.nginx, root),
            "gunicorn": gunicorn(args.gunicorn, root),
            "stdlib": stdlib(www),
        }
        for server, requests in REQUESTS.items():
            with servers[server] as port:
                for name, request in requests.items():
                    data = exchange(port, request)
                    (HERE / f"{name}.http").write_bytes(data)
                    print(f"{name}.http: {len(data)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
