"""Request bodies: payload types, FormData, and a streaming multipart writer and reader."""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
