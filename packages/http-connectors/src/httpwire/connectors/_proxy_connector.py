"""The connector whose every connection goes through one HTTP proxy.

It is a :class:`~httpwire.connectors.TCPConnector` whose pool keys all carry the proxy and
its credentials; per-request ``proxy=``/``proxy_auth=`` on any TCP connector do the same
for one request (see :mod:`._proxy` for how requests and tunnels are made).
"""

from __future__ import annotations

import ssl

from yarl import URL

from ._auth import BasicAuth
from ._proxy import resolve_proxy
from ._tcp_connector import TCPConnector
from ._tls import Fingerprint

__all__ = ["ProxyConnector"]


class ProxyConnector(TCPConnector):
    """Connections through an HTTP proxy: absolute-form requests for http URLs, and
    CONNECT tunnels with TLS to the target for https URLs.

    The target's certificate is verified (and pinned) inside the tunnel exactly as a
    direct connection's would be. ``Proxy-Authorization`` goes to the proxy only.

    Args:
        proxy: The proxy's URL, ``http://[user:password@]host[:port]``; credentials in
            it are percent-decoded.
        proxy_auth: The proxy's credentials, when not in the URL.
        verify_ssl: See :class:`TCPConnector`.
        ssl_context: See :class:`TCPConnector`.
        fingerprint: See :class:`TCPConnector`.
        family: See :class:`TCPConnector`.
        local_addr: See :class:`TCPConnector`.
        use_dns_cache: See :class:`TCPConnector`.
        ttl_dns_cache: See :class:`TCPConnector`.
        happy_eyeballs_delay: See :class:`TCPConnector`.
        limit: See :class:`BaseConnector`.
        total_limit: See :class:`BaseConnector`.
        keepalive_timeout: See :class:`BaseConnector`.
        force_close: See :class:`BaseConnector`.
        max_line_size: See :class:`BaseConnector`.
        max_field_size: See :class:`BaseConnector`.
        max_headers: See :class:`BaseConnector`.
        max_head_size: See :class:`BaseConnector`.

    Raises:
        ValueError: The proxy URL is not ``http://``, or credentials are both in it and in
            ``proxy_auth``.

    Example:
        >>> connector = ProxyConnector("http://user:p%40ss@127.0.0.1:3128")
    """

    def __init__(
        self,
        proxy: str | URL,
        *,
        proxy_auth: BasicAuth | None = None,
        verify_ssl: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        fingerprint: Fingerprint | bytes | None = None,
        family: int = 0,
        local_addr: tuple[str, int] | None = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        happy_eyeballs_delay: float | None = 0.25,
        limit: int | None = None,
        total_limit: int | None = 100,
        keepalive_timeout: float | None = 15,
        force_close: bool = False,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_head_size: int = 65536,
    ) -> None:
        config = resolve_proxy(proxy, proxy_auth)
        super().__init__(
            verify_ssl=verify_ssl,
            ssl_context=ssl_context,
            fingerprint=fingerprint,
            family=family,
            local_addr=local_addr,
            use_dns_cache=use_dns_cache,
            ttl_dns_cache=ttl_dns_cache,
            happy_eyeballs_delay=happy_eyeballs_delay,
            limit=limit,
            total_limit=total_limit,
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            max_head_size=max_head_size,
        )
        self._proxy = config

    @property
    def proxy(self) -> URL:
        """The proxy's URL (without credentials)."""
        assert self._proxy is not None
        return self._proxy.url

    @property
    def proxy_auth(self) -> BasicAuth | None:
        """The credentials sent to the proxy, if any."""
        assert self._proxy is not None
        return self._proxy.auth
