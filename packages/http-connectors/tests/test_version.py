"""The distribution's metadata and the package agree."""

from __future__ import annotations

import importlib.metadata
import inspect

import httpwire.connectors


def test_version_comes_from_the_package() -> None:
    assert importlib.metadata.version("httpwire-connectors") == httpwire.connectors.__version__


def test_every_exported_name_exists() -> None:
    for name in httpwire.connectors.__all__:
        assert hasattr(httpwire.connectors, name), name


def test_every_public_name_and_method_has_a_docstring() -> None:
    for name in httpwire.connectors.__all__:
        if name == "__version__":
            continue
        obj = getattr(httpwire.connectors, name)
        assert (obj.__doc__ or "").strip(), name
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_") or not (callable(value) or isinstance(value, property)):
                    continue
                assert (value.__doc__ or "").strip(), f"{name}.{attr}"
