"""FormData: the fields of an HTML form, sent urlencoded or as multipart/form-data.

A form of plain fields (str or bytes values, no content type, no filename) is
sent as ``application/x-www-form-urlencoded``, which is what a browser sends for
a form without a file input. A file, a payload, a filename, a content type or a
transfer encoding on any field switches the whole form to ``multipart/form-data``
(RFC 7578).

File values become payloads when they are added, so the position each file is
at then is where its part starts, however many times the form is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from multidict import CIMultiDict

from ._headers import check_header, content_disposition
from ._payloads import (
    OCTET_STREAM,
    BytesPayload,
    Payload,
    StringPayload,
    guess_filename,
    guess_type,
)
from ._values import is_file, simple_payload
from ._writer import MultipartWriter, urlencode_pairs

__all__ = ["FormData", "FormFields"]

#: What ``FormData(fields)`` and ``add_fields()`` take: a mapping (a MultiDict keeps
#: repeated names), pairs, or file objects (named after their file).
FormFields = Mapping[str, object] | Iterable[object]


class _Field:
    __slots__ = ("content_type", "filename", "name", "payload", "transfer_encoding", "value")

    def __init__(
        self,
        name: str,
        value: str | bytes | None,
        payload: Payload | None,
        content_type: str | None,
        filename: str | None,
        transfer_encoding: str | None,
    ) -> None:
        self.name = name
        self.value = value
        self.payload = payload
        self.content_type = content_type
        self.filename = filename
        self.transfer_encoding = transfer_encoding


class FormData:
    """The fields of a form, encoded as the browser would.

    Args:
        fields: Initial fields: a dict, a MultiDict, or a sequence of ``(name, value)``
            pairs; see :meth:`add_fields`.
        quote_fields: In multipart, percent-escape ``"``, CR and LF in names and
            filenames, as browsers do (RFC 7578 §4.2). When False, a name or filename
            holding one of them is a ValueError.
        charset: The charset of str values (and of the urlencoded body); UTF-8 by
            default. In multipart, text parts then say it in their Content-Type.

    Example::

        data = FormData()
        data.add_field("file", open("report.xls", "rb"), filename="report.xls",
                       content_type="application/vnd.ms-excel")
    """

    __slots__ = ("_charset", "_fields", "_is_multipart", "_quote_fields")

    def __init__(
        self, fields: FormFields = (), quote_fields: bool = True, charset: str | None = None
    ) -> None:
        self._fields: list[_Field] = []
        self._is_multipart = False
        self._quote_fields = quote_fields
        self._charset = charset
        if charset is not None:
            "".encode(charset)  # LookupError now, not when the form is sent
        if isinstance(fields, Mapping):
            self.add_fields(fields)
        else:
            self.add_fields(*fields)

    @property
    def is_multipart(self) -> bool:
        """True when the form will be sent as multipart/form-data."""
        return self._is_multipart

    @property
    def charset(self) -> str | None:
        """The charset given for str values, if any."""
        return self._charset

    def add_field(
        self,
        name: str,
        value: object,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        content_transfer_encoding: str | None = None,
    ) -> None:
        """Add one field.

        Args:
            name: The field name.
            value: A str or bytes (a plain field), a file object opened in binary or text
                mode, a :class:`Payload`, a StreamReader or an async iterable of bytes.
            content_type: The part's Content-Type; giving one makes the form multipart.
            filename: The part's filename; taken from a file object's name when not given
                (falling back to the field name).
            content_transfer_encoding: ``binary``, ``8bit``, ``7bit`` or ``base64``
                (then the part is sent base64-encoded). RFC 7578 §4.7 deprecates it.

        Raises:
            TypeError: When the name is not a str or the value is of no supported kind;
                the message names the field.
            ValueError: When a name, filename, content type or transfer encoding would
                break the part's headers.
        """
        if not isinstance(name, str):
            raise TypeError(f"form field name must be str, not {type(name).__name__}: {name!r}")
        if content_type is not None:
            check_header("Content-Type", content_type)
        if content_transfer_encoding is not None:
            check_header("Content-Transfer-Encoding", content_transfer_encoding)
            if content_transfer_encoding.strip().lower() not in (
                "binary",
                "8bit",
                "7bit",
                "base64",
            ):
                raise ValueError(
                    f"field {name!r}: content_transfer_encoding {content_transfer_encoding!r} "
                    "is not one of binary, 8bit, 7bit, base64"
                )
        if filename is not None and not isinstance(filename, str):
            raise TypeError(f"field {name!r}: filename must be str, not {type(filename).__name__}")
        plain: str | bytes | None = None
        payload: Payload | None = None
        if isinstance(value, str):
            plain = value
        elif isinstance(value, (bytes, bytearray, memoryview)):
            plain = bytes(value)
        else:
            if filename is None and is_file(value):
                filename = guess_filename(value, name)
            try:
                payload = simple_payload(value, content_type=content_type, filename=filename)
            except TypeError as exc:
                raise TypeError(f"field {name!r}: {exc}") from exc
            if payload is None:
                raise TypeError(
                    f"field {name!r}: a value of type {type(value).__name__} cannot be sent; "
                    "use str, bytes, a file object, a payload, a StreamReader or an async "
                    "iterable of bytes (convert numbers with str())"
                )
            if filename is None and payload.filename is not None:
                filename = payload.filename
        field = _Field(name, plain, payload, content_type, filename, content_transfer_encoding)
        # Check the headers now, so a bad name fails where it was added.
        self._disposition(field)
        self._fields.append(field)
        if (
            payload is not None
            or content_type is not None
            or filename is not None
            or content_transfer_encoding is not None
        ):
            self._is_multipart = True

    def add_fields(self, *fields: object) -> None:
        """Add several fields.

        Args:
            *fields: Each a mapping (its items are added; a MultiDict keeps repeated
                names), a ``(name, value)`` pair, a sequence of such pairs, or a file
                object (added under its file's base name).

        Raises:
            TypeError: For anything else, showing it.
        """
        pending: list[object] = list(fields)
        pending.reverse()
        while pending:
            item = pending.pop()
            if isinstance(item, Mapping):
                pending.extend(reversed(list(item.items())))
            elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                self.add_field(item[0], item[1])
            elif isinstance(item, (list, tuple)):
                pending.extend(reversed(item))
            elif is_file(item):
                name = guess_filename(item)
                if name is None:
                    raise TypeError(
                        f"cannot name a form field after {item!r}: it has no file name; "
                        "pass a (name, file) pair"
                    )
                self.add_field(name, item)
            else:
                raise TypeError(
                    f"cannot add {type(item).__name__} {item!r:.60} as form fields: expected a "
                    "mapping, a (name, value) pair, a list of pairs or a file object"
                )

    def _disposition(self, field: _Field) -> str:
        params = [("name", field.name)]
        if field.filename is not None:
            params.append(("filename", field.filename))
        try:
            return content_disposition(
                "form-data", params, form_data=True, quote_fields=self._quote_fields
            )
        except ValueError as exc:
            raise ValueError(f"field {field.name!r}: {exc}") from exc

    def build(self) -> Payload:
        """The body to send: urlencoded bytes, or a form-data :class:`MultipartWriter`.

        Each call gives a new body (a multipart one with a new boundary); file parts
        are the same payloads every time, each seeking back to where its file was
        when added.
        """
        if not self._is_multipart:
            charset = self._charset or "utf-8"
            pairs = [(f.name, f.value) for f in self._fields]
            return BytesPayload(
                urlencode_pairs(pairs, charset), content_type="application/x-www-form-urlencoded"
            )
        writer = MultipartWriter("form-data", quote_fields=self._quote_fields)
        for field in self._fields:
            headers: CIMultiDict[str] = CIMultiDict()
            headers["Content-Disposition"] = self._disposition(field)
            payload = field.payload
            if payload is None:
                if isinstance(field.value, str):
                    payload = StringPayload(
                        field.value, encoding=self._charset, content_type=field.content_type
                    )
                    if field.content_type is None and self._charset is not None:
                        headers["Content-Type"] = payload.content_type
                else:
                    assert field.value is not None
                    payload = BytesPayload(field.value, content_type=field.content_type)
                if field.content_type is not None:
                    headers["Content-Type"] = field.content_type
                elif field.filename is not None:
                    # A file part: say what it is, as browsers do (RFC 7578 §4.4).
                    headers["Content-Type"] = guess_type(field.filename, OCTET_STREAM)
            else:
                headers["Content-Type"] = field.content_type or payload.content_type
            if field.transfer_encoding is not None:
                headers["Content-Transfer-Encoding"] = field.transfer_encoding
            writer._add(payload, headers)
        return writer

    def __repr__(self) -> str:
        kind = "multipart/form-data" if self._is_multipart else "urlencoded"
        return f"<FormData {kind} fields={[f.name for f in self._fields]!r}>"
