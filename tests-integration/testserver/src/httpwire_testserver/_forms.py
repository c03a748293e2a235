"""Decoding of HTML form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

httpbin reports a request's form fields under ``form`` and its uploaded files
under ``files``. The standard library's ``cgi`` module, which once did this, is
gone in Python 3.13, so multipart bodies (RFC 7578, with the delimiter syntax of
RFC 2046 §5.1.1) are split here; only the field headers are handed to
``email.message`` for their parameter syntax (quoted strings, RFC 2231
``filename*``).
"""

from __future__ import annotations

import email.message
import email.utils
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

__all__ = ["FormError", "ParsedForm", "UploadedFile", "media_type", "parse_form"]


class FormError(ValueError):
    """A form body that cannot be decoded (answered with 400)."""


@dataclass
class UploadedFile:
    """One file part of a multipart form."""

    name: str
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedForm:
    """The fields and files of a form body, in the order they came."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[UploadedFile] = field(default_factory=list)


def _header_message(name: str, value: str) -> email.message.Message:
    message = email.message.Message()
    message[name] = value
    return message


def media_type(content_type: str) -> str:
    """The lowercased media type of a ``Content-Type`` value, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def _param(message: email.message.Message, name: str, header: str) -> str | None:
    value = message.get_param(name, header=header)
    if value is None:
        return None
    if isinstance(value, tuple):  # RFC 2231 encoded
        return str(email.utils.collapse_rfc2231_value(value))
    return email.utils.unquote(value)


def parse_form(content_type: str, body: bytes) -> ParsedForm | None:
    """Decode a form body, or return ``None`` when the media type is not a form.

    Raises:
        FormError: A multipart body without a boundary, with a missing delimiter,
            or with a part lacking its ``Content-Disposition`` name.
    """
    kind = media_type(content_type)
    if kind == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", "replace")
        return ParsedForm(fields=parse_qsl(text, keep_blank_values=True))
    if kind == "multipart/form-data":
        boundary = _param(
            _header_message("Content-Type", content_type), "boundary", "content-type"
        )
        if not boundary:
            raise FormError(f"multipart/form-data without a boundary: {content_type[:100]!r}")
        return _parse_multipart(body, boundary.encode("latin-1"))
    return None


def _parse_multipart(body: bytes, boundary: bytes) -> ParsedForm:
    form = ParsedForm()
    dash_boundary = b"--" + boundary
    # The first delimiter may open the body; every other one follows a CRLF (RFC 2046 §5.1.1).
    if body.startswith(dash_boundary):
        position = len(dash_boundary)
    else:
        start = body.find(b"\r\n" + dash_boundary)
        if start < 0:
            raise FormError(f"multipart body has no delimiter line --{boundary[:70]!r}")
        position = start + 2 + len(dash_boundary)
    delimiter = b"\r\n" + dash_boundary
    while True:
        if body.startswith(b"--", position):
            return form  # the close delimiter; what follows is the epilogue
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise FormError(f"bad multipart delimiter line at byte {position}")
        part_start = line_end + 2
        part_end = body.find(delimiter, part_start)
        if part_end < 0:
            raise FormError(
                f"multipart body ends without its close delimiter --{boundary[:70]!r}--"
            )
        _add_part(form, body[part_start:part_end])
        position = part_end + len(delimiter)


def _add_part(form: ParsedForm, part: bytes) -> None:
    if part.startswith(b"\r\n"):
        head, content = b"", part[2:]
    else:
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            raise FormError(
                f"multipart part without a blank line after its headers: {part[:80]!r}"
            )
    headers = email.message.Message()
    for line in head.decode("utf-8", "replace").split("\r\n"):
        field_name, colon, field_value = line.partition(":")
        if not colon:
            raise FormError(f"bad multipart header line {line[:80]!r}")
        headers[field_name.strip()] = field_value.strip()
    disposition = headers.get("Content-Disposition")
    if disposition is None:
        raise FormError("multipart part without Content-Disposition (RFC 7578 §4.2)")
    name = _param(headers, "name", "content-disposition")
    if name is None:
        raise FormError(f"multipart part without a name: {disposition[:100]!r}")
    filename = _param(headers, "filename", "content-disposition")
    extended = headers.get_filename()  # prefers filename* (RFC 2231) when present
    if extended is not None:
        filename = extended
    content_type = headers.get("Content-Type", "")
    if filename is not None:
        form.files.append(UploadedFile(name, filename, content_type, content))
    else:
        charset = _param(headers, "charset", "content-type") or "utf-8"
        try:
            value = content.decode(charset, "replace")
        except LookupError:
            value = content.decode("utf-8", "replace")
        form.fields.append((name, value))
