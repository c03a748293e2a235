"""The httpwire demo (placeholder until the parser lands)."""

from __future__ import annotations

import httpwire.parser

print("httpwire.parser", httpwire.parser.__version__)
