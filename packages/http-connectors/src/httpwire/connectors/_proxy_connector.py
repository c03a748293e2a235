"""The connector whose every connection goes through one proxy: HTTP or SOCKS5.

It is a :class:`~httpwire.connectors.TCPConnector` whose pool keys all carry the proxy and
its credentials; per-request ``proxy=``/``proxy_auth=`` on any TCP connector do the same
for one request (see :mod:`._proxy` for how requests and CONNECT tunnels are made, and
:mod:`._socks` for SOCKS5 tunnels).
"""

from __future__ import annotations

from typing import Unpack

from yarl import URL

from ._auth import BasicAuth
from ._proxy import resolve_proxy
from ._tcp_connector import TCPConnector, TCPOptions

__all__ = ["ProxyConnector"]


class ProxyConnector(TCPConnector):
    """Connections through an HTTP or a SOCKS5 proxy.

    Through an HTTP proxy, http URLs go in absolute form and https URLs through a CONNECT
    tunnel. Through a SOCKS5 proxy (RFC 1928, with RFC 1929 username/password) every URL
    gets a tunnel: ``socks5://`` resolves the target's name here, ``socks5h://`` lets the
    proxy resolve it. Inside a tunnel the target's certificate is verified (and pinned)
    exactly as a direct connection's would be, and requests keep the origin form.
    Credentials go to the proxy only.

    Args:
        proxy: The proxy's URL, ``http://[user:password@]host[:port]`` or the same with
            ``socks5://`` or ``socks5h://`` (port 1080 by default); credentials in it are
            percent-decoded.
        proxy_auth: The proxy's credentials, when not in the URL.
        **options: :class:`TCPConnector`'s settings and the pool's (:class:`TCPOptions`).

    Raises:
        ValueError: The proxy URL is not ``http://``, ``socks5://`` or ``socks5h://``,
            credentials are both in it and in ``proxy_auth``, or a SOCKS credential is
            empty or longer than 255 bytes.

    Example:
        >>> connector = ProxyConnector("http://user:p%40ss@127.0.0.1:3128")
        >>> connector = ProxyConnector("socks5h://127.0.0.1:1080")
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
