"""The distribution's metadata and the package agree."""

from __future__ import annotations

import importlib.metadata

import httpwire.streams


def test_version_comes_from_the_package() -> None:
    assert importlib.metadata.version("httpwire-streams") == httpwire.streams.__version__


def test_every_exported_name_exists() -> None:
    for name in httpwire.streams.__all__:
        assert hasattr(httpwire.streams, name), name
