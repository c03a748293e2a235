"""The SOCKS5 client handshake as a sans-I/O state machine (RFC 1928, RFC 1929).

Strategy: :class:`Socks5Handshake` is fed the proxy's bytes and answers with the bytes to
send next; it never touches a socket, so the asyncio driver (:mod:`._socks`), a test or
another event loop can run it the same way. It checks every byte the proxy sends: the
version bytes, the method it chose (only one that was offered), the RFC 1929 status, the
reply code, the reserved byte and the bound address of each type. Anything else is a
:class:`SocksFailure` saying what was wrong, where, and which rule it broke.

It also says how many bytes it needs next (:attr:`Socks5Handshake.wanted`), so a driver
that reads exactly that many never reads past the proxy's reply: what follows the reply
belongs to the tunnel. A driver that reads in larger pieces gets those bytes back in
:attr:`Socks5Handshake.trailing`.

The states, changed only in :meth:`Socks5Handshake._enter`::

    START -> METHOD -> (AUTH ->) REPLY -> REPLY_ADDRESS -> DONE
                 any state -> FAILED on a bad byte or a refusal
"""

from __future__ import annotations

import enum
import ipaddress

from ._util import host_port

__all__ = [
    "REPLY_MEANINGS",
    "Socks5Handshake",
    "SocksFailure",
    "check_credential",
    "encode_address",
    "reply_meaning",
]

_VERSION = 0x05
_AUTH_VERSION = 0x01  # RFC 1929 §2: the version of the username/password subnegotiation
_NO_AUTH = 0x00
_USERNAME_PASSWORD = 0x02
_NO_ACCEPTABLE = 0xFF
_CONNECT = 0x01
_IPV4, _DOMAIN, _IPV6 = 0x01, 0x03, 0x04

_METHOD_NAMES = {
    0x00: "no authentication",
    0x01: "GSSAPI",
    0x02: "username/password",
    0xFF: "no acceptable methods",
}

REPLY_MEANINGS: dict[int, str] = {
    0x01: "general SOCKS server failure",
    0x02: "connection not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
}
"""The failure codes of a SOCKS5 reply, in RFC 1928 §6's words."""


def reply_meaning(code: int) -> str:
    """The meaning of a SOCKS5 reply code in words (RFC 1928 §6).

    Args:
        code: The REP byte of the reply.

    Returns:
        ``"succeeded"`` for 0, the RFC's words for 1 to 8, and ``"unassigned reply code"``
        for any other value.
    """
    if code == 0:
        return "succeeded"
    return REPLY_MEANINGS.get(code, "unassigned reply code")


class SocksFailure(Exception):
    """The proxy refused, or broke the SOCKS5 protocol; the handshake cannot go on.

    Args:
        message: What went wrong, where, and the rule broken.
        reply_code: The REP byte of a refused CONNECT, else ``None``.
        auth_failed: True when the proxy refused the username and password.
        refused: True when the proxy said no (a reply code, refused credentials, none of
            the offered authentication methods); False when it broke the protocol.
    """

    def __init__(
        self,
        message: str,
        *,
        reply_code: int | None = None,
        auth_failed: bool = False,
        refused: bool = False,
    ) -> None:
        super().__init__(message)
        self.reply_code = reply_code
        self.auth_failed = auth_failed
        self.refused = refused or auth_failed or reply_code is not None


def _shown(data: bytes) -> str:
    """A bounded repr of bytes for a message."""
    return repr(data[:32]) + ("..." if len(data) > 32 else "")


def encode_address(host: str, port: int) -> bytes:
    """The ATYP, DST.ADDR and DST.PORT fields of a request for ``host:port`` (RFC 1928 §5).

    An IPv4 or IPv6 literal goes out as its 4 or 16 bytes (ATYP 0x01, 0x04); anything else
    as a domain name (ATYP 0x03) for the proxy to resolve, IDNA-encoded when not ASCII.

    Args:
        host: An IP literal (without brackets) or a host name.
        port: The port, 1 to 65535.

    Returns:
        The encoded fields.

    Raises:
        ValueError: The port is out of range, or the name is empty or longer than the 255
            bytes a SOCKS5 domain field holds.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"SOCKS5 target port {port!r} is not in 1..65535 (RFC 1928 §4)")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        atyp = _IPV4 if ip.version == 4 else _IPV6
        return bytes((atyp,)) + ip.packed + port.to_bytes(2, "big")
    try:
        name = host.encode("ascii")
    except UnicodeEncodeError:
        try:
            name = host.encode("idna")
        except UnicodeError as exc:
            raise ValueError(
                f"SOCKS5 target host {host[:64]!r} cannot be IDNA-encoded: {exc}"
            ) from None
    if not 0 < len(name) < 256:
        raise ValueError(
            f"SOCKS5 target host name {host[:64]!r}{'...' if len(host) > 64 else ''} is "
            f"{len(name)} bytes long; the domain field holds 1 to 255 bytes (RFC 1928 §5)"
        )
    return bytes((_DOMAIN, len(name))) + name + port.to_bytes(2, "big")


def check_credential(field: str, value: bytes) -> None:
    """Check a user name or password for RFC 1929: 1 to 255 bytes.

    Args:
        field: ``"username"`` or ``"password"``, named in the error (never the value).
        value: The encoded credential.

    Raises:
        ValueError: It is empty or longer than 255 bytes (RFC 1929 §2: ULEN and PLEN are
            one byte, UNAME and PASSWD 1 to 255 bytes).
    """
    if not 0 < len(value) < 256:
        raise ValueError(
            f"SOCKS5 {field} is {len(value)} bytes long; RFC 1929 §2 allows 1 to 255 bytes"
        )


class _State(enum.Enum):
    START = "start"
    METHOD = "method"
    AUTH = "auth"
    REPLY = "reply"
    REPLY_ADDRESS = "reply address"
    DONE = "done"
    FAILED = "failed"


class Socks5Handshake:
    """The client side of a SOCKS5 CONNECT handshake, fed bytes, giving bytes to send.

    Use it as::

        handshake = Socks5Handshake("example.org", 443)
        send(handshake.greeting())
        while not handshake.done:
            send(handshake.receive(recv(handshake.wanted)))  # raises SocksFailure

    Then ``handshake.bound`` is the address the proxy bound, and ``handshake.trailing``
    the tunnel's first bytes, if more than :attr:`wanted` was fed.

    Args:
        host: The target: an IP literal goes out as an address, a name as a domain for the
            proxy to resolve.
        port: The target's port.
        username: The RFC 1929 user name, 1 to 255 bytes, or ``None`` for no credentials.
        password: The RFC 1929 password, 1 to 255 bytes (with ``username``).

    Raises:
        ValueError: The target cannot be encoded (see :func:`encode_address`), or a
            credential is empty or longer than 255 bytes, or only one of them was given.
    """

    __slots__ = ("_buffer", "_credentials", "_request", "_state", "_target", "bound", "trailing")

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: bytes | None = None,
        password: bytes | None = None,
    ) -> None:
        self._request = bytes((_VERSION, _CONNECT, 0x00)) + encode_address(host, port)
        self._target = host_port(host, port)
        if (username is None) != (password is None):
            raise ValueError("SOCKS5 username and password go together: give both or neither")
        self._credentials: bytes | None = None
        if username is not None and password is not None:
            check_credential("username", username)
            check_credential("password", password)
            self._credentials = (
                bytes((_AUTH_VERSION, len(username)))
                + username
                + bytes((len(password),))
                + password
            )
        self._state = _State.START
        self._buffer = bytearray()
        self.bound: tuple[str, int] | None = None
        """The address and port the proxy bound for the tunnel, once done."""
        self.trailing = b""
        """Bytes fed after the end of the reply: the first bytes of the tunnel."""

    @property
    def state(self) -> str:
        """The name of the current state (``"method"``, ``"auth"``, ``"reply"``...)."""
        return self._state.value

    @property
    def done(self) -> bool:
        """True once the proxy answered the CONNECT with success: the tunnel is open."""
        return self._state is _State.DONE

    @property
    def wanted(self) -> int:
        """How many more bytes the next step needs; reading no more never reads past the reply.

        It is 0 when the handshake is over (done or failed) or not started.
        """
        need = {
            _State.METHOD: 2,
            _State.AUTH: 2,
            _State.REPLY: 5,  # VER REP RSV ATYP and the first byte of the address
        }.get(self._state)
        if need is None:
            if self._state is _State.REPLY_ADDRESS:
                need = self._address_end()
            else:
                return 0
        return max(need - len(self._buffer), 0)

    def greeting(self) -> bytes:
        """The first bytes to send: the version and the authentication methods offered.

        Without credentials only "no authentication" is offered; with them,
        "username/password" and "no authentication", the proxy choosing (RFC 1928 §3).

        Returns:
            The method-selection request.

        Raises:
            RuntimeError: Called twice.
        """
        if self._state is not _State.START:
            raise RuntimeError(f"the SOCKS5 greeting was already sent (state {self.state})")
        self._enter(_State.METHOD)
        if self._credentials is None:
            return bytes((_VERSION, 1, _NO_AUTH))
        return bytes((_VERSION, 2, _NO_AUTH, _USERNAME_PASSWORD))

    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the proxy; any split of its answer gives the same result.

        Args:
            data: The bytes received (any amount; bytes past the reply go to
                :attr:`trailing`).

        Returns:
            The bytes to send now (empty when nothing is due).

        Raises:
            SocksFailure: The proxy refused (a reply code, an authentication failure, no
                acceptable method) or sent bytes that break RFC 1928/1929.
            RuntimeError: The handshake is not waiting for bytes (not started, over).
        """
        if self._state in (_State.START, _State.DONE, _State.FAILED):
            raise RuntimeError(f"the SOCKS5 handshake is not expecting bytes (state {self.state})")
        self._buffer += data
        out = bytearray()
        try:
            while self._state not in (_State.DONE, _State.FAILED):
                step = self._step()
                if step is None:
                    break
                out += step
        except SocksFailure:
            self._enter(_State.FAILED)
            raise
        return bytes(out)

    def closed_early(self) -> SocksFailure:
        """The error to raise when the proxy closed the connection before the handshake ended.

        Returns:
            A failure naming the step and how many of its bytes had arrived.
        """
        what, rule = {
            _State.METHOD: ("its choice of authentication method", "RFC 1928 §3"),
            _State.AUTH: ("its answer to the username/password check", "RFC 1929 §2"),
            _State.REPLY: (f"its reply to CONNECT {self._target}", "RFC 1928 §6"),
            _State.REPLY_ADDRESS: (f"its reply to CONNECT {self._target}", "RFC 1928 §6"),
        }.get(self._state, ("the end of the handshake", "RFC 1928"))
        if self._buffer:
            when = f"after {len(self._buffer)} byte(s) of {what}"
        else:
            when = f"before sending {what}"
        in_auth = self._state is _State.AUTH
        note = "; it may have refused the credentials" if in_auth else ""
        self._enter(_State.FAILED)
        return SocksFailure(
            f"the SOCKS5 proxy closed the connection {when} ({rule}){note}",
            auth_failed=in_auth,
        )

    # -- the one place states change --------------------------------------------------

    def _enter(self, state: _State) -> None:
        self._state = state

    # -- steps: each consumes one message from the buffer or returns None -------------

    def _take(self, count: int) -> bytes | None:
        if len(self._buffer) < count:
            return None
        taken = bytes(self._buffer[:count])
        del self._buffer[:count]
        return taken

    def _step(self) -> bytes | None:
        if self._state is _State.METHOD:
            return self._on_method()
        if self._state is _State.AUTH:
            return self._on_auth()
        if self._state is _State.REPLY:
            return self._on_reply()
        return self._on_reply_address()

    def _on_method(self) -> bytes | None:
        answer = self._take(2)
        if answer is None:
            return None
        version, method = answer
        if version != _VERSION:
            raise self._not_socks5(answer, "its choice of authentication method")
        if method == _NO_ACCEPTABLE:
            if self._credentials is None:
                raise SocksFailure(
                    "the SOCKS5 proxy accepted none of the offered authentication methods "
                    "(offered: no authentication): it requires credentials; put them in the "
                    "proxy URL or pass proxy_auth (RFC 1928 §3)",
                    refused=True,
                )
            raise SocksFailure(
                "the SOCKS5 proxy accepted none of the offered authentication methods "
                "(offered: no authentication, username/password) (RFC 1928 §3)",
                refused=True,
            )
        offered = {_NO_AUTH} if self._credentials is None else {_NO_AUTH, _USERNAME_PASSWORD}
        if method not in offered:
            name = _METHOD_NAMES.get(method, "unknown")
            raise SocksFailure(
                f"the SOCKS5 proxy chose authentication method 0x{method:02x} ({name}), which "
                "was not offered (RFC 1928 §3)"
            )
        if method == _USERNAME_PASSWORD:
            assert self._credentials is not None
            self._enter(_State.AUTH)
            return self._credentials
        self._enter(_State.REPLY)
        return self._request

    def _on_auth(self) -> bytes | None:
        answer = self._take(2)
        if answer is None:
            return None
        version, status = answer
        if version != _AUTH_VERSION:
            raise SocksFailure(
                f"the SOCKS5 proxy answered the username/password check with version "
                f"0x{version:02x}, not 0x01 (RFC 1929 §2): {_shown(answer)}"
            )
        if status != 0x00:
            raise SocksFailure(
                f"the SOCKS5 proxy refused the username and password (RFC 1929 status "
                f"0x{status:02x})",
                auth_failed=True,
            )
        self._enter(_State.REPLY)
        return self._request

    def _on_reply(self) -> bytes | None:
        if len(self._buffer) < 4:
            return None
        version, code, reserved, atyp = self._buffer[:4]
        if version != _VERSION:
            raise self._not_socks5(bytes(self._buffer[:4]), "its reply to CONNECT")
        if code != 0x00:
            raise SocksFailure(
                f"SOCKS5 reply 0x{code:02x} ({reply_meaning(code)}) to CONNECT {self._target} "
                "(RFC 1928 §6)",
                reply_code=code,
            )
        if reserved != 0x00:
            raise SocksFailure(
                f"the SOCKS5 proxy's reply to CONNECT {self._target} has reserved byte "
                f"0x{reserved:02x}, not 0x00 (RFC 1928 §6)"
            )
        if atyp not in (_IPV4, _DOMAIN, _IPV6):
            raise SocksFailure(
                f"the SOCKS5 proxy's reply to CONNECT {self._target} has address type "
                f"0x{atyp:02x}; RFC 1928 §6 defines 0x01 (IPv4), 0x03 (domain) and 0x04 (IPv6)"
            )
        if atyp == _DOMAIN and len(self._buffer) < 5:
            return None
        self._enter(_State.REPLY_ADDRESS)
        return b""

    def _address_end(self) -> int:
        """The length of the whole reply, from its head (and a domain's length byte)."""
        atyp = self._buffer[3]
        if atyp == _IPV4:
            return 4 + 4 + 2
        if atyp == _IPV6:
            return 4 + 16 + 2
        return 4 + 1 + self._buffer[4] + 2

    def _on_reply_address(self) -> bytes | None:
        end = self._address_end()
        reply = self._take(end)
        if reply is None:
            return None
        atyp = reply[3]
        if atyp == _DOMAIN:
            raw = reply[5:-2]
            host = raw.decode("ascii", "backslashreplace")
        else:
            host = str(ipaddress.ip_address(reply[4:-2]))
        self.bound = (host, int.from_bytes(reply[-2:], "big"))
        self.trailing = bytes(self._buffer)
        self._buffer.clear()
        self._enter(_State.DONE)
        return b""

    def _not_socks5(self, answer: bytes, what: str) -> SocksFailure:
        hint = ""
        if answer[:1] == b"H":
            hint = "; it looks like an HTTP server: use an http:// proxy URL for an HTTP proxy"
        return SocksFailure(
            f"the proxy does not speak SOCKS5: {what} starts with version byte "
            f"0x{answer[0]:02x}, not 0x05 (RFC 1928 §3): {_shown(answer)}{hint}"
        )
