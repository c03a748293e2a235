"""The cookie rules without a jar: Set-Cookie parsing, cookie dates, domain and path matching."""

from __future__ import annotations

import calendar
import email.utils
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpwire.client._cookies import (
    MAX_ATTRIBUTE_SIZE,
    MAX_COOKIE_SIZE,
    default_path,
    domain_match,
    is_ip_address,
    parse_cookie_date,
    parse_set_cookie,
    path_match,
    validate_name_value,
)

# -- parse_set_cookie (RFC 6265 §5.2) ---------------------------------------------------------


def test_name_value_and_attributes_are_parsed() -> None:
    morsel = parse_set_cookie(
        "sid=31d4; Path=/docs; Domain=example.com; Secure; HttpOnly; SameSite=Lax; Max-Age=60"
    )
    assert morsel is not None
    assert (morsel.key, morsel.value, morsel.coded_value) == ("sid", "31d4", "31d4")
    assert morsel["path"] == "/docs"
    assert morsel["domain"] == "example.com"
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["max-age"] == "60"


def test_quoted_value_is_unquoted_but_sent_back_as_received() -> None:
    # RFC 6265 §4.1.1 cookie-value may be DQUOTEd; §5.4 sends the value as it was stored.
    morsel = parse_set_cookie('sid="31 d4"')
    assert morsel is not None
    assert morsel.value == "31 d4"
    assert morsel.coded_value == '"31 d4"'


def test_pair_without_equals_is_ignored_rfc6265_5_2_step_2() -> None:
    assert parse_set_cookie("sid") is None
    assert parse_set_cookie("sid; Path=/") is None


def test_empty_name_is_ignored_rfc6265_5_2_step_5() -> None:
    assert parse_set_cookie("=value") is None
    assert parse_set_cookie("  =value; Path=/") is None


def test_whitespace_around_name_and_value_is_stripped_rfc6265_5_2_step_4() -> None:
    morsel = parse_set_cookie(" \tsid \t= \t31d4 \t; \t Path \t= \t/a \t")
    assert morsel is not None
    assert (morsel.key, morsel.coded_value, morsel["path"]) == ("sid", "31d4", "/a")


def test_value_keeps_equals_signs_and_may_be_empty() -> None:
    morsel = parse_set_cookie("token=a=b==; Path=/")
    assert morsel is not None and morsel.value == "a=b=="
    empty = parse_set_cookie("gone=")
    assert empty is not None and empty.value == ""


def test_attribute_names_are_case_insensitive_and_the_last_wins_rfc6265_5_3() -> None:
    morsel = parse_set_cookie("a=1; PATH=/one; path=/two; MAX-AGE=5; max-age=7; SECURE")
    assert morsel is not None
    assert morsel["path"] == "/two"
    assert morsel["max-age"] == "7"
    assert morsel["secure"] is True


def test_unknown_attributes_are_ignored() -> None:
    morsel = parse_set_cookie("a=1; Priority=High; Partitioned; Comment=x=y")
    assert morsel is not None
    assert morsel["comment"] == ""


@pytest.mark.parametrize("value", ["", "abc", "1.5", "+5", "5s", "--1", "0x10"])
def test_invalid_max_age_is_ignored_rfc6265_5_2_2(value: str) -> None:
    morsel = parse_set_cookie(f"a=1; Max-Age={value}")
    assert morsel is not None and morsel["max-age"] == ""


@pytest.mark.parametrize("value", ["0", "-1", "86400"])
def test_valid_max_age_is_kept_rfc6265_5_2_2(value: str) -> None:
    morsel = parse_set_cookie(f"a=1; Max-Age={value}")
    assert morsel is not None and morsel["max-age"] == value


def test_invalid_expires_is_ignored_rfc6265_5_2_1() -> None:
    morsel = parse_set_cookie("a=1; Expires=tomorrow")
    assert morsel is not None and morsel["expires"] == ""


def test_domain_loses_its_leading_dot_and_is_lowercased_rfc6265_5_2_3() -> None:
    morsel = parse_set_cookie("a=1; Domain=.Example.COM")
    assert morsel is not None and morsel["domain"] == "example.com"


def test_empty_domain_is_ignored_rfc6265_5_2_3() -> None:
    morsel = parse_set_cookie("a=1; Domain=example.com; Domain=")
    assert morsel is not None and morsel["domain"] == "example.com"


@pytest.mark.parametrize("path", ["", "docs", "docs/a"])
def test_empty_or_relative_path_means_the_default_path_rfc6265_5_2_4(path: str) -> None:
    # The default path needs the request URL: the attribute is left empty for the jar.
    morsel = parse_set_cookie(f"a=1; Path=/x; Path={path}")
    assert morsel is not None and morsel["path"] == ""


@pytest.mark.parametrize(
    ("given", "kept"), [("strict", "Strict"), ("LAX", "Lax"), ("None", "None"), ("bogus", "")]
)
def test_samesite_is_normalised_or_ignored(given: str, kept: str) -> None:
    morsel = parse_set_cookie(f"a=1; SameSite={given}")
    assert morsel is not None and morsel["samesite"] == kept


@pytest.mark.parametrize(
    "header", ["a=1\x00", "a=x\x01y", "a\x7f=1", "a=\r\n1", "a=1\x1f; Path=/"]
)
def test_control_characters_refuse_the_cookie_rfc6265bis_5_6(header: str) -> None:
    assert parse_set_cookie(header) is None


def test_horizontal_tab_inside_a_value_is_kept() -> None:
    morsel = parse_set_cookie("a=x\ty")
    assert morsel is not None and morsel.value == "x\ty"


@pytest.mark.parametrize(
    "name", ["a b", "a,b", "a(b)", "a/b", "a@b", "a[0]", 'a"b', "a\\b", "ünï", "path", "Version"]
)
def test_names_beyond_tokens_and_morsel_reserved_names_are_kept_rfc6265_5_2(name: str) -> None:
    # RFC 6265 §5.2 accepts any name; Morsel.set would refuse these, new_morsel does not.
    morsel = parse_set_cookie(f"{name}=1; Path=/p")
    assert morsel is not None
    assert (morsel.key, morsel.value, morsel["path"]) == (name, "1", "/p")


@pytest.mark.parametrize(
    ("name", "coded_value", "reason"),
    [
        ("", "1", "empty name"),
        ("a=b", "1", "';' or '='"),
        ("a;b", "1", "';' or '='"),
        ("a", "1;2", "';' or '='"),
        (" a", "1", "whitespace around the name"),
        ("a\x01", "1", "control character"),
        ("a", "\ud800", "cannot be encoded"),
    ],
)
def test_pairs_that_would_break_the_cookie_field_are_invalid(
    name: str, coded_value: str, reason: str
) -> None:
    assert reason in (validate_name_value(name, coded_value) or "")


def test_size_limit_counts_name_and_value_bytes_rfc6265_6_1() -> None:
    name = "n" * 96
    assert parse_set_cookie(f"{name}={'v' * (MAX_COOKIE_SIZE - 96)}") is not None
    assert parse_set_cookie(f"{name}={'v' * (MAX_COOKIE_SIZE - 95)}") is None
    # UTF-8 bytes count, not characters.
    assert parse_set_cookie(f"{name}={'é' * ((MAX_COOKIE_SIZE - 96) // 2 + 1)}") is None


def test_oversized_attribute_is_ignored_rfc6265bis_5_6() -> None:
    at_limit = "/" + "p" * (MAX_ATTRIBUTE_SIZE - 1)
    morsel = parse_set_cookie(f"a=1; Path={at_limit}")
    assert morsel is not None and morsel["path"] == at_limit
    morsel = parse_set_cookie(f"a=1; Path=/ok; Path={at_limit}p")
    assert morsel is not None and morsel["path"] == "/ok"


def test_value_with_an_unencodable_surrogate_is_refused() -> None:
    # Header values are decoded with surrogateescape: \udc80-\udcff are bytes, others are not.
    assert parse_set_cookie("a=\udcff") is not None
    assert parse_set_cookie("a=\ud800") is None


@pytest.mark.parametrize(
    ("header", "name", "value", "attributes"),
    [
        # What the local test server's /cookies/set and /cookies/set/<name>/<value> send
        # (tests-integration/testserver, _endpoints_httpbin.py), value percent-encoded.
        ("my_cookie=my_value; Path=/", "my_cookie", "my_value", {"path": "/"}),
        ("k2=a%20b%3Bc; Path=/", "k2", "a%20b%3Bc", {"path": "/"}),
        # ... and its /cookies/delete.
        (
            "my_cookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
            "my_cookie",
            "",
            {"expires": "Thu, 01 Jan 1970 00:00:00 GMT", "max-age": "0", "path": "/"},
        ),
        # Shapes big sites send: lowercase attributes, RFC 850 dashes, a dot domain.
        (
            "NID=511=Xy-z_0; expires=Sat, 06-Jun-2026 22:56:51 GMT; path=/; "
            "domain=.google.com; HttpOnly",
            "NID",
            "511=Xy-z_0",
            {"domain": "google.com", "path": "/", "httponly": True},
        ),
        (
            "__Host-session=abc; Secure; Path=/; SameSite=Lax",
            "__Host-session",
            "abc",
            {"secure": True, "path": "/", "samesite": "Lax"},
        ),
        (
            'prefs="{\\"a\\":1}"; Version=1; Max-Age=31536000',
            "prefs",
            '{\\"a\\":1}',
            {"max-age": "31536000"},
        ),
        ("JSESSIONID=ABC123.node1;Path=/app;HttpOnly", "JSESSIONID", "ABC123.node1", {}),
    ],
)
def test_real_world_set_cookie_fields(
    header: str, name: str, value: str, attributes: dict[str, object]
) -> None:
    morsel = parse_set_cookie(header)
    assert morsel is not None
    assert (morsel.key, morsel.value) == (name, value)
    for attribute, expected in attributes.items():
        assert morsel[attribute] == expected, attribute


# -- parse_cookie_date (RFC 6265 §5.1.1) ------------------------------------------------------

_NOV_6_1994 = calendar.timegm((1994, 11, 6, 8, 49, 37, 0, 0, 0))


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # RFC 1123
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "Sun, 06-Nov-1994 08:49:37 GMT",
        "06 November 1994 8:49:37",
        "1994 Nov 6 08:49:37",
        "Sun, 6 Nov 1994 08:49:37 +0000",
        "NOV 06 94 08:49:37",
    ],
)
def test_cookie_dates_in_the_formats_servers_send(text: str) -> None:
    assert parse_cookie_date(text) == _NOV_6_1994


@pytest.mark.parametrize(
    ("year", "full"), [("70", 1970), ("99", 1999), ("00", 2000), ("69", 2069)]
)
def test_two_digit_years_rfc6265_5_1_1_steps_3_4(year: str, full: int) -> None:
    assert parse_cookie_date(f"01 Jan {year} 00:00:00") == calendar.timegm(
        (full, 1, 1, 0, 0, 0, 0, 0, 0)
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Sun, 06 Nov 1994",  # no time
        "06 1994 08:49:37",  # no month
        "Nov 1994 08:49:37",  # day and year: 1994 is not a day
        "Sun, 32 Nov 1994 08:49:37 GMT",  # day > 31
        "Sun, 30 Feb 2024 08:49:37 GMT",  # a date that does not exist
        "Sun, 06 Nov 1600 08:49:37 GMT",  # year < 1601
        "Sun, 06 Nov 1994 24:00:00 GMT",  # hour > 23
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:60 GMT",
        "Sun, 06 Nov 1994 008:49:37 GMT",  # time-field is 1*2DIGIT
        "tomorrow",
    ],
)
def test_invalid_cookie_dates_rfc6265_5_1_1_step_5(text: str) -> None:
    assert parse_cookie_date(text) is None


@given(st.datetimes(min_value=datetime(1601, 1, 1), max_value=datetime(9999, 12, 31)))
def test_every_http_date_parses_back_to_its_time(moment: datetime) -> None:
    stamp = calendar.timegm(moment.replace(microsecond=0, tzinfo=UTC).utctimetuple())
    text = email.utils.format_datetime(moment.replace(tzinfo=UTC), usegmt=True)
    assert parse_cookie_date(text) == stamp


@given(st.text(max_size=80))
def test_cookie_date_parsing_never_fails_on_any_text(text: str) -> None:
    result = parse_cookie_date(text)
    assert result is None or isinstance(result, float)


@given(st.text(max_size=200))
def test_set_cookie_parsing_never_fails_on_any_text(text: str) -> None:
    morsel = parse_set_cookie(text)
    if morsel is not None:
        assert validate_name_value(morsel.key, morsel.coded_value) is None


# -- domain and path matching (RFC 6265 §5.1.3, §5.1.4) ---------------------------------------

_LABEL = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)  # not an IP
_NAME = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)


@pytest.mark.parametrize(
    ("host", "domain", "matches"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("notexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("example.com.evil", "example.com", False),
        ("192.168.0.1", "192.168.0.1", True),
        ("192.168.0.1", "168.0.1", False),  # an IP address matches only itself
        ("::1", "::1", True),
        ("example.com", "", False),
    ],
)
def test_domain_match_rfc6265_5_1_3(host: str, domain: str, matches: bool) -> None:
    assert domain_match(host, domain) is matches


@given(_NAME, _NAME)
def test_a_subdomain_matches_its_parents_and_never_the_reverse(sub: str, parent: str) -> None:
    assert domain_match(parent, parent)
    assert domain_match(f"{sub}.{parent}", parent)
    assert not domain_match(parent, f"{sub}.{parent}")
    # A suffix that does not start at a label boundary never matches.
    assert not domain_match(f"{sub}x{parent}", parent)


@given(st.ip_addresses())
def test_ip_addresses_match_only_themselves(address: object) -> None:
    host = str(address)
    assert is_ip_address(host)
    assert domain_match(host, host)
    _, dot, suffix = host.partition(".")
    if dot:
        assert not domain_match(host, suffix)


@pytest.mark.parametrize(
    ("raw_path", "expected"),
    [("", "/"), ("docs", "/"), ("/", "/"), ("/a", "/"), ("/a/b", "/a"), ("/a/b/", "/a/b")],
)
def test_default_path_rfc6265_5_1_4(raw_path: str, expected: str) -> None:
    assert default_path(raw_path) == expected


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "matches"),
    [
        ("/docs", "/docs", True),
        ("/docs/", "/docs", True),
        ("/docs/web", "/docs", True),
        ("/docs/web", "/docs/", True),
        ("/docsx", "/docs", False),  # the prefix must end at a "/"
        ("/doc", "/docs", False),
        ("/", "/docs", False),
        ("/anything", "/", True),
        ("/Docs", "/docs", False),  # paths are case-sensitive
    ],
)
def test_path_match_rfc6265_5_1_4(request_path: str, cookie_path: str, matches: bool) -> None:
    assert path_match(request_path, cookie_path) is matches


_PATH = st.lists(st.from_regex(r"[a-zA-Z0-9._~%-]{0,6}", fullmatch=True), max_size=5).map(
    lambda segments: "/" + "/".join(segments)
)


@given(_PATH)
def test_a_path_matches_its_default_path_and_root(path: str) -> None:
    assert path_match(path, default_path(path))
    assert path_match(path, "/")
    assert path_match(path, path)


@given(_PATH, _PATH)
def test_path_match_means_a_prefix_ending_at_a_slash(request_path: str, cookie_path: str) -> None:
    if path_match(request_path, cookie_path):
        assert request_path.startswith(cookie_path)
        rest = request_path[len(cookie_path) :]
        assert rest == "" or cookie_path.endswith("/") or rest.startswith("/")
