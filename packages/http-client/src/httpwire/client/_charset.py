"""The charset a response body is decoded with by ``text()``.

Strategy, in order, stopping at the first that answers:

1. the ``charset`` parameter of Content-Type, when Python knows that codec;
2. for JSON types (``application/json``, ``application/*+json``), UTF-8: RFC 8259 §8.1
   requires it of JSON exchanged between systems, so there is nothing to guess;
3. an empty body: UTF-8, without guessing (there is nothing to guess from);
4. UTF-8, when the first :data:`DETECT_BYTES` bytes are valid UTF-8: text in another
   multi-byte charset or in a legacy 8-bit one almost never is, so validity is a stronger
   signal than any statistics;
5. chardet's answer on those bytes;
6. UTF-8 (``text()`` then raises ``UnicodeDecodeError`` rather than return a wrong guess).

chardet is imported on first use: a client that never calls ``text()`` on a response without
a charset never pays for it.
"""

from __future__ import annotations

import codecs

__all__ = ["DETECT_BYTES", "charset_for", "is_json_type"]

DETECT_BYTES = 4096
"""How much of the body chardet looks at: enough for a confident answer, bounded in time."""


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
    sample = body[:DETECT_BYTES]
    try:
        # final=False: the sample may end inside a multi-byte sequence.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    import chardet  # imported when first needed, see the module docstring

    found = _known(chardet.detect(sample).get("encoding"))
    if found is not None and found != "ascii":
        return found
    return "utf-8"
