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
"""

from __future__ import annotations

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
from ._socks import SocksError
from ._tcp_connector import TCPConnector, TCPOptions
from ._tls import Fingerprint
from ._version import __version__

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
