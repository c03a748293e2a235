"""The charset a response body is decoded with by ``text()``.

Strategy, in order, stopping at the first that answers:

1. the ``charset`` parameter of Content-Type, when Python knows that codec;
2. for JSON types (``application/json``, ``application/*+json``), UTF-8: RFC 8259 §8.1
   requires it of JSON exchanged between systems, so there is nothing to guess;
3. an empty body: UTF-8, without guessing (there is nothing to guess from);
4. chardet on the first :data:`DETECT_BYTES` bytes, when it is confident enough;
5. UTF-8.

chardet is imported on first use: a client that never calls ``text()`` on a response without
a charset never pays for it.
"""

from __future__ import annotations

import codecs

__all__ = ["DETECT_BYTES", "charset_for", "is_json_type"]

DETECT_BYTES = 4096
"""How much of the body chardet looks at: enough for a confident answer, bounded in time."""

_MIN_CONFIDENCE = 0.5


def is_json_type(media_type: str) -> bool:
    """True for ``application/json`` and ``application/<anything>+json`` (RFC 6839 §3.1)."""
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _known(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_for(media_type: str, declared: str | None, body: bytes) -> str:
    """The charset to decode *body* with.

    Args:
        media_type: The response's media type, lowercased (``text/html``).
        declared: The Content-Type's ``charset`` parameter, if any.
        body: The body (only its first :data:`DETECT_BYTES` are looked at).

    Returns:
        A codec name Python knows.
    """
    known = _known(declared)
    if known is not None:
        return known
    if is_json_type(media_type) or not body:
        return "utf-8"
    import chardet  # imported when first needed, see the module docstring

    result = chardet.detect(body[:DETECT_BYTES])
    encoding = result.get("encoding")
    confidence = result.get("confidence") or 0.0
    if encoding and confidence >= _MIN_CONFIDENCE:
        found = _known(encoding)
        if found is not None:
            # Plain ASCII is a subset of UTF-8, and UTF-8 is the better guess for the rest
            # of a body whose first KiBs happened to be ASCII.
            return "utf-8" if found == "ascii" else found
    return "utf-8"
