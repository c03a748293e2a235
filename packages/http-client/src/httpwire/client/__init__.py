"""The asyncio HTTP/1.1 client: ClientSession, request(), responses, cookies, redirects and
timeouts.

Everything an application needs is importable from here, the connectors, errors, forms and
streams included::

    from httpwire.client import ClientSession, TCPConnector, FormData, BasicAuth

    async with ClientSession() as session:
        async with session.get("http://127.0.0.1:8080/get", params={"q": "1"}) as r:
            print(r.status, await r.json())

What only some applications use (the request bodies of ``httpwire.forms``:
:class:`FormData`, the payloads, :class:`MultipartWriter` and :class:`MultipartReader`;
:class:`DigestAuth`, :class:`RateLimiter`; the tracing snapshots :class:`Timings` and
:class:`TraceEvent`; :class:`ProgressEvents`) is imported on first use of its name, so
``import httpwire.client`` does not pay for it; every name listed in ``__all__`` stays
importable from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from httpwire.connectors import (
    BadResponseError,
    BaseConnector,
    BasicAuth,
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
    Connector,
    ConnectTimeoutError,
    Fingerprint,
    FingerprintMismatch,
    HTTPConnection,
    ProxyConnector,
    ReadTimeoutError,
    ServerConnectionError,
    ServerDisconnectedError,
    TCPConnector,
    TotalTimeoutError,
    UnixConnector,
)
from httpwire.streams import EmptyStreamReader, StreamReader

from ._cookiejar import AbstractCookieJar, CookieJar, DummyCookieJar, LooseCookies
from ._errors import (
    ClientResponseError,
    ContentConsumedError,
    ContentTypeError,
    InvalidURL,
    RedirectBodyError,
    RequestInfo,
    TooManyRedirects,
)
from ._middleware import ClientRequest, Handler, Middleware
from ._one_shot import request
from ._progress import Progress, ProgressCallback
from ._request_context import RequestContext
from ._response import ClientResponse
from ._retry import Attempt, RetryPolicy
from ._session import ClientSession, RequestOptions, SSLSetting
from ._timeout import DEFAULT_TIMEOUT, ClientTimeout
from ._tracing import TraceHook, TraceHooks
from ._version import __version__

if TYPE_CHECKING:
    from httpwire.forms import (
        AsyncIterablePayload,
        BodyPayload,
        BytesPayload,
        FilePayload,
        FormData,
        JsonPayload,
        MultipartReader,
        MultipartWriter,
        Payload,
        StreamReaderPayload,
        StringPayload,
        TextFilePayload,
        payload_from,
    )

    from ._digest import DigestAuth, DigestBodyError
    from ._progress_events import ProgressEvent, ProgressEvents
    from ._ratelimit import RateLimiter
    from ._snapshots import Timings, TraceEvent

# Public names imported on first access (PEP 562), by the module that defines them.
_LAZY: dict[str, str] = {
    "DigestAuth": "httpwire.client._digest",
    "DigestBodyError": "httpwire.client._digest",
    "ProgressEvent": "httpwire.client._progress_events",
    "ProgressEvents": "httpwire.client._progress_events",
    "RateLimiter": "httpwire.client._ratelimit",
    "Timings": "httpwire.client._snapshots",
    "TraceEvent": "httpwire.client._snapshots",
    **dict.fromkeys(
        (
            "AsyncIterablePayload",
            "BodyPayload",
            "BytesPayload",
            "FilePayload",
            "FormData",
            "JsonPayload",
            "MultipartReader",
            "MultipartWriter",
            "Payload",
            "StreamReaderPayload",
            "StringPayload",
            "TextFilePayload",
            "payload_from",
        ),
        "httpwire.forms",
    ),
}

__all__ = [
    "DEFAULT_TIMEOUT",
    "AbstractCookieJar",
    "AsyncIterablePayload",
    "Attempt",
    "BadResponseError",
    "BaseConnector",
    "BasicAuth",
    "BodyPayload",
    "BytesPayload",
    "ClientConnectionError",
    "ClientConnectorCertificateError",
    "ClientConnectorError",
    "ClientError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientProxyError",
    "ClientRequest",
    "ClientResponse",
    "ClientResponseError",
    "ClientSSLError",
    "ClientSession",
    "ClientTimeout",
    "ClientTimeoutError",
    "ConnectTimeoutError",
    "Connector",
    "ContentConsumedError",
    "ContentTypeError",
    "CookieJar",
    "DigestAuth",
    "DigestBodyError",
    "DummyCookieJar",
    "EmptyStreamReader",
    "FilePayload",
    "Fingerprint",
    "FingerprintMismatch",
    "FormData",
    "HTTPConnection",
    "Handler",
    "InvalidURL",
    "JsonPayload",
    "LooseCookies",
    "Middleware",
    "MultipartReader",
    "MultipartWriter",
    "Payload",
    "Progress",
    "ProgressCallback",
    "ProgressEvent",
    "ProgressEvents",
    "ProxyConnector",
    "RateLimiter",
    "ReadTimeoutError",
    "RedirectBodyError",
    "RequestContext",
    "RequestInfo",
    "RequestOptions",
    "RetryPolicy",
    "SSLSetting",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "StreamReader",
    "StreamReaderPayload",
    "StringPayload",
    "TCPConnector",
    "TextFilePayload",
    "Timings",
    "TooManyRedirects",
    "TotalTimeoutError",
    "TraceEvent",
    "TraceHook",
    "TraceHooks",
    "UnixConnector",
    "__version__",
    "payload_from",
    "request",
]


def __getattr__(name: str) -> object:
    """Import a public name that only some applications use on first access.

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
    value: object = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, the ones not imported yet included."""
    return sorted(set(globals()) | set(__all__))
