"""The redirect policy, without sockets (RFC 9110 §15.4)."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpwire.client import InvalidURL
from httpwire.client._redirects import is_same_origin, next_hop, resolve_location

BASE = URL("http://example.org/a/b?x=1")


def headers(**fields: str) -> CIMultiDict[str]:
    return CIMultiDict((name.replace("_", "-"), value) for name, value in fields.items())


@pytest.mark.parametrize(
    ("status", "method", "expected", "keeps_body"),
    [
        (301, "POST", "GET", False),  # RFC 9110 §15.4.2 note
        (302, "POST", "GET", False),  # RFC 9110 §15.4.3 note
        (301, "PUT", "PUT", False),
        (302, "GET", "GET", False),
        (303, "POST", "GET", False),  # RFC 9110 §15.4.4
        (303, "PUT", "GET", False),
        (303, "DELETE", "GET", False),
        (303, "HEAD", "HEAD", False),
        (307, "POST", "POST", True),  # RFC 9110 §15.4.8
        (308, "PUT", "PUT", True),  # RFC 9110 §15.4.9
        (307, "GET", "GET", True),
    ],
)
def test_method_and_body_follow_the_status(
    status: int, method: str, expected: str, keeps_body: bool
) -> None:
    hop = next_hop(status, method, BASE, "/next", CIMultiDict())
    assert hop.method == expected
    assert hop.keep_body is keeps_body
    assert hop.url == URL("http://example.org/next")


def test_a_dropped_body_takes_its_fields_along() -> None:
    sent = headers(Content_Type="application/json", Content_Length="5", X_Keep="1")
    hop = next_hop(302, "POST", BASE, "/next", sent)
    assert "Content-Type" not in hop.headers
    assert "Content-Length" not in hop.headers
    assert hop.headers["X-Keep"] == "1"
    assert sent["Content-Type"] == "application/json"  # the caller's mapping is untouched


def test_a_kept_body_keeps_its_fields() -> None:
    sent = headers(Content_Type="application/json")
    hop = next_hop(307, "POST", BASE, "/next", sent)
    assert hop.headers["Content-Type"] == "application/json"


def test_relative_locations_resolve_against_the_redirected_url() -> None:
    """RFC 9110 §10.2.2: a relative reference is resolved against the target URI."""
    assert resolve_location(BASE, "c") == URL("http://example.org/a/c")
    assert resolve_location(BASE, "../c?y=2") == URL("http://example.org/c?y=2")
    assert resolve_location(BASE, "//other.org/x") == URL("http://other.org/x")
    assert resolve_location(BASE, "https://example.org/x") == URL("https://example.org/x")


def test_the_fragment_is_inherited_when_the_location_has_none() -> None:
    """RFC 9110 §10.2.2."""
    assert resolve_location(URL("http://h/a#top"), "/b") == URL("http://h/b#top")
    assert resolve_location(URL("http://h/a#top"), "/b#end") == URL("http://h/b#end")


@pytest.mark.parametrize(
    "location",
    ["ftp://example.org/file", "javascript:alert(1)", "mailto:a@b.c", "file:///etc/passwd"],
)
def test_a_location_of_another_scheme_is_refused(location: str) -> None:
    with pytest.raises(InvalidURL, match="is not followed") as info:
        next_hop(302, "GET", BASE, location, CIMultiDict())
    assert info.value.url == location


def test_credentials_in_a_location_are_not_used() -> None:
    assert resolve_location(BASE, "http://u:p@other.org/x") == URL("http://other.org/x")


@pytest.mark.parametrize(
    "target",
    [
        "http://other.org/x",  # host
        "http://example.org:8080/x",  # port
        "https://example.org/x",  # scheme
    ],
)
def test_credentials_never_leave_their_origin(target: str) -> None:
    sent = headers(Authorization="Basic dTpw", Cookie="a=1", Host="example.org", X_Other="kept")
    hop = next_hop(302, "GET", BASE, target, CIMultiDictProxy(sent))
    assert not hop.same_origin
    assert "Authorization" not in hop.headers
    assert "Cookie" not in hop.headers
    assert "Host" not in hop.headers
    assert hop.headers["X-Other"] == "kept"


def test_https_to_http_downgrade_drops_credentials() -> None:
    sent = headers(Authorization="Basic dTpw")
    hop = next_hop(301, "GET", URL("https://example.org/"), "http://example.org/", sent)
    assert "Authorization" not in hop.headers


def test_credentials_stay_within_the_origin() -> None:
    sent = headers(Authorization="Basic dTpw", Cookie="a=1")
    hop = next_hop(302, "GET", BASE, "/elsewhere", sent)
    assert hop.same_origin
    assert hop.headers is sent  # nothing to change: no copy


def test_same_origin_compares_scheme_host_and_port() -> None:
    """RFC 6454 §4; a default port is the same as the explicit one."""
    assert is_same_origin(URL("http://h/"), URL("http://h:80/x"))
    assert not is_same_origin(URL("http://h/"), URL("https://h/"))
    assert not is_same_origin(URL("http://h/"), URL("http://h:81/"))
    assert not is_same_origin(URL("http://h/"), URL("http://g/"))
