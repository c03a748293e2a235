"""The one small interface every contender is driven through.

Strategy: each client library gets a subclass that does each operation the way that
library's documentation recommends for speed (a pooled session or client, its streaming
reader, its way of sending a file), and nothing more. The workloads themselves (timing,
counting, concurrency, RSS) live in ``_worker`` and are the same code for every contender,
so a difference in the table is a difference between the libraries.

Libraries without type information in the type-checking environment are imported with
``importlib.import_module``, which gives ``Any``: the adapters stay clean under
``mypy --strict`` with only ``bench/requirements.txt`` installed, and a missing library is
a run-time "not available", never an import error of the benchmark itself.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NamedTuple

__all__ = ["SLICE", "Adapter", "Pool", "Unavailable", "distribution_version", "file_chunks"]

SLICE = 1 << 20  # the piece a file upload reads and sends at a time


class Unavailable(Exception):
    """The contender cannot run here (not installed, not importable, not written yet)."""


class Pool(NamedTuple):
    """How the contender's pool is set up for one measurement.

    Attributes:
        limit: Connections at most (and kept alive at most).
        ca_pem: The CA file to verify the https server with (None: plain http only).
        keepalive: Keep connections open between requests (False: one per request).
    """

    limit: int
    ca_pem: str | None
    keepalive: bool


def import_optional(name: str) -> Any:
    """Import a library the type checker may not have; ``Unavailable`` when missing."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise Unavailable(f"cannot import {name}: {exc}") from exc


def distribution_version(name: str | None) -> str:
    """The installed version of a distribution, or ``"-"``."""
    if name is None:
        return "-"
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


async def file_chunks(path: str) -> AsyncIterator[bytes]:
    """The file's bytes in ``SLICE`` pieces (for libraries that stream async iterables)."""
    with open(path, "rb") as file:  # noqa: ASYNC230 (a local file, opened as users do)
        while piece := file.read(SLICE):
            yield piece


class Adapter(ABC):
    """One contender's pooled async client, behind the operations the workloads use.

    ``open`` builds the session or client for the pool given; every other call but
    ``oneshot`` goes through it; ``close`` shuts it down.
    """

    @abstractmethod
    async def open(self, pool: Pool) -> None:
        """Build the session (or client) with this pool."""

    @abstractmethod
    async def close(self) -> None:
        """Close the session and every connection it holds."""

    @abstractmethod
    async def get(self, url: str) -> bytes:
        """GET ``url`` and return the whole body."""

    @abstractmethod
    async def get_json(self, url: str) -> object:
        """GET ``url`` and return the body decoded as JSON by the library."""

    @abstractmethod
    async def download(self, url: str, chunk: int) -> int:
        """GET ``url``, reading the body about ``chunk`` bytes at a time; return its length."""

    @abstractmethod
    async def upload(self, url: str, data: bytes) -> bytes:
        """POST ``data`` to ``url``; return the response body."""

    @abstractmethod
    async def upload_file(self, url: str, path: str) -> bytes:
        """POST the file at ``path`` to ``url``, streamed; return the response body."""

    @abstractmethod
    async def oneshot(self, url: str) -> bytes:
        """GET ``url`` without the session: the library's module-level call."""
