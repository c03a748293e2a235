"""The cookie jar: what is stored from responses and the user, and what each request sends."""

from __future__ import annotations

import json
import os
import pickle
import stat
from http.cookies import Morsel, SimpleCookie
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from httpwire.client._cookiejar import (
    AbstractCookieJar,
    CookieJar,
    DummyCookieJar,
    LooseCookies,
)
from httpwire.client._cookies import MAX_COOKIE_SIZE, MAX_LIFETIME, domain_match

T0 = 1_800_000_000.0  # a fixed "now" (2027-01-15)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jar(clock: Clock) -> CookieJar:
    return CookieJar(clock=clock)


def set_cookies(jar: AbstractCookieJar, url: str, *headers: str) -> None:
    jar.update_cookies_from_headers(list(headers), URL(url))


def sent(jar: AbstractCookieJar, url: str) -> str | None:
    return jar.cookie_header(URL(url))


def names(jar: AbstractCookieJar, url: str) -> list[str]:
    header = jar.cookie_header(URL(url))
    return [] if header is None else [pair.partition("=")[0] for pair in header.split("; ")]


# -- domains (RFC 6265 §5.1.3, §5.3 steps 4-6) ------------------------------------------------


def test_cookie_without_domain_is_host_only_rfc6265_5_3_step_6(jar: CookieJar) -> None:
    set_cookies(jar, "http://www.example.com/", "a=1; Path=/")
    assert sent(jar, "http://www.example.com/") == "a=1"
    assert sent(jar, "http://example.com/") is None
    assert sent(jar, "http://sub.www.example.com/") is None
    assert sent(jar, "http://www.example.org/") is None


def test_domain_cookie_goes_to_the_domain_and_its_subdomains_rfc6265_5_1_3(
    jar: CookieJar,
) -> None:
    set_cookies(jar, "http://www.example.com/", "a=1; Domain=.Example.com; Path=/")
    assert sent(jar, "http://example.com/") == "a=1"
    assert sent(jar, "http://www.example.com/") == "a=1"
    assert sent(jar, "http://a.b.example.com/") == "a=1"
    assert sent(jar, "http://notexample.com/") is None
    assert sent(jar, "http://example.com.evil/") is None


@pytest.mark.parametrize("domain", ["other.com", "sub.www.example.com", "ww.example.com"])
def test_domain_the_host_does_not_match_is_refused_rfc6265_5_3_step_6(
    jar: CookieJar, domain: str
) -> None:
    set_cookies(jar, "http://www.example.com/", f"a=1; Domain={domain}")
    assert len(jar) == 0


@pytest.mark.parametrize("domain", ["com", ".com", "COM"])
def test_single_label_domain_is_a_public_suffix_and_refused_rfc6265_5_3_step_5(
    jar: CookieJar, domain: str
) -> None:
    set_cookies(jar, "http://example.com/", f"a=1; Domain={domain}")
    assert len(jar) == 0
    assert sent(jar, "http://other.com/") is None


def test_single_label_domain_equal_to_the_host_makes_a_host_only_cookie_rfc6265_5_3_step_5(
    jar: CookieJar,
) -> None:
    set_cookies(jar, "http://localhost:8080/", "a=1; Domain=localhost; Path=/")
    assert sent(jar, "http://localhost:9090/") == "a=1"
    assert sent(jar, "http://app.localhost/") is None


def test_host_is_compared_case_insensitively_and_ports_do_not_matter_rfc6265_8_5(
    jar: CookieJar,
) -> None:
    set_cookies(jar, "http://Example.COM:8080/", "a=1; Path=/")
    assert sent(jar, "http://example.com/") == "a=1"
    assert sent(jar, "http://EXAMPLE.com:1234/") == "a=1"


def test_internationalised_host_is_compared_in_its_ascii_form(jar: CookieJar) -> None:
    set_cookies(jar, "http://bücher.example/", "a=1; Path=/")
    assert sent(jar, "http://xn--bcher-kva.example/") == "a=1"
    assert sent(jar, "http://BÜCHER.example/") == "a=1"


# -- IP-address hosts -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1:8080/", "http://[::1]/"])
def test_cookies_from_ip_hosts_are_refused_unless_unsafe(url: str) -> None:
    safe, unsafe = CookieJar(), CookieJar(unsafe=True)
    set_cookies(safe, url, "a=1")
    set_cookies(unsafe, url, "a=1")
    assert len(safe) == 0
    assert sent(unsafe, url) == "a=1"
    assert unsafe.unsafe and not safe.unsafe


def test_domain_attribute_on_an_ip_host_never_matches_other_hosts_rfc6265_5_1_3() -> None:
    jar = CookieJar(unsafe=True)
    set_cookies(jar, "http://10.0.0.1/", "suffix=1; Domain=0.0.1; Path=/")
    set_cookies(jar, "http://10.0.0.1/", "same=1; Domain=10.0.0.1; Path=/")
    assert sent(jar, "http://10.0.0.1/") == "same=1"
    assert sent(jar, "http://110.0.0.1/") is None
    assert sent(jar, "http://x.10.0.0.1/") is None
    assert sent(jar, "http://0.0.1/") is None


# -- paths (RFC 6265 §5.1.4, §5.2.4) ----------------------------------------------------------


def test_cookie_without_path_gets_the_default_path_rfc6265_5_1_4(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/docs/page?x=1", "a=1")
    assert [m["path"] for m in jar] == ["/docs"]
    assert sent(jar, "http://example.com/docs") == "a=1"
    assert sent(jar, "http://example.com/docs/other") == "a=1"
    assert sent(jar, "http://example.com/docsx") is None
    assert sent(jar, "http://example.com/") is None


@pytest.mark.parametrize("attribute", ["Path=", "Path=docs", "Path"])
def test_empty_or_relative_path_attribute_means_the_default_path_rfc6265_5_2_4(
    jar: CookieJar, attribute: str
) -> None:
    set_cookies(jar, "http://example.com/a/b", f"c=1; {attribute}")
    assert [m["path"] for m in jar] == ["/a"]


def test_path_attribute_limits_where_the_cookie_goes_rfc6265_5_1_4(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "a=1; Path=/app")
    assert sent(jar, "http://example.com/app") == "a=1"
    assert sent(jar, "http://example.com/app/x/y") == "a=1"
    assert sent(jar, "http://example.com/application") is None
    assert sent(jar, "http://example.com/") is None


def test_request_path_is_compared_percent_encoded_as_sent(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "a=1; Path=/caf%C3%A9")
    assert sent(jar, "http://example.com/café/menu") == "a=1"


# -- order and replacement (RFC 6265 §5.3 step 11, §5.4 step 2) -------------------------------


def test_longest_path_first_then_earliest_creation_rfc6265_5_4(
    jar: CookieJar, clock: Clock
) -> None:
    set_cookies(jar, "http://example.com/", "root=1; Path=/")
    clock.now += 1
    set_cookies(jar, "http://example.com/", "deep=1; Path=/a/b", "mid=1; Path=/a")
    clock.now += 1
    set_cookies(jar, "http://example.com/", "early=1; Path=/a")  # same time as mid: later
    assert names(jar, "http://example.com/a/b/c") == ["deep", "mid", "early", "root"]


def test_replacing_a_cookie_keeps_its_creation_time_rfc6265_5_3_step_11(
    jar: CookieJar, clock: Clock
) -> None:
    set_cookies(jar, "http://example.com/", "first=1; Path=/", "second=1; Path=/")
    clock.now += 10
    set_cookies(jar, "http://example.com/", "first=2; Path=/; HttpOnly")
    assert sent(jar, "http://example.com/") == "first=2; second=1"
    assert len(jar) == 2
    saved = {m.key: m for m in jar}
    assert saved["first"]["httponly"] is True  # the attributes are the new ones


def test_same_name_with_other_paths_are_separate_cookies_and_both_are_sent(
    jar: CookieJar,
) -> None:
    set_cookies(jar, "http://example.com/", "a=root; Path=/", "a=deep; Path=/x")
    assert sent(jar, "http://example.com/x/y") == "a=deep; a=root"
    # filter_cookies gives one per name: the one sent first.
    filtered = jar.filter_cookies(URL("http://example.com/x/y"))
    assert isinstance(filtered, SimpleCookie)
    assert filtered["a"].value == "deep"


def test_host_only_and_domain_cookies_of_the_same_domain_replace_each_other_rfc6265_5_3(
    jar: CookieJar,
) -> None:
    # A cookie is identified by name, domain and path; the host-only flag is not part of it.
    set_cookies(jar, "http://example.com/", "a=host; Path=/")
    set_cookies(jar, "http://example.com/", "a=domain; Domain=example.com; Path=/")
    assert len(jar) == 1
    assert sent(jar, "http://www.example.com/") == "a=domain"


# -- Secure, HttpOnly, SameSite ---------------------------------------------------------------


def test_secure_cookie_is_sent_only_over_secure_schemes_rfc6265_5_4(jar: CookieJar) -> None:
    set_cookies(jar, "https://example.com/", "s=1; Secure; Path=/", "p=1; Path=/")
    assert sent(jar, "https://example.com/") == "s=1; p=1"
    assert sent(jar, "wss://example.com/") == "s=1; p=1"
    assert sent(jar, "http://example.com/") == "p=1"
    assert sent(jar, "ws://example.com/") == "p=1"


@pytest.mark.parametrize(
    "origin", ["http://localhost:8080/", "http://app.localhost/", "http://127.0.0.2/"]
)
def test_loopback_counts_as_secure(origin: str) -> None:
    jar = CookieJar(unsafe=True)
    set_cookies(jar, origin, "s=1; Secure; Path=/")
    assert sent(jar, origin) == "s=1"


def test_secure_cookie_from_a_non_secure_origin_is_refused_rfc6265bis_5_7(
    jar: CookieJar,
) -> None:
    set_cookies(jar, "http://example.com/", "s=1; Secure")
    assert len(jar) == 0


def test_non_secure_origin_cannot_replace_or_delete_a_secure_cookie_rfc6265bis_5_7(
    jar: CookieJar,
) -> None:
    set_cookies(jar, "https://example.com/", "s=secret; Secure; Path=/")
    set_cookies(jar, "http://example.com/", "s=evil; Path=/")
    set_cookies(jar, "http://www.example.com/", "s=evil; Domain=example.com; Path=/sub")
    set_cookies(jar, "http://example.com/", "s=; Max-Age=0; Path=/")
    assert sent(jar, "https://example.com/sub") == "s=secret"
    # Another name is not affected.
    set_cookies(jar, "http://example.com/", "t=1; Path=/")
    assert sent(jar, "http://example.com/") == "t=1"


def test_httponly_and_samesite_are_kept_and_httponly_cookies_are_sent(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "a=1; HttpOnly; SameSite=Strict; Path=/")
    morsel = jar.filter_cookies(URL("http://example.com/"))["a"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert sent(jar, "http://example.com/") == "a=1"


@pytest.mark.parametrize(
    ("header", "stored"),
    [
        ("__Secure-a=1; Secure; Path=/", True),
        ("__Secure-a=1; Path=/", False),
        ("__Host-a=1; Secure; Path=/", True),
        ("__host-a=1; Secure; Path=/", True),
        ("__Host-a=1; Secure; Path=/x", False),
        ("__Host-a=1; Secure; Path=/; Domain=example.com", False),
        ("__Host-a=1; Path=/", False),
    ],
)
def test_cookie_name_prefixes_rfc6265bis_4_1_3(jar: CookieJar, header: str, stored: bool) -> None:
    set_cookies(jar, "https://example.com/", header)
    assert len(jar) == int(stored)


# -- expiry (RFC 6265 §5.2.1, §5.2.2, §5.3 step 3) --------------------------------------------


def test_max_age_wins_over_expires_rfc6265_5_3_step_3(jar: CookieJar, clock: Clock) -> None:
    set_cookies(
        jar, "http://example.com/", "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60"
    )
    set_cookies(
        jar, "http://example.com/", "b=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    )
    assert sent(jar, "http://example.com/") == "a=1; b=1"
    clock.now += 59
    assert len(jar) == 2
    clock.now += 1
    assert sent(jar, "http://example.com/") is None
    assert len(jar) == 0


def test_expires_sets_the_expiry_time_rfc6265_5_2_1(jar: CookieJar, clock: Clock) -> None:
    set_cookies(jar, "http://example.com/", "a=1; Expires=Sat, 16 Jan 2027 00:00:00 GMT")
    (morsel,) = jar
    assert morsel["expires"] == "Sat, 16 Jan 2027 00:00:00 GMT"
    clock.now = 1_800_057_599.0
    assert len(jar) == 1
    clock.now = 1_800_057_600.0
    assert len(jar) == 0


def test_cookie_without_lifetime_is_a_session_cookie(jar: CookieJar, clock: Clock) -> None:
    set_cookies(jar, "http://example.com/", "a=1; Expires=not a date")
    clock.now += 10 * 365 * 24 * 3600
    assert sent(jar, "http://example.com/") == "a=1"
    assert [m["expires"] for m in jar] == [""]


@pytest.mark.parametrize(
    "deletion",
    [
        "a=; Max-Age=0",
        "a=gone; Max-Age=-1",
        "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",  # the test server's
    ],
)
def test_past_lifetime_deletes_the_existing_cookie_rfc6265_5_3(
    jar: CookieJar, deletion: str
) -> None:
    set_cookies(jar, "http://example.com/", "a=1; Path=/", "b=1; Path=/")
    set_cookies(jar, "http://example.com/x", deletion + ("" if "Path" in deletion else "; Path=/"))
    assert sent(jar, "http://example.com/") == "b=1"


def test_deleting_needs_the_same_domain_and_path_rfc6265_5_3_step_11(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "a=1; Path=/")
    set_cookies(jar, "http://example.com/", "a=; Max-Age=0; Path=/other")
    set_cookies(jar, "http://www.example.com/", "a=; Max-Age=0; Path=/")
    assert sent(jar, "http://example.com/") == "a=1"


def test_expired_cookie_is_not_stored(jar: CookieJar) -> None:
    set_cookies(
        jar, "http://example.com/", "a=1; Max-Age=0", "b=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT"
    )
    assert len(jar) == 0


def test_lifetimes_are_capped_at_400_days_rfc6265bis_5_5(jar: CookieJar, clock: Clock) -> None:
    set_cookies(
        jar,
        "http://example.com/",
        "a=1; Max-Age=999999999999999999999999",
        "b=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT",
    )
    clock.now += MAX_LIFETIME - 1
    assert len(jar) == 2
    clock.now += 1
    assert len(jar) == 0


# -- validity and limits against hostile servers -----------------------------------------------


def test_unparsable_set_cookie_fields_are_ignored_without_error(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "", "novalue", "=x", "a\x00=1", "ok=1; Path=/")
    assert sent(jar, "http://example.com/") == "ok=1"


def test_default_limits_follow_rfc6265_6_1() -> None:
    clock = Clock()
    jar = CookieJar(clock=clock)
    set_cookies(jar, "http://example.com/", *(f"c{i}=1; Path=/" for i in range(500)))
    assert len(jar) == 180
    for host in range(20):
        set_cookies(jar, f"http://h{host}.example/", *(f"c{i}=1" for i in range(180)))
    assert len(jar) == 3000


def test_too_many_cookies_per_domain_evict_the_least_recently_used_rfc6265_5_3(
    clock: Clock,
) -> None:
    jar = CookieJar(clock=clock, max_cookies_per_domain=3)
    set_cookies(jar, "http://example.com/", "a=1; Path=/", "b=1; Path=/", "c=1; Path=/")
    set_cookies(jar, "http://example.com/a", "a=2; Path=/a")  # a second "a": another path
    assert names(jar, "http://example.com/a") == ["a", "b", "c"]  # "a=1" (first used) left
    jar.cookie_header(URL("http://example.com/b"))  # uses b and c, not /a's "a"
    set_cookies(jar, "http://example.com/", "d=1; Path=/")
    assert sorted(m.key + m["path"] for m in jar) == ["b/", "c/", "d/"]
    # Other domains have their own count.
    set_cookies(jar, "http://other.example/", "x=1")
    assert len(jar) == 4


def test_expired_cookies_are_evicted_before_live_ones_rfc6265_5_3(clock: Clock) -> None:
    jar = CookieJar(clock=clock, max_cookies_per_domain=2)
    set_cookies(jar, "http://example.com/", "old=1; Max-Age=5; Path=/", "live=1; Path=/")
    jar.cookie_header(URL("http://example.com/"))  # "old" is now the most recently used...
    clock.now += 5  # ...but expired
    set_cookies(jar, "http://example.com/", "new=1; Path=/")
    assert sorted(m.key for m in jar) == ["live", "new"]


def test_total_limit_evicts_the_least_recently_used_of_any_domain(clock: Clock) -> None:
    jar = CookieJar(clock=clock, max_cookies=3)
    set_cookies(jar, "http://a.example/", "a=1")
    set_cookies(jar, "http://b.example/", "b=1")
    set_cookies(jar, "http://c.example/", "c=1")
    jar.cookie_header(URL("http://a.example/"))
    set_cookies(jar, "http://d.example/", "d=1")
    assert sorted(m.key for m in jar) == ["a", "c", "d"]


def test_a_flood_of_cookies_stays_bounded(clock: Clock) -> None:
    jar = CookieJar(clock=clock, max_cookies=50, max_cookies_per_domain=10)
    for round_ in range(20):
        set_cookies(
            jar,
            f"http://h{round_}.example.com/",
            *(f"n{i}=1; Domain=example.com; Path=/p{i}" for i in range(30)),
            *(f"m{i}=1" for i in range(30)),
        )
        assert len(jar) <= 50
    assert len(jar) == 50
    per_domain: dict[str, int] = {}
    for morsel in jar:
        per_domain[morsel["domain"]] = per_domain.get(morsel["domain"], 0) + 1
    assert max(per_domain.values()) == 10


@pytest.mark.parametrize(
    ("given", "on_the_wire"),
    [
        ("a;b", '"a\\073b"'),
        ("a\r\nInjected: 1", '"a\\015\\012Injected: 1"'),
        ("x\x00", '"x\\000"'),
    ],
)
def test_user_string_values_are_quoted_so_they_cannot_break_the_cookie_field(
    jar: CookieJar, given: str, on_the_wire: str
) -> None:
    # SimpleCookie's quoting (octal escapes) turns ";" and CTLs into printable text.
    jar.update_cookies({"plain": given})
    assert sent(jar, "http://example.com/") == f"plain={on_the_wire}"


@pytest.mark.parametrize("coded", ["a;b", "a\nb", "a\x7fb"])
def test_user_morsels_whose_coded_value_would_break_the_field_are_dropped(
    jar: CookieJar, coded: str
) -> None:
    morsel: Morsel[str] = Morsel()
    morsel.set("m", "v", coded)
    cookies: dict[str, str | Morsel[str]] = {"m": morsel, "ok": "1"}
    jar.update_cookies(cookies)
    assert sent(jar, "http://example.com/") == "ok=1"


def test_user_cookie_names_that_would_break_the_cookie_field_are_dropped(
    jar: CookieJar,
) -> None:
    pairs = [("a;b", "1"), ("a=b", "1"), ("", "1"), (" a", "1"), ("a\n", "1"), ("good", "1")]
    jar.update_cookies(pairs)
    assert sent(jar, "http://example.com/") == "good=1"


def test_reserved_and_non_token_names_are_stored_and_sent(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "path=1; Path=/", "version=2; Path=/")
    jar.update_cookies([("a[0]", "3"), ("expires", "4")])
    assert sent(jar, "http://example.com/") == "path=1; version=2; a[0]=3; expires=4"
    assert sorted(jar.filter_cookies(URL("http://example.com/"))) == [
        "a[0]",
        "expires",
        "path",
        "version",
    ]


def test_oversized_user_cookie_is_dropped_rfc6265_6_1(jar: CookieJar) -> None:
    jar.update_cookies({"big": "v" * MAX_COOKIE_SIZE, "fits": "v" * (MAX_COOKIE_SIZE - 4)})
    assert names(jar, "http://example.com/") == ["fits"]


# -- cookies given by the user -----------------------------------------------------------------


def test_user_cookies_without_url_go_to_every_host_and_path(jar: CookieJar) -> None:
    jar.update_cookies({"shared": "1"})
    assert sent(jar, "http://example.com/") == "shared=1"
    assert sent(jar, "https://other.org/deep/path") == "shared=1"
    assert sent(jar, "http://127.0.0.1:8080/") == "shared=1"  # IP hosts too


def test_user_cookies_with_url_follow_the_rules_of_that_host(jar: CookieJar) -> None:
    jar.update_cookies({"a": "1"}, URL("http://example.com/docs/page"))
    assert sent(jar, "http://example.com/docs/x") == "a=1"
    assert sent(jar, "http://example.com/") is None
    assert sent(jar, "http://www.example.com/docs/x") is None
    jar.update_cookies({"ip": "1"}, URL("http://127.0.0.1/"))
    assert len(jar) == 1


def test_user_morsel_attributes_are_applied(jar: CookieJar) -> None:
    cookie = SimpleCookie()
    cookie["d"] = "1"
    cookie["d"]["domain"] = "example.com"
    cookie["d"]["path"] = "/"
    cookie["s"] = "2"
    cookie["s"]["secure"] = True
    cookie["s"]["path"] = "/"
    cookie["bad"] = "3"
    cookie["bad"]["domain"] = "other.org"
    jar.update_cookies(cookie, URL("https://www.example.com/"))
    assert sent(jar, "https://example.com/") == "d=1"
    assert sent(jar, "https://www.example.com/") == "d=1; s=2"
    assert sent(jar, "http://www.example.com/") == "d=1"


def test_user_domain_and_path_are_normalised(jar: CookieJar) -> None:
    cookie = SimpleCookie()
    cookie["a"] = "1"
    cookie["a"]["domain"] = ".Example.COM"
    cookie["a"]["path"] = "relative"
    jar.update_cookies(cookie)
    jar.update_cookies(cookie, URL("http://www.example.com/docs/page"))
    assert sorted((m["domain"], m["path"]) for m in jar) == [
        ("example.com", "/"),
        ("example.com", "/docs"),
    ]
    assert sent(jar, "http://example.com/docs/x") == "a=1; a=1"


@pytest.mark.parametrize(
    "cookies",
    [
        {"a": "1", "b": "x y"},
        [("a", "1"), ("b", "x y")],
        (("a", "1"), ("b", "x y")),
        SimpleCookie('a=1; b="x y"'),
    ],
)
def test_every_loose_cookies_form_is_accepted(jar: CookieJar, cookies: LooseCookies) -> None:
    jar.update_cookies(cookies)
    assert sent(jar, "http://example.com/") == 'a=1; b="x y"'
    assert jar.filter_cookies(URL("http://example.com/"))["b"].value == "x y"


def test_user_max_age_as_a_number_is_honoured(jar: CookieJar, clock: Clock) -> None:
    morsel: Morsel[str] = Morsel()
    morsel.set("a", "1", "1")
    morsel["max-age"] = 10  # a number, as Morsel allows
    jar.update_cookies({"a": morsel})
    clock.now += 10
    assert len(jar) == 0


# -- the local test server's cookie endpoints (tests-integration/testserver) -------------------


def test_the_test_servers_set_and_delete_flow(jar: CookieJar) -> None:
    # /cookies/set?k1=v1&k2=a b answers a redirect to /cookies with these fields.
    set_cookies(
        jar, "http://localhost:8080/cookies/set?k1=v1", "k1=v1; Path=/", "k2=a%20b; Path=/"
    )
    assert sent(jar, "http://localhost:8080/cookies") == "k1=v1; k2=a%20b"
    # /cookies/delete?k1
    set_cookies(
        jar,
        "http://localhost:8080/cookies/delete?k1",
        "k1=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
    )
    assert sent(jar, "http://localhost:8080/cookies") == "k2=a%20b"


# -- filter, clear, iterate --------------------------------------------------------------------


def test_empty_jar_sends_nothing(jar: CookieJar) -> None:
    assert sent(jar, "http://example.com/") is None
    assert len(jar.filter_cookies(URL("http://example.com/"))) == 0
    assert list(jar) == []


def test_filter_cookies_gives_morsels_with_their_attributes(jar: CookieJar) -> None:
    set_cookies(jar, "https://www.example.com/", "a=1; Domain=example.com; Path=/; Secure")
    filtered = jar.filter_cookies(URL("https://example.com/x"))
    assert list(filtered) == ["a"]
    assert filtered["a"]["domain"] == "example.com"
    assert filtered["a"]["path"] == "/"
    assert filtered["a"]["secure"] is True


def test_clear_removes_all_or_what_the_predicate_selects(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "a=1", "b=2", "c=3")
    jar.clear(lambda morsel: morsel.value == "2")
    assert sorted(m.key for m in jar) == ["a", "c"]
    jar.clear()
    assert len(jar) == 0
    assert sent(jar, "http://example.com/") is None


def test_clear_domain_removes_the_domain_and_its_subdomains(jar: CookieJar) -> None:
    set_cookies(jar, "http://example.com/", "a=1")
    set_cookies(jar, "http://www.example.com/", "b=1")
    set_cookies(jar, "http://other.com/", "c=1")
    set_cookies(jar, "http://notexample.com/", "d=1")
    jar.update_cookies({"shared": "1"})
    jar.clear_domain(".example.com")
    assert sorted(m.key for m in jar) == ["c", "d", "shared"]


def test_iteration_and_length_skip_expired_cookies(jar: CookieJar, clock: Clock) -> None:
    set_cookies(jar, "http://example.com/", "short=1; Max-Age=1", "long=1; Max-Age=100")
    assert len(jar) == 2
    clock.now += 1
    assert [m.key for m in jar] == ["long"]
    assert len(jar) == 1


def test_invalid_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_cookies=0"):
        CookieJar(max_cookies=0)
    with pytest.raises(ValueError, match="max_cookies_per_domain=0"):
        CookieJar(max_cookies_per_domain=0)


def test_dummy_jar_stores_nothing_and_sends_nothing() -> None:
    jar = DummyCookieJar()
    assert isinstance(jar, AbstractCookieJar)
    set_cookies(jar, "http://example.com/", "a=1; Path=/")
    jar.update_cookies({"b": "2"})
    assert len(jar) == 0
    assert list(jar) == []
    assert jar.cookie_header(URL("http://example.com/")) is None
    assert len(jar.filter_cookies(URL("http://example.com/"))) == 0
    jar.clear()
    jar.clear(lambda morsel: True)
    jar.clear_domain("example.com")


# -- properties (hypothesis) ----------------------------------------------------------------------

_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
_HOST = st.lists(_LABEL, min_size=2, max_size=4).map(".".join)
_SEGMENT = st.from_regex(r"[a-z0-9]{1,4}", fullmatch=True)
_PATH = st.lists(_SEGMENT, max_size=4).map(lambda s: "/" + "/".join(s))


@given(_HOST, _PATH)
def test_a_cookie_without_attributes_goes_back_to_the_url_that_set_it(
    host: str, path: str
) -> None:
    jar = CookieJar(clock=Clock())
    set_cookies(jar, f"http://{host}{path}", "a=1")
    assert sent(jar, f"http://{host}{path}") == "a=1"


@given(_HOST, _HOST)
def test_a_host_only_cookie_goes_to_no_other_host(host: str, other: str) -> None:
    jar = CookieJar(clock=Clock())
    set_cookies(jar, f"http://{host}/", "a=1; Path=/")
    assert (sent(jar, f"http://{other}/") is not None) == (host == other)


@given(_HOST, st.integers(0, 3), _HOST)
def test_a_domain_cookie_goes_exactly_where_its_domain_matches(
    host: str, cut: int, request_host: str
) -> None:
    labels = host.split(".")
    domain = ".".join(labels[min(cut, len(labels) - 2) :])  # never a single label
    jar = CookieJar(clock=Clock())
    set_cookies(jar, f"http://{host}/", f"a=1; Domain={domain}; Path=/")
    assert len(jar) == 1
    for target in (host, request_host, f"x.{domain}", domain):
        assert (sent(jar, f"http://{target}/") is not None) == domain_match(target, domain)


_ATTRIBUTE = st.sampled_from(
    [
        "Path=/",
        "Path=/a",
        "Path=",
        "Domain=example.com",
        "Domain=.www.example.com",
        "Domain=com",
        "Domain=other.org",
        "Max-Age=0",
        "Max-Age=30",
        "Max-Age=-5",
        "Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "Expires=Fri, 31 Dec 9999 23:59:59 GMT",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
    ]
)
_SET_COOKIE = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda name, value, attributes: "; ".join([f"{name}={value}", *attributes]),
        st.sampled_from(["a", "b", "__Host-c", "path", "d e"]),
        st.text(max_size=10),
        st.lists(_ATTRIBUTE, max_size=4),
    ),
)
_ORIGIN = st.sampled_from(
    [
        "http://www.example.com/a/b",
        "https://www.example.com/",
        "http://example.com/",
        "http://127.0.0.1/",
    ]
)


@given(st.lists(st.tuples(_ORIGIN, st.lists(_SET_COOKIE, max_size=4)), max_size=8), _ORIGIN)
def test_any_sequence_of_set_cookie_fields_keeps_the_jar_consistent(
    responses: list[tuple[str, list[str]]], request_url: str
) -> None:
    clock = Clock()
    jar = CookieJar(clock=clock, max_cookies=6, max_cookies_per_domain=3)
    for origin, headers in responses:
        set_cookies(jar, origin, *headers)
        clock.now += 7
        assert len(jar) <= 6
        assert len(jar) == len(list(jar))
    header = sent(jar, request_url)
    if header is not None:
        assert not any(ord(ch) < 32 and ch != "\t" for ch in header)
        pairs = header.split("; ")
        filtered = jar.filter_cookies(URL(request_url))
        assert {pair.partition("=")[0] for pair in pairs} == set(filtered)
        for morsel in filtered.values():
            assert domain_match(URL(request_url).raw_host or "", morsel["domain"])
    assert all(m["domain"] != "com" and m["domain"] != "other.org" for m in jar)


# -- save and load -------------------------------------------------------------------------------


def _fill(jar: CookieJar) -> None:
    set_cookies(jar, "https://www.example.com/docs/x", "host=1; Secure; HttpOnly; SameSite=Lax")
    set_cookies(jar, "https://www.example.com/", 'dom="q v"; Domain=example.com; Max-Age=3600')
    jar.update_cookies({"shared": "x y"})


def test_save_and_load_round_trip(tmp_path: Path, clock: Clock) -> None:
    jar = CookieJar(clock=clock)
    _fill(jar)
    path = tmp_path / "cookies.json"
    jar.save(path)
    loaded = CookieJar(clock=clock)
    loaded.load(str(path))
    assert sorted(map(str, loaded)) == sorted(map(str, jar))
    for url in ("https://www.example.com/docs/a", "http://example.com/", "http://a.org/"):
        assert sent(loaded, url) == sent(jar, url), url
    assert [m.key for m in loaded if m["httponly"]] == ["host"]


def test_saved_file_is_documented_json_readable_only_by_its_owner(
    tmp_path: Path, jar: CookieJar
) -> None:
    _fill(jar)
    path = tmp_path / "cookies.json"
    jar.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "httpwire-cookies" and document["version"] == 1
    by_name = {c["name"]: c for c in document["cookies"]}
    assert by_name["host"] == {
        "name": "host",
        "value": "1",
        "coded_value": "1",
        "domain": "www.example.com",
        "host_only": True,
        "path": "/docs",
        "secure": True,
        "http_only": True,
        "same_site": "Lax",
        "expires": None,
        "created": T0,
    }
    assert by_name["dom"]["expires"] == T0 + 3600
    assert by_name["dom"]["coded_value"] == '"q v"'
    assert by_name["shared"]["domain"] == ""
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cookies.json"]  # no temporary left


def test_load_keeps_creation_order_and_skips_expired_cookies(tmp_path: Path, clock: Clock) -> None:
    jar = CookieJar(clock=clock)
    set_cookies(jar, "http://example.com/", "first=1; Path=/; Max-Age=100")
    clock.now += 1
    set_cookies(jar, "http://example.com/", "second=1; Path=/")
    path = tmp_path / "c.json"
    jar.save(path)
    clock.now += 100
    later = CookieJar(clock=clock)
    later.load(path)
    assert sent(later, "http://example.com/") == "second=1"
    clock.now = T0
    earlier = CookieJar(clock=clock)
    earlier.load(path)
    assert sent(earlier, "http://example.com/") == "first=1; second=1"


def test_load_adds_to_the_jar_and_replaces_the_same_cookie(tmp_path: Path, clock: Clock) -> None:
    source = CookieJar(clock=clock)
    set_cookies(source, "http://example.com/", "a=new; Path=/")
    path = tmp_path / "c.json"
    source.save(path)
    target = CookieJar(clock=clock)
    set_cookies(target, "http://example.com/", "a=old; Path=/", "b=1; Path=/")
    target.load(path)
    assert sent(target, "http://example.com/") == "a=new; b=1"


def test_load_skips_ip_host_cookies_unless_unsafe(tmp_path: Path) -> None:
    source = CookieJar(unsafe=True)
    set_cookies(source, "http://127.0.0.1/", "a=1")
    path = tmp_path / "c.json"
    source.save(path)
    safe, unsafe = CookieJar(), CookieJar(unsafe=True)
    safe.load(path)
    unsafe.load(path)
    assert (len(safe), len(unsafe)) == (0, 1)


def test_malformed_json_names_the_file_and_line(tmp_path: Path, jar: CookieJar) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "httpwire-cookies",\n "version": 1,\n "cookies": [\n}\n')
    with pytest.raises(
        ValueError, match=r"broken\.json: not a cookie file: invalid JSON at line 4"
    ):
        jar.load(path)


def test_a_pickle_file_is_refused_not_run(tmp_path: Path, jar: CookieJar) -> None:
    path = tmp_path / "cookies.pickle"
    path.write_bytes(pickle.dumps({"example.com": {}}))
    with pytest.raises(ValueError, match=r"cookies\.pickle: not a cookie file"):
        jar.load(path)


@pytest.mark.parametrize(
    "document",
    [[], {"cookies": []}, {"format": "other", "cookies": []}, {"format": "httpwire-cookies"}],
)
def test_json_that_is_not_a_cookie_file_is_refused(
    tmp_path: Path, jar: CookieJar, document: object
) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"c\.json: not a cookie file"):
        jar.load(path)


def test_unknown_file_version_is_refused(tmp_path: Path, jar: CookieJar) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"format": "httpwire-cookies", "version": 2, "cookies": []}))
    with pytest.raises(ValueError, match="unsupported cookie file version 2"):
        jar.load(path)


_SECRET = "s3cr3t-t0ken"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expires": "soon"}, r"cookies\[1\] \('sid'\): field 'expires' has the wrong type str"),
        ({"secure": 1}, r"cookies\[1\] \('sid'\): field 'secure' has the wrong type int"),
        ({"created": True}, r"field 'created' has the wrong type bool"),
        ({"path": "relative"}, r"\('sid'\): field 'path' must start with '/'"),
        ({"same_site": "Sometimes"}, r"field 'same_site' must be"),
        ({"coded_value": _SECRET + "\n"}, r"\('sid'\): invalid cookie: control character"),
        ({"coded_value": _SECRET + ";x"}, r"\('sid'\): invalid cookie: ';' or '='"),
        ({"name": "a;b"}, r"\('a;b'\): invalid cookie: ';' or '='"),
        ({"domain": "", "host_only": True}, r"a host-only cookie needs a 'domain'"),
        ({"value": None}, r"\('sid'\): field 'value' has the wrong type NoneType"),
        ({"expires": float("inf")}, r"\('sid'\): field 'expires' must be a finite number"),
        ({"created": float("nan")}, r"\('sid'\): field 'created' must be a finite number"),
    ],
)
def test_invalid_field_names_the_file_entry_and_field_never_the_value(
    tmp_path: Path, clock: Clock, change: dict[str, object], message: str
) -> None:
    source = CookieJar(clock=clock)
    set_cookies(source, "http://example.com/", "first=1", f"sid={_SECRET}")
    path = tmp_path / "c.json"
    source.save(path)
    document = json.loads(path.read_text())
    document["cookies"][1].update(change)
    path.write_text(json.dumps(document))
    jar = CookieJar(clock=clock)
    set_cookies(jar, "http://example.com/", "kept=1")
    with pytest.raises(ValueError, match=message) as info:
        jar.load(path)
    assert str(path) in str(info.value)
    assert _SECRET not in str(info.value)
    assert [m.key for m in jar] == ["kept"]  # unchanged by a failed load


def test_missing_field_is_named(tmp_path: Path, jar: CookieJar) -> None:
    path = tmp_path / "c.json"
    entry = {"name": "sid", "value": _SECRET}
    path.write_text(json.dumps({"format": "httpwire-cookies", "version": 1, "cookies": [entry]}))
    with pytest.raises(ValueError, match=r"cookies\[0\] \('sid'\): missing field 'coded_value'"):
        jar.load(path)


def test_save_replaces_the_file_and_an_empty_jar_saves_an_empty_list(
    tmp_path: Path, jar: CookieJar
) -> None:
    path = tmp_path / "c.json"
    path.write_text("old contents")
    jar.save(path)
    assert json.loads(path.read_text())["cookies"] == []


def test_failed_save_leaves_no_temporary_file_behind(tmp_path: Path, jar: CookieJar) -> None:
    _fill(jar)
    target = tmp_path / "a-directory"
    target.mkdir()
    (target / "inside").write_text("keeps the directory from being replaced")
    with pytest.raises(OSError):
        jar.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-directory"]


def test_non_utf8_file_is_refused_with_the_offset(tmp_path: Path, jar: CookieJar) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b'{"format": "\xff"}')
    with pytest.raises(
        ValueError, match=r"c\.json: not a cookie file: not UTF-8 text \(byte 12\)"
    ):
        jar.load(path)
