"""Sans-I/O HTTP/1.1 parser: incremental request and response parsing, head serializers, chunked
encoding and streaming content decoders.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
