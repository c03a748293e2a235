"""The five distributions install side by side into one PEP 420 namespace."""

from __future__ import annotations

import importlib
import importlib.metadata

import pytest

PACKAGES = ["parser", "streams", "connectors", "forms", "client"]


@pytest.mark.parametrize("name", PACKAGES)
def test_each_portion_imports_from_its_own_distribution(name: str) -> None:
    module = importlib.import_module(f"httpwire.{name}")
    assert module.__version__ == importlib.metadata.version(f"httpwire-{name}")


def test_httpwire_is_a_namespace_package() -> None:
    httpwire = importlib.import_module("httpwire")

    # A namespace package has no __file__ and one search path per installed portion.
    assert getattr(httpwire, "__file__", None) is None
    assert len(list(httpwire.__path__)) >= 1
