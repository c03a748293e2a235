"""Cookie rules without a jar: ``Set-Cookie`` parsing, cookie dates, domain and path matching.

Strategy: everything here is a pure function of its arguments (no clock, no storage), so the
jar in :mod:`._cookiejar` composes them and each rule is tested on its own. The functions
follow RFC 6265 §5 (the user-agent side), which is deliberately lenient: a ``Set-Cookie``
field a user agent cannot make sense of is *ignored*, never an error, because a response
must not fail over a cookie it carries. Hence :func:`parse_set_cookie` returns ``None``
rather than raising.

Where RFC 6265 leaves a choice, the rules of its successor draft (RFC 6265bis, what
browsers do) are taken, each noted where it is applied:

* a name or value holding a control character (other than HTAB) is refused;
* a name and value longer than :data:`MAX_COOKIE_SIZE` bytes together are refused, and an
  attribute value longer than :data:`MAX_ATTRIBUTE_SIZE` bytes is ignored;
* lifetimes are capped at :data:`MAX_LIFETIME` seconds (400 days).

Any other name is accepted, as RFC 6265 §5.2 and browsers do: not only tokens but also
names such as ``a[0]`` and the names :class:`http.cookies.Morsel` reserves for attributes
(``path``, ``version``...); :func:`new_morsel` builds a Morsel for them without
:meth:`~http.cookies.Morsel.set`, which would refuse them.
"""

from __future__ import annotations

import ipaddress
import re
from http.cookies import Morsel

__all__ = [
    "MAX_ATTRIBUTE_SIZE",
    "MAX_COOKIE_SIZE",
    "MAX_LIFETIME",
    "default_path",
    "domain_match",
    "is_ip_address",
    "new_morsel",
    "parse_cookie_date",
    "parse_set_cookie",
    "path_match",
    "validate_name_value",
]

MAX_COOKIE_SIZE = 4096
"""Most bytes a cookie's name and value may hold together (RFC 6265 §6.1, RFC 6265bis §5.6)."""

MAX_ATTRIBUTE_SIZE = 1024
"""Most bytes of an attribute value; a longer attribute is ignored (RFC 6265bis §5.6)."""

MAX_LIFETIME = 400 * 24 * 3600
"""Longest lifetime a cookie is kept, in seconds: 400 days (RFC 6265bis §5.5)."""

# RFC 6265 §5.2 strips WSP, i.e. SP and HTAB only (not every whitespace str.strip knows).
_WSP = " \t"

# CTLs but HTAB (RFC 6265bis §5.6 step 3): a cookie holding one is refused whole.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# RFC 6265 §5.1.1: delimiters split a cookie-date into tokens.
_DATE_DELIMITERS = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_TIME = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?", re.DOTALL)
_DAY = re.compile(r"(\d{1,2})(?:\D.*)?", re.DOTALL)
_YEAR = re.compile(r"(\d{2,4})(?:\D.*)?", re.DOTALL)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}

_MAX_AGE = re.compile(r"-?\d+")  # RFC 6265 §5.2.2: a DIGIT or "-", then DIGITs
_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def _byte_length(text: str) -> int | None:
    """Bytes ``text`` takes on the wire (as the head serializer encodes it), or None."""
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        return None


def validate_name_value(name: str, coded_value: str) -> str | None:
    """Say why a cookie's name and wire value cannot be stored or sent, or None if they can.

    The reason names the rule, never the value (cookie values are secrets).

    Args:
        name: The cookie's name.
        coded_value: The value as it travels in ``Cookie`` and ``Set-Cookie`` fields.

    Returns:
        None when the pair is acceptable, else a short reason.
    """
    if not name:
        return "empty name (RFC 6265 §5.2 step 5)"
    if _FORBIDDEN.search(name) or _FORBIDDEN.search(coded_value):
        return "control character in name or value (RFC 6265bis §5.6)"
    if ";" in name or "=" in name or ";" in coded_value:
        return "';' or '=' where it would split the Cookie field (RFC 6265 §5.2)"
    if name != name.strip(_WSP):
        return "whitespace around the name (RFC 6265 §5.2 step 4)"
    name_size, value_size = _byte_length(name), _byte_length(coded_value)
    if name_size is None or value_size is None:
        return "name or value cannot be encoded as the wire bytes it came from"
    if name_size + value_size > MAX_COOKIE_SIZE:
        return f"name and value exceed {MAX_COOKIE_SIZE} bytes (RFC 6265 §6.1)"
    return None


def new_morsel(name: str, value: str, coded_value: str) -> Morsel[str]:
    """Build a Morsel for any cookie name, including those Morsel reserves.

    :meth:`http.cookies.Morsel.set` refuses names that are attribute names (``path``,
    ``version``...) or not in its character set, yet servers may use them (RFC 6265 §5.2
    accepts any name). Check the pair with :func:`validate_name_value` first.

    Args:
        name: The cookie's name.
        value: Its value for programs (without surrounding quotes).
        coded_value: Its value as it travels in the ``Cookie`` field.

    Returns:
        A Morsel without attributes.
    """
    morsel: Morsel[str] = Morsel()
    # Morsel's pickle hook sets the three without Morsel.set's checks of the name.
    morsel.__setstate__(  # type: ignore[attr-defined]  # typeshed omits Morsel.__setstate__
        {"key": name, "value": value, "coded_value": coded_value}
    )
    return morsel


def parse_cookie_date(text: str) -> float | None:
    """Parse a cookie date (the ``Expires`` attribute) as RFC 6265 §5.1.1 says.

    The algorithm is lenient on purpose: it picks a time, a day, a month and a year from
    the tokens in whatever order and format servers send (RFC 1123, RFC 850, asctime and
    many broken variants), and assumes UTC.

    Args:
        text: The attribute value.

    Returns:
        Seconds since the epoch, or None when the date is not a valid cookie date (the
        attribute is then ignored, RFC 6265 §5.2.1).
    """
    time: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _DATE_DELIMITERS.split(text):
        if not token:
            continue
        if time is None and (found := _TIME.fullmatch(token)):
            time = (int(found[1]), int(found[2]), int(found[3]))
        elif day is None and (found := _DAY.fullmatch(token)):
            day = int(found[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS[token[:3].lower()]
        elif year is None and (found := _YEAR.fullmatch(token)):
            year = int(found[1])
    if time is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = time
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    import calendar  # only for a cookie that expires: kept off the import path

    if day > calendar.monthrange(year, month)[1]:  # "a date that does not exist"
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


def parse_set_cookie(value: str) -> Morsel[str] | None:
    """Parse one ``Set-Cookie`` field value as RFC 6265 §5.2 says.

    The result keeps what the server sent: ``value`` is the cookie value without the
    double quotes that may surround it, ``coded_value`` the value exactly as received (and
    as it is sent back, RFC 6265 §5.4). Known attributes (``Expires``, ``Max-Age``,
    ``Domain``, ``Path``, ``Secure``, ``HttpOnly``, ``SameSite``) are kept when valid, the
    last of each name winning; an invalid one is ignored, as are unknown ones. ``Domain``
    loses its leading dot and is lowercased; ``SameSite`` becomes ``Strict``, ``Lax`` or
    ``None``. Lifetimes and the domain and path rules that need the request are applied by
    the jar, not here.

    Args:
        value: One field value, e.g. ``'sid=31d4; Path=/; Secure; HttpOnly'``.

    Returns:
        The cookie, or None when the field is to be ignored: no ``=`` in the name-value
        pair, an empty name, a control character, or more than :data:`MAX_COOKIE_SIZE`
        bytes of name and value.

    Example:
        >>> morsel = parse_set_cookie('sid="31d4"; Path=/docs; HttpOnly')
        >>> morsel.key, morsel.value, morsel.coded_value, morsel["path"], morsel["httponly"]
        ('sid', '31d4', '"31d4"', '/docs', True)
    """
    pair, _, attributes = value.partition(";")
    name, equals, raw_value = pair.partition("=")
    if not equals:
        return None
    name, raw_value = name.strip(_WSP), raw_value.strip(_WSP)
    if validate_name_value(name, raw_value) is not None:
        return None
    quoted = len(raw_value) >= 2 and raw_value[0] == raw_value[-1] == '"'
    plain = raw_value[1:-1] if quoted else raw_value
    morsel = new_morsel(name, plain, raw_value)
    for attribute in attributes.split(";") if attributes else ():
        _apply_attribute(morsel, attribute)
    return morsel


def _apply_attribute(morsel: Morsel[str], attribute: str) -> None:
    """Record one cookie-av in ``morsel`` if valid (RFC 6265 §5.2 steps 1-6, §5.2.1-§5.2.6)."""
    name, _, value = attribute.partition("=")
    name, value = name.strip(_WSP).lower(), value.strip(_WSP)
    size = _byte_length(value)
    if size is None or size > MAX_ATTRIBUTE_SIZE or _FORBIDDEN.search(value):
        return
    if name == "expires":
        if parse_cookie_date(value) is not None:
            morsel["expires"] = value
    elif name == "max-age":
        if _MAX_AGE.fullmatch(value):
            morsel["max-age"] = value
    elif name == "domain":
        if value:  # an empty Domain is ignored (RFC 6265 §5.2.3)
            morsel["domain"] = value.removeprefix(".").lower()
    elif name == "path":
        # An empty or relative Path means the default path (§5.2.4), which needs the request
        # URL: leaving the attribute out lets the jar compute it.
        if value.startswith("/"):
            morsel["path"] = value
        else:
            morsel["path"] = ""
    elif name == "secure":
        morsel["secure"] = True
    elif name == "httponly":
        morsel["httponly"] = True
    elif name == "samesite":
        morsel["samesite"] = _SAME_SITE.get(value.lower(), "")


def is_ip_address(host: str) -> bool:
    """Tell whether ``host`` is an IPv4 or IPv6 address rather than a name.

    Args:
        host: A host as :attr:`yarl.URL.raw_host` gives it (IPv6 without brackets).

    Returns:
        True for an IP address literal (an IPv6 zone is allowed).
    """
    if ":" not in host and not host[-1:].isdigit():
        return False  # a name (IPv4 ends in a digit, IPv6 has colons): skip a costly parse
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    return True


def domain_match(host: str, domain: str) -> bool:
    """Tell whether ``host`` domain-matches ``domain`` (RFC 6265 §5.1.3).

    Both are canonical (lowercase, A-labels). A host matches its own name, and a name
    matches every domain it ends with after a dot; an IP address matches only itself.

    Args:
        host: The canonicalized request host.
        domain: A cookie's domain.

    Returns:
        True when the host is the domain or a subdomain of it.
    """
    if host == domain:
        return True
    return (
        bool(domain)
        and host.endswith(domain)
        and host[-len(domain) - 1] == "."
        and not is_ip_address(host)
    )


def default_path(raw_path: str) -> str:
    """The default cookie path for a request path (RFC 6265 §5.1.4).

    Args:
        raw_path: The request URL's path as sent (percent-encoded).

    Returns:
        The path up to, not including, its right-most ``/``; ``/`` when that is empty or the
        path is not absolute.
    """
    if not raw_path.startswith("/"):
        return "/"
    directory = raw_path[: raw_path.rfind("/")]
    return directory or "/"


def path_match(request_path: str, cookie_path: str) -> bool:
    """Tell whether ``request_path`` path-matches ``cookie_path`` (RFC 6265 §5.1.4).

    Args:
        request_path: The request URL's path as sent (percent-encoded).
        cookie_path: A cookie's path.

    Returns:
        True when the paths are equal, or the cookie path is a prefix of the request path
        ending at a ``/`` (in the cookie path or right after it in the request path).
    """
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )
