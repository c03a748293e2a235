"""What data= and json= become (the payloads themselves are httpwire.forms')."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import pytest

from httpwire.client import FormData, StreamReader
from httpwire.client._bodies import make_body
from httpwire.forms import AsyncIterablePayload, FilePayload, Payload, StreamReaderPayload


def test_nothing() -> None:
    assert make_body(None, None, json.dumps, None) == (None, None)


def test_bytes_are_sent_as_they_are() -> None:
    assert make_body(b"\x00\x01", None, json.dumps, None) == (
        b"\x00\x01",
        "application/octet-stream",
    )


def test_str_is_utf8_unless_the_content_type_names_a_charset() -> None:
    assert make_body("é", None, json.dumps, None) == (b"\xc3\xa9", "text/plain; charset=utf-8")
    body, ctype = make_body("é", None, json.dumps, "text/plain; charset=latin-1")
    assert body == b"\xe9"
    assert ctype == "text/plain; charset=latin-1"


def test_json_uses_the_serializer() -> None:
    body, ctype = make_body(
        None, {"a": [1, "é"]}, lambda v: json.dumps(v, ensure_ascii=False), None
    )
    assert body == '{"a": [1, "é"]}'.encode()
    assert ctype == "application/json"


def test_json_serializer_must_return_str() -> None:
    with pytest.raises(TypeError, match="json_serialize must return str"):
        make_body(None, {}, lambda v: b"{}", None)  # type: ignore[arg-type, return-value]  # the point of the test


def test_data_and_json_together_are_refused() -> None:
    with pytest.raises(ValueError, match="data and json cannot be given together"):
        make_body(b"x", {"a": 1}, json.dumps, None)


def test_a_dict_is_urlencoded() -> None:
    body, ctype = make_body({"key1": "value1", "key2": "value2"}, None, json.dumps, None)
    assert ctype == "application/x-www-form-urlencoded"
    assert isinstance(body, Payload)
    assert body.size == len("key1=value1&key2=value2")


def test_a_dict_with_a_file_is_multipart() -> None:
    _, ctype = make_body({"file": io.BytesIO(b"abc")}, None, json.dumps, None)
    assert ctype is not None and ctype.startswith("multipart/form-data; boundary=")


def test_formdata_a_file_a_stream_and_an_async_iterable() -> None:
    form = FormData()
    form.add_field("a", "1")
    assert make_body(form, None, json.dumps, None)[1] == "application/x-www-form-urlencoded"
    assert isinstance(make_body(io.BytesIO(b"abc"), None, json.dumps, None)[0], FilePayload)
    assert isinstance(make_body(StreamReader(), None, json.dumps, None)[0], StreamReaderPayload)

    async def gen() -> AsyncIterator[bytes]:
        yield b"x"

    assert isinstance(make_body(gen(), None, json.dumps, None)[0], AsyncIterablePayload)


def test_an_unsupported_type_is_named() -> None:
    with pytest.raises(TypeError, match="type int"):
        make_body(42, None, json.dumps, None)
