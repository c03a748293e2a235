"""The distribution's metadata and the package agree."""

from __future__ import annotations

import importlib.metadata

import httpwire.forms


def test_version_comes_from_the_package() -> None:
    assert importlib.metadata.version("httpwire-forms") == httpwire.forms.__version__


def test_every_exported_name_exists() -> None:
    for name in httpwire.forms.__all__:
        assert hasattr(httpwire.forms, name), name
