"""Connections, the connection pool, TCP, TLS, Unix and proxy connectors, and the client error
tree.
"""

from __future__ import annotations

from ._auth import BasicAuth
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
from ._version import __version__

__all__ = [
    "BadResponseError",
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
    "FingerprintMismatch",
    "ReadTimeoutError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "TotalTimeoutError",
    "__version__",
]
