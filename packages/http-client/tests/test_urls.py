"""Methods and URLs, checked before anything is sent."""

from __future__ import annotations

import pytest
from multidict import MultiDict
from yarl import URL

from httpwire.client import InvalidURL
from httpwire.client._urls import build_url, check_base_url, check_method


@pytest.mark.parametrize(
    ("given", "sent"),
    [("get", "GET"), ("Post", "POST"), ("PROPFIND", "PROPFIND"), ("m-search", "M-SEARCH")],
)
def test_methods_are_case_insensitive_tokens(given: str, sent: str) -> None:
    assert check_method(given) == sent


@pytest.mark.parametrize("method", ["", "GE T", "GET\r\n", "GET/", "GÉT", "(GET)"])
def test_a_method_that_is_not_a_token_is_refused(method: str) -> None:
    """RFC 9110 §9.1: method = token."""
    with pytest.raises(ValueError, match=r"invalid method .*RFC 9110 §9.1"):
        check_method(method)


def test_params_as_a_dict_keep_their_order() -> None:
    url = build_url("http://h/get", {"key1": "value1", "key2": "value2"})
    assert str(url) == "http://h/get?key1=value1&key2=value2"


def test_params_as_pairs_keep_repeated_keys_in_order() -> None:
    url = build_url("http://h/get", [("key", "value1"), ("key", "value2")])
    assert str(url) == "http://h/get?key=value1&key=value2"


def test_params_as_a_multidict_and_as_a_string() -> None:
    assert build_url("http://h/", MultiDict([("a", "1"), ("a", "2")])).query_string == "a=1&a=2"
    assert build_url("http://h/", "a=1&b=2").query_string == "a=1&b=2"


def test_params_are_appended_to_the_query_in_the_url() -> None:
    params: dict[str, str | int] = {"y": "1", "n": 2}
    url = build_url("http://h/get?x=0", params)
    assert str(url) == "http://h/get?x=0&y=1&n=2"


def test_params_are_encoded() -> None:
    url = build_url("http://h/", {"q": "a b&c=d/é"})
    assert url.raw_query_string == "q=a+b%26c%3Dd/%C3%A9"


def test_hosts_are_idna_encoded() -> None:
    assert build_url("http://пример.рф/").raw_host == "xn--e1afmkfd.xn--p1ai"


def test_relative_urls_join_the_base_url() -> None:
    base = check_base_url("http://h/api/")
    assert build_url("items/1", base_url=base) == URL("http://h/api/items/1")
    assert build_url("/root", base_url=base) == URL("http://h/root")
    assert build_url("http://other/x", base_url=base) == URL("http://other/x")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://h/file", "scheme 'ftp' is not supported"),
        ("/relative", "needs the session's base_url"),
        ("http:///nohost", "has no host"),
        ("http://[::1/", "cannot be parsed"),
    ],
)
def test_urls_that_cannot_be_requested_raise_invalid_url(url: str, reason: str) -> None:
    with pytest.raises(InvalidURL, match=reason) as info:
        build_url(url)
    assert info.value.url == url
    assert isinstance(info.value, ValueError)


def test_a_base_url_must_be_absolute_http() -> None:
    with pytest.raises(InvalidURL, match="base_url"):
        check_base_url("/api/")


def test_an_absolute_url_is_checked_once_and_then_served_from_the_cache() -> None:
    first = build_url("http://cached.example/path?a=1")
    assert build_url("http://cached.example/path?a=1") is first
    # Parameters are still appended to the cached URL, and a relative URL still joins the
    # base it is given (it is never served from the absolute URLs' cache).
    assert str(build_url("http://cached.example/path?a=1", {"b": "2"})) == (
        "http://cached.example/path?a=1&b=2"
    )
    assert str(build_url("path", None, URL("http://one.example/"))) == "http://one.example/path"
    assert str(build_url("path", None, URL("http://two.example/"))) == "http://two.example/path"


def test_a_url_that_failed_its_checks_fails_every_time() -> None:
    for _ in range(2):
        with pytest.raises(InvalidURL, match="not supported"):
            build_url("ftp://cached.example/")


async def test_a_method_that_is_not_str_is_a_type_error_through_the_session() -> None:
    from httpwire.client import ClientSession

    async with ClientSession() as session:
        for method in (["GET"], 3):
            with pytest.raises(TypeError, match="method must be str"):
                await session.request(method, "http://127.0.0.1:1/")  # type: ignore[arg-type]  # the wrong type is the point
