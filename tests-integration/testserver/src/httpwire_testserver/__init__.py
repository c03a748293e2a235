"""A local httpbin-like HTTP server for tests, built on httpwire.parser alone, and its peers.

The pytest plugin (:mod:`httpwire_testserver.plugin`) gives session fixtures;
outside pytest, ``python -m httpwire_testserver --port 8080`` serves by hand.
Names are imported on first use, so importing the package (as pytest does for
the plugin in every test venv that installs it) starts and imports nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._app import App
    from ._local import LocalServer
    from ._peers import HttpbinPeer, ProxyPeer
    from ._process import PeerProcess, PeerUnavailableError, stop_all_peers
    from ._routes import make_app
    from ._scripted import Handler, StartServer, scripted_servers
    from ._tls import TlsFiles, client_context, make_certificates

__all__ = [
    "App",
    "Handler",
    "HttpbinPeer",
    "LocalServer",
    "PeerProcess",
    "PeerUnavailableError",
    "ProxyPeer",
    "StartServer",
    "TlsFiles",
    "client_context",
    "make_app",
    "make_certificates",
    "scripted_servers",
    "stop_all_peers",
]

_WHERE = {
    "App": "._app",
    "LocalServer": "._local",
    "HttpbinPeer": "._peers",
    "PeerProcess": "._process",
    "PeerUnavailableError": "._process",
    "ProxyPeer": "._peers",
    "stop_all_peers": "._process",
    "make_app": "._routes",
    "Handler": "._scripted",
    "StartServer": "._scripted",
    "scripted_servers": "._scripted",
    "TlsFiles": "._tls",
    "client_context": "._tls",
    "make_certificates": "._tls",
}


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
