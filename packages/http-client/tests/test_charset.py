"""text()'s charset: declared, JSON's UTF-8, then detected; never guessed for nothing."""

from __future__ import annotations

import pytest

from httpwire.client._charset import charset_for, is_json_type


def test_the_declared_charset_wins() -> None:
    assert charset_for("text/html", "ISO-8859-1", "é".encode()) == "iso8859-1"


def test_an_unknown_declared_charset_falls_back_to_detection() -> None:
    assert charset_for("text/plain", "no-such-charset", b"plain ascii") == "utf-8"


@pytest.mark.parametrize(
    "media_type", ["application/json", "application/problem+json", "application/vnd.api+json"]
)
def test_json_types_are_utf8_without_guessing(media_type: str) -> None:
    """RFC 8259 §8.1: JSON text exchanged between systems is UTF-8."""
    latin1 = "señor, ¿qué tal? " * 50
    assert charset_for(media_type, None, latin1.encode("latin-1")) == "utf-8"


def test_an_empty_body_is_not_guessed() -> None:
    assert charset_for("text/plain", None, b"") == "utf-8"


def test_other_bodies_are_detected() -> None:
    text = "Привет, мир! Это проверка определения кодировки. " * 20
    assert charset_for("text/plain", None, text.encode("windows-1251")) == "cp1251"
    assert charset_for("text/plain", None, text.encode("utf-8")) == "utf-8"


def test_ascii_is_reported_as_utf8() -> None:
    assert charset_for("text/plain", None, b"just ascii") == "utf-8"


def test_json_type_recognition() -> None:
    """RFC 6839 §3.1: the +json structured syntax suffix."""
    assert is_json_type("application/json")
    assert is_json_type("application/ld+json")
    assert not is_json_type("text/json+x")
    assert not is_json_type("application/jsonx")
