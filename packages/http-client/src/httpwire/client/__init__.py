"""The asyncio HTTP/1.1 client: ClientSession, request(), responses, cookies, redirects and
timeouts.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
