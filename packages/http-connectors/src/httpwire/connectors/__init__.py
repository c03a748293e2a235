"""Connections, the connection pool, TCP, TLS, Unix and proxy (HTTP and SOCKS5) connectors,
and the client error tree.

The connection API the client uses (see the package README)::

    connector = TCPConnector(limit=30)
    request = OutgoingRequest("GET", url, headers, body, sock_connect=30, sock_read=300)
    conn = await connector.acquire(request)
    response = await conn.send(request)
    body = await response.content.read()
    response.release()
    await connector.close()

The client types against :class:`Connector` and :class:`HTTPConnection`, which every
connector and :class:`Connection` implement.

The SOCKS5 code is imported when a ``socks5://`` or ``socks5h://`` proxy is first used, and
:class:`SocksError` when its name is first asked for; it stays importable from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._auth import BasicAuth
from ._connection import Connection
from ._connector import BaseConnector, ConnectionKey, PoolOptions, UnixConnector
from ._errors import (
    BadResponseError,
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientError,
    ClientOSError,
    ClientPayloadError,
    ClientProxyConnectionError,
    ClientProxyError,
    ClientSSLError,
    ClientTimeoutError,
    ConnectTimeoutError,
    FingerprintMismatch,
    ReadTimeoutError,
    ServerConnectionError,
    ServerDisconnectedError,
    TotalTimeoutError,
)
from ._exchange import RawResponse
from ._interfaces import ConnectionTrace, Connector, HTTPConnection, OutgoingRequest
from ._pool import PoolStats
from ._proxy_connector import ProxyConnector
from ._tcp_connector import TCPConnector, TCPOptions
from ._tls import Fingerprint
from ._version import __version__

if TYPE_CHECKING:
    from ._socks import SocksError

# Public names imported on first access (PEP 562), by the module that defines them.
_LAZY: dict[str, str] = {"SocksError": "._socks"}

__all__ = [
    "BadResponseError",
    "BaseConnector",
    "BasicAuth",
    "ClientConnectionError",
    "ClientConnectorCertificateError",
    "ClientConnectorError",
    "ClientError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientProxyError",
    "ClientSSLError",
    "ClientTimeoutError",
    "ConnectTimeoutError",
    "Connection",
    "ConnectionKey",
    "ConnectionTrace",
    "Connector",
    "Fingerprint",
    "FingerprintMismatch",
    "HTTPConnection",
    "OutgoingRequest",
    "PoolOptions",
    "PoolStats",
    "ProxyConnector",
    "RawResponse",
    "ReadTimeoutError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "SocksError",
    "TCPConnector",
    "TCPOptions",
    "TotalTimeoutError",
    "UnixConnector",
    "__version__",
]


def __getattr__(name: str) -> object:
    """Import a public name of the SOCKS5 code on first access.

    Args:
        name: The attribute asked for.

    Returns:
        The public object of that name; it is then kept in the package's namespace.

    Raises:
        AttributeError: ``name`` is not a public name of the package.
    """
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, the ones not imported yet included."""
    return sorted(set(globals()) | set(__all__))
