"""HTTP proxies: the proxy settings, absolute-form requests, and CONNECT tunnels.

Strategy (RFC 9110 §9.3.6, RFC 9112 §3.2.2):

* A plain-http target goes to the proxy as an ordinary request whose target is the
  absolute URI, with ``Proxy-Authorization`` when the proxy needs credentials. The
  connection is to the proxy, so it is pooled under the proxy *and* its credentials.
* An https target gets a tunnel: ``CONNECT host:port`` (authenticated the same way), and
  once the proxy answers 2xx, TLS to the target inside it, verified against the
  **target's** name, trust and pin. ``Proxy-Authorization`` goes only in the CONNECT
  request, so the target never sees it.
* Credentials come from ``proxy_auth`` or from the proxy URL's userinfo (percent-decoded),
  never both. The proxy URL is kept without them, so they never show in errors or reprs.
* A refusal (407, 403, 502...) of the tunnel is a :class:`ClientProxyError` carrying the
  status and reason, an answer that is not HTTP/1.1 one that says so (``refused`` False);
  the connection to the proxy is closed at once either way. Errors name the proxy and the
  endpoint; the connector names the request.
* ``socks5://`` and ``socks5h://`` proxies are checked by :mod:`._socks` and kept in the
  same :class:`ProxyConfig` (the pool key tells them apart by scheme); every request
  through them is tunneled, so it keeps the origin form and never carries
  ``Proxy-Authorization``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from typing import NamedTuple, cast

from multidict import CIMultiDict
from yarl import URL

from httpwire.parser import HttpParserError, ResponseHead, ResponseParser, serialize_request_head

from ._auth import BasicAuth, proxy_credentials
from ._errors import ClientProxyError, ServerDisconnectedError
from ._util import DEFAULT_LIMITS, SOCKS_SCHEMES, find_field, show_host

__all__ = [
    "ProxyConfig",
    "TunnelProtocol",
    "absolute_target",
    "connect_head",
    "open_tunnel",
    "proxied",
    "resolve_proxy",
]


class ProxyConfig(NamedTuple):
    """A proxy and the credentials sent to it: hashable, part of the pool key.

    Attributes:
        url: The proxy's URL without credentials (``http://host[:port]``, or
            ``socks5://host:port``/``socks5h://host:port``).
        auth: The credentials for ``Proxy-Authorization`` (HTTP) or the username and
            password (SOCKS5, RFC 1929), if any.
    """

    url: URL
    auth: BasicAuth | None = None

    @property
    def authorization(self) -> str | None:
        """The ``Proxy-Authorization`` value, if credentials were given."""
        return None if self.auth is None else self.auth.encode()


def resolve_proxy(proxy: str | URL, proxy_auth: BasicAuth | None = None) -> ProxyConfig:
    """Check a proxy URL and its credentials.

    Args:
        proxy: The proxy's URL: ``http://[user:password@]host[:port]``, or
            ``socks5://``/``socks5h://`` with the same parts (port 1080 by default); the
            credentials, when present, are percent-decoded.
        proxy_auth: The credentials, when not in the URL.

    Returns:
        The proxy without credentials in its URL, and the credentials.

    Raises:
        ValueError: The URL is not an absolute ``http``, ``socks5`` or ``socks5h`` URL
            with a host, credentials were given both in the URL and in ``proxy_auth``, or
            (SOCKS) a credential is empty or longer than 255 bytes.
        TypeError: ``proxy_auth`` is not a :class:`BasicAuth`.
    """
    url = proxy if isinstance(proxy, URL) else URL(proxy)
    if url.scheme in SOCKS_SCHEMES:
        from ._socks import resolve_socks_proxy  # SOCKS code: imported when first used

        return ProxyConfig(*resolve_socks_proxy(url, proxy_auth))
    shown = url.with_user(None) if url.user is not None else url
    if url.scheme != "http" or not url.raw_host:
        raise ValueError(
            f"proxy {str(shown)[:200]!r} is not an http://host[:port], socks5://host[:port] "
            "or socks5h://host[:port] URL (https targets go through an http proxy with "
            "CONNECT)"
        )
    proxy_auth = proxy_credentials(url, shown, proxy_auth)
    # The with_*() methods keep an IPv6 host's brackets, which URL.build(host=raw_host,
    # encoded=True) loses; the default port is left implicit, so that http://h and
    # http://h:80 are one pool key.
    bare = url.with_user(None).with_path("").with_query(None).with_fragment(None)
    if url.explicit_port is not None and url.is_default_port():
        bare = bare.with_port(None)
    return ProxyConfig(bare, proxy_auth)


def absolute_target(url: URL) -> str:
    """The absolute-form request-target of a URL for a proxy (RFC 9112 §3.2.2).

    Args:
        url: The request URL.

    Returns:
        Scheme, authority, path and query as sent on the wire (the path and query exactly
        as in the origin form), without userinfo and fragment.
    """
    host = show_host(url.raw_host or "")
    port = "" if url.is_default_port() else f":{url.port}"
    return f"{url.scheme}://{host}{port}{url.raw_path_qs}"


def proxied(
    proxy: ProxyConfig,
    tunneled: bool,
    url: URL,
    headers: Mapping[str, str],
    target: str | None,
) -> tuple[Mapping[str, str], str | None]:
    """The headers and request-target of a request sent on a connection through a proxy.

    Through a forwarding proxy (plain http) the target is the absolute URI and the proxy's
    credentials go in ``Proxy-Authorization`` (replacing any the caller set). Inside a
    tunnel the request goes to the target itself, which must never see proxy credentials:
    a ``Proxy-Authorization`` field is removed.

    Args:
        proxy: The proxy and its credentials.
        tunneled: True for a CONNECT tunnel, False for a forwarding proxy.
        url: The request URL.
        headers: The caller's fields (left unchanged; a copy is made when needed).
        target: The caller's request-target, if any.

    Returns:
        The fields and the target to send.
    """
    if tunneled:
        if find_field(headers, "Proxy-Authorization") is not None:
            fields = CIMultiDict(headers)
            fields.popall("Proxy-Authorization")
            return fields, target
        return headers, target
    authorization = proxy.authorization
    if authorization is not None:
        fields = CIMultiDict(headers)
        fields["Proxy-Authorization"] = authorization
        headers = fields
    return headers, absolute_target(url) if target is None else target


def _authority(host: str, port: int) -> str:
    return f"{show_host(host)}:{port}"


def connect_head(host: str, port: int, proxy: ProxyConfig) -> bytes:
    """The bytes of a CONNECT request for a tunnel to ``host:port`` (RFC 9110 §9.3.6).

    Args:
        host: The target's host.
        port: The target's port.
        proxy: The proxy (its credentials go in ``Proxy-Authorization``).

    Returns:
        The serialized request head.
    """
    authority = _authority(host, port)
    fields = [("Host", authority)]
    authorization = proxy.authorization
    if authorization is not None:
        fields.append(("Proxy-Authorization", authorization))
    return serialize_request_head("CONNECT", authority, fields)


class TunnelProtocol(asyncio.Protocol):
    """Reads the proxy's answer to CONNECT; TLS to the target takes over after a 2xx."""

    def __init__(self, max_head_size: int = DEFAULT_LIMITS.max_head_size) -> None:
        self._parser = ResponseParser(max_head_size=max_head_size)
        self._parser.expect_response("CONNECT")
        self.head: asyncio.Future[ResponseHead] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.head.done():
            return
        try:
            events = self._parser.feed(data)
        except HttpParserError as exc:
            self.head.set_exception(exc)
            return
        for event in events:
            if isinstance(event, ResponseHead):
                if self._parser.upgraded and self._parser.trailing_data():
                    # The target speaks first only after our ClientHello: a proxy sending
                    # more is out of step.
                    self.head.set_exception(
                        HttpParserError("the proxy sent bytes after its 2xx answer to CONNECT")
                    )
                else:
                    self.head.set_result(event)
                return

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.head.done():
            self.head.set_exception(exc or ConnectionResetError("the proxy closed the connection"))


async def open_tunnel(
    sock: socket.socket,
    proxy: ProxyConfig,
    host: str,
    port: int,
) -> tuple[asyncio.Transport, TunnelProtocol]:
    """Ask the proxy on ``sock`` for a tunnel to ``host:port``.

    The wait for the answer is bounded by the caller (``async with asyncio.timeout(...)``,
    as the connector bounds the tunnel and the TLS handshake in it with ``sock_connect``);
    cancelled, it closes the connection and leaves no unread answer behind.

    Args:
        sock: A socket connected to the proxy; the transport owns it (closed on failure).
        proxy: The proxy and its credentials.
        host: The target's host.
        port: The target's port.

    Returns:
        The transport to the proxy, now a tunnel to the target, and its protocol; start
        TLS on it with :func:`~httpwire.connectors._tls.upgrade_tls`.

    Raises:
        ClientProxyError: The proxy refused (any status but 2xx), with its status, or its
            answer was not valid HTTP/1.1 (``refused`` is then False).
        ServerDisconnectedError: The proxy closed before answering.
        OSError: The connection to the proxy failed.
    """
    loop = asyncio.get_running_loop()
    tunnel = TunnelProtocol()
    try:
        transport, _ = await loop.create_connection(lambda: tunnel, sock=sock)
    except BaseException:
        # Cancelled while the transport was being made: asyncio closes it, and the answer's
        # future must not then fail with nobody to retrieve it (asyncio would log it).
        if not tunnel.head.done():
            tunnel.head.cancel()
        raise
    proxy_host, proxy_port = proxy.url.raw_host, proxy.url.port
    try:
        transport.write(connect_head(host, port, proxy))
        try:
            # Shielded: a cancellation (the caller's deadline) leaves the answer's future to
            # the clean-up below, which retrieves or cancels it.
            head = await asyncio.shield(tunnel.head)
        except HttpParserError as exc:
            raise ClientProxyError(proxy.url, None, str(exc)) from exc
        except ConnectionResetError as exc:
            if exc.errno is not None:
                raise
            raise ServerDisconnectedError("response", host=proxy_host, port=proxy_port) from exc
        if not 200 <= head.status < 300:
            raise ClientProxyError(proxy.url, head.status, head.reason)
    except BaseException:
        # Cancelled or timed out while waiting: the answer's future must not outlive us
        # unread (the abort below would fail it, and asyncio would log it as never
        # retrieved).
        answer = tunnel.head
        if not answer.done():
            answer.cancel()
        elif not answer.cancelled():
            answer.exception()
        transport.abort()
        raise
    return transport, tunnel
