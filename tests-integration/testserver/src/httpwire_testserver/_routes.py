"""The application the server runs: every endpoint family, registered in order."""

from __future__ import annotations

from . import _endpoints_content, _endpoints_extra, _endpoints_faults, _endpoints_httpbin
from ._app import App

__all__ = ["make_app"]


def make_app() -> App:
    """A new application with httpbin's endpoints, the extra ones and the faults."""
    app = App()
    _endpoints_httpbin.register(app)
    _endpoints_content.register(app)
    _endpoints_extra.register(app)
    _endpoints_faults.register(app)
    return app
