"""Test settings shared by this package's tests."""

from __future__ import annotations

from hypothesis import settings

# No deadline (a loaded CI machine is slow at random) and a bounded number of
# examples, so property tests cost the same on every run.
settings.register_profile("ci", deadline=None, max_examples=150, print_blob=True)
