"""Settings shared by the integration tests."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=100, print_blob=True)
