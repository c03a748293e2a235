"""Asyncio StreamReader with flow control that bounds memory, and the Body protocol."""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
