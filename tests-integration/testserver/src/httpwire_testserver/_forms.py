"""Decoding of HTML form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

httpbin reports a request's form fields under ``form`` and its uploaded files
under ``files``. The standard library's ``cgi`` module, which once did this, is
gone in Python 3.13, so multipart bodies (RFC 7578, with the delimiter syntax of
RFC 2046 §5.1.1) are split here, and the parameters of their fields read here
too (quoted strings, RFC 8187 ``filename*``): ``email.message`` trims and
mis-merges them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

__all__ = ["FormError", "ParsedForm", "UploadedFile", "header_params", "media_type", "parse_form"]


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


def media_type(content_type: str) -> str:
    """The lowercased media type of a ``Content-Type`` value, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def header_params(value: str) -> dict[str, str]:
    """The parameters of a field value like ``form-data; name="a"; filename*=UTF-8''b``.

    Names are lowercased; a value may be a token or a quoted string (backslash
    escapes undone); an extended ``name*`` value (RFC 8187: ``charset'lang'pct``)
    is decoded and wins over a plain ``name``. A parameter given twice keeps its
    first value.
    """
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    position = value.find(";")
    while 0 <= position < len(value):
        position += 1
        equals = value.find("=", position)
        if equals < 0:
            break
        name = value[position:equals].strip().lower()
        position = equals + 1
        while position < len(value) and value[position] in " \t":
            position += 1
        if value.startswith('"', position):
            chars: list[str] = []
            position += 1
            while position < len(value) and value[position] != '"':
                if value[position] == "\\" and position + 1 < len(value):
                    position += 1
                chars.append(value[position])
                position += 1
            text = "".join(chars)
            position = value.find(";", position)
        else:
            end = value.find(";", position)
            text = value[position : end if end >= 0 else len(value)].strip()
            position = end
        if name.endswith("*"):
            extended.setdefault(name[:-1], _decode_extended(text))
        else:
            params.setdefault(name, text)
        if position < 0:
            break
    params.update(extended)
    return params


def _decode_extended(text: str) -> str:
    charset, quote1, rest = text.partition("'")
    _language, quote2, encoded = rest.partition("'")
    if not (quote1 and quote2):
        return text
    try:
        return unquote(encoded, encoding=charset or "utf-8", errors="replace")
    except LookupError:
        return unquote(encoded, errors="replace")


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
        boundary = header_params(content_type).get("boundary")
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
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        field_name, colon, field_value = line.partition(":")
        if not colon:
            raise FormError(f"bad multipart header line {line[:80]!r}")
        headers.setdefault(field_name.strip().lower(), field_value.strip())
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise FormError("multipart part without Content-Disposition (RFC 7578 §4.2)")
    params = header_params(disposition)
    name = params.get("name")
    if name is None:
        raise FormError(f"multipart part without a name: {disposition[:100]!r}")
    filename = params.get("filename")
    content_type = headers.get("content-type", "")
    if filename is not None:
        form.files.append(UploadedFile(name, filename, content_type, content))
    else:
        charset = header_params(content_type).get("charset") or "utf-8"
        try:
            value = content.decode(charset, "replace")
        except LookupError:
            value = content.decode("utf-8", "replace")
        form.fields.append((name, value))
