"""What the command prints: heads, bodies, warnings and errors, plain or in colour.

Strategy: text goes through a :class:`Screen`; :class:`PlainScreen` writes it as is, and
:class:`RichScreen` (used only when colours are on, and rich is installed: it comes with
``httpwire-client[cli]``) styles status lines, header names and JSON. rich is imported
only here and in the progress module, and only when wanted, so the command runs without
it (plain), and the library never imports it.

Bodies are streamed: a piece is written as soon as it arrives, so memory stays flat
whatever the size. The one exception is pretty-printing JSON, which needs the whole
document: a JSON body is gathered up to :data:`PRETTY_LIMIT` bytes, and a larger one is
written as it came.
"""

from __future__ import annotations

import codecs
import json
import sys
from collections.abc import Iterable
from typing import IO, Final, Protocol

from httpwire.client import ClientResponse, RequestInfo

__all__ = [
    "PRETTY_LIMIT",
    "PlainScreen",
    "RichScreen",
    "Screen",
    "is_json_type",
    "request_head_lines",
    "response_head_lines",
    "rich_available",
    "write_body",
]

PRETTY_LIMIT: Final = 16 * 1024 * 1024
"""The largest JSON body gathered to be pretty-printed; a larger one is written as is."""

_BINARY_NOTE: Final = (
    "+-----------------------------------------+\n"
    "| NOTE: binary data not shown in terminal |\n"
    "+-----------------------------------------+\n"
)


def rich_available() -> bool:
    """True when rich (the ``cli`` extra) can be imported."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def is_json_type(content_type: str) -> bool:
    """True for ``application/json`` and any ``+json`` type (RFC 6839 §3.1)."""
    return content_type == "application/json" or content_type.endswith("+json")


def request_head_lines(info: RequestInfo, body_size: int | None, has_body: bool) -> list[str]:
    """The request line and fields, as sent.

    The connection adds ``Host`` and the framing field (Content-Length or chunked) when the
    headers lack them; they are shown as it sends them.

    Args:
        info: The request's method, URL and headers.
        body_size: The body's size when known.
        has_body: Whether a body was sent.

    Returns:
        The lines, without line ends.
    """
    url = info.url
    target = url.raw_path_qs or "/"
    lines = [f"{info.method} {target} HTTP/1.1"]
    headers = info.headers
    if "Host" not in headers and url.raw_host is not None:
        host = url.raw_host if ":" not in url.raw_host else f"[{url.raw_host}]"
        if not url.is_default_port() and url.port is not None:
            host = f"{host}:{url.port}"
        lines.append(f"Host: {host}")
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if has_body and "Content-Length" not in headers and "Transfer-Encoding" not in headers:
        if body_size is None:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append(f"Content-Length: {body_size}")
    return lines


def response_head_lines(response: ClientResponse) -> list[str]:
    """The status line and fields as received, in wire order.

    Args:
        response: The response.

    Returns:
        The lines, without line ends.
    """
    version = f"HTTP/{response.version.major}.{response.version.minor}"
    lines = [f"{version} {response.status} {response.reason}".rstrip()]
    for name, value in response.raw_headers:
        lines.append(f"{name.decode('utf-8', 'replace')}: {value.decode('utf-8', 'replace')}")
    return lines


class Screen(Protocol):
    """Where the command's text goes (standard output, or a file for ``--output``)."""

    @property
    def is_terminal(self) -> bool:
        """True when it is a terminal (binary bodies are not shown there)."""

    def head(self, lines: Iterable[str], *, request: bool) -> None:
        """Write a message head, then a blank line."""

    def json(self, value: object) -> None:
        """Write a JSON value, indented."""

    def text(self, text: str) -> None:
        """Write body text."""

    def raw(self, data: bytes) -> None:
        """Write body bytes as they are."""

    def flush(self) -> None:
        """Push out what is buffered."""


class PlainScreen:
    """Text and bytes written as they are.

    Args:
        stream: A binary stream (``sys.stdout.buffer``, or a file).
        is_terminal: Whether *stream* is a terminal.
    """

    def __init__(self, stream: IO[bytes], *, is_terminal: bool) -> None:
        self._stream = stream
        self._is_terminal = is_terminal
        self._encoding = (
            getattr(sys.stdout, "encoding", None) or "utf-8" if is_terminal else "utf-8"
        )

    @property
    def is_terminal(self) -> bool:
        """True when the stream is a terminal."""
        return self._is_terminal

    def head(self, lines: Iterable[str], *, request: bool) -> None:
        """Write a message head, then a blank line."""
        self.text("".join(f"{line}\n" for line in lines) + "\n")

    def json(self, value: object) -> None:
        """Write a JSON value, indented by four spaces."""
        self.text(json.dumps(value, indent=4, ensure_ascii=False) + "\n")

    def text(self, text: str) -> None:
        """Write text, encoded for the terminal (or UTF-8)."""
        self._stream.write(text.encode(self._encoding, "replace"))

    def raw(self, data: bytes) -> None:
        """Write bytes as they are."""
        self._stream.write(data)

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()


class RichScreen(PlainScreen):
    """Heads and JSON in colour through rich; body text and bytes as they are.

    Args:
        stream: The binary stream under the terminal (``sys.stdout.buffer``).
        text_stream: The text stream rich writes to (``sys.stdout``).
    """

    def __init__(self, stream: IO[bytes], text_stream: IO[str]) -> None:
        super().__init__(stream, is_terminal=True)
        from rich.console import Console

        self._text_stream = text_stream
        self._console = Console(
            file=text_stream,
            force_terminal=True,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=True,
        )

    def head(self, lines: Iterable[str], *, request: bool) -> None:
        """Write a head: the first line and the field names in colour."""
        from rich.text import Text

        self._stream.flush()
        rows = list(lines)
        first = Text()
        words = rows[0].split(" ", 2)
        if request:
            first.append(words[0], style="bold green")
            for word, style in zip(words[1:], ("default", "blue"), strict=False):
                first.append(" ")
                first.append(word, style=style)
        else:
            status = words[1] if len(words) > 1 else ""
            style = (
                "bold green"
                if status.startswith("2")
                else "bold yellow"
                if status.startswith(("1", "3"))
                else "bold red"
            )
            first.append(words[0], style="blue")
            for word in words[1:]:
                first.append(" ")
                first.append(word, style=style)
        self._console.print(first)
        for row in rows[1:]:
            name, _, value = row.partition(": ")
            line = Text()
            line.append(name, style="cyan")
            line.append(": ", style="dim")
            line.append(value)
            self._console.print(line)
        self._console.print()
        self._text_stream.flush()

    def json(self, value: object) -> None:
        """Write a JSON value, indented and highlighted."""
        from rich.json import JSON

        self._stream.flush()
        self._console.print(JSON.from_data(value, indent=4, ensure_ascii=False))
        self._text_stream.flush()


async def write_body(response: ClientResponse, screen: Screen, *, pretty: bool) -> int:
    """Stream the response body to *screen*; pretty-print JSON when asked.

    Args:
        response: The response, its body unread.
        screen: Where to write.
        pretty: Format the body (indent JSON, decode text for the terminal).

    Returns:
        The number of body bytes received.
    """
    content = response.content
    received = 0
    pending: list[bytes] = []
    if pretty and is_json_type(response.content_type):
        while received <= PRETTY_LIMIT:
            piece = await content.readany()
            if not piece:
                break
            pending.append(piece)
            received += len(piece)
        if received <= PRETTY_LIMIT:
            whole = b"".join(pending)
            try:
                value = json.loads(whole.decode(response.charset or "utf-8"))
            except (ValueError, LookupError):
                pending = [whole]
            else:
                screen.json(value)
                return received
    decoder = codecs.getincrementaldecoder(_codec(response.charset))("replace") if pretty else None
    first, last = True, b"\n"
    while True:
        if pending:
            piece = pending.pop(0)
        else:
            piece = await content.readany()
            if not piece:
                break
            received += len(piece)
        if first:
            first = False
            if screen.is_terminal and b"\0" in piece[:1024]:
                screen.text(_BINARY_NOTE)
                return received
        last = piece[-1:]
        if decoder is None:
            screen.raw(piece)
        else:
            screen.text(decoder.decode(piece))
    if decoder is not None:
        screen.text(decoder.decode(b"", final=True))
        if not first and last != b"\n":
            screen.text("\n")
    return received


def _codec(charset: str | None) -> str:
    if charset is None:
        return "utf-8"
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"
