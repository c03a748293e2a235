"""What ``trust_env=True`` reads: proxies, ``.netrc`` credentials and the TLS trust store.

Strategy: everything here is pure logic over an explicit environment mapping and home
folder (by default ``os.environ`` and ``~``), so it is tested without sockets and without
touching the process environment. The environment is read **once**, when a session is
created (:meth:`EnvironmentSettings.read`); a request then costs one call to
:meth:`ProxySettings.proxy_for` (a dictionary look-up when no ``NO_PROXY`` is set; else a
set look-up and one ``str.endswith`` over the listed names, and integer masks for address
literals) and one dictionary look-up in :class:`NetrcCredentials`. Changing ``os.environ``
or the ``.netrc`` file afterwards affects only sessions created later.

Proxies (the conventions curl, Go and urllib share, with their conflicts settled):

* ``http_proxy`` for ``http://`` (and ``ws://``) URLs, ``https_proxy`` for ``https://``
  (and ``wss://``), ``all_proxy`` for any scheme without its own variable. A variable set
  in lower case wins over its upper-case spelling (as curl); one present but blank counts
  as unset, yet still hides its upper-case spelling (``http_proxy=`` turns off an
  inherited ``HTTP_PROXY``; ``ALL_PROXY`` then still applies).
* Upper-case ``HTTP_PROXY`` is ignored when ``REQUEST_METHOD`` is set: a program run as a
  CGI script receives the request's ``Proxy:`` header as ``HTTP_PROXY``, so a client
  trusting it would send its traffic wherever the caller says ("httpoxy", CVE-2016-5385).
  The lower-case spelling cannot come from a request header and is still honoured.
* A proxy value without a scheme means ``http://``; ``http``, ``https``, ``socks5`` and
  ``socks5h`` are accepted; a SOCKS proxy without a port gets 1080. Credentials in the
  proxy URL are kept as given (still percent-encoded): ``BasicAuth.from_url`` decodes them
  when the proxy is used. A value that is not a usable proxy URL is a ``ValueError`` at
  session creation naming the variable (with the password masked): silently going
  direct instead of through the configured proxy would leak traffic.
* ``no_proxy`` (then ``NO_PROXY``) is a comma-separated list; blank entries are ignored.
  ``*`` bypasses the proxy for every host. A name matches itself and its subdomains, with
  or without a leading dot (``example.com`` and ``.example.com`` both match
  ``example.com`` and ``a.example.com``, never ``badexample.com``); ``name:port`` does so
  only for that port. IPv4 and IPv6 addresses (``::1``, ``[::1]``, ``[::1]:8080``) and
  CIDR blocks (``10.0.0.0/8``, ``fd00::/8``) match URLs whose host is such an address
  literal; no name is resolved to match an address (as curl).

``.netrc`` (the stdlib :mod:`netrc` parser): the file named by ``NETRC``, else ``~/.netrc``
(on Windows ``~/_netrc`` too, when there is no ``~/.netrc``, as curl and requests look).
The ``machine`` entry for the host (compared case-insensitively),
else the ``default`` entry, gives a :class:`~httpwire.connectors.BasicAuth`. A missing file
gives no credentials. A malformed or unreadable file never breaks a request: it is ignored,
and one record at ``WARNING`` level goes to the ``httpwire.client`` logger naming the file
and the line, never the offending token (it may be a password). Logging rather than a
``warnings.warn``: a program running with warnings as errors would otherwise fail every
session because of an unrelated file in the user's home.

Trust store: OpenSSL itself reads ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` from the *process*
environment whenever ``ssl.create_default_context()`` loads the default locations
(``ssl.get_default_verify_paths()`` shows them as ``openssl_cafile_env`` and
``openssl_capath_env``), so with the stdlib alone they apply even to ``trust_env=False``
sessions and cannot be given through a mapping. :func:`ssl_context_from_env` makes the rule
explicit: when either variable is set in the mapping, the context trusts exactly the file
and/or folder they name; they *replace* the system store (OpenSSL alone, given only
``SSL_CERT_FILE``, would still consult its default folder: here a bundle means that
bundle). Otherwise it returns ``None`` and the connector's default context applies.

How the session wires it (``ClientSession(trust_env=True)``)::

    env = EnvironmentSettings.read()          # once, in ClientSession.__init__
    # TLS: give the context to the TCPConnector the session creates itself (an explicit
    # connector or ssl= is left alone)
    if env.ssl_context is not None: TCPConnector(ssl_context=env.ssl_context, ...)
    # per request (and per redirect hop), when the caller gave no proxy= and the
    # session's connector is not a ProxyConnector; NO_PROXY applies to these only:
    proxy = env.proxies.proxy_for(url)        # URL with credentials, or None
    # ...then passed on as the request's proxy= (https targets tunnel with CONNECT;
    # socks5/socks5h need the connectors' SOCKS support)
    # per request, when neither auth=, nor URL userinfo, nor an Authorization header
    # gives credentials (and again for each redirect hop's host):
    auth = env.netrc.for_host(url.raw_host)   # BasicAuth or None
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from yarl import URL

from httpwire.connectors import BasicAuth

__all__ = [
    "EnvironmentSettings",
    "NetrcCredentials",
    "NoProxy",
    "ProxySettings",
    "netrc_auth",
    "netrc_path",
    "proxy_for",
    "ssl_context_from_env",
]

logger = logging.getLogger("httpwire.client")

_PROXY_SCHEMES = frozenset({"http", "https", "socks5", "socks5h"})
_SOCKS_DEFAULT_PORT = 1080
# Which variable serves which request scheme (ALL_PROXY serves every scheme as a fallback).
_SCHEME_VARIABLE = {
    "http": "http_proxy",
    "ws": "http_proxy",
    "https": "https_proxy",
    "wss": "https_proxy",
}

_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Frozen:
    """Immutable value objects compared, hashed and shown by the fields in ``_FIELDS``.

    What ``@dataclass(frozen=True, slots=True)`` gave these private classes, written out:
    generating the methods cost more at import than the rest of the module.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _Frozen)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of {self.__class__.__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of {self.__class__.__name__}")


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _variable(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """The value of a variable and the spelling it came from; lower case first (as curl).

    A lower-case variable that is present, even empty, hides the upper-case one.
    """
    lower = name.lower()
    if lower in env:
        return lower, env[lower]
    upper = name.upper()
    if upper in env:
        if upper == "HTTP_PROXY" and env.get("REQUEST_METHOD"):
            # httpoxy: under CGI, HTTP_PROXY is the request's "Proxy:" header.
            return None
        return upper, env[upper]
    return None


def _masked(value: str) -> str:
    """A proxy value for an error message: bounded, any password replaced by ``***``.

    Done on the text, so it also works on values that are not valid URLs; everything up
    to the last ``@`` counts as userinfo, which can only hide too much, never too little.
    """
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    userinfo, at, hostpart = rest.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        value = f"{scheme}{sep}{user}{':***' if colon else ''}@{hostpart}"
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _parse_proxy(variable: str, value: str) -> URL | None:
    """Parse one proxy variable's value into a proxy URL (``None`` when blank)."""
    value = value.strip()
    if not value:
        return None
    if "://" not in value:
        value = f"http://{value}"
    try:
        url = URL(value)
        host = url.raw_host
        port = url.explicit_port
    except ValueError as exc:
        raise ValueError(f"{variable}={_masked(value)} is not a valid proxy URL: {exc}") from None
    scheme = url.scheme.lower()
    if scheme not in _PROXY_SCHEMES:
        raise ValueError(
            f"{variable}={_masked(value)} has scheme {scheme!r}; a proxy URL must use one "
            f"of {', '.join(sorted(_PROXY_SCHEMES))}"
        )
    if not host:
        raise ValueError(f"{variable}={_masked(value)} has no host")
    url = url.with_path("").with_query(None).with_fragment(None)
    if port is None and scheme.startswith("socks"):
        url = url.with_port(_SOCKS_DEFAULT_PORT)
    return url


def _ascii_host(name: str) -> str | None:
    """A host name as it appears in ``URL.raw_host``: lower case, IDNA-encoded."""
    name = name.strip().rstrip(".").lower()
    if not name:
        return None
    if name.isascii():
        return name
    try:
        return URL.build(scheme="http", host=name).raw_host
    except (ValueError, UnicodeError):
        return None


def _as_network(entry: str) -> _IPNetwork | None:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


class NoProxy(_Frozen):
    """The parsed ``NO_PROXY`` list: which URLs go direct.

    Attributes:
        everything: ``*`` was listed: no URL uses a proxy.
        domains: Names (IDNA, lower case, no leading or trailing dot) that match
            themselves and their subdomains on any port.
        domain_ports: ``(name, port)`` pairs matching like ``domains``, on that port only.
        networks: Address blocks matching URLs whose host is an address literal.
        address_ports: ``(address, port)`` pairs for ``address:port`` entries.
    """

    __slots__ = (
        "_active",
        "_address_ports",
        "_blocks",
        "_suffix_ports",
        "_suffixes",
        "address_ports",
        "domain_ports",
        "domains",
        "everything",
        "networks",
    )
    _FIELDS = ("everything", "domains", "domain_ports", "networks", "address_ports")

    everything: bool
    domains: frozenset[str]
    domain_ports: frozenset[tuple[str, int]]
    networks: tuple[_IPNetwork, ...]
    address_ports: frozenset[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]
    # Forms for matching, computed once: (version, network, mask) and (version, address,
    # port) as ints (ipaddress parses a literal in microseconds, socket.inet_pton in a
    # fraction), and ".name" suffixes for one str.endswith over all names.
    _blocks: tuple[tuple[int, int, int], ...]
    _address_ports: frozenset[tuple[int, int, int]]
    _suffixes: tuple[str, ...]
    _suffix_ports: tuple[tuple[str, str, int], ...]
    _active: bool

    def __init__(
        self,
        everything: bool = False,
        domains: frozenset[str] = frozenset(),
        domain_ports: frozenset[tuple[str, int]] = frozenset(),
        networks: tuple[_IPNetwork, ...] = (),
        address_ports: frozenset[
            tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]
        ] = frozenset(),
    ) -> None:
        object.__setattr__(self, "everything", everything)
        object.__setattr__(self, "domains", domains)
        object.__setattr__(self, "domain_ports", domain_ports)
        object.__setattr__(self, "networks", networks)
        object.__setattr__(self, "address_ports", address_ports)
        blocks = tuple((n.version, int(n.network_address), int(n.netmask)) for n in self.networks)
        as_ints = frozenset((a.version, int(a), port) for a, port in self.address_ports)
        object.__setattr__(self, "_blocks", blocks)
        object.__setattr__(self, "_address_ports", as_ints)
        object.__setattr__(self, "_suffixes", tuple(f".{name}" for name in sorted(self.domains)))
        suffix_ports = tuple((n, f".{n}", port) for n, port in sorted(self.domain_ports))
        object.__setattr__(self, "_suffix_ports", suffix_ports)
        active = self.everything or bool(self.domains or self.domain_ports or blocks)
        object.__setattr__(self, "_active", active or bool(as_ints))

    @classmethod
    def parse(cls, value: str) -> NoProxy:
        """Parse a ``NO_PROXY`` value.

        Args:
            value: Comma-separated entries; whitespace around them and blank entries are
                ignored, as are entries that are neither a name nor an address.

        Returns:
            The parsed list.
        """
        domains: set[str] = set()
        domain_ports: set[tuple[str, int]] = set()
        networks: list[_IPNetwork] = []
        address_ports: set[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]] = set()
        for raw in value.split(","):
            entry = raw.strip()
            if not entry:
                continue
            if entry == "*":
                return cls(everything=True)
            port: int | None = None
            if entry.startswith("["):  # [v6] or [v6]:port
                inside, _, rest = entry[1:].partition("]")
                if rest.startswith(":") and rest[1:].isdigit():
                    port = int(rest[1:])
                elif rest:
                    continue
                entry = inside
            elif entry.count(":") == 1:  # name:port or v4:port (a bare v6 has 2+ colons)
                head, _, tail = entry.partition(":")
                if not tail.isdigit():
                    continue
                entry, port = head, int(tail)
            network = _as_network(entry)
            if network is not None:
                if port is None:
                    networks.append(network)
                elif network.num_addresses == 1:
                    address_ports.add((network.network_address, port))
                continue
            name = _ascii_host(entry.lstrip("*").lstrip("."))
            if name is None:
                continue
            if port is None:
                domains.add(name)
            else:
                domain_ports.add((name, port))
        return cls(
            domains=frozenset(domains),
            domain_ports=frozenset(domain_ports),
            networks=tuple(networks),
            address_ports=frozenset(address_ports),
        )

    def __bool__(self) -> bool:
        return self._active

    def matches(self, url: URL) -> bool:
        """Whether a URL must bypass the proxy.

        Args:
            url: The request URL (absolute).

        Returns:
            True when an entry matches the URL's host (and port, for ``host:port``).
        """
        if self.everything:
            return True
        host = url.raw_host
        if not host:
            return False
        if host[-1] == ".":
            host = host[:-1]
            if not host:
                return False
        host = host.lower()
        if self._blocks or self._address_ports:
            address = _address(host)
            if address is not None:
                version, number = address
                for block_version, network, mask in self._blocks:
                    if version == block_version and number & mask == network:
                        return True
                return (version, number, url.port) in self._address_ports
        # One C-level scan: a name matches itself or ends with ".name".
        if host in self.domains or host.endswith(self._suffixes):
            return True
        if self.domain_ports:
            port = url.port
            for name, suffix, entry_port in self._suffix_ports:
                if port == entry_port and (host == name or host.endswith(suffix)):
                    return True
        return False


_NO_PROXY = NoProxy()


def _address(host: str) -> tuple[int, int] | None:
    """``(4 or 6, the address as an int)`` for an address literal; ``None`` for a name.

    A name's last label is never all digits (RFC 1123 §2.1 keeps top-level domains
    alphabetic), so only hosts ending in a digit are tried as IPv4.
    """
    try:
        if ":" in host:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, host), "big")
        if host[-1].isdigit():
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, host), "big")
    except OSError:
        pass
    return None


class ProxySettings(_Frozen):
    """The proxies the environment configures, parsed once per session.

    Attributes:
        by_scheme: The proxy for each request scheme that has its own variable.
        fallback: The ``ALL_PROXY`` proxy, for schemes without their own.
        no_proxy: The hosts that go direct.
    """

    __slots__ = ("_bypass", "by_scheme", "fallback", "no_proxy")
    _FIELDS = ("by_scheme", "fallback", "no_proxy")

    by_scheme: Mapping[str, URL]
    fallback: URL | None
    no_proxy: NoProxy
    _bypass: NoProxy | None

    def __init__(
        self,
        by_scheme: Mapping[str, URL] | None = None,
        fallback: URL | None = None,
        no_proxy: NoProxy = _NO_PROXY,
    ) -> None:
        object.__setattr__(self, "by_scheme", {} if by_scheme is None else by_scheme)
        object.__setattr__(self, "fallback", fallback)
        object.__setattr__(self, "no_proxy", no_proxy)
        object.__setattr__(self, "_bypass", self.no_proxy if self.no_proxy else None)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProxySettings:
        """Read the proxy variables.

        Args:
            env: The environment (``os.environ`` when ``None``).

        Returns:
            The settings; empty when no proxy variable is set.

        Raises:
            ValueError: A proxy variable is not a usable proxy URL (the message names it).
        """
        env = _env(env)
        by_scheme: dict[str, URL] = {}
        parsed: dict[str, URL | None] = {}
        for scheme, name in _SCHEME_VARIABLE.items():
            if name not in parsed:
                found = _variable(env, name)
                parsed[name] = None if found is None else _parse_proxy(*found)
            proxy = parsed[name]
            if proxy is not None:
                by_scheme[scheme] = proxy
        found = _variable(env, "all_proxy")
        fallback = None if found is None else _parse_proxy(*found)
        found = _variable(env, "no_proxy")
        no_proxy = NoProxy() if found is None else NoProxy.parse(found[1])
        return cls(by_scheme=by_scheme, fallback=fallback, no_proxy=no_proxy)

    def __bool__(self) -> bool:
        return bool(self.by_scheme) or self.fallback is not None

    def proxy_for(self, url: URL) -> URL | None:
        """The proxy a request to ``url`` goes through.

        Args:
            url: The request URL (absolute).

        Returns:
            The proxy URL, credentials included (still percent-encoded), or ``None`` to go
            direct.
        """
        proxy = self.by_scheme.get(url.scheme, self.fallback)
        if proxy is None or (self._bypass is not None and self._bypass.matches(url)):
            return None
        return proxy


_NO_PROXIES = ProxySettings()


def proxy_for(url: URL, env: Mapping[str, str] | None = None) -> URL | None:
    """The proxy the environment names for one URL (parses the environment each call).

    A session parses once with :meth:`ProxySettings.from_env` and calls
    :meth:`ProxySettings.proxy_for` per request; this is the one-shot form.

    Args:
        url: The request URL (absolute).
        env: The environment (``os.environ`` when ``None``).

    Returns:
        The proxy URL, credentials included, or ``None`` to go direct.

    Raises:
        ValueError: A proxy variable is not a usable proxy URL.
    """
    return ProxySettings.from_env(env).proxy_for(url)


def netrc_path(env: Mapping[str, str] | None = None, home: str | Path | None = None) -> Path:
    """The ``.netrc`` file to read: ``NETRC``, else ``~/.netrc`` (or ``~/_netrc`` on Windows).

    Args:
        env: The environment (``os.environ`` when ``None``).
        home: The home folder (``Path.home()`` when ``None``).

    Returns:
        The path (it may not exist).
    """
    env = _env(env)
    named = env.get("NETRC")
    if named:
        return Path(named).expanduser()
    base = Path.home() if home is None else Path(home)
    return _first_existing(base, _NETRC_NAMES)


# Windows tools write "_netrc" (a leading dot was long awkward there); read both, as curl.
_NETRC_NAMES = (".netrc", "_netrc") if os.name == "nt" else (".netrc",)


def _first_existing(base: Path, names: tuple[str, ...]) -> Path:
    """The first of ``base / name`` that exists, else the first candidate."""
    for name in names:
        path = base / name
        if path.exists():
            return path
    return base / names[0]


def _entry_auth(
    path: Path, machine: str, entry: tuple[str, str | None, str | None]
) -> BasicAuth | None:
    login, _account, password = entry
    if not login and not password:
        return None
    try:
        return BasicAuth(login or "", password or "")
    except ValueError:
        # The message may quote the password: name the entry only.
        logger.warning(
            "ignoring the credentials for %r in %s: not valid for Basic authentication "
            "(a ':' in the login, or a control character)",
            machine,
            path,
        )
        return None


class NetrcCredentials(_Frozen):
    """The credentials of a ``.netrc`` file, read once.

    Attributes:
        machines: Credentials per host name (lower case).
        default: The ``default`` entry's credentials, for any other host.
    """

    __slots__ = ("default", "machines")
    _FIELDS = ("machines", "default")

    machines: Mapping[str, BasicAuth]
    default: BasicAuth | None

    def __init__(
        self, machines: Mapping[str, BasicAuth] | None = None, default: BasicAuth | None = None
    ) -> None:
        object.__setattr__(self, "machines", {} if machines is None else machines)
        object.__setattr__(self, "default", default)

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, home: str | Path | None = None
    ) -> NetrcCredentials:
        """Read the ``.netrc`` file :func:`netrc_path` names.

        A missing file gives no credentials. A malformed or unreadable one is ignored too,
        with a ``WARNING`` record on the ``httpwire.client`` logger naming the file and the
        line (never the offending token).

        Args:
            env: The environment (``os.environ`` when ``None``).
            home: The home folder (``Path.home()`` when ``None``).

        Returns:
            The credentials found (possibly none).
        """
        path = netrc_path(env, home)
        import netrc  # only when a netrc file is read: kept off the import path

        try:
            parsed = netrc.netrc(os.fspath(path))
        except FileNotFoundError:
            if _env(env).get("NETRC"):
                logger.warning("ignoring NETRC=%s: no such file", path)
            return cls()
        except netrc.NetrcParseError as exc:
            logger.warning("ignoring %s: malformed at line %s", path, exc.lineno)
            return cls()
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("ignoring %s: cannot be read (%s)", path, type(exc).__name__)
            return cls()
        machines: dict[str, BasicAuth] = {}
        default: BasicAuth | None = None
        for machine, entry in parsed.hosts.items():
            auth = _entry_auth(path, machine, entry)
            if auth is None:
                continue
            if machine == "default":
                default = auth
            else:
                machines[machine.rstrip(".").lower()] = auth
        return cls(machines=machines, default=default)

    def __bool__(self) -> bool:
        return bool(self.machines) or self.default is not None

    def for_host(self, host: str | None) -> BasicAuth | None:
        """The credentials for a host: its ``machine`` entry, else ``default``.

        Args:
            host: The request URL's host (``URL.raw_host``; compared case-insensitively).

        Returns:
            The credentials, or ``None``.
        """
        if not host:
            return self.default
        return self.machines.get(host.rstrip(".").lower(), self.default)


_NO_NETRC = NetrcCredentials()


def netrc_auth(
    host: str, env: Mapping[str, str] | None = None, home: str | Path | None = None
) -> BasicAuth | None:
    """The ``.netrc`` credentials for one host (reads the file each call).

    A session reads the file once with :meth:`NetrcCredentials.load`; this is the one-shot
    form.

    Args:
        host: The host name.
        env: The environment (``os.environ`` when ``None``).
        home: The home folder (``Path.home()`` when ``None``).

    Returns:
        The credentials of the host's ``machine`` entry, else of ``default``, else ``None``.
    """
    return NetrcCredentials.load(env, home).for_host(host)


def ssl_context_from_env(env: Mapping[str, str] | None = None) -> ssl.SSLContext | None:
    """A verifying TLS context trusting what ``SSL_CERT_FILE``/``SSL_CERT_DIR`` name.

    The context is ``ssl.create_default_context()``'s (hostname check, certificate
    required, the stdlib's protocol floor), with the named file and/or folder as its
    only trust anchors instead of the system store.

    Args:
        env: The environment (``os.environ`` when ``None``).

    Returns:
        The context, or ``None`` when neither variable is set (non-empty): the
        connector's default context then applies.

    Raises:
        ValueError: ``SSL_CERT_FILE`` names a file that cannot be read or holds no
            certificate, or ``SSL_CERT_DIR`` names something that is not a folder.
    """
    env = _env(env)
    cafile = env.get("SSL_CERT_FILE") or None
    capath = env.get("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        return None
    if capath is not None and not os.path.isdir(capath):
        raise ValueError(f"SSL_CERT_DIR={capath!r} is not a folder")
    try:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(
            f"SSL_CERT_FILE={cafile!r} cannot be loaded as a trust store: {reason}"
        ) from exc


class EnvironmentSettings(_Frozen):
    """Everything ``trust_env=True`` takes from the environment, read once per session.

    Attributes:
        proxies: The proxy variables.
        netrc: The ``.netrc`` credentials.
        ssl_context: The context for ``SSL_CERT_FILE``/``SSL_CERT_DIR``, or ``None``.
    """

    __slots__ = ("netrc", "proxies", "ssl_context")
    _FIELDS = ("proxies", "netrc", "ssl_context")

    proxies: ProxySettings
    netrc: NetrcCredentials
    ssl_context: ssl.SSLContext | None

    def __init__(
        self,
        proxies: ProxySettings | None = None,
        netrc: NetrcCredentials | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        object.__setattr__(self, "proxies", _NO_PROXIES if proxies is None else proxies)
        object.__setattr__(self, "netrc", _NO_NETRC if netrc is None else netrc)
        object.__setattr__(self, "ssl_context", ssl_context)

    @classmethod
    def read(
        cls, env: Mapping[str, str] | None = None, home: str | Path | None = None
    ) -> EnvironmentSettings:
        """Read the proxy variables, the ``.netrc`` file and the trust-store variables.

        Args:
            env: The environment (``os.environ`` when ``None``).
            home: The home folder (``Path.home()`` when ``None``).

        Returns:
            The settings.

        Raises:
            ValueError: A proxy or trust-store variable is unusable (the message names it).
        """
        env = _env(env)
        return cls(
            proxies=ProxySettings.from_env(env),
            netrc=NetrcCredentials.load(env, home),
            ssl_context=ssl_context_from_env(env),
        )
