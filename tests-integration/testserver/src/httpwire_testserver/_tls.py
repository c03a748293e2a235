"""TLS material: certificates from a trustme CA, and the server and client contexts.

The server itself needs only certificate files (``--certfile``/``--keyfile``).
``trustme`` (the ``tls`` extra, or the test tools) is imported only by
:func:`make_certificates`, which the pytest plugin calls to make a throw-away CA
at start.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trustme

__all__ = ["LOOPBACK_NAMES", "TlsFiles", "client_context", "make_certificates", "server_context"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
"""The names the server certificate is valid for."""


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for a TLS listener.

    Attributes:
        cert_pem: The server certificate followed by its chain.
        key_pem: The server's private key.
        ca_pem: The CA certificate a client must trust (``None`` when unknown).
        ca: The ``trustme.CA`` that issued the certificate, when it was made here.
    """

    cert_pem: Path
    key_pem: Path
    ca_pem: Path | None = None
    ca: trustme.CA | None = None


def make_certificates(directory: Path, names: tuple[str, ...] = LOOPBACK_NAMES) -> TlsFiles:
    """Make a new CA and a server certificate for ``names``, written under ``directory``.

    Raises:
        ModuleNotFoundError: trustme is not installed (``pip install trustme``).
    """
    try:
        import trustme
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "certificates are made with trustme: pip install 'httpwire-testserver[tls]' "
            "or pass --certfile/--keyfile",
            name="trustme",
        ) from exc
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="httpwire test CA")
    cert = ca.issue_cert(*names)
    files = TlsFiles(directory / "server.pem", directory / "server.key", directory / "ca.pem", ca)
    cert.private_key_pem.write_to_path(str(files.key_pem))
    with files.cert_pem.open("wb") as chain:
        for blob in cert.cert_chain_pems:
            chain.write(blob.bytes())
    ca.cert_pem.write_to_path(str(files.ca_pem))
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server-side context for ``files``, offering HTTP/1.1 through ALPN."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(files.cert_pem), str(files.key_pem))
    context.set_alpn_protocols(["http/1.1"])
    return context


def client_context(ca_pem: Path) -> ssl.SSLContext:
    """A client context that trusts only the CA in ``ca_pem`` (hostnames checked)."""
    return ssl.create_default_context(cafile=str(ca_pem))
