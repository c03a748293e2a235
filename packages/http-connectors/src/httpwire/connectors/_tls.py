"""TLS for TCP connections: the trust settings, certificate pinning, and the handshake.

Strategy:

* The default client context (system trust store, hostnames checked) is built once per
  process, the first time an https connection needs it, and shared by every connector:
  loading a trust store costs tens of milliseconds, far more than a handshake. The
  unverified context of ``verify_ssl=False`` is shared the same way.
* A connector's settings (``verify_ssl``, ``ssl_context``, ``fingerprint``) and a request's
  ``ssl=`` reduce to one hashable :class:`TLSConfig`: the context to use and the pin, if any.
  It goes into the pool key, so connections made with different trust are never shared.
* A pin is checked after the handshake, **in addition** to the context's verification, on
  the DER bytes of the certificate the peer presented. A mismatch aborts the transport at
  once (nothing was sent on it) and raises :class:`FingerprintMismatch`.
* ``ssl`` errors are translated here: a failed verification becomes
  :class:`ClientConnectorCertificateError` naming the ``ssl`` module's reason, the trust
  store that was used and how to change it; any other TLS failure :class:`ClientSSLError`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from ._errors import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientSSLError,
    FingerprintMismatch,
)

__all__ = [
    "SSL_SHUTDOWN_TIMEOUT",
    "Fingerprint",
    "SSLSetting",
    "SharedContext",
    "TLSConfig",
    "certificate_error",
    "check_fingerprint",
    "connector_tls",
    "default_ssl_context",
    "handshake_dropped",
    "open_tls",
    "request_tls",
    "tls_keywords",
    "unverified_ssl_context",
    "upgrade_tls",
]

_P = TypeVar("_P", bound=asyncio.BaseProtocol)

SSL_SHUTDOWN_TIMEOUT = 2.0
"""Seconds a closing TLS connection waits for the peer's close_notify (Python 3.11+)."""

# The hash of a pin, by its digest's length. hashlib is imported when a pin is first checked:
# most programs never pin a certificate.
_HASHES: dict[int, str] = {16: "md5", 20: "sha1", 32: "sha256"}


class Fingerprint:
    """A pin on the peer's certificate: the md5, sha1 or sha256 digest of its DER bytes.

    The hash is picked by the digest's length (16, 20 or 32 bytes). To pin a certificate
    you have as a PEM file, hash its DER form::

        der = ssl.PEM_cert_to_DER_cert(Path("server.pem").read_text())
        fingerprint = Fingerprint(hashlib.sha256(der).digest())

    Args:
        digest: The digest, as bytes (``bytes.fromhex(hex_digest)`` converts a hex string).

    Raises:
        ValueError: The digest is not 16, 20 or 32 bytes long.
        TypeError: The digest is not bytes.
    """

    __slots__ = ("_digest", "_hashname")

    def __init__(self, digest: bytes | bytearray | memoryview) -> None:
        if not isinstance(digest, (bytes, bytearray, memoryview)):
            raise TypeError(f"fingerprint must be bytes, got {type(digest).__name__}")
        pinned = bytes(digest)
        name = _HASHES.get(len(pinned))
        if name is None:
            raise ValueError(
                f"fingerprint of {len(pinned)} bytes ({pinned[:40].hex()}) has no matching "
                "hash: expected the 16-byte md5, 20-byte sha1 or 32-byte sha256 digest of "
                "the DER certificate"
            )
        self._digest = pinned
        self._hashname = name

    @property
    def digest(self) -> bytes:
        """The pinned digest."""
        return self._digest

    @property
    def hash_name(self) -> str:
        """``"md5"``, ``"sha1"`` or ``"sha256"``."""
        return self._hashname

    def digest_of(self, der: bytes) -> bytes:
        """The digest of a DER certificate with this pin's hash.

        Args:
            der: The certificate's DER bytes.

        Returns:
            The digest, comparable to :attr:`digest`.
        """
        import hashlib  # only a pinned connection needs it: kept off the import path

        if self._hashname == "md5":
            # Only a fingerprint here, not a security primitive (FIPS builds allow this).
            return hashlib.md5(der, usedforsecurity=False).digest()
        return hashlib.new(self._hashname, der).digest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and other._digest == self._digest

    def __hash__(self) -> int:
        return hash(self._digest)

    def __repr__(self) -> str:
        return f"Fingerprint({self._hashname}={self._digest.hex()})"


SSLSetting = bool | ssl.SSLContext | Fingerprint | None
"""A request's ``ssl=``: ``None`` (the connector's settings), ``True`` (verify), ``False``
(no verification, no pin), an ``SSLContext`` (its trust), or a :class:`Fingerprint` (pin)."""


class TLSConfig(NamedTuple):
    """The TLS settings of a connection, reduced to what makes connections interchangeable.

    Attributes:
        context: The client context for the handshake.
        fingerprint: The pin checked after the handshake, if any.
    """

    context: ssl.SSLContext
    fingerprint: Fingerprint | None = None


class SharedContext(ssl.SSLContext):
    """A client context every connector of the process shares: read-only once built.

    Anyone holding a connection can reach its context (its transport's ``sslcontext``, its
    ``ssl_object.context``): were the shared one mutable, setting ``CERT_NONE`` on it
    would turn verification off for every connector. Once frozen, setting an attribute or
    calling a method that changes the context raises ``AttributeError``.
    """

    _frozen = False

    def freeze(self) -> None:
        """Refuse every later change."""
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name: str, value: object) -> None:
        if self._frozen:
            raise _read_only(name)
        super().__setattr__(name, value)

    def load_verify_locations(self, *args: Any, **kwargs: Any) -> None:
        """Refused once frozen: the trust is shared."""
        if self._frozen:
            raise _read_only("load_verify_locations")
        super().load_verify_locations(*args, **kwargs)

    def load_cert_chain(self, *args: Any, **kwargs: Any) -> None:
        """Refused once frozen: client certificates belong to a context of your own."""
        if self._frozen:
            raise _read_only("load_cert_chain")
        super().load_cert_chain(*args, **kwargs)

    def load_default_certs(self, *args: Any, **kwargs: Any) -> None:
        """Refused once frozen."""
        if self._frozen:
            raise _read_only("load_default_certs")
        super().load_default_certs(*args, **kwargs)

    def set_default_verify_paths(self) -> None:
        """Refused once frozen."""
        if self._frozen:
            raise _read_only("set_default_verify_paths")
        super().set_default_verify_paths()

    def set_ciphers(self, cipherlist: str, /) -> None:
        """Refused once frozen."""
        if self._frozen:
            raise _read_only("set_ciphers")
        super().set_ciphers(cipherlist)

    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        """Refused once frozen."""
        if self._frozen:
            raise _read_only("set_alpn_protocols")
        super().set_alpn_protocols(alpn_protocols)

    def set_servername_callback(self, server_name_callback: Any) -> None:
        """Refused once frozen."""
        if self._frozen:
            raise _read_only("set_servername_callback")
        super().set_servername_callback(server_name_callback)


def _read_only(what: str) -> AttributeError:
    return AttributeError(
        f"cannot change {what} of the SSL context every connector shares; pass "
        "ssl_context= a context of your own (ssl.create_default_context()) to change trust"
    )


def _shared(template: ssl.SSLContext) -> SharedContext:
    """A frozen copy of a client context's settings (its trust loaded from the system)."""
    context = SharedContext(ssl.PROTOCOL_TLS_CLIENT)
    context.options = template.options
    context.verify_flags = template.verify_flags
    context.minimum_version = template.minimum_version
    context.check_hostname = template.check_hostname
    context.verify_mode = template.verify_mode
    if template.keylog_filename:
        context.keylog_filename = template.keylog_filename
    if template.verify_mode != ssl.CERT_NONE:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    context.set_alpn_protocols(["http/1.1"])
    context.freeze()
    return context


_default: ssl.SSLContext | None = None
_unverified: ssl.SSLContext | None = None


def default_ssl_context() -> ssl.SSLContext:
    """The shared default client context: the system's trust store, hostnames checked.

    Built on first use and reused by every connector of the process, since loading the
    trust store is far slower than a handshake. It is read-only (:class:`SharedContext`):
    pass a context of your own with ``ssl_context=`` to change anything.

    Returns:
        The context.
    """
    global _default
    context = _default
    if context is None:
        context = _default = _shared(ssl.create_default_context())
    return context


def unverified_ssl_context() -> ssl.SSLContext:
    """The shared context of ``verify_ssl=False``: encryption without any verification.

    Returns:
        The context (no certificate or hostname checks).
    """
    global _unverified
    context = _unverified
    if context is None:
        template = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        template.check_hostname = False
        template.verify_mode = ssl.CERT_NONE
        context = _unverified = _shared(template)
    return context


def _as_fingerprint(value: Fingerprint | bytes | None) -> Fingerprint | None:
    if value is None or isinstance(value, Fingerprint):
        return value
    return Fingerprint(value)


def connector_tls(
    verify_ssl: bool, ssl_context: ssl.SSLContext | None, fingerprint: Fingerprint | bytes | None
) -> tuple[ssl.SSLContext | None, Fingerprint | None]:
    """Check a connector's TLS arguments; the context is left ``None`` for the shared default.

    Args:
        verify_ssl: False to skip certificate and hostname verification.
        ssl_context: A context of the caller's (its trust, its hostname check).
        fingerprint: A pin (a :class:`Fingerprint` or the digest bytes).

    Returns:
        The context (``None``: decided at first use) and the pin.

    Raises:
        ValueError: ``verify_ssl=False`` and ``ssl_context`` were both given, or the
            fingerprint has the wrong length.
        TypeError: ``ssl_context`` is not an ``ssl.SSLContext``.
    """
    if ssl_context is not None:
        if not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(
                f"ssl_context must be an ssl.SSLContext, got {type(ssl_context).__name__}"
            )
        if not verify_ssl:
            raise ValueError(
                "verify_ssl=False and ssl_context are mutually exclusive: configure the "
                "verification in the context (check_hostname, verify_mode) instead"
            )
    elif not verify_ssl:
        ssl_context = unverified_ssl_context()
    return ssl_context, _as_fingerprint(fingerprint)


def request_tls(
    ssl_setting: SSLSetting | bytes,
    context: ssl.SSLContext | None,
    fingerprint: Fingerprint | None,
) -> TLSConfig:
    """The TLS settings of one connection: the connector's, overridden by a request's ``ssl=``.

    Args:
        ssl_setting: The request's ``ssl=``: ``None`` keeps the connector's settings;
            ``True`` verifies (with the connector's context when it verifies, else the
            default one) and keeps its pin; ``False`` skips verification and any pin; an
            ``SSLContext`` replaces the trust and keeps the pin; a :class:`Fingerprint`
            (or digest bytes) replaces the pin and keeps the trust.
        context: The connector's context (``None``: the shared default).
        fingerprint: The connector's pin.

    Returns:
        The context and pin to use.

    Raises:
        TypeError: ``ssl_setting`` has none of those types.
        ValueError: A digest given as bytes has the wrong length.
    """
    if ssl_setting is None:
        pass
    elif ssl_setting is True:
        if context is None or context.verify_mode == ssl.CERT_NONE:
            context = None
    elif ssl_setting is False:
        return TLSConfig(unverified_ssl_context(), None)
    elif isinstance(ssl_setting, ssl.SSLContext):
        context = ssl_setting
    elif isinstance(ssl_setting, (Fingerprint, bytes)):
        fingerprint = _as_fingerprint(ssl_setting)
    else:
        raise TypeError(
            "ssl must be None, a bool, an ssl.SSLContext or a Fingerprint, "
            f"got {type(ssl_setting).__name__}"
        )
    return TLSConfig(context if context is not None else default_ssl_context(), fingerprint)


def tls_keywords(host: str) -> dict[str, Any]:
    """The TLS keywords of ``loop.create_connection``/``loop.start_tls`` for a host.

    SNI and the hostname check use the URL's host; for an IP address Python sends no SNI
    and checks the certificate's IP address entries. The shutdown wait is bounded.
    """
    return {
        "server_hostname": host.rstrip(".") or host,
        "ssl_shutdown_timeout": SSL_SHUTDOWN_TIMEOUT,
    }


def check_fingerprint(
    transport: asyncio.Transport,
    fingerprint: Fingerprint,
    host: str,
    port: int,
) -> None:
    """Check the pin on a TLS transport's peer certificate; abort the transport on mismatch.

    Args:
        transport: A transport whose handshake is complete.
        fingerprint: The pin.
        host: The host, for the error.
        port: The port, for the error.

    Raises:
        FingerprintMismatch: The certificate's digest differs (or there was none); the
            transport was aborted.
    """
    ssl_object = transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    got = fingerprint.digest_of(der) if der else b""
    if got != fingerprint.digest:
        transport.abort()
        raise FingerprintMismatch(fingerprint.digest, got, host, port)


def _trust_store(context: ssl.SSLContext) -> str:
    if context is _default:
        paths = ssl.get_default_verify_paths()
        where = paths.cafile or paths.capath or "none found"
        return (
            f"trusted CAs: the system's default store ({where}; the environment variables "
            f"{paths.openssl_cafile_env}/{paths.openssl_capath_env} move it); to trust "
            "another CA pass ssl_context=ssl.create_default_context(cafile=...), or "
            "verify_ssl=False with a fingerprint pin for a self-signed certificate"
        )
    count = context.cert_store_stats().get("x509_ca", 0)
    return (
        f"trusted CAs: the {count} CA certificate(s) loaded in the ssl_context given; load "
        "others with its load_verify_locations(), or pin the certificate with "
        "verify_ssl=False and a fingerprint"
    )


def certificate_error(
    exc: ssl.SSLError,
    context: ssl.SSLContext,
    host: str,
    port: int,
) -> ClientConnectorError:
    """Translate a handshake's ``ssl`` error into the client's error.

    Args:
        exc: The error the handshake raised.
        context: The context used (it names the trust store in the message).
        host: The host connected to.
        port: The port connected to.

    Returns:
        :class:`ClientConnectorCertificateError` for a failed verification (with the
        ``ssl`` module's reason and the trust store), else :class:`ClientSSLError`.
    """
    error: ClientConnectorError
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or str(exc)
        error = ClientConnectorCertificateError(host, port, reason, _trust_store(context), exc)
    else:
        reason = f"TLS handshake failed: {exc.reason or exc}"
        error = ClientSSLError(host, port, exc, reason=reason)
    error.__cause__ = exc
    return error


async def open_tls(
    factory: Callable[[], _P],
    sock: socket.socket,
    tls: TLSConfig,
    host: str,
    port: int,
) -> tuple[asyncio.Transport, _P]:
    """Run the TLS handshake on a connected socket, then check the pin.

    Args:
        factory: Makes the protocol; its ``connection_made`` runs after the handshake.
        sock: A connected TCP socket; the transport owns it from now on (it is closed on
            any failure).
        tls: The context and pin.
        host: The URL's host (SNI, hostname check, errors).
        port: The port, for errors.

    Returns:
        The TLS transport and its protocol.

    Raises:
        ClientConnectorCertificateError: Verification failed.
        ClientSSLError: The handshake failed otherwise.
        FingerprintMismatch: The pin does not match; the connection was closed.
        OSError: The socket failed during the handshake.
    """
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_connection(
            factory, sock=sock, ssl=tls.context, **tls_keywords(host)
        )
    except ssl.SSLError as exc:
        raise certificate_error(exc, tls.context, host, port) from exc
    except ConnectionError as exc:
        # The peer dropped the connection during the handshake, as servers do when they
        # refuse it without an alert (a TLS 1.1-only server, say): a TLS failure.
        raise handshake_dropped(exc, host, port) from exc
    if tls.fingerprint is not None:
        check_fingerprint(transport, tls.fingerprint, host, port)
    return transport, protocol


def handshake_dropped(exc: ConnectionError, host: str, port: int) -> ClientSSLError:
    """The error for a peer that closed or reset the connection during the TLS handshake."""
    detail = exc.strerror or str(exc) or type(exc).__name__
    return ClientSSLError(
        host,
        port,
        exc,
        reason=f"TLS handshake failed: the server closed the connection during the handshake "
        f"({detail}); it may not support TLS 1.2 or newer",
    )


async def upgrade_tls(
    transport: asyncio.Transport,
    protocol: asyncio.BaseProtocol,
    tls: TLSConfig,
    host: str,
    port: int,
) -> asyncio.Transport:
    """Start TLS inside an open connection (a proxy's CONNECT tunnel), then check the pin.

    ``protocol`` becomes the protocol of the TLS transport and gets ``connection_made``
    once the handshake and the pin check passed. The raw transport is closed on failure.

    Args:
        transport: The open (plain) transport.
        protocol: The protocol for the TLS connection.
        tls: The context and pin.
        host: The target's host (SNI, hostname check, errors), not the proxy's.
        port: The target's port, for errors.

    Returns:
        The TLS transport.

    Raises:
        ClientConnectorCertificateError: Verification failed.
        ClientSSLError: The handshake failed otherwise.
        FingerprintMismatch: The pin does not match; the connection was closed.
        OSError: The socket failed during the handshake.
    """
    loop = asyncio.get_running_loop()
    try:
        tls_transport = await loop.start_tls(
            transport, protocol, tls.context, **tls_keywords(host)
        )
    except ssl.SSLError as exc:
        transport.abort()
        raise certificate_error(exc, tls.context, host, port) from exc
    except ConnectionError as exc:
        transport.abort()
        raise handshake_dropped(exc, host, port) from exc
    except BaseException:
        transport.abort()
        raise
    if tls_transport is None:  # only when the loop is closing
        transport.abort()
        raise ConnectionAbortedError("the event loop closed during the TLS handshake")
    if tls.fingerprint is not None:
        check_fingerprint(tls_transport, tls.fingerprint, host, port)
    protocol.connection_made(tls_transport)
    return tls_transport
