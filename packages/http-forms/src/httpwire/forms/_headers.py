"""Part headers: validation, boundaries, and the parameters of Content-Type/-Disposition.

Writing follows two conventions, chosen by the enclosing multipart subtype:

* ``multipart/form-data`` (RFC 7578 §4.2 and what browsers send, as the WHATWG
  HTML standard describes it): names and filenames go inside a quoted string as
  UTF-8, with ``"``, CR and LF percent-escaped as ``%22``, ``%0D`` and ``%0A``.
  ``filename*`` is never written, since RFC 7578 §4.2 forbids it there.
* every other subtype (RFC 2183, RFC 8187): ASCII values go in a quoted string
  with backslash escapes; any other value goes in an extended ``name*`` parameter
  (``utf-8''`` followed by the percent-encoded UTF-8 bytes).

Reading accepts both, prefers ``name*`` to ``name`` when both are present, and
in form-data undoes the three percent escapes (as the WHATWG multipart/form-data
parser does) and leaves backslashes alone (browsers send Windows paths as they are).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping

__all__ = [
    "check_header",
    "content_disposition",
    "format_content_type",
    "parse_header_params",
    "validate_boundary",
]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BCHARS = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_CTL = re.compile(r"[\x00\r\n]")
_FORM_ESCAPES = {'"': "%22", "\r": "%0D", "\n": "%0A"}
_FORM_ESCAPE = re.compile(r'["\r\n]')
_FORM_UNESCAPE = re.compile(r"%(22|0[dD]|0[aA])")
_FORM_UNESCAPES = {"22": '"', "0d": "\r", "0a": "\n"}
_ASCII_QUOTABLE = re.compile(r"[\x20-\x7e\t]*")


def _bounded(value: str, limit: int = 60) -> str:
    """A repr of *value* cut to about *limit* characters, for error messages."""
    if len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    return repr(value)


def check_header(name: str, value: str) -> None:
    """Reject a part header that is not a token or that could inject another header.

    Args:
        name: The header name; must be an RFC 9110 token.
        value: The header value; must not hold CR, LF or NUL.

    Raises:
        ValueError: Naming the header and the offending value.
    """
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(
            f"part header {name!r}: name and value must be str, "
            f"not {type(name).__name__} and {type(value).__name__}"
        )
    if not _TOKEN.fullmatch(name):
        raise ValueError(
            f"part header name {_bounded(name)} is not a token (RFC 9110 §5.1): "
            "letters, digits and !#$%&'*+-.^_`|~ only"
        )
    if _CTL.search(value):
        raise ValueError(
            f"part header {name!r} value {_bounded(value)} contains CR, LF or NUL, "
            "which would end the header early or inject another one (RFC 9110 §5.5)"
        )


def validate_boundary(boundary: str) -> str:
    """Check a multipart boundary against RFC 2046 §5.1.1.

    A boundary is 1 to 70 characters from ``0-9 A-Z a-z '()+_,-./:=?`` and space,
    and does not end with a space.

    Args:
        boundary: The boundary chosen by the caller.

    Returns:
        The boundary, unchanged.

    Raises:
        ValueError: If the boundary breaks the rule; the message shows it.
        TypeError: If it is not a str.
    """
    if not isinstance(boundary, str):
        raise TypeError(f"boundary must be str, not {type(boundary).__name__}")
    if not _BCHARS.fullmatch(boundary):
        raise ValueError(
            f"invalid multipart boundary {_bounded(boundary)}: RFC 2046 §5.1.1 allows 1 to 70 "
            "characters from 0-9 A-Z a-z '()+_,-./:=? and space, not ending with a space"
        )
    return boundary


def _quoted_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_content_type(mimetype: str, params: Mapping[str, str]) -> str:
    """Build a Content-Type value, quoting each parameter only when it is not a token."""
    parts = [mimetype]
    for key, value in params.items():
        parts.append(
            f"{key}={value}" if _TOKEN.fullmatch(value) else f"{key}={_quoted_string(value)}"
        )
    return "; ".join(parts)


def content_disposition(
    disptype: str,
    params: Iterable[tuple[str, str]],
    *,
    form_data: bool,
    quote_fields: bool = True,
) -> str:
    """Build a Content-Disposition value for a part.

    Args:
        disptype: ``form-data``, ``attachment``, ``inline``...; must be a token.
        params: Parameter names and values, e.g. ``[("name", "f"), ("filename", "a.txt")]``.
        form_data: True inside ``multipart/form-data`` (RFC 7578 §4.2 quoting, never
            ``filename*``); False for other subtypes (RFC 8187 ``name*`` for values
            that are not printable ASCII).
        quote_fields: In form-data, percent-escape ``"``, CR and LF (the browsers'
            way). When False the values are written as they are, and one holding any
            of these characters is a ValueError.

    Returns:
        The header value.

    Raises:
        ValueError: On a disposition type or parameter name that is not a token, or a
            value that cannot be written safely; the message names it.
    """
    if not _TOKEN.fullmatch(disptype):
        raise ValueError(f"disposition type {_bounded(disptype)} is not a token (RFC 2183 §2)")
    out = [disptype]
    for key, value in params:
        if not _TOKEN.fullmatch(key):
            raise ValueError(f"Content-Disposition parameter name {_bounded(key)} is not a token")
        if not isinstance(value, str):
            raise TypeError(
                f"Content-Disposition parameter {key!r} must be str, not {type(value).__name__}"
            )
        if "\x00" in value:
            raise ValueError(f"Content-Disposition parameter {key}={_bounded(value)} contains NUL")
        if form_data:
            if quote_fields:
                value = _FORM_ESCAPE.sub(lambda m: _FORM_ESCAPES[m.group()], value)
            elif _FORM_ESCAPE.search(value):
                raise ValueError(
                    f"Content-Disposition parameter {key}={_bounded(value)} holds a '\"', CR or "
                    "LF, which cannot be sent unescaped (use quote_fields=True; RFC 7578 §4.2)"
                )
            out.append(f'{key}="{value}"')
        elif _ASCII_QUOTABLE.fullmatch(value):
            out.append(f"{key}={_quoted_string(value)}")
        else:
            encoded = urllib.parse.quote(value, safe="!#$&+-.^_`|~", encoding="utf-8")
            out.append(f"{key}*=utf-8''{encoded}")
    return "; ".join(out)


# One parameter; "%s" is the quoted value's form, filled in below (a template, not compiled).
_PARAM = (
    r"""\s*;\s*(?P<key>[^\s=;"]+)\s*(?:=\s*(?:"(?P<quoted>%s)"|(?P<token>[^;]*?)))?\s*(?=;|$)"""
)
_QUOTED_PAIRS = r'(?:[^"\\]|\\.)*'
_QUOTED_PLAIN = r'[^"]*'
_PARAM_PAIRS = re.compile(_PARAM % _QUOTED_PAIRS, re.DOTALL)
_PARAM_PLAIN = re.compile(_PARAM % _QUOTED_PLAIN, re.DOTALL)
_UNPAIR = re.compile(r"\\(.)", re.DOTALL)


def _decode_ext_value(value: str) -> str | None:
    """Decode an RFC 8187 ext-value (``charset'lang'pct-encoded``), or None if invalid."""
    charset, sep1, rest = value.partition("'")
    _lang, sep2, encoded = rest.partition("'")
    if not sep1 or not sep2:
        return None
    try:
        return urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="strict")
    except (LookupError, UnicodeDecodeError):
        return None


def parse_header_params(value: str, *, form_data: bool = False) -> tuple[str, dict[str, str]]:
    """Split a Content-Type or Content-Disposition value into its main value and parameters.

    Args:
        value: The header value, e.g. ``form-data; name="a"; filename="b.txt"``.
        form_data: Read quoted strings the way browsers write them in
            ``multipart/form-data``: no backslash escapes, and ``%22``, ``%0D``, ``%0A``
            turned back into ``"``, CR and LF.

    Returns:
        The main value lowercased (``form-data``, ``text/plain``) and a dict of the
        parameters with lowercased names. An extended parameter (``filename*``) that
        decodes replaces the plain one of the same name; one that does not is dropped.
        Parameters that cannot be parsed are skipped, like most readers do.
    """
    main, sep, rest = value.partition(";")
    params: dict[str, str] = {}
    if not sep:
        return main.strip().lower(), params
    pattern = _PARAM_PLAIN if form_data else _PARAM_PAIRS
    extended: dict[str, str] = {}
    pos = 0
    rest = ";" + rest
    while pos < len(rest):
        match = pattern.match(rest, pos)
        if match is None:
            # Skip a parameter we cannot read: up to the next ';'.
            nxt = rest.find(";", pos + 1)
            if nxt < 0:
                break
            pos = nxt
            continue
        pos = match.end()
        key = match.group("key").lower()
        quoted = match.group("quoted")
        if quoted is not None:
            if form_data:
                text = _FORM_UNESCAPE.sub(lambda m: _FORM_UNESCAPES[m.group(1).lower()], quoted)
            else:
                text = _UNPAIR.sub(r"\1", quoted)
        else:
            text = (match.group("token") or "").strip()
        if key.endswith("*"):
            decoded = _decode_ext_value(text)
            if decoded is not None:
                extended[key[:-1]] = decoded
        else:
            params.setdefault(key, text)
    params.update(extended)
    return main.strip().lower(), params
