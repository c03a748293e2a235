"""The cookie jar: which cookies a session keeps, and which it sends with each request.

Usage::

    jar = CookieJar()
    jar.update_cookies_from_headers(["sid=31d4; Path=/; HttpOnly"], URL("http://example.com/"))
    jar.cookie_header(URL("http://example.com/docs"))   # 'sid=31d4'
    jar.save("cookies.json")                            # and later: CookieJar().load(...)

Strategy: the jar is sans-I/O (no sockets, no event loop), so every rule is tested without
a server; the session calls it with the ``Set-Cookie`` field values of each response it
receives (redirects included) and asks it for the ``Cookie`` field of each request it
sends. Time comes from an injectable ``clock`` so expiry is tested without waiting.

Cookies are stored by domain, then by (name, path): RFC 6265 §5.3 step 11 identifies a
cookie by name, domain and path, and a request only needs the domains its host
domain-matches, which are the host and its parent domains (plus ``""``, the domain of
cookies given by the user without a URL, which go to every host). Each cookie keeps its
creation time (kept when it is replaced) and a creation counter, so the §5.4 order (longest
path first, then earliest creation) is total, and a last-access counter for eviction.

Rules applied on storage (:meth:`CookieJar.update_cookies_from_headers`, and
:meth:`CookieJar.update_cookies` with a URL), each from RFC 6265 §5.3 unless noted:

* a cookie from an IP-address host is refused unless the jar is ``unsafe`` (aiohttp's rule);
* a ``Domain`` that the host does not domain-match is refused (step 6); a ``Domain`` of a
  single label (``com``, ``localhost``) is taken as a public suffix (step 5): host-only
  when it is the host itself, refused otherwise. Without a public suffix list (the jar
  has no dependency for one), a multi-label suffix such as ``co.uk`` is *not* recognised;
  a ``Domain`` on an IP-address host is refused unless it is that address, which then
  makes a host-only cookie, never a domain cookie;
* ``Max-Age`` wins over ``Expires`` (step 3); a lifetime at or before now deletes the
  cookie of the same name, domain and path; lifetimes are capped at 400 days (6265bis);
* a ``Secure`` cookie is refused from a non-secure origin, and a non-secure origin cannot
  replace a ``Secure`` cookie (RFC 6265bis §5.7 steps 8 and 15);
* the name prefixes ``__Secure-`` and ``__Host-`` are enforced (RFC 6265bis §4.1.3);
* a name or value with a control character, or over 4096 bytes together, is refused
  (see :mod:`._cookies`);
* at most ``max_cookies_per_domain`` cookies per domain and ``max_cookies`` in all: past
  either, expired cookies go first, then the least recently used (RFC 6265 §5.3, §6.1).

``https`` and ``wss`` are secure, and so is loopback (``localhost``, ``*.localhost``,
``127.0.0.0/8``, ``::1``), as in browsers: traffic to it never leaves the machine. ``HttpOnly``
and ``SameSite`` are kept and reported; neither changes what this client sends, since it
has neither scripts nor sites. The jar is not thread-safe; one event loop uses it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import math
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import TypeAlias

from yarl import URL

from ._cookies import (
    MAX_LIFETIME,
    default_path,
    domain_match,
    is_ip_address,
    new_morsel,
    parse_cookie_date,
    parse_set_cookie,
    path_match,
    validate_name_value,
)

__all__ = ["AbstractCookieJar", "CookieJar", "DummyCookieJar", "LooseCookies"]

LooseCookies: TypeAlias = (
    Mapping[str, str | Morsel[str]] | Iterable[tuple[str, str | Morsel[str]]] | BaseCookie[str]
)
"""What :meth:`AbstractCookieJar.update_cookies` and ``cookies=`` accept: a mapping of names
to values or :class:`~http.cookies.Morsel` s, pairs of them, or a
:class:`~http.cookies.SimpleCookie`."""

_EMPTY_URL = URL()  # "no URL": cookies given by the user for every host
_SECURE_SCHEMES = frozenset({"https", "wss"})
_FILE_FORMAT = "httpwire-cookies"
_FILE_VERSION = 1


class AbstractCookieJar(ABC):
    """What a session needs from a cookie jar; subclass it to store cookies elsewhere."""

    @abstractmethod
    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Store cookies given by the user.

        Args:
            cookies: Names to values or :class:`~http.cookies.Morsel` s, as a mapping, pairs
                or a :class:`~http.cookies.SimpleCookie`. A string value is quoted as
                :class:`~http.cookies.SimpleCookie` does when it needs to be.
            response_url: Apply the domain and path rules as if this URL's server had set
                them; the empty ``URL()`` makes cookies that go to every host.
        """

    @abstractmethod
    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies a response sets.

        Args:
            headers: The response's ``Set-Cookie`` field values, in order.
            response_url: The URL that answered (RFC 6265 §5.3 needs its host and path).
        """

    @abstractmethod
    def filter_cookies(self, request_url: URL) -> SimpleCookie:
        """Return the cookies a request to ``request_url`` would send.

        Args:
            request_url: The absolute URL of the request.

        Returns:
            The cookies by name; of two with the same name the first in the order of
            :meth:`cookie_header` is given.
        """

    @abstractmethod
    def cookie_header(self, request_url: URL) -> str | None:
        """Return the ``Cookie`` field value for a request (RFC 6265 §5.4).

        Args:
            request_url: The absolute URL of the request.

        Returns:
            ``name=value`` pairs joined by ``"; "``, longest path first, then earliest
            created; None when no cookie matches.
        """

    @abstractmethod
    def clear(self, predicate: Callable[[Morsel[str]], bool] | None = None) -> None:
        """Remove every cookie, or those for which ``predicate`` is true.

        Args:
            predicate: Called with each cookie; None removes them all.
        """

    @abstractmethod
    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of its subdomains.

        Args:
            domain: A host or domain name.
        """

    @abstractmethod
    def __iter__(self) -> Iterator[Morsel[str]]:
        """Iterate over the cookies stored (expired ones excluded)."""

    @abstractmethod
    def __len__(self) -> int:
        """Count the cookies stored (expired ones excluded)."""


class _Cookie:
    """One stored cookie, as RFC 6265 §5.3 describes its fields (compared by identity)."""

    __slots__ = (
        "coded_value",
        "created",
        "domain",
        "expires",
        "host_only",
        "http_only",
        "last_access",
        "name",
        "order",
        "path",
        "same_site",
        "secure",
        "value",
    )

    def __init__(
        self,
        name: str,
        value: str,  # for Morsel.value
        coded_value: str,  # as sent
        domain: str,  # "" for the user's cookies sent to every host
        path: str,
        host_only: bool,
        secure: bool,
        http_only: bool,
        same_site: str,
        expires: float | None,  # None: a session cookie (no persistent-flag)
        created: float,
        order: int,  # creation order, ties of `created` broken by it
        last_access: int,
    ) -> None:
        self.name = name
        self.value = value
        self.coded_value = coded_value
        self.domain = domain
        self.path = path
        self.host_only = host_only
        self.secure = secure
        self.http_only = http_only
        self.same_site = same_site
        self.expires = expires
        self.created = created
        self.order = order
        self.last_access = last_access

    def __repr__(self) -> str:
        # The value is a secret: shown by its length only.
        return (
            f"_Cookie(name={self.name!r}, domain={self.domain!r}, path={self.path!r}, "
            f"value=<{len(self.value)} chars>, expires={self.expires!r})"
        )

    def morsel(self) -> Morsel[str]:
        morsel = new_morsel(self.name, self.value, self.coded_value)
        morsel["domain"] = self.domain
        morsel["path"] = self.path
        if self.expires is not None:
            import email.utils  # only for a cookie that expires: kept off the import path

            morsel["expires"] = email.utils.formatdate(self.expires, usegmt=True)
        morsel["secure"] = self.secure
        morsel["httponly"] = self.http_only
        morsel["samesite"] = self.same_site
        return morsel


def _host(url: URL) -> str:
    """The canonicalized host (RFC 6265 §5.1.2): lowercase A-labels; "" when none."""
    return (url.raw_host or "").lower()


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if not is_ip_address(host):
        return False
    return ipaddress.ip_address(host.partition("%")[0]).is_loopback


def _is_secure(url: URL, host: str) -> bool:
    return url.scheme in _SECURE_SCHEMES or _is_loopback(host)


def _prefix_allows(morsel: Morsel[str], *, secure_origin: bool) -> bool:
    """Apply the cookie name prefixes (RFC 6265bis §4.1.3, §5.7 steps 20-21).

    ``__Secure-`` needs ``Secure`` from a secure origin; ``__Host-`` also needs no
    ``Domain`` (host-only) and ``Path=/``. Prefixes are matched case-insensitively.
    """
    name = morsel.key.lower()
    if name.startswith(("__secure-", "__host-")) and not (morsel["secure"] and secure_origin):
        return False
    return not name.startswith("__host-") or (not morsel["domain"] and morsel["path"] == "/")


class CookieJar(AbstractCookieJar):
    """The RFC 6265 cookie store of a session.

    Args:
        unsafe: Also keep cookies set by IP-address hosts (``http://127.0.0.1/``). Off by
            default, as in aiohttp; tests and examples can use ``localhost`` instead.
        clock: Gives the current time in seconds since the epoch (for expiry).
        max_cookies: Most cookies kept in all (RFC 6265 §6.1 asks for at least 3000).
        max_cookies_per_domain: Most cookies kept per domain (RFC 6265 §6.1 asks for at
            least 50; browsers keep 180).

    Raises:
        ValueError: A limit is below 1.
    """

    def __init__(
        self,
        *,
        unsafe: bool = False,
        clock: Callable[[], float] = time.time,
        max_cookies: int = 3000,
        max_cookies_per_domain: int = 180,
    ) -> None:
        if max_cookies < 1 or max_cookies_per_domain < 1:
            raise ValueError(
                f"cookie limits must be at least 1, got max_cookies={max_cookies!r}, "
                f"max_cookies_per_domain={max_cookies_per_domain!r}"
            )
        self._unsafe = unsafe
        self._clock = clock
        self._max_cookies = max_cookies
        self._max_per_domain = max_cookies_per_domain
        self._domains: dict[str, dict[tuple[str, str], _Cookie]] = {}
        self._count = 0
        self._ticks = 0  # creation and access order
        self._next_expiry = float("inf")  # earliest `expires` among stored cookies

    @property
    def unsafe(self) -> bool:
        """Whether cookies from IP-address hosts are kept."""
        return self._unsafe

    # -- storage ---------------------------------------------------------------------------

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Store cookies given by the user.

        With a URL, each cookie follows the rules a ``Set-Cookie`` from that URL would
        (host-only unless it has a ``Domain`` the host domain-matches, the URL's default
        path unless it has a ``Path``, and so on). With the empty ``URL()`` (the
        default, what ``ClientSession(cookies=...)`` does) a cookie without ``Domain`` is
        sent to every host, IP addresses included, on every path unless it has a ``Path``.

        Args:
            cookies: Names to values or :class:`~http.cookies.Morsel` s, as a mapping,
                pairs or a :class:`~http.cookies.SimpleCookie`. A string value is quoted as
                :class:`~http.cookies.SimpleCookie` does when it needs to be.
            response_url: The URL whose server is taken to have set them, or ``URL()``.
        """
        pairs = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, given in pairs:
            if isinstance(given, Morsel):
                value, coded = given.value, given.coded_value
            else:
                value, coded = given, SimpleCookie().value_encode(given)[1]
            if validate_name_value(name, coded) is not None:
                continue
            morsel = new_morsel(name, value, coded)
            if isinstance(given, Morsel):
                morsel.update(given)
            self._store(morsel, response_url)

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies a response sets (RFC 6265 §5.2 parsing, §5.3 storage).

        A field that cannot be parsed, or a cookie the rules refuse, is ignored, as
        RFC 6265 §5.3 says: a response never fails over a cookie.

        Args:
            headers: The response's ``Set-Cookie`` field values, in order.
            response_url: The URL that answered.
        """
        for header in headers:
            morsel = parse_set_cookie(header)
            if morsel is not None:
                self._store(morsel, response_url)

    def _store(self, morsel: Morsel[str], url: URL) -> None:
        """Apply RFC 6265 §5.3 to one parsed cookie and store, replace or delete it."""
        now = self._clock()
        host = _host(url)
        domain = str(morsel["domain"] or "").removeprefix(".").lower()
        path = str(morsel["path"] or "")
        if not host:  # the user's cookie for every host
            host_only, secure_origin = False, True
            path = path if path.startswith("/") else "/"
        else:
            if not self._unsafe and is_ip_address(host):
                return
            if domain:
                if "." not in domain or is_ip_address(host):
                    # A public suffix (§5.3 step 5), approximated as a single label, or a
                    # Domain on an IP host: only a host-only cookie of the host itself.
                    if domain != host:
                        return
                    domain = ""
                elif not domain_match(host, domain):  # §5.3 step 6
                    return
            secure_origin = _is_secure(url, host)
            if not _prefix_allows(morsel, secure_origin=secure_origin):
                return
            host_only = not domain
            domain = domain or host
            if not path.startswith("/"):  # §5.2.4: absent, empty or relative
                path = default_path(url.raw_path)
        secure = bool(morsel["secure"])
        if secure and not secure_origin:  # RFC 6265bis §5.7 step 8
            return
        expires = self._expiry(morsel, now)
        key = (morsel.key, path)
        cookies = self._domains.get(domain)
        old = cookies.get(key) if cookies is not None else None
        if not secure_origin and self._shadows_secure(morsel.key, domain, path):
            return  # RFC 6265bis §5.7 step 15: leave secure cookies alone
        if expires is not None and expires <= now:
            if old is not None and cookies is not None:
                self._remove(domain, key)
            return
        self._ticks += 1
        cookie = _Cookie(
            name=morsel.key,
            value=morsel.value,
            coded_value=morsel.coded_value,
            domain=domain,
            path=path,
            host_only=host_only,
            secure=secure,
            http_only=bool(morsel["httponly"]),
            same_site=str(morsel["samesite"] or ""),
            expires=expires,
            created=now if old is None else old.created,  # §5.3 step 11.3
            order=self._ticks if old is None else old.order,
            last_access=self._ticks,
        )
        self._put(cookie, now)

    def _put(self, cookie: _Cookie, now: float) -> None:
        """Insert or replace ``cookie``, then evict what the limits do not allow."""
        cookies = self._domains.setdefault(cookie.domain, {})
        key = (cookie.name, cookie.path)
        if key not in cookies:
            self._count += 1
        cookies[key] = cookie
        if cookie.expires is not None and cookie.expires < self._next_expiry:
            self._next_expiry = cookie.expires
        if len(cookies) > self._max_per_domain or self._count > self._max_cookies:
            self._purge_expired(now, force=True)
        while len(cookies) > self._max_per_domain:
            victim = min(cookies.values(), key=lambda c: c.last_access)
            self._remove(victim.domain, (victim.name, victim.path))
        while self._count > self._max_cookies:
            victim = min(
                (c for d in self._domains.values() for c in d.values()),
                key=lambda c: c.last_access,
            )
            self._remove(victim.domain, (victim.name, victim.path))

    def _remove(self, domain: str, key: tuple[str, str]) -> None:
        cookies = self._domains[domain]
        del cookies[key]
        self._count -= 1
        if not cookies:
            del self._domains[domain]

    @staticmethod
    def _expiry(morsel: Morsel[str], now: float) -> float | None:
        """The expiry time: Max-Age over Expires (§5.3 step 3), None for a session cookie."""
        max_age, expires = morsel["max-age"], morsel["expires"]
        if max_age not in ("", None):
            try:
                seconds = int(max_age)
            except (TypeError, ValueError):
                seconds = None  # a user's invalid Max-Age is ignored, as a server's is
            if seconds is not None:
                # §5.2.2: zero or less means "the earliest representable time".
                return float("-inf") if seconds <= 0 else now + min(seconds, MAX_LIFETIME)
        if isinstance(expires, int) and not isinstance(expires, bool):
            return now + min(expires, MAX_LIFETIME)  # Morsel's own convention: from now
        if isinstance(expires, str) and expires:
            when = parse_cookie_date(expires)
            if when is not None:
                return min(when, now + MAX_LIFETIME)
        return None

    def _shadows_secure(self, name: str, domain: str, path: str) -> bool:
        """Would a non-secure cookie replace or shadow a Secure one (RFC 6265bis §5.7 #15)?"""
        for other_domain, cookies in self._domains.items():
            if not (domain_match(domain, other_domain) or domain_match(other_domain, domain)):
                continue
            for cookie in cookies.values():
                if cookie.secure and cookie.name == name and path_match(path, cookie.path):
                    return True
        return False

    def _purge_expired(self, now: float, *, force: bool = False) -> None:
        """Drop expired cookies; cheap unless one is due (or ``force``)."""
        if now < self._next_expiry and not force:
            return
        self._next_expiry = float("inf")
        for domain, cookies in list(self._domains.items()):
            for key, cookie in list(cookies.items()):
                if cookie.expires is None:
                    continue
                if cookie.expires <= now:
                    self._remove(domain, key)
                elif cookie.expires < self._next_expiry:
                    self._next_expiry = cookie.expires

    # -- retrieval -------------------------------------------------------------------------

    def _matching(self, request_url: URL) -> list[_Cookie]:
        """The cookies to send to ``request_url`` in RFC 6265 §5.4 order."""
        if not self._domains:
            return []
        now = self._clock()
        self._purge_expired(now)
        host = _host(request_url)
        secure = _is_secure(request_url, host)
        path = request_url.raw_path or "/"
        domains = [host]
        if host and not is_ip_address(host):
            rest = host
            while "." in rest:
                rest = rest.partition(".")[2]
                domains.append(rest)
        if host:
            domains.append("")
        found: list[_Cookie] = []
        for domain in domains:
            for cookie in self._domains.get(domain, {}).values():
                if cookie.host_only and cookie.domain != host:
                    continue
                if cookie.secure and not secure:
                    continue
                if path_match(path, cookie.path):
                    found.append(cookie)
        found.sort(key=lambda c: (-len(c.path), c.created, c.order))
        for cookie in found:  # §5.4 step 3: update the last-access-time
            self._ticks += 1
            cookie.last_access = self._ticks
        return found

    def filter_cookies(self, request_url: URL) -> SimpleCookie:
        """Return the cookies a request to ``request_url`` would send.

        Args:
            request_url: The absolute URL of the request.

        Returns:
            The cookies by name (with their attributes); of two with the same name, the one
            :meth:`cookie_header` sends first.
        """
        result = SimpleCookie()
        for cookie in self._matching(request_url):
            if cookie.name not in result:
                result[cookie.name] = cookie.morsel()
        return result

    def cookie_header(self, request_url: URL) -> str | None:
        """Return the ``Cookie`` field value for a request (RFC 6265 §5.4).

        Args:
            request_url: The absolute URL of the request.

        Returns:
            ``name=value`` pairs joined by ``"; "``, longest path first, then earliest
            created (every match is sent, even two of the same name); None when no cookie
            matches.
        """
        found = self._matching(request_url)
        if not found:
            return None
        return "; ".join(f"{c.name}={c.coded_value}" for c in found)

    # -- maintenance -----------------------------------------------------------------------

    def clear(self, predicate: Callable[[Morsel[str]], bool] | None = None) -> None:
        """Remove every cookie, or those for which ``predicate`` is true.

        Expired cookies are removed in any case.

        Args:
            predicate: Called with each cookie as a :class:`~http.cookies.Morsel`; None
                removes them all.
        """
        if predicate is None:
            self._domains.clear()
            self._count = 0
            self._next_expiry = float("inf")
            return
        self._purge_expired(self._clock(), force=True)
        for domain, cookies in list(self._domains.items()):
            for key, cookie in list(cookies.items()):
                if predicate(cookie.morsel()):
                    self._remove(domain, key)

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies whose domain is ``domain`` or a subdomain of it.

        Args:
            domain: A host or domain name, e.g. ``"example.com"`` (a leading dot is ignored).
        """
        domain = domain.removeprefix(".").lower()
        for other in list(self._domains):
            if other and domain_match(other, domain):
                self._count -= len(self._domains.pop(other))

    def __iter__(self) -> Iterator[Morsel[str]]:
        """Iterate over the cookies stored (expired ones excluded), as Morsels.

        A host-only cookie shows its host as ``domain``; a cookie given by the user for
        every host shows ``""``; ``expires`` is an HTTP date, or ``""`` for a session cookie.
        """
        self._purge_expired(self._clock())
        cookies = [c for d in self._domains.values() for c in d.values()]
        return iter([c.morsel() for c in cookies])

    def __len__(self) -> int:
        """Count the cookies stored (expired ones excluded)."""
        self._purge_expired(self._clock())
        return self._count

    # -- files -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the cookies to a JSON file, readable only by its owner.

        The file is replaced atomically (written beside it, then renamed). Its format is::

            {"format": "httpwire-cookies", "version": 1, "cookies": [
              {"name": "sid", "value": "31d4", "coded_value": "31d4",
               "domain": "example.com", "host_only": true, "path": "/",
               "secure": false, "http_only": true, "same_site": "Lax",
               "expires": 1767225600.0, "created": 1764806400.0}, ...]}

        ``expires`` is seconds since the epoch, or null for a session cookie (saved too:
        the file continues the session); ``domain`` is ``""`` for cookies sent to every
        host; ``same_site`` is ``""`` when not set. Expired cookies are left out.

        Args:
            path: The file to write.

        Raises:
            OSError: The file cannot be written.
        """
        self._purge_expired(self._clock(), force=True)
        cookies = sorted(
            (c for d in self._domains.values() for c in d.values()),
            key=lambda c: (c.created, c.order),
        )
        document = {
            "format": _FILE_FORMAT,
            "version": _FILE_VERSION,
            "cookies": [
                {
                    "name": c.name,
                    "value": c.value,
                    "coded_value": c.coded_value,
                    "domain": c.domain,
                    "host_only": c.host_only,
                    "path": c.path,
                    "secure": c.secure,
                    "http_only": c.http_only,
                    "same_site": c.same_site,
                    "expires": c.expires,
                    "created": c.created,
                }
                for c in cookies
            ],
        }
        text = json.dumps(document, indent=1) + "\n"
        target = os.fspath(path)
        import tempfile  # only when saving: kept off the import path

        fd, temporary = tempfile.mkstemp(
            prefix=".cookies-", dir=os.path.dirname(os.path.abspath(target))
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def load(self, path: str | os.PathLike[str]) -> None:
        """Add the cookies of a file written by :meth:`save` to the jar.

        Loaded cookies replace stored ones of the same name, domain and path; expired ones
        are skipped, as are those of IP-address hosts unless the jar is ``unsafe``; the
        400-day cap on lifetimes applies from now. The
        file is parsed with :mod:`json` only: it cannot run code.

        Args:
            path: The file to read.

        Raises:
            OSError: The file cannot be read.
            ValueError: The file is not a cookie file, or a field is invalid; the message
                names the file and the line or the field (never a cookie's value), and the
                jar is left unchanged.
        """
        where = os.fspath(path)
        with open(where, "rb") as file:
            data = file.read()
        try:
            document = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{where}: not a cookie file: not UTF-8 text (byte {exc.start})"
            ) from None
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{where}: not a cookie file: invalid JSON at line {exc.lineno} column "
                f"{exc.colno} ({exc.msg})"
            ) from None
        if (
            not isinstance(document, dict)
            or document.get("format") != _FILE_FORMAT
            or not isinstance(document.get("cookies"), list)
        ):
            raise ValueError(
                f'{where}: not a cookie file: expected a JSON object with "format": '
                f'"{_FILE_FORMAT}" and a "cookies" list'
            )
        if document.get("version") != _FILE_VERSION:
            raise ValueError(
                f"{where}: unsupported cookie file version {document.get('version')!r:.40} "
                f"(this version reads {_FILE_VERSION})"
            )
        now = self._clock()
        loaded = [
            _cookie_from_json(entry, f"{where}: cookies[{index}]")
            for index, entry in enumerate(document["cookies"])
        ]
        for cookie in loaded:
            if cookie.expires is not None:
                if cookie.expires <= now:
                    continue
                cookie.expires = min(cookie.expires, now + MAX_LIFETIME)
            if not self._unsafe and cookie.domain and is_ip_address(cookie.domain):
                continue
            old = self._domains.get(cookie.domain, {}).get((cookie.name, cookie.path))
            self._ticks += 1
            cookie.order = self._ticks if old is None else old.order
            cookie.created = cookie.created if old is None else old.created
            cookie.last_access = self._ticks
            self._put(cookie, now)


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "value": str,
    "coded_value": str,
    "domain": str,
    "host_only": bool,
    "path": str,
    "secure": bool,
    "http_only": bool,
    "same_site": str,
    "expires": (float, int, type(None)),
    "created": (float, int),
}


def _cookie_from_json(entry: object, where: str) -> _Cookie:
    """Check one saved cookie and build it; errors name the entry and field, not values."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object, got {type(entry).__name__}")
    name = entry.get("name")
    if isinstance(name, str):
        where = f"{where} ({name[:64]!r})"
    for field, kinds in _FIELDS.items():
        if field not in entry:
            raise ValueError(f"{where}: missing field {field!r}")
        value = entry[field]
        if not isinstance(value, kinds) or (isinstance(value, bool) and kinds is not bool):
            raise ValueError(f"{where}: field {field!r} has the wrong type {type(value).__name__}")
    reason = validate_name_value(entry["name"], entry["coded_value"])
    if reason is not None:
        raise ValueError(f"{where}: invalid cookie: {reason}")
    if not entry["path"].startswith("/"):
        raise ValueError(f"{where}: field 'path' must start with '/'")
    if entry["same_site"] not in ("", "Strict", "Lax", "None"):
        raise ValueError(f"{where}: field 'same_site' must be '', 'Strict', 'Lax' or 'None'")
    if entry["host_only"] and not entry["domain"]:
        raise ValueError(f"{where}: a host-only cookie needs a 'domain'")
    expires = entry["expires"]
    for field in ("expires", "created"):
        if entry[field] is not None and not math.isfinite(entry[field]):
            raise ValueError(f"{where}: field {field!r} must be a finite number")
    return _Cookie(
        name=entry["name"],
        value=entry["value"],
        coded_value=entry["coded_value"],
        domain=entry["domain"].lower(),
        path=entry["path"],
        host_only=entry["host_only"],
        secure=entry["secure"],
        http_only=entry["http_only"],
        same_site=entry["same_site"],
        expires=None if expires is None else float(expires),
        created=float(entry["created"]),
        order=0,
        last_access=0,
    )


class DummyCookieJar(AbstractCookieJar):
    """A jar that stores nothing and sends nothing: a session that ignores cookies.

    Per-request ``cookies=`` are still sent, since they never go through the jar.
    """

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Ignore the cookies.

        Args:
            cookies: Ignored.
            response_url: Ignored.
        """

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Ignore the cookies.

        Args:
            headers: Ignored.
            response_url: Ignored.
        """

    def filter_cookies(self, request_url: URL) -> SimpleCookie:
        """Return no cookies.

        Args:
            request_url: Ignored.

        Returns:
            An empty :class:`~http.cookies.SimpleCookie`.
        """
        return SimpleCookie()

    def cookie_header(self, request_url: URL) -> str | None:
        """Return no ``Cookie`` field.

        Args:
            request_url: Ignored.

        Returns:
            None.
        """
        return None

    def clear(self, predicate: Callable[[Morsel[str]], bool] | None = None) -> None:
        """Do nothing: there is nothing to remove.

        Args:
            predicate: Ignored.
        """

    def clear_domain(self, domain: str) -> None:
        """Do nothing: there is nothing to remove.

        Args:
            domain: Ignored.
        """

    def __iter__(self) -> Iterator[Morsel[str]]:
        """Iterate over nothing."""
        return iter(())

    def __len__(self) -> int:
        """Return 0."""
        return 0
