"""Connections, the connection pool, TCP, TLS, Unix and proxy connectors, and the client error
tree.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
