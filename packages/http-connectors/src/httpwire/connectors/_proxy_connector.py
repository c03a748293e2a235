"""The connector whose every connection goes through one HTTP proxy.

It is a :class:`~httpwire.connectors.TCPConnector` whose pool keys all carry the proxy and
its credentials; per-request ``proxy=``/``proxy_auth=`` on any TCP connector do the same
for one request (see :mod:`._proxy` for how requests and tunnels are made).
"""

from __future__ import annotations

from typing import Unpack

from yarl import URL

from ._auth import BasicAuth
from ._proxy import resolve_proxy
from ._tcp_connector import TCPConnector, TCPOptions

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
        **options: :class:`TCPConnector`'s settings and the pool's (:class:`TCPOptions`).

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
        **options: Unpack[TCPOptions],
    ) -> None:
        config = resolve_proxy(proxy, proxy_auth)
        super().__init__(**options)
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
