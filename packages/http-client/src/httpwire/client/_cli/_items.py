"""Request items: ``Header:value``, ``param==value``, ``field=value`` and the rest.

Strategy: an item is split at the leftmost separator, the longest one that starts there
(so ``a:=1`` is raw JSON, not a header ``a`` with the value ``=1``). A backslash before a
separator character (``: = @ ;`` or a backslash) takes that character literally, in the
name and in the value: ``'a\\=b=c'`` is the field ``a=b`` with the value ``c``, and
``'f=\\@x'`` the field ``f`` with the value ``@x`` (not the text of the file ``x``).
Parsing is pure: files named by items are opened later, when the request is built.

The positional arguments ``[METHOD] URL [ITEM ...]`` are sorted out here too, with the URL
shorthands (``:8080/path`` and ``localhost/path``).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "Item",
    "ItemKind",
    "UsageError",
    "expand_url",
    "parse_item",
    "shown",
    "shown_url",
    "split_positionals",
]

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_STANDARD_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
_METHOD_WORD = re.compile(r"^[A-Za-z]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SHOWN = 80


class UsageError(Exception):
    """The command line cannot be understood: the message says which argument and why."""


class ItemKind(enum.Enum):
    """What a request item adds to the request, by its separator."""

    HEADER = ":"
    """``Name:value``: a header; ``Name:`` with nothing after it leaves a default out."""
    EMPTY_HEADER = ";"
    """``Name;``: a header with an empty value."""
    PARAM = "=="
    """``name==value``: a query parameter."""
    DATA = "="
    """``field=value``: a string field of the JSON object or the form."""
    DATA_FILE = "=@"
    """``field=@path``: a string field holding the text of a file."""
    JSON = ":="
    """``field:=json``: a field holding any JSON value (JSON bodies only)."""
    JSON_FILE = ":=@"
    """``field:=@path``: a field holding the JSON value in a file (JSON bodies only)."""
    FILE = "@"
    """``field@path``: a file upload in a multipart form, streamed from the disk."""


# Longest first: at one position the longest separator wins.
_SEPARATORS: Final = (":=@", "==", ":=", "=@", ":", "=", ";", "@")
_SEPARATOR_CHARS: Final = frozenset(":=@;\\")
_KINDS: Final = {kind.value: kind for kind in ItemKind}


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@")


def shown_url(url: str) -> str:
    """*url* for an error message: quoted, cut short, and without its user and password."""
    return shown(_USERINFO.sub(r"\1", url))


def shown(text: str) -> str:
    """*text* quoted, and cut to a bounded length, for an error message."""
    if len(text) > _SHOWN:
        text = text[: _SHOWN - 3] + "..."
    return repr(text)


@dataclass(frozen=True, slots=True)
class Item:
    """One request item, split into its parts.

    Attributes:
        kind: What the item adds to the request.
        key: The header name, parameter or field name (escapes resolved).
        value: What follows the separator, as written (a path for the file kinds).
        text: The item as given, for error messages.
    """

    kind: ItemKind
    key: str
    value: str
    text: str

    @property
    def is_data(self) -> bool:
        """True when the item is part of the body (a field or a file)."""
        return self.kind in _DATA_KINDS

    def json_value(self) -> object:
        """The value of a ``:=`` item, parsed.

        Raises:
            UsageError: The value is not JSON.
        """
        try:
            return json.loads(self.value)
        except ValueError as exc:
            raise UsageError(
                f"item {shown(self.text)}: the value is not valid JSON: {exc}"
            ) from None


_DATA_KINDS: Final = frozenset(
    {ItemKind.DATA, ItemKind.DATA_FILE, ItemKind.JSON, ItemKind.JSON_FILE, ItemKind.FILE}
)


def parse_item(text: str) -> Item:
    """Split a request item at its separator.

    Args:
        text: The item as given on the command line.

    Returns:
        The item.

    Raises:
        UsageError: No separator; an empty key; a header name that is not a token
            (RFC 9110 §5.1).
    """
    key: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\" and index + 1 < length and text[index + 1] in _SEPARATOR_CHARS:
            key.append(text[index + 1])
            index += 2
            continue
        for separator in _SEPARATORS:
            if text.startswith(separator, index):
                value = _unescape(text[index + len(separator) :])
                return _checked(Item(_KINDS[separator], "".join(key), value, text))
        key.append(char)
        index += 1
    raise UsageError(
        f"{shown(text)} is not a request item: expected Header:value, param==value, "
        "field=value, field:=json or field@file"
    )


def _unescape(text: str) -> str:
    """*text* with each backslash before a separator character dropped."""
    if "\\" not in text:
        return text
    out: list[str] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "\\" and index + 1 < length and text[index + 1] in _SEPARATOR_CHARS:
            out.append(text[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _checked(item: Item) -> Item:
    if not item.key:
        raise UsageError(f"item {shown(item.text)} has no name before {item.kind.value!r}")
    if item.kind in (ItemKind.HEADER, ItemKind.EMPTY_HEADER):
        if not _TOKEN.match(item.key):
            raise UsageError(
                f"item {shown(item.text)}: {shown(item.key)} is not a valid header name "
                "(RFC 9110 §5.1: letters, digits and !#$%&'*+-.^_`|~ only)"
            )
        for char in ("\r", "\n", "\0"):
            if char in item.value:
                # The value may be a secret (a token): name the header, not its value.
                raise UsageError(
                    f"the value of header {shown(item.key)} contains {char!r}; CR, LF and NUL "
                    "are forbidden in fields (RFC 9110 §5.5)"
                )
        if item.kind is ItemKind.HEADER:
            # "Name: value" written with a space after the colon sends "value".
            return Item(item.kind, item.key, item.value.strip(" \t"), item.text)
    return item


def split_positionals(positionals: Sequence[str]) -> tuple[str | None, str, list[str]]:
    """Sort ``[METHOD] URL [ITEM ...]`` into the method, the URL and the items.

    The first argument is the method when another follows it and it is a word of letters
    written in upper case (any method, ``PROPFIND`` too) or a standard method in any case
    (``get``); so ``httpwire localhost a=1`` requests ``localhost``.

    Args:
        positionals: The positional arguments, in order.

    Returns:
        The method (``None`` when not given), the URL as written, and the item texts.

    Raises:
        UsageError: No URL was given.
    """
    if not positionals:
        raise UsageError("the URL is missing: httpwire [METHOD] URL [ITEM ...]")
    first = positionals[0]
    if (
        len(positionals) > 1
        and _METHOD_WORD.match(first)
        and (first.isupper() or first.upper() in _STANDARD_METHODS)
    ):
        return first.upper(), positionals[1], list(positionals[2:])
    return None, first, list(positionals[1:])


def expand_url(url: str, default_scheme: str = "http") -> str:
    """The full URL a shorthand stands for.

    ``:8080/path`` is ``http://localhost:8080/path``, ``:/path`` is
    ``http://localhost/path``, and a URL without a scheme (``localhost/path``,
    ``example.org``) gets *default_scheme*.

    Args:
        url: The URL as written.
        default_scheme: The scheme to add when *url* has none.

    Returns:
        The URL to request.
    """
    if _SCHEME.match(url):
        return url
    if url.startswith(":"):
        rest = url[1:]
        port, slash, path = rest.partition("/")
        if port and not port.isdigit():
            raise UsageError(f"URL {shown(url)}: {shown(port)} is not a port number")
        host = f"localhost:{port}" if port else "localhost"
        return f"{default_scheme}://{host}{slash}{path}"
    return f"{default_scheme}://{url}"
