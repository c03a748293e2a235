"""BasicAuth (RFC 7617)."""

from __future__ import annotations

import base64

import pytest
from yarl import URL

from httpwire.connectors import BasicAuth


def test_encode_matches_rfc_7617_example() -> None:
    # RFC 7617 §2: Aladdin / open sesame.
    assert BasicAuth("Aladdin", "open sesame").encode() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_default_encoding_is_latin1_and_utf8_is_available() -> None:
    assert BasicAuth("bj\xf6rn", "x").encode() == "Basic " + base64.b64encode(
        b"bj\xf6rn:x"
    ).decode("ascii")
    assert BasicAuth("\u0436", "x", encoding="utf-8").encode() == "Basic " + base64.b64encode(
        "\u0436:x".encode()
    ).decode("ascii")


def test_unencodable_credentials_are_rejected_with_advice() -> None:
    with pytest.raises(ValueError, match=r"cannot be encoded as 'latin1'.*encoding='utf-8'"):
        BasicAuth("\u0436", "x")


def test_colon_in_login_is_rejected() -> None:
    # RFC 7617 §2: a user-id containing a colon character is invalid.
    with pytest.raises(ValueError, match=r"login 'a:b' contains ':'.*RFC 7617 §2"):
        BasicAuth("a:b", "pw")


def test_colon_in_password_is_fine_and_round_trips() -> None:
    auth = BasicAuth("user", "pa:ss:word")
    assert BasicAuth.decode(auth.encode()) == auth


def test_control_characters_in_the_login_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"login 'bad\\r\\nvalue' contains a control"):
        BasicAuth("bad\r\nvalue", "pw")


def test_control_characters_in_the_password_are_rejected_without_quoting_it() -> None:
    """RFC 7617 §2 forbids control characters; the message names the field, not the secret."""
    with pytest.raises(ValueError, match=r"password contains a control character") as info:
        BasicAuth("user", "s3cret-pass\n")
    assert "s3cret" not in str(info.value)
    assert "position 11" in str(info.value)


def test_non_str_login_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="login must be a str, not bytes"):
        BasicAuth(b"user")  # type: ignore[arg-type]  # the error under test


def test_repr_hides_the_password() -> None:
    assert "secret" not in repr(BasicAuth("user", "secret"))


def test_is_hashable_and_immutable() -> None:
    auth = BasicAuth("user", "pw")
    assert {auth: 1}[BasicAuth("user", "pw")] == 1
    with pytest.raises(AttributeError):
        auth.login = "other"  # type: ignore[misc]  # the error under test


def test_decode_accepts_any_case_of_scheme_and_surrounding_space() -> None:
    assert BasicAuth.decode("  basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ== ") == BasicAuth(
        "Aladdin", "open sesame"
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer abc", "uses the 'Bearer' scheme, not Basic"),
        ("Basic !!!", "are not valid base64"),
        ("Basic " + base64.b64encode(b"nocolon").decode(), "have no ':'"),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "not valid 'utf-8' text"),
    ],
)
def test_decode_rejects_bad_headers(header: str, message: str) -> None:
    encoding = "utf-8" if "not valid 'utf-8'" in message else "latin1"
    with pytest.raises(ValueError, match=message):
        BasicAuth.decode(header, encoding=encoding)


def test_from_url_percent_decodes() -> None:
    assert BasicAuth.from_url(URL("http://us%20er:p%40ss%3Aw@proxy:3128")) == BasicAuth(
        "us er", "p@ss:w"
    )
    assert BasicAuth.from_url("http://user@proxy") == BasicAuth("user", "")
    assert BasicAuth.from_url("http://proxy:3128") is None


def test_from_url_rejects_an_encoded_colon_in_the_user() -> None:
    with pytest.raises(ValueError, match="contains ':'"):
        BasicAuth.from_url("http://a%3Ab:pw@proxy")


@pytest.mark.parametrize("header", ["Bearer tok-s3cret", "Digest s3cret", "Basic s3cret!!"])
def test_decode_errors_never_quote_the_credentials(header: str) -> None:
    with pytest.raises(ValueError) as info:
        BasicAuth.decode(header)
    assert "s3cret" not in str(info.value)
    assert info.value.__context__ is None or "s3cret" not in str(info.value.__context__)


@pytest.mark.parametrize(
    "header",
    [
        "czNjcmV0OnMzY3JldA==",  # a bare base64 token, its scheme forgotten
        "s3cret-api-key",  # a bare key
        "  s3cret  ",
    ],
)
def test_a_value_without_a_scheme_is_not_quoted_as_one(header: str) -> None:
    """One word is a scheme without credentials or credentials without a scheme: it may be
    the secret, so only its length is named."""
    with pytest.raises(ValueError, match=r"has no scheme followed by credentials") as info:
        BasicAuth.decode(header)
    assert header.strip() not in str(info.value) and "s3cret" not in str(info.value)
    assert f"of {len(header.strip())} characters" in str(info.value)


def test_an_unencodable_password_is_named_not_quoted() -> None:
    with pytest.raises(ValueError) as info:
        BasicAuth("user", "s3cr\u20acet")
    assert str(info.value) == (
        "BasicAuth password cannot be encoded as 'latin1': ordinal not in range(256) at "
        "position 4; pass encoding='utf-8'"
    )
    assert "\u20ac" not in str(info.value) and info.value.__context__ is None


@pytest.mark.parametrize(
    "header",
    [
        "Basic czNjcmV0\u00e9",  # not ASCII: the ascii codec's error would hold the token
        "Basic " + base64.b64encode(b"user:s3cret\xff").decode(),  # not UTF-8
    ],
)
def test_no_codec_error_with_the_credentials_stays_reachable(header: str) -> None:
    """Not in the message, and not in ``__context__`` either (``from None`` only hides it
    from tracebacks): the error is raised outside the ``except`` block."""
    with pytest.raises(ValueError) as info:
        BasicAuth.decode(header, encoding="utf-8")
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert "s3cret" not in str(info.value) and "czNjcmV0" not in str(info.value)
