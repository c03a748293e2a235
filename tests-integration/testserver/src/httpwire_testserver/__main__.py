"""Run the test server by hand: ``python -m httpwire_testserver --port 8080``.

It serves plain HTTP on 127.0.0.1 (and ::1 when available) at ``--port``, a
Unix socket with ``--unix PATH``, and TLS at ``--tls-port`` with either given
certificate files (``--certfile``/``--keyfile``) or new ones made with trustme
(``--make-certs DIR``, which writes ``ca.pem`` there for clients to trust).
It stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from ._local import LocalServer
from ._tls import TlsFiles, make_certificates

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m httpwire_testserver",
        description="A local httpbin-like HTTP/1.1 server (loopback only).",
    )
    parser.add_argument("--port", type=int, default=8080, help="HTTP port (0: any free one)")
    parser.add_argument("--unix", metavar="PATH", default="", help="also serve a Unix socket")
    parser.add_argument("--no-ipv6", action="store_true", help="do not listen on ::1")
    tls = parser.add_argument_group("TLS")
    tls.add_argument("--tls-port", type=int, default=None, help="HTTPS port (0: any free one)")
    tls.add_argument("--certfile", type=Path, help="server certificate chain (PEM)")
    tls.add_argument("--keyfile", type=Path, help="server private key (PEM)")
    tls.add_argument(
        "--make-certs",
        metavar="DIR",
        type=Path,
        help="make a trustme CA and certificate in DIR (needs trustme)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the server until interrupted; return the exit status."""
    args = _parser().parse_args(argv)
    files: TlsFiles | None = None
    if args.tls_port is not None:
        if args.make_certs is not None:
            files = make_certificates(args.make_certs)
        elif args.certfile is not None and args.keyfile is not None:
            files = TlsFiles(args.certfile, args.keyfile)
        else:
            _parser().error("--tls-port needs --certfile and --keyfile, or --make-certs DIR")
    server = LocalServer(
        port=args.port,
        tls=files,
        tls_port=args.tls_port or 0,
        unix_path=args.unix,
        ipv6=not args.no_ipv6,
    )
    server.start()
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"serving {server.http_url}", flush=True)
    if server.http_url_v6:
        print(f"serving {server.http_url_v6}", flush=True)
    if files is not None:
        print(f"serving {server.https_url}", flush=True)
        if files.ca_pem is not None:
            print(f"trust the CA in {files.ca_pem}", flush=True)
    if server.has_unix:
        print(f"serving unix:{server.unix_path}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
