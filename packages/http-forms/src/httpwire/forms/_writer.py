"""MultipartWriter: parts, their headers, and streaming serialization (RFC 2046 §5.1).

The body is produced piece by piece: each part's delimiter and header block,
then the part's payload as it yields, then the close delimiter. Small in-memory
parts are joined with the delimiters around them into one piece, so a form of
short fields costs one bytes object; a file part is passed through in the
pieces its payload reads. The writer is itself a :class:`Payload`, so writers
nest, and its ``size`` is exact whenever every part knows its own.

No part may hold the delimiter (RFC 2046 §5.1.1). In-memory parts are checked
when appended. With a boundary the caller chose, every streamed part (a nested
writer's whole output too) is scanned as it is sent and the body stops before a
forged delimiter goes out (see ``_delimiters``). A random boundary is not
scanned: content written without knowing it cannot hold it. Each writer decides
for its own boundary, so a nested writer with a chosen boundary scans its parts
even inside a writer with a random one.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from ._delimiters import DelimiterScan
from ._errors import BoundaryInContentError, PayloadError
from ._headers import check_header, content_disposition, format_content_type, validate_boundary
from ._payloads import BytesPayload, JsonPayload, Payload
from ._values import simple_payload

__all__ = ["MultipartWriter", "Part", "urlencode_pairs"]

_TRANSFER_ENCODINGS = ("binary", "8bit", "7bit", "base64")
# Pieces smaller than this are joined with their neighbours before being yielded.
_JOIN_BELOW = 64 * 1024
# base64 lines hold 57 bytes (76 characters, RFC 2045 §6.8); encode whole lines.
_B64_LINE = 57
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def urlencode_pairs(pairs: Iterable[tuple[str, object]], charset: str = "utf-8") -> bytes:
    """Encode pairs as application/x-www-form-urlencoded (spaces as '+')."""
    return urllib.parse.urlencode(list(pairs), doseq=False, encoding=charset).encode("ascii")


class Part:
    """One part of a :class:`MultipartWriter`: a payload and its headers.

    Attributes:
        payload: What the part's body is made of.
    """

    __slots__ = ("_headers", "_writer", "payload")

    def __init__(self, writer: MultipartWriter, payload: Payload, headers: CIMultiDict[str]):
        self._writer = writer
        self.payload = payload
        self._headers = headers

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The part's headers (read-only; change them with :meth:`set_header`)."""
        return CIMultiDictProxy(self._headers)

    @property
    def transfer_encoding(self) -> str | None:
        """The lowercased Content-Transfer-Encoding, if the part has one."""
        value = self._headers.get("Content-Transfer-Encoding")
        return value.strip().lower() if value is not None else None

    def set_header(self, name: str, value: str) -> None:
        """Set (replace) a header of this part.

        Raises:
            ValueError: If the name is not a token, the value holds CR, LF or NUL, or
                a Content-Transfer-Encoding is not one the writer can apply.
        """
        _check_part_header(name, value)
        self._writer._check_header_name(name, self._writer._parts.index(self))
        self._headers[name] = value
        self._writer._refresh()

    def set_content_disposition(
        self, disptype: str, *, quote_fields: bool | None = None, **params: str
    ) -> None:
        """Set the Content-Disposition header, quoting the parameters as the subtype requires.

        In ``multipart/form-data`` names and filenames follow RFC 7578 §4.2 (UTF-8 in a
        quoted string, ``"``, CR and LF percent-escaped); elsewhere a value that is not
        printable ASCII is written as an RFC 8187 ``name*`` parameter.

        Args:
            disptype: ``form-data``, ``attachment``, ``inline``...
            quote_fields: Percent-escape ``"``, CR and LF in form-data (default: the
                writer's setting).
            **params: The parameters, e.g. ``name="field", filename="a.txt"``.
        """
        if quote_fields is None:
            quote_fields = self._writer.quote_fields
        value = content_disposition(
            disptype,
            params.items(),
            form_data=self._writer.subtype == "form-data",
            quote_fields=quote_fields,
        )
        self._headers["Content-Disposition"] = value
        self._writer._refresh()

    @property
    def size(self) -> int | None:
        """Bytes of the part's body as sent (after any base64), or None when unknown."""
        size = self.payload.size
        if size is None:
            return None
        if self.transfer_encoding == "base64":
            lines = (size + _B64_LINE - 1) // _B64_LINE
            return 4 * ((size + 2) // 3) + 2 * lines
        return size

    def _head(self, boundary: bytes, first: bool) -> bytes:
        lines = "".join(f"{name}: {value}\r\n" for name, value in self._headers.items())
        delimiter = b"--" if first else b"\r\n--"
        return delimiter + boundary + b"\r\n" + lines.encode("utf-8") + b"\r\n"

    def _describe(self, index: int) -> str:
        """The part for an error message: its index and Content-Disposition (bounded)."""
        headers = self._headers
        shown = headers.get("Content-Disposition") or headers.get("Content-Type") or ""
        if len(shown) > 80:
            shown = shown[:80] + "..."
        return f"part {index} ({shown!r})"

    def __repr__(self) -> str:
        return f"<Part {self.payload!r} headers={list(self._headers.items())!r}>"


def _check_part_header(name: str, value: str) -> None:
    check_header(name, value)
    if (
        name.lower() == "content-transfer-encoding"
        and value.strip().lower() not in _TRANSFER_ENCODINGS
    ):
        raise ValueError(
            f"Content-Transfer-Encoding {value[:40]!r} is not supported: use one of "
            f"{', '.join(_TRANSFER_ENCODINGS)} (RFC 7578 §4.7 deprecates it in forms)"
        )


class MultipartWriter(Payload):
    """A multipart body (RFC 2046 §5.1), built from parts and streamed when sent.

    Args:
        subtype: The multipart subtype: ``mixed``, ``form-data``, ``related``...
        boundary: The boundary; by default 32 random hex digits from :mod:`secrets`,
            which in practice cannot occur in the content. A boundary you give must
            follow RFC 2046 §5.1.1, and every part is then checked for it: bytes and
            str parts when appended, streamed parts while the body is sent
            (:class:`BoundaryInContentError` stops the body before the delimiter).
        quote_fields: In ``form-data``, percent-escape ``"``, CR and LF in names and
            filenames (RFC 7578 §4.2); when False such a name is a ValueError.

    Raises:
        ValueError: On an invalid boundary or subtype, naming it.

    Example::

        writer = MultipartWriter("mixed")
        writer.append("hello")
        writer.append_json({"a": 1})
        async for piece in writer: ...
    """

    __slots__ = ("_boundary", "_parts", "_scan", "quote_fields", "subtype")

    def __init__(
        self, subtype: str = "mixed", boundary: str | None = None, *, quote_fields: bool = True
    ) -> None:
        if not isinstance(subtype, str) or not subtype or not _is_token(subtype):
            raise ValueError(f"multipart subtype {subtype!r} is not a token (RFC 2046 §5.1)")
        # Content cannot be made to hold a random boundary; a chosen one is searched for.
        self._scan = boundary is not None
        if boundary is None:
            import secrets  # only for a random boundary: kept off the import path

            boundary = secrets.token_hex(16)
        validate_boundary(boundary)
        self.subtype = subtype.lower()
        self.quote_fields = quote_fields
        self._boundary = boundary
        self._parts: list[Part] = []
        content_type = format_content_type(f"multipart/{self.subtype}", {"boundary": boundary})
        super().__init__(size=0, reusable=True, content_type=content_type, filename=None)
        self._refresh()

    @property
    def boundary(self) -> str:
        """The boundary string (without the leading ``--``)."""
        return self._boundary

    @property
    def parts(self) -> tuple[Part, ...]:
        """The parts, in order."""
        return tuple(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __iter__(self) -> Iterator[Part]:
        return iter(self._parts)

    def append(self, obj: object, headers: Mapping[str, str] | None = None) -> Part:
        """Add a part made from a value.

        Args:
            obj: A :class:`Payload` (a nested MultipartWriter too), bytes, str, a file
                object, a StreamReader or an async iterable of bytes.
            headers: Headers of the part; Content-Type defaults to the payload's.

        Returns:
            The new part.

        Raises:
            TypeError: When *obj* is of no supported kind.
            ValueError: On a header that is not a token or would inject another one.
        """
        payload = simple_payload(obj)
        if payload is None:
            raise TypeError(
                f"cannot make a multipart part of {type(obj).__name__}: expected a payload, "
                "bytes, str, a file, a StreamReader or an async iterable of bytes"
            )
        return self.append_payload(payload, headers)

    def append_payload(self, payload: Payload, headers: Mapping[str, str] | None = None) -> Part:
        """Add a part whose body is *payload*; Content-Type defaults to the payload's."""
        hdrs: CIMultiDict[str] = CIMultiDict()
        if headers:
            for name, value in headers.items():
                _check_part_header(name, value)
                hdrs.add(name, value)
        if "Content-Type" not in hdrs:
            hdrs["Content-Type"] = payload.content_type
        return self._add(payload, hdrs)

    def append_json(self, obj: Any, headers: Mapping[str, str] | None = None) -> Part:
        """Add a part holding *obj* serialized as JSON (``application/json``)."""
        return self.append_payload(JsonPayload(obj), headers)

    def append_form(
        self,
        obj: Mapping[str, object] | Iterable[tuple[str, object]],
        headers: Mapping[str, str] | None = None,
    ) -> Part:
        """Add a part holding *obj* as ``application/x-www-form-urlencoded``.

        Args:
            obj: A mapping (a MultiDict keeps repeated keys) or pairs.
            headers: Headers of the part.
        """
        pairs = obj.items() if isinstance(obj, Mapping) else obj
        body = urlencode_pairs(pairs)
        payload = BytesPayload(body, content_type="application/x-www-form-urlencoded")
        return self.append_payload(payload, headers)

    def _add(self, payload: Payload, headers: CIMultiDict[str]) -> Part:
        """Add a part with exactly these headers (checked here once more, since a
        payload's content type is an attribute anyone may have changed)."""
        for header, header_value in headers.items():
            _check_part_header(header, header_value)
            self._check_header_name(header, len(self._parts))
        if payload is self:
            raise ValueError("a MultipartWriter cannot contain itself")
        if isinstance(payload, MultipartWriter):
            self._check_nested(payload)
        if isinstance(payload, BytesPayload):
            # The delimiter is CRLF "--" boundary; a part starting with "--" boundary
            # would also close early, since the header block ends with CRLF.
            value = payload.value
            delimiter = b"--" + self._boundary.encode("ascii")
            if value.startswith(delimiter):
                at = 0
            else:
                at = value.find(b"\r\n" + delimiter)
                at = at + 2 if at != -1 else -1
            if at != -1:
                raise BoundaryInContentError(
                    f"the boundary {self._boundary!r} occurs in the content of part "
                    f"{len(self._parts)} (a delimiter line at byte {at}): choose another "
                    "(RFC 2046 §5.1.1)",
                    part=len(self._parts),
                    offset=at,
                )
        part = Part(self, payload, headers)
        self._parts.append(part)
        self._refresh()
        return part

    def _check_header_name(self, name: str, index: int) -> None:
        """Refuse a header name that would begin a delimiter line (RFC 2046 §5.1.1).

        A header name is a token, and ``-`` is a token character, so a name such as
        ``--<boundary>`` would start a line of the header block with the delimiter.
        """
        if name.startswith("--" + self._boundary):
            raise BoundaryInContentError(
                f"the header name {name[:80]!r} of part {index} begins with the delimiter "
                f"'--{self._boundary}' (RFC 2046 §5.1.1)",
                part=index,
                offset=0,
            )

    def _check_nested(self, inner: MultipartWriter) -> None:
        """Refuse a nested body whose delimiters would read as ours (RFC 2046 §5.1.2)."""
        stack = [inner]
        while stack:
            writer = stack.pop()
            if writer is self:
                raise ValueError("a MultipartWriter cannot contain itself")
            if writer.boundary.startswith(self._boundary):
                raise ValueError(
                    f"a nested multipart's boundary {writer.boundary!r} starts with the "
                    f"enclosing one {self._boundary!r}: its delimiter lines would end the "
                    "enclosing part (RFC 2046 §5.1.2)"
                )
            stack.extend(
                p.payload for p in writer._parts if isinstance(p.payload, MultipartWriter)
            )

    def _refresh(self) -> None:
        """Recompute size and reusability after a change to the parts."""
        boundary = self._boundary.encode("ascii")
        total: int | None = len(self._closing(boundary, not self._parts))
        reusable = True
        for index, part in enumerate(self._parts):
            reusable = reusable and part.payload.reusable
            size = part.size
            if total is None or size is None:
                total = None
            else:
                total += len(part._head(boundary, index == 0)) + size
        self.size = total
        self.reusable = reusable

    @staticmethod
    def _closing(boundary: bytes, empty: bool) -> bytes:
        return (b"--" if empty else b"\r\n--") + boundary + b"--\r\n"

    async def _iterate(self) -> AsyncIterator[bytes]:
        boundary = self._boundary.encode("ascii")
        pending: list[bytes] = []
        pending_size = 0
        for index, part in enumerate(self._parts):
            head = part._head(boundary, index == 0)
            pending.append(head)
            pending_size += len(head)
            payload = part.payload
            base64_coded = part.transfer_encoding == "base64"
            if isinstance(payload, BytesPayload) and not base64_coded:
                value = payload.value
                if pending_size + len(value) < _JOIN_BELOW:
                    pending.append(value)
                    pending_size += len(value)
                    continue
                pending.append(value)
                yield b"".join(pending)
                pending.clear()
                pending_size = 0
                continue
            yield b"".join(pending)
            pending.clear()
            pending_size = 0
            sent = 0
            if base64_coded:  # base64 lines never hold "--": nothing to scan
                async for piece in _base64_pieces(payload):
                    sent += len(piece)
                    yield piece
            elif not self._scan:
                async for piece in payload:
                    sent += len(piece)
                    yield piece
            else:
                scan = DelimiterScan(boundary, index, f"{part._describe(index)} of {self!r}")
                async for piece in payload:
                    sent += len(piece)
                    if out := scan.feed(piece):
                        yield out
                if rest := scan.flush():
                    pending.append(rest)
                    pending_size += len(rest)
            expected = part.size
            if expected is not None and sent != expected:
                raise PayloadError(
                    f"part {index} of {self!r} yielded {sent} bytes, not the {expected} "
                    "its payload announced"
                )
        pending.append(self._closing(boundary, not self._parts))
        yield b"".join(pending)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    def __repr__(self) -> str:
        return f"<MultipartWriter {self.content_type!r} parts={len(self._parts)} size={self.size}>"


async def _base64_pieces(payload: Payload) -> AsyncIterator[bytes]:
    """Base64 of a payload's bytes in CRLF-ended lines of 76 characters (RFC 2045 §6.8)."""
    carry = b""
    async for piece in payload:
        data = carry + piece if carry else piece
        cut = len(data) - len(data) % _B64_LINE
        carry = data[cut:]
        if cut:
            yield base64.encodebytes(data[:cut]).replace(b"\n", b"\r\n")
    if carry:
        yield base64.encodebytes(carry).replace(b"\n", b"\r\n")


def _is_token(value: str) -> bool:
    return _TOKEN.fullmatch(value) is not None
