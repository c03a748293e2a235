"""HTTP Basic authentication credentials (RFC 7617).

``BasicAuth`` lives at the connection layer because proxies need it
(``Proxy-Authorization``); the client re-exports it for ``auth=``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from yarl import URL

from ._util import bounded_repr

__all__ = ["BasicAuth", "proxy_credentials"]

# RFC 5234 Appendix B.1: CTL = %x00-1F / %x7F.
_CTL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """Credentials for HTTP Basic authentication.

    Instances are immutable and hashable, so they can be part of a connection pool's key.

    Args:
        login: The user-id. It may not contain ``:`` (RFC 7617 §2: the first colon
            separates the user-id from the password) nor control characters.
        password: The password; may contain ``:``, not control characters.
        encoding: The character encoding of the credentials on the wire. RFC 7617 leaves
            it to the server (``charset="UTF-8"`` may be advertised); ``latin1`` is the
            historical default.

    Raises:
        ValueError: The login contains ``:``, a field contains a control character, or the
            encoding cannot represent the credentials.
        TypeError: The login or password is not a ``str``.

    Example:
        >>> BasicAuth("Aladdin", "open sesame").encode()
        'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='
    """

    login: str
    password: str = ""
    encoding: str = "latin1"

    def __post_init__(self) -> None:
        for name in ("login", "password"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(
                    f"BasicAuth {name} must be a str, not {type(value).__name__} (RFC 7617 §2)"
                )
            bad = _CTL.search(value)
            if bad:
                # The password is a secret: named, never quoted; the login is shown.
                shown = "" if name == "password" else f" {bounded_repr(value)}"
                raise ValueError(
                    f"BasicAuth {name}{shown} contains a control character "
                    f"({bad.group()!r} at position {bad.start()}), which RFC 7617 §2 forbids"
                )
        if ":" in self.login:
            raise ValueError(
                f"BasicAuth login {bounded_repr(self.login)} contains ':', which RFC 7617 §2 "
                "reserves to separate the user-id from the password"
            )
        # Each failure is raised after its ``except`` block: raised inside it, the codec's
        # error (which holds the whole "login:password") would stay reachable as
        # ``__context__``, even with ``from None``.
        unencodable: UnicodeEncodeError | None = None
        try:
            f"{self.login}:{self.password}".encode(self.encoding)
        except UnicodeEncodeError as exc:
            unencodable = exc
        except LookupError:
            raise ValueError(f"BasicAuth encoding {self.encoding!r} is unknown") from None
        if unencodable is not None:
            # Name the field and a position inside it, never the character (it may be the
            # password's).
            start, split = unencodable.start, len(self.login) + 1
            field, where = ("login", start) if start < split else ("password", start - split)
            raise ValueError(
                f"BasicAuth {field} cannot be encoded as {self.encoding!r}: "
                f"{unencodable.reason} at position {where}; pass encoding='utf-8'"
            )

    def __repr__(self) -> str:
        # Never print the password.
        return f"BasicAuth(login={self.login!r}, password='***', encoding={self.encoding!r})"

    def encode(self) -> str:
        """The value of an ``Authorization`` (or ``Proxy-Authorization``) header.

        Returns:
            ``"Basic "`` followed by the base64 of ``login:password`` in ``encoding``.
        """
        raw = f"{self.login}:{self.password}".encode(self.encoding)
        return "Basic " + base64.b64encode(raw).decode("ascii")

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> BasicAuth:
        """Parse the value of an ``Authorization`` header.

        Args:
            auth_header: The header value, e.g. ``"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="``.
            encoding: The encoding the credentials were sent in.

        Returns:
            The credentials.

        Raises:
            ValueError: The scheme is not Basic, the token is not valid base64, the
                decoded credentials have no ``:``, or they are not valid in ``encoding``.
        """
        scheme, space, token = auth_header.strip().partition(" ")
        if scheme.lower() != "basic":
            if not space:
                # One word: a scheme without credentials or credentials without a scheme
                # (a bare token); either way it may be the secret, so it is not shown.
                raise ValueError(
                    f"Authorization header of {len(scheme)} characters has no scheme followed "
                    "by credentials (RFC 9110 §11.4; the value is not shown)"
                )
            # The value carries credentials of some scheme: only the scheme is shown.
            raise ValueError(
                f"Authorization header uses the {bounded_repr(scheme, 24)} scheme, not Basic "
                "(its credentials are not shown)"
            )
        token = token.strip()
        # Raised after the except blocks, so that no codec error holding the credentials
        # stays reachable as __context__.
        raw: bytes | None = None
        try:
            raw = base64.b64decode(token.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            pass
        if raw is None:
            raise ValueError(
                f"Basic credentials of {len(token)} characters are not valid base64 "
                "(RFC 7617 §2; they are not shown)"
            )
        text: str | None = None
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            pass
        if text is None:
            raise ValueError(f"Basic credentials are not valid {encoding!r} text")
        login, colon, password = text.partition(":")
        if not colon:
            raise ValueError("Basic credentials have no ':' between user-id and password")
        return cls(login, password, encoding=encoding)

    @classmethod
    def from_url(cls, url: URL | str, *, encoding: str = "latin1") -> BasicAuth | None:
        """The credentials in a URL's userinfo (percent-decoded), if it has any.

        Args:
            url: A URL such as ``http://user:p%40ss@proxy:3128``.
            encoding: The encoding to send the credentials in.

        Returns:
            The credentials, or ``None`` when the URL has no user.

        Raises:
            ValueError: The credentials are invalid (see the class).
        """
        if not isinstance(url, URL):
            url = URL(url)
        if url.user is None:
            return None
        return cls(url.user, url.password or "", encoding=encoding)


def proxy_credentials(url: URL, shown: URL, proxy_auth: BasicAuth | None) -> BasicAuth | None:
    """A proxy's credentials: ``proxy_auth`` or those in its URL, never both.

    Args:
        url: The proxy URL, credentials included.
        shown: The same URL without them, to quote in errors.
        proxy_auth: The credentials given on their own, if any.

    Returns:
        The credentials, or ``None``.

    Raises:
        TypeError: ``proxy_auth`` is not a :class:`BasicAuth`.
        ValueError: Credentials were given both ways.
    """
    if proxy_auth is not None and not isinstance(proxy_auth, BasicAuth):
        raise TypeError(f"proxy_auth must be a BasicAuth, got {type(proxy_auth).__name__}")
    from_url = BasicAuth.from_url(url)
    if from_url is not None:
        if proxy_auth is not None:
            raise ValueError(
                f"proxy credentials given twice: in the proxy URL {str(shown)[:200]!r} and in "
                "proxy_auth; pass them one way only"
            )
        proxy_auth = from_url
    return proxy_auth
