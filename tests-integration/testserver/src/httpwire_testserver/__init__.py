"""A local httpbin-like HTTP server for tests, built on httpwire.parser alone."""

from __future__ import annotations

__all__: list[str] = []
