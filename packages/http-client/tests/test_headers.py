"""Default headers, merging, and the refusal of CR, LF and NUL (RFC 9110 §5.5)."""

from __future__ import annotations

import pytest

from httpwire.client import __version__
from httpwire.client._headers import (
    accept_encoding,
    check_headers,
    default_headers,
    merge_headers,
    session_headers,
)
from httpwire.parser import supported_codings


def test_defaults() -> None:
    headers = session_headers(None, None)
    assert headers["Accept"] == "*/*"
    assert headers["User-Agent"] == f"httpwire/{__version__}"
    assert headers["Accept-Encoding"] == accept_encoding()


def test_sessions_without_headers_share_one_read_only_mapping() -> None:
    shared = session_headers(None, None)
    assert session_headers({}, ()) is shared
    assert list(shared.items()) == [(str(n), v) for n, v in default_headers()]
    with pytest.raises(TypeError):
        shared["Accept"] = "text/html"  # type: ignore[index]  # a proxy cannot be written
    # A session's own headers, or skipped defaults, get a mapping of their own.
    assert session_headers({"X-A": "1"}, None) is not shared
    assert session_headers(None, ["Accept"]) is not shared
    assert shared["Accept"] == "*/*"


def test_accept_encoding_lists_only_the_installed_decoders() -> None:
    listed = accept_encoding().split(", ")
    assert listed[:2] == ["gzip", "deflate"]
    assert set(listed) <= set(supported_codings())
    assert ("br" in listed) == ("br" in supported_codings())


def test_session_headers_replace_defaults_case_insensitively() -> None:
    headers = session_headers({"accept": "text/html", "X-A": "1"}, None)
    assert headers.getall("Accept") == ["text/html"]
    assert headers["x-a"] == "1"


def test_skip_auto_headers() -> None:
    headers = session_headers(None, ["user-agent", "Accept-Encoding"])
    assert "User-Agent" not in headers
    assert "Accept-Encoding" not in headers
    assert headers["Accept"] == "*/*"


def test_request_headers_replace_every_value_of_a_name() -> None:
    base = session_headers([("X-Many", "1"), ("X-Many", "2"), ("X-Kept", "k")], None)
    merged = merge_headers(base, check_headers({"x-many": "3"}))
    assert merged.getall("X-Many") == ["3"]
    assert merged["X-Kept"] == "k"


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "a\nb", "a\x00b"])
def test_cr_lf_nul_in_a_value_is_refused_without_showing_it(bad: str) -> None:
    """RFC 9110 §5.5: field values never contain CR, LF or NUL."""
    with pytest.raises(ValueError, match=r"the value of header 'Authorization' contains") as info:
        check_headers({"Authorization": bad})
    assert bad not in str(info.value)
    assert "RFC 9110 §5.5" in str(info.value)


def test_cr_lf_in_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="header name"):
        session_headers({"X-A\r\nX-B": "1"}, None)


def test_non_str_values_are_refused() -> None:
    with pytest.raises(TypeError, match="must be str"):
        session_headers([("X-A", 1)], None)  # type: ignore[list-item]  # the point of the test
