"""Digest access authentication (RFC 7616) as a middleware.

Strategy: :class:`DigestAuth` is a middleware (see :mod:`._middleware`). It sends the
request as it is; when the answer is a ``401`` with a ``Digest`` challenge from an origin it
may answer, it computes the credentials and sends the request once more. The challenge is
then kept per origin and realm (its protection space), so the next requests to that origin
carry credentials at once (the nonce reused with the next ``nc``, RFC 7616 §3.4) and cost
one round trip, not two.

Rules:

* Algorithms MD5, SHA-256 and SHA-512-256, each with its ``-sess`` variant (§3.4.2); of
  several ``Digest`` challenges, the first whose algorithm is supported is used, the
  server listing them in its order of preference (§3.7). ``qop=auth`` is preferred;
  ``auth-int`` is used when it is the only choice and the body is in memory (its hash needs
  the whole body); a challenge without ``qop`` (RFC 2069) is answered in that old form.
* ``nc`` counts the requests made with one nonce (eight hex digits); every request gets a
  fresh random ``cnonce``.
* ``stale=true`` says the nonce expired, not the credentials: the request is sent again
  with the new nonce. Any other ``401`` after credentials were sent for this very
  challenge is returned as it is (wrong credentials): never a loop.
* ``userhash=true`` sends ``H(username:realm)`` instead of the name (§3.4.4); a name that
  is not ASCII goes as ``username*`` in RFC 8187 form when the server announced
  ``charset=UTF-8`` (§3.4.4), else it is an error naming the rule.
* Credentials go only to the origin (scheme, host, port) the request chain started at, as
  the session's Basic auth does, unless ``origins=`` lists others: a server a redirect led
  to must not get a hash it could attack offline.
* A body that cannot be sent twice (a stream) cannot answer a challenge: that is a
  :class:`DigestBodyError`, not a second request with an empty body. Send ``bytes`` or a
  reusable payload, or make a first request without a body so that the challenge is known.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from multidict import CIMultiDictProxy
from yarl import URL

from ._errors import ClientResponseError, RequestInfo
from ._middleware import ClientRequest, Handler

if TYPE_CHECKING:
    from ._response import ClientResponse

__all__ = ["DigestAuth", "DigestBodyError", "DigestChallenge", "parse_challenges"]

_HASHES: Final[dict[str, Callable[[bytes], str]]] = {
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data).hexdigest(),
}

# RFC 9110 §5.6.2 token, §5.6.4 quoted-string, §11.2 token68.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*({_TOKEN}|{_QUOTED})\s*(?:,|$)")
_SCHEME = re.compile(rf"[\s,]*({_TOKEN})(?:[ \t]+|$|(?=,))")
_TOKEN68 = re.compile(r"[ \t]*([A-Za-z0-9\-._~+/]+=*)[ \t]*(?:,|$)")
_UNESCAPE = re.compile(r"\\(.)")
_MAX_CHALLENGE = 8192  # longer WWW-Authenticate text is not parsed (a bounded cost)


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """One ``Digest`` challenge of a ``WWW-Authenticate`` field (RFC 7616 §3.3).

    Attributes:
        realm: The protection space's name.
        nonce: The server's nonce.
        algorithm: The algorithm, upper case (``MD5`` when the challenge names none).
        qop: The quality-of-protection options offered, lower case (empty: RFC 2069 form).
        opaque: Data to send back unchanged, if any.
        stale: True when the previous nonce was refused as expired, not the credentials.
        userhash: True when the server wants the username hashed.
        charset: ``UTF-8`` when the server announced it, else ``None``.
        domain: The URIs of the protection space, when given.
    """

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    userhash: bool = False
    charset: str | None = None
    domain: tuple[str, ...] = ()

    @property
    def base_algorithm(self) -> str:
        """The algorithm without its ``-SESS`` suffix."""
        return self.algorithm.removesuffix("-SESS")

    @property
    def is_session(self) -> bool:
        """True for the ``-sess`` variants (HA1 includes the nonce and cnonce)."""
        return self.algorithm.endswith("-SESS")

    @property
    def is_supported(self) -> bool:
        """True when this client can answer the challenge."""
        return self.base_algorithm in _HASHES and (
            not self.qop or "auth" in self.qop or "auth-int" in self.qop
        )


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return _UNESCAPE.sub(r"\1", value[1:-1])
    return value


def _parse_all(text: str) -> list[tuple[str, dict[str, str]]]:
    """Every challenge of a field value: ``(scheme lower case, params by lower-case name)``.

    Malformed text ends the parse; what was understood so far is kept.
    """
    challenges: list[tuple[str, dict[str, str]]] = []
    pos, end = 0, len(text)
    while pos < end:
        scheme = _SCHEME.match(text, pos)
        if scheme is None:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        token68 = _TOKEN68.match(text, pos)
        if token68 is not None and _PARAM.match(text, pos) is None:
            pos = token68.end()  # e.g. "Negotiate abc==": not ours, skipped
        else:
            while pos < end:
                param = _PARAM.match(text, pos)
                if param is None:
                    break
                params.setdefault(param.group(1).lower(), _unquote(param.group(2)))
                pos = param.end()
                while pos < end and text[pos] in " \t,":
                    if _SCHEME.match(text, pos) and not _PARAM.match(text, pos):
                        break
                    pos += 1
        challenges.append((scheme.group(1).lower(), params))
    return challenges


def parse_challenges(values: Iterable[str]) -> list[DigestChallenge]:
    """The ``Digest`` challenges of ``WWW-Authenticate`` field values, in order.

    A challenge without ``realm`` or ``nonce`` (both required, RFC 7616 §3.3) is skipped;
    other schemes (Basic, Bearer, ...) are ignored.

    Args:
        values: The field values (a field may hold several challenges, RFC 9110 §11.6.1).

    Returns:
        The challenges, in the order the server gave them.
    """
    text = ", ".join(values)
    if len(text) > _MAX_CHALLENGE:
        text = text[:_MAX_CHALLENGE]
    result: list[DigestChallenge] = []
    for scheme, params in _parse_all(text):
        if scheme != "digest" or "realm" not in params or "nonce" not in params:
            continue
        qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
        domain = tuple(params.get("domain", "").split())
        charset = params.get("charset")
        result.append(
            DigestChallenge(
                realm=params["realm"],
                nonce=params["nonce"],
                algorithm=params.get("algorithm", "MD5").upper(),
                qop=qop,
                opaque=params.get("opaque"),
                stale=params.get("stale", "").lower() == "true",
                userhash=params.get("userhash", "").lower() == "true",
                charset="UTF-8" if charset is not None and charset.upper() == "UTF-8" else None,
                domain=domain,
            )
        )
    return result


class DigestBodyError(ClientResponseError):
    """A Digest challenge came for a request whose body cannot be sent again.

    The body (a stream) was consumed by the first request; sending an empty one would be
    wrong. Pass ``bytes`` or a reusable payload, or make a bodyless request to the same
    origin first (the challenge is then known and the credentials go with the first send).
    """

    def __init__(
        self,
        request_info: RequestInfo | None = None,
        history: tuple[ClientResponse, ...] = (),
        *,
        status: int = 401,
        headers: CIMultiDictProxy[str] | None = None,
        realm: str = "",
    ) -> None:
        message = (
            f"cannot answer the Digest challenge of realm {realm[:64]!r}: the request body is "
            "a stream that cannot be sent twice (pass bytes or a reusable payload, or send a "
            "bodyless request to this origin first)"
        )
        super().__init__(request_info, history, status=status, message=message, headers=headers)
        where = (
            f" (the request was {request_info.method} {request_info.url.with_user(None)})"
            if request_info is not None
            else ""
        )
        self.args = (message + where,)
        self.realm = realm


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.raw_host or "", url.port)


class _Space:
    """The state kept for one protection space: its challenge and the nonce count."""

    __slots__ = ("challenge", "nc")

    def __init__(self, challenge: DigestChallenge) -> None:
        self.challenge = challenge
        self.nc = 0


class DigestAuth:
    """A middleware answering Digest challenges (RFC 7616): MD5, SHA-256, ``qop=auth``.

    Use it per session or per request::

        auth = DigestAuth("user", "passwd")
        async with ClientSession(middlewares=[auth]) as session:
            async with session.get(url) as r:
                ...

    After a first challenge from an origin, later requests there carry credentials at once
    (the nonce reused, ``nc`` counting up); a ``stale=true`` answer renews the nonce.

    Args:
        login: The user name.
        password: The password.
        origins: The origins (``scheme://host:port``) whose challenges are answered; by
            default only the origin each request chain started at, as for Basic auth.
        preemptive: Send credentials at once to an origin whose challenge is known
            (default True); False makes every request wait for its own challenge.
        cnonce: Makes the client nonce; by default 16 random bytes in hex. For tests.

    Raises:
        TypeError: ``login`` or ``password`` is not a str.
    """

    __slots__ = ("_cnonce", "_login", "_origins", "_password", "_preemptive", "_spaces")

    def __init__(
        self,
        login: str,
        password: str,
        *,
        origins: Iterable[URL | str] | None = None,
        preemptive: bool = True,
        cnonce: Callable[[], str] | None = None,
    ) -> None:
        if not isinstance(login, str) or not isinstance(password, str):
            raise TypeError("DigestAuth login and password must be str")
        self._login = login
        self._password = password
        self._origins = (
            None if origins is None else frozenset(_origin(URL(str(o))) for o in origins)
        )
        self._preemptive = preemptive
        import secrets  # only for a client nonce: kept off the import path

        self._cnonce = cnonce or (lambda: secrets.token_hex(16))
        self._spaces: dict[tuple[tuple[str, str, int | None], str], _Space] = {}

    def __repr__(self) -> str:
        return f"<DigestAuth login={self._login!r}>"  # never the password

    def _may_answer(self, request: ClientRequest) -> bool:
        if self._origins is None:
            return _origin(request.url) == _origin(request.initial_url)
        return _origin(request.url) in self._origins

    def _known_space(self, request: ClientRequest) -> _Space | None:
        origin = _origin(request.url)
        path = request.url.raw_path
        found: _Space | None = None
        for (space_origin, _), space in self._spaces.items():
            if space_origin != origin:
                continue
            domain = space.challenge.domain
            if not domain or any(_in_domain(request.url, path, uri) for uri in domain):
                found = space
        return found

    async def __call__(self, request: ClientRequest, handler: Handler) -> ClientResponse:
        """Send the request, answering a Digest challenge once (twice for a stale nonce).

        Raises:
            DigestBodyError: A challenge came and the body cannot be sent again.
            ValueError: The login is not ASCII and the server did not announce UTF-8.
        """
        if "Authorization" in request.headers or not self._may_answer(request):
            return await handler(request)
        sent: DigestChallenge | None = None
        if self._preemptive:
            space = self._known_space(request)
            if space is not None:
                sent = space.challenge
                request = self._authorized(request, space)
        response = await handler(request)
        answered = 0
        while response.status == 401 and answered < 2:
            challenges = parse_challenges(response.headers.getall("WWW-Authenticate", ()))
            challenge = next((c for c in challenges if c.is_supported), None)
            if challenge is None:
                return response
            if (
                sent is not None
                and not challenge.stale
                and (answered or sent.nonce == challenge.nonce)
            ):
                # Credentials sent for this very nonce were refused: wrong credentials.
                # Forget the space, so that later requests do not repeat the refusal.
                self._spaces.pop((_origin(request.url), challenge.realm), None)
                return response
            if not request.body_reusable:
                response.release()
                raise DigestBodyError(
                    response.request_info,
                    response.history,
                    status=response.status,
                    headers=response.headers,
                    realm=challenge.realm,
                )
            space = _Space(challenge)
            self._spaces[(_origin(request.url), challenge.realm)] = space
            request = self._authorized(request, space)
            await response._exit(True)  # a small 401 body is read: its connection is reused
            sent = challenge
            answered += 1
            response = await handler(request)
        return response

    def _authorized(self, request: ClientRequest, space: _Space) -> ClientRequest:
        space.nc += 1
        value = self.authorization(request, space.challenge, space.nc, self._cnonce())
        return request.with_header("Authorization", value)

    def authorization(
        self, request: ClientRequest, challenge: DigestChallenge, nc: int, cnonce: str
    ) -> str:
        """The ``Authorization`` value answering a challenge (RFC 7616 §3.4).

        Args:
            request: The request to authorize (its method, target and, for ``auth-int``,
                its body).
            challenge: The server's challenge.
            nc: The nonce count (1 for the first request with this nonce).
            cnonce: The client nonce.

        Returns:
            The field value, ``Digest username=..., response=...``.

        Raises:
            ValueError: The login is not ASCII and the server did not announce UTF-8, or
                the challenge is not supported.
        """
        if not challenge.is_supported:
            raise ValueError(
                f"Digest algorithm {challenge.algorithm[:32]!r} with qop {challenge.qop!r} is "
                "not supported (RFC 7616 §3.3: MD5, SHA-256, SHA-512-256, qop auth or auth-int)"
            )
        digest = _HASHES[challenge.base_algorithm]
        encoding = "utf-8" if challenge.charset else "latin-1"
        realm = challenge.realm
        try:
            secret = f"{self._login}:{realm}:{self._password}".encode(encoding)
        except UnicodeEncodeError:
            raise ValueError(
                "the Digest login or password cannot be encoded as ISO-8859-1 and the server "
                "did not announce charset=UTF-8 (RFC 7616 §4)"
            ) from None
        ha1 = digest(secret)
        if challenge.is_session:
            ha1 = digest(f"{ha1}:{challenge.nonce}:{cnonce}".encode(encoding))
        uri = request.url.raw_path_qs
        qop: str | None
        if not challenge.qop:
            qop = None
        elif "auth" in challenge.qop or not isinstance(request.body, (bytes, type(None))):
            qop = "auth"
        else:
            qop = "auth-int"
        if qop == "auth" and "auth" not in challenge.qop:
            raise ValueError(
                "the server offers only qop=auth-int, which needs the whole body: send the "
                "body as bytes (RFC 7616 §3.4.3)"
            )
        if qop == "auth-int":
            body = request.body if isinstance(request.body, bytes) else b""
            ha2 = digest(f"{request.method}:{uri}:{digest(body)}".encode(encoding))
        else:
            ha2 = digest(f"{request.method}:{uri}".encode(encoding))
        count = f"{nc:08x}"
        if qop is None:
            response = digest(f"{ha1}:{challenge.nonce}:{ha2}".encode(encoding))
        else:
            response = digest(
                f"{ha1}:{challenge.nonce}:{count}:{cnonce}:{qop}:{ha2}".encode(encoding)
            )
        parts: list[str] = []
        login = self._login
        if challenge.userhash:
            parts.append(f"username={_quoted(digest(f'{login}:{realm}'.encode(encoding)))}")
        elif login.isascii() and '"' not in login and "\\" not in login:
            parts.append(f"username={_quoted(login)}")
        elif challenge.charset:
            parts.append(f"username*=UTF-8''{quote(login, safe='')}")
        else:
            parts.append(f"username={_quoted(login)}")
        parts.append(f"realm={_quoted(realm)}")
        parts.append(f"uri={_quoted(uri)}")
        parts.append(f"algorithm={challenge.algorithm}")
        parts.append(f"nonce={_quoted(challenge.nonce)}")
        if qop is not None:
            parts.append(f"nc={count}")
            parts.append(f"cnonce={_quoted(cnonce)}")
            parts.append(f"qop={qop}")
        parts.append(f"response={_quoted(response)}")
        if challenge.opaque is not None:
            parts.append(f"opaque={_quoted(challenge.opaque)}")
        if challenge.userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)


def _in_domain(url: URL, path: str, uri: str) -> bool:
    """True when *url* is inside one URI of a challenge's ``domain`` (RFC 7616 §3.3)."""
    if uri.startswith("/"):
        return path.startswith(uri)
    try:
        other = URL(uri)
    except ValueError:
        return False
    return _origin(other) == _origin(url) and path.startswith(other.raw_path or "/")
