"""The pytest plugin that starts the local test servers."""

from __future__ import annotations
