"""Exit codes: one per kind of outcome, so scripts can tell a 404 from a dead server.

Strategy: a status picks its code by class (4xx, 5xx); an error picks its code by the
first class of the client's error tree it belongs to, in :data:`_BY_ERROR`'s order. The
order matters because the tree overlaps: a connect timeout is both a timeout and a
connection error (it counts as a timeout), a certificate error is a connector error (it
counts as TLS).
"""

from __future__ import annotations

import enum
from typing import Final

from httpwire.connectors import (
    BadResponseError,
    ClientConnectionError,
    ClientPayloadError,
    ClientSSLError,
    ClientTimeoutError,
    FingerprintMismatch,
)

from .._errors import TooManyRedirects

__all__ = ["EXIT_CODES_HELP", "ExitCode", "exit_code_for_error", "exit_code_for_status"]


class ExitCode(enum.IntEnum):
    """The command's exit status."""

    OK = 0
    """The response came, with a 1xx, 2xx or 3xx status."""
    ERROR = 1
    """Anything else: an invalid response or body, a local file that cannot be written."""
    USAGE = 2
    """The command line is wrong (as argparse's own exit status)."""
    TOO_MANY_REDIRECTS = 3
    """``--follow`` met more redirects than ``--max-redirects``."""
    CLIENT_ERROR = 4
    """The response had a 4xx status."""
    SERVER_ERROR = 5
    """The response had a 5xx status."""
    CONNECTION = 6
    """No connection could be made (refused, unknown host, proxy) or it broke mid-way."""
    TLS = 7
    """The TLS handshake failed: certificate not trusted, wrong host, pin mismatch."""
    TIMEOUT = 8
    """A time limit passed: ``--timeout`` or ``--max-time``."""
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT, as shells report it)."""


EXIT_CODES_HELP: Final = """\
exit codes:
  0  the response came with a 1xx, 2xx or 3xx status
  1  another error: an invalid response or body, a file that cannot be read or written
  2  the command line is wrong
  3  more redirects than --max-redirects
  4  the response status was 4xx
  5  the response status was 5xx
  6  connection error: refused, unknown host, proxy refused, connection cut
  7  TLS error: certificate not trusted, pinned fingerprint mismatch, handshake failed
  8  timeout (--timeout, --max-time)
  130 interrupted (Ctrl-C); a download keeps what it got in NAME.part
"""

# Most specific first: the tree overlaps (see the module docstring).
_BY_ERROR: Final[tuple[tuple[type[BaseException], ExitCode], ...]] = (
    (ClientTimeoutError, ExitCode.TIMEOUT),
    (TimeoutError, ExitCode.TIMEOUT),
    (ClientSSLError, ExitCode.TLS),
    (FingerprintMismatch, ExitCode.TLS),
    (TooManyRedirects, ExitCode.TOO_MANY_REDIRECTS),
    (BadResponseError, ExitCode.ERROR),
    (ClientConnectionError, ExitCode.CONNECTION),
    (ClientPayloadError, ExitCode.ERROR),
)


def exit_code_for_status(status: int) -> ExitCode:
    """The exit code a response status gives.

    Args:
        status: The final response's status code.

    Returns:
        ``CLIENT_ERROR`` for 4xx, ``SERVER_ERROR`` for 5xx, else ``OK``.
    """
    if 400 <= status < 500:
        return ExitCode.CLIENT_ERROR
    if status >= 500:
        return ExitCode.SERVER_ERROR
    return ExitCode.OK


def exit_code_for_error(error: BaseException) -> ExitCode:
    """The exit code an error gives.

    Args:
        error: What the request raised.

    Returns:
        The code of the first matching kind, else ``ERROR``.
    """
    for kind, code in _BY_ERROR:
        if isinstance(error, kind):
            return code
    return ExitCode.ERROR
