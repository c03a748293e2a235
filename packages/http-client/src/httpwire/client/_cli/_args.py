"""The command line: argparse for the options, then checks that span several of them.

Strategy: argparse knows the options; everything it cannot check alone (which options go
together, what ``--print`` letters mean, the items) is checked in :func:`parse_args`, which
raises :class:`UsageError` with the argument named. The result is one frozen
:class:`Options` value: the rest of the command never looks at argparse again.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, NoReturn

from .._version import __version__
from ._exit import EXIT_CODES_HELP
from ._items import Item, ItemKind, UsageError, expand_url, parse_item, shown, split_positionals

__all__ = ["Options", "build_parser", "parse_args"]

Pretty = Literal["auto", "all", "colors", "format", "none"]
PRINT_LETTERS: Final = "HBhb"

_DESCRIPTION = """\
Send an HTTP request and show the response, with httpwire.client.

  httpwire [METHOD] URL [ITEM ...]

METHOD defaults to GET, or POST when the request has a body. URL may be a shorthand:
':8080/path' is http://localhost:8080/path, 'example.org' is http://example.org.

Request items:
  Header:value     a header ('Header:' alone leaves a default header out)
  Header;          a header with an empty value
  name==value      a query parameter
  field=value      a string field of the JSON body (or of the form, with --form)
  field:=json      a field holding any JSON value: 'n:=1', 'tags:=["a","b"]'
  field=@path      a string field holding a file's text
  field:=@path     a field holding the JSON value stored in a file
  field@path       a file upload (multipart form), streamed from the disk;
                   'field@path;type=image/png' sets its content type
A backslash before : = @ ; or \\ takes it literally: 'a\\=b=c' is field 'a=b', and
'f=\\@x' sends the text '@x' (not the file x).
"""


class _Parser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass(frozen=True, slots=True)
class Options:
    """Everything the command line asked for, checked.

    Attributes:
        method: The method, upper case, or ``None`` to infer it (GET, or POST with a body).
        url: The URL, shorthands expanded.
        items: The request items, in order.
        body_mode: ``"json"``, ``"form"``, ``"multipart"``, or ``None`` (JSON when there
            are fields, multipart when there is a file).
        data: ``--data``: text, ``@path`` or ``@-`` (standard input), or ``None``.
        auth: ``--auth`` as given (``user:password`` or ``user``).
        proxy: ``--proxy``.
        timeout: ``--timeout`` (seconds without a byte, and to connect).
        max_time: ``--max-time`` (the whole request).
        verify: ``--verify``/``--no-verify``.
        cacert: ``--cacert``.
        fingerprint: ``--fingerprint`` (hex).
        unix_socket: ``--unix-socket``.
        follow: ``--follow``.
        max_redirects: ``--max-redirects``.
        chunked: ``--chunked``.
        expect_continue: ``--expect-continue``.
        family: ``4`` for ``--ipv4``, ``6`` for ``--ipv6``, ``None`` for either.
        print_what: The letters of ``--print`` (``None``: by where stdout goes).
        pretty: ``--pretty``.
        timings: ``--timings``.
        json_output: ``--json-output``.
        download: ``--download``.
        resume: ``--continue``.
        output: ``--output``.
        quiet: ``--quiet``.
    """

    method: str | None
    url: str
    items: tuple[Item, ...]
    body_mode: Literal["json", "form", "multipart"] | None
    data: str | None
    auth: str | None
    proxy: str | None
    timeout: float | None
    max_time: float | None
    verify: bool
    cacert: str | None
    fingerprint: str | None
    unix_socket: str | None
    follow: bool
    max_redirects: int
    chunked: bool
    expect_continue: bool
    family: Literal[4, 6] | None
    print_what: str | None
    pretty: Pretty
    timings: bool
    json_output: bool
    download: bool
    resume: bool
    output: str | None
    quiet: bool

    @property
    def has_body(self) -> bool:
        """True when the request carries a body (fields, files or ``--data``)."""
        return self.data is not None or any(item.is_data for item in self.items)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{shown(text)} must be a positive number of seconds")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{shown(text)} must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``httpwire`` command (its ``--help`` is the reference).

    Returns:
        The parser; its ``error`` raises :class:`UsageError` instead of exiting.
    """
    parser = _Parser(
        prog="httpwire",
        usage="httpwire [OPTIONS] [METHOD] URL [ITEM ...]",
        description=_DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("positionals", nargs="*", metavar="[METHOD] URL [ITEM ...]")
    parser.add_argument("--version", action="version", version=f"httpwire {__version__}")

    body = parser.add_argument_group("request body")
    mode = body.add_mutually_exclusive_group()
    mode.add_argument(
        "--json",
        "-j",
        dest="body_mode",
        action="store_const",
        const="json",
        help="send fields as a JSON object (the default) and ask for JSON",
    )
    mode.add_argument(
        "--form",
        "-f",
        dest="body_mode",
        action="store_const",
        const="form",
        help="send fields as a form: urlencoded, or multipart when there is a file",
    )
    mode.add_argument(
        "--multipart",
        dest="body_mode",
        action="store_const",
        const="multipart",
        help="send fields as a multipart form even without a file",
    )
    body.add_argument(
        "--data",
        metavar="TEXT|@PATH|@-",
        help="the body as is: text, a file (@path) or standard input (@-), streamed",
    )
    body.add_argument(
        "--chunked",
        action="store_true",
        help="send the body with chunked transfer coding, even when its size is known",
    )
    body.add_argument(
        "--expect-continue",
        action="store_true",
        help="send 'Expect: 100-continue' and the body only once the server agrees",
    )

    conn = parser.add_argument_group("connection")
    conn.add_argument(
        "--auth",
        "-a",
        metavar="USER[:PASSWORD]",
        help="Basic auth; the password is asked for when missing and a terminal is there",
    )
    conn.add_argument("--proxy", metavar="URL", help="send the request through this HTTP proxy")
    conn.add_argument(
        "--timeout",
        type=_positive,
        metavar="SECONDS",
        help="give up after this long without a byte from the server, or to connect",
    )
    conn.add_argument(
        "--max-time",
        type=_positive,
        metavar="SECONDS",
        help="give up when the whole request, body included, takes longer",
    )
    conn.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="verify the server's TLS certificate (default: yes)",
    )
    conn.add_argument(
        "--cacert", metavar="PATH", help="trust the CA certificates in this PEM file"
    )
    conn.add_argument(
        "--fingerprint",
        metavar="HEX",
        help="pin the server certificate's md5, sha1 or sha256 digest (colons allowed)",
    )
    family = conn.add_mutually_exclusive_group()
    family.add_argument(
        "--ipv4", "-4", dest="family", action="store_const", const=4, help="connect over IPv4 only"
    )
    family.add_argument(
        "--ipv6", "-6", dest="family", action="store_const", const=6, help="connect over IPv6 only"
    )
    conn.add_argument("--unix-socket", metavar="PATH", help="connect to this Unix socket")
    conn.add_argument(
        "--follow", "-F", action="store_true", help="follow redirects (3xx with Location)"
    )
    conn.add_argument(
        "--max-redirects",
        type=_count,
        default=10,
        metavar="N",
        help="follow at most N redirects (default: 10)",
    )

    out = parser.add_argument_group("output")
    out.add_argument(
        "--print",
        "-p",
        dest="print_what",
        metavar="WHAT",
        help="what to show: H request head, B request body, h response head, b response "
        "body (default: hb on a terminal, b when piped)",
    )
    out.add_argument(
        "--verbose", "-v", action="store_true", help="show the request too: --print=HBhb"
    )
    out.add_argument("--headers", action="store_true", help="show the response head only")
    out.add_argument("--body", "-b", action="store_true", help="show the response body only")
    out.add_argument(
        "--pretty",
        choices=("auto", "all", "colors", "format", "none"),
        default="auto",
        help="colours and formatting; 'auto' (default): all on a terminal, none when piped",
    )
    out.add_argument(
        "--timings",
        action="store_true",
        help="show each phase's time (pool wait, DNS, connect, TLS, sending, waiting, "
        "receiving) and the connection used, for each redirect hop (on standard error)",
    )
    out.add_argument(
        "--json-output",
        action="store_true",
        help="print one JSON document describing the exchange instead",
    )
    out.add_argument("--quiet", "-q", action="store_true", help="no warnings and no summaries")

    down = parser.add_argument_group("download")
    down.add_argument(
        "--download",
        "-d",
        action="store_true",
        help="save the body to a file, with a progress bar",
    )
    down.add_argument(
        "--continue",
        "-c",
        dest="resume",
        action="store_true",
        help="resume a download cut short (from NAME.part), with a Range request",
    )
    down.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="the file to save to (the body, or the download)",
    )
    return parser


def _print_letters(ns: argparse.Namespace) -> str | None:
    chosen = [
        name
        for name, on in (
            ("--print", ns.print_what is not None),
            ("--verbose", ns.verbose),
            ("--headers", ns.headers),
            ("--body", ns.body),
        )
        if on
    ]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} cannot be used together: pick one")
    if ns.verbose:
        return "HBhb"
    if ns.headers:
        return "h"
    if ns.body:
        return "b"
    letters: str | None = ns.print_what
    if letters is not None:
        wrong = sorted(set(letters) - set(PRINT_LETTERS))
        if wrong or not letters:
            raise UsageError(
                f"--print {shown(letters)}: use the letters H (request head), B (request "
                "body), h (response head) and b (response body)"
            )
    return letters


def parse_args(argv: Sequence[str]) -> Options:
    """Parse and check the command line.

    Args:
        argv: The arguments, without the program name.

    Returns:
        The options.

    Raises:
        UsageError: Anything wrong with the command line, naming the argument.
    """
    ns = build_parser().parse_intermixed_args(list(argv))
    method, url, item_texts = split_positionals(ns.positionals)
    items = tuple(parse_item(text) for text in item_texts)
    for item in items:
        if item.kind in (ItemKind.JSON, ItemKind.JSON_FILE) and ns.body_mode in (
            "form",
            "multipart",
        ):
            raise UsageError(
                f"item {shown(item.text)}: raw JSON fields (:=) need a JSON body, not --form"
            )
        if item.kind is ItemKind.FILE and ns.body_mode == "json":
            raise UsageError(
                f"item {shown(item.text)}: file uploads (@) need a form, not --json "
                "(use field=@path to send a file's text as a JSON string)"
            )
        if item.kind is ItemKind.JSON:
            item.json_value()  # fail now, before anything is sent
    if ns.data is not None and any(item.is_data for item in items):
        raise UsageError("--data and body fields cannot be used together: pick one")
    if ns.cacert is not None and not ns.verify:
        raise UsageError("--cacert and --no-verify cannot be used together")
    if ns.unix_socket is not None and ns.proxy is not None:
        raise UsageError("--unix-socket and --proxy cannot be used together")
    if ns.resume and not ns.download:
        raise UsageError("--continue resumes a download: use it with --download")
    if ns.json_output and (ns.print_what is not None or ns.verbose or ns.headers or ns.body):
        raise UsageError(
            "--json-output shows everything already: drop --print/-v/--headers/--body"
        )
    if ns.output == "-" and ns.download:
        raise UsageError("--download saves to a file: drop --output - to write to standard output")
    return Options(
        method=method,
        url=expand_url(url),
        items=items,
        body_mode=ns.body_mode,
        data=ns.data,
        auth=ns.auth,
        proxy=ns.proxy,
        timeout=ns.timeout,
        max_time=ns.max_time,
        verify=ns.verify,
        cacert=ns.cacert,
        fingerprint=ns.fingerprint,
        unix_socket=ns.unix_socket,
        follow=ns.follow,
        max_redirects=ns.max_redirects,
        chunked=ns.chunked,
        expect_continue=ns.expect_continue,
        family=ns.family,
        print_what=_print_letters(ns),
        pretty=ns.pretty,
        timings=ns.timings,
        json_output=ns.json_output,
        download=ns.download,
        resume=ns.resume,
        output=ns.output,
        quiet=ns.quiet,
    )
