"""The ``httpwire`` command's pure parts: request items, URLs, options, exit codes, names.

No server and no subprocess: these check the parsing rules one by one; the command itself
is run against the local server in ``test_cli_command.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import types
from pathlib import Path
from typing import cast

import pytest
from yarl import URL

from httpwire.client import (
    BadResponseError,
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientPayloadError,
    ClientResponse,
    ClientSSLError,
    ConnectTimeoutError,
    FingerprintMismatch,
    ReadTimeoutError,
    RequestInfo,
    ServerDisconnectedError,
    Timings,
    TooManyRedirects,
    TotalTimeoutError,
)
from httpwire.client._cli._args import parse_args
from httpwire.client._cli._build import LocalFileError, RequestPlan, plan_request
from httpwire.client._cli._download import content_range_start, name_from_url, unique_name
from httpwire.client._cli._exit import ExitCode, exit_code_for_error, exit_code_for_status
from httpwire.client._cli._items import (
    ItemKind,
    UsageError,
    expand_url,
    parse_item,
    shown_url,
    split_positionals,
)
from httpwire.client._cli._progress import format_size
from httpwire.client._cli._timings import timing_lines, timings_record

# -- request items ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "key", "value"),
    [
        ("Accept:application/json", ItemKind.HEADER, "Accept", "application/json"),
        ("X-Token: abc", ItemKind.HEADER, "X-Token", "abc"),
        ("X-Empty;", ItemKind.EMPTY_HEADER, "X-Empty", ""),
        ("User-Agent:", ItemKind.HEADER, "User-Agent", ""),
        ("q==search", ItemKind.PARAM, "q", "search"),
        ("q==a=b", ItemKind.PARAM, "q", "a=b"),
        ("name=John", ItemKind.DATA, "name", "John"),
        ("url=http://x/?a==b", ItemKind.DATA, "url", "http://x/?a==b"),
        ("n:=1", ItemKind.JSON, "n", "1"),
        ("tags:=[1, 2]", ItemKind.JSON, "tags", "[1, 2]"),
        ("text=@notes.txt", ItemKind.DATA_FILE, "text", "notes.txt"),
        ("doc:=@data.json", ItemKind.JSON_FILE, "doc", "data.json"),
        ("file@report.xls", ItemKind.FILE, "file", "report.xls"),
        ("file@a.png;type=image/png", ItemKind.FILE, "file", "a.png;type=image/png"),
        ("time:12:30", ItemKind.HEADER, "time", "12:30"),
        ("a=b:c", ItemKind.DATA, "a", "b:c"),
        ("email=a@b", ItemKind.DATA, "email", "a@b"),
    ],
)
def test_items_split_at_the_leftmost_longest_separator(
    text: str, kind: ItemKind, key: str, value: str
) -> None:
    item = parse_item(text)
    assert (item.kind, item.key, item.value, item.text) == (kind, key, value, text)


@pytest.mark.parametrize(
    ("text", "kind", "key", "value"),
    [
        (r"a\=b=c", ItemKind.DATA, "a=b", "c"),
        (r"a\:b:=1", ItemKind.JSON, "a:b", "1"),
        (r"user\@host=x", ItemKind.DATA, "user@host", "x"),
        (r"semi\;colon=x", ItemKind.DATA, "semi;colon", "x"),
        (r"back\\=x", ItemKind.DATA, "back\\", "x"),
        (r"keep\n=x", ItemKind.DATA, "keep\\n", "x"),  # not a separator: kept as written
        (r"k=v\=w", ItemKind.DATA, "k", "v=w"),
        (r"f=\@notes.txt", ItemKind.DATA, "f", "@notes.txt"),  # text, not a file
        (r"h:C:\dir\x", ItemKind.HEADER, "h", r"C:\dir\x"),  # not separators: kept
    ],
)
def test_a_backslash_takes_a_separator_literally(
    text: str, kind: ItemKind, key: str, value: str
) -> None:
    item = parse_item(text)
    assert (item.kind, item.key, item.value) == (kind, key, value)


@pytest.mark.parametrize("text", ["nothing", r"a\=b", ""])
def test_an_argument_without_a_separator_is_not_an_item(text: str) -> None:
    with pytest.raises(UsageError, match="is not a request item"):
        parse_item(text)


def test_an_item_without_a_name_is_refused() -> None:
    with pytest.raises(UsageError, match=r"has no name before '=='"):
        parse_item("==value")


def test_a_header_name_must_be_a_token() -> None:
    """RFC 9110 §5.1: a field name is a token; a space or a bracket cannot be in it."""
    with pytest.raises(UsageError, match=r"'X Y' is not a valid header name .*RFC 9110 §5.1"):
        parse_item("X Y:z")


@pytest.mark.parametrize("value", ["a\rb", "a\nX-Injected: 1", "a\0"])
def test_a_header_value_cannot_hold_cr_lf_or_nul(value: str) -> None:
    """RFC 9110 §5.5: CR, LF and NUL are invalid in field values; the value is not shown."""
    with pytest.raises(
        UsageError, match=r"header 'Authorization' contains .*RFC 9110 §5.5"
    ) as info:
        parse_item(f"Authorization:{value}")
    assert value not in str(info.value)


def test_raw_json_is_checked_and_the_item_named() -> None:
    item = parse_item("n:=[1,")
    with pytest.raises(UsageError, match=r"item 'n:=\[1,': the value is not valid JSON"):
        item.json_value()


def test_a_long_bad_item_is_shown_cut_short() -> None:
    with pytest.raises(UsageError) as info:
        parse_item("x" * 10_000)
    assert len(str(info.value)) < 300


# -- positionals and URLs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "method", "url", "items"),
    [
        (["example.org"], None, "example.org", []),
        (["GET", "example.org"], "GET", "example.org", []),
        (["post", "example.org", "a=1"], "POST", "example.org", ["a=1"]),
        (["PROPFIND", ":8080/dav"], "PROPFIND", ":8080/dav", []),
        (["localhost", "a=1"], None, "localhost", ["a=1"]),
        (["localhost"], None, "localhost", []),
        (["example.org", "a=1", "b==2"], None, "example.org", ["a=1", "b==2"]),
    ],
)
def test_the_method_is_an_upper_case_word_or_a_standard_method(
    args: list[str], method: str | None, url: str, items: list[str]
) -> None:
    assert split_positionals(args) == (method, url, items)


def test_a_url_is_required() -> None:
    with pytest.raises(UsageError, match="the URL is missing"):
        split_positionals([])


@pytest.mark.parametrize(
    ("given", "expanded"),
    [
        (":8080/path", "http://localhost:8080/path"),
        (":8080", "http://localhost:8080"),
        (":/path", "http://localhost/path"),
        (":", "http://localhost"),
        ("localhost/path", "http://localhost/path"),
        ("localhost:3000/x?y=1", "http://localhost:3000/x?y=1"),
        ("example.org", "http://example.org"),
        ("https://example.org/a", "https://example.org/a"),
        ("http://[::1]:80/", "http://[::1]:80/"),
    ],
)
def test_url_shorthands(given: str, expanded: str) -> None:
    assert expand_url(given) == expanded


def test_a_shorthand_port_must_be_a_number() -> None:
    with pytest.raises(UsageError, match="'80a' is not a port number"):
        expand_url(":80a/x")


def test_urls_in_messages_hide_credentials() -> None:
    assert shown_url("ftp://ann:s3cret@host/x") == "'ftp://host/x'"
    assert shown_url("http://host/a@b") == "'http://host/a@b'"


# -- options ------------------------------------------------------------------------------


def test_options_may_come_anywhere_among_the_positionals() -> None:
    options = parse_args(["POST", "example.org", "--form", "a=1", "-v"])
    assert options.method == "POST"
    assert options.url == "http://example.org"
    assert options.body_mode == "form"
    assert options.print_what == "HBhb"
    assert [item.text for item in options.items] == ["a=1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--json", "--form"], "not allowed with argument"),
        (["x", "--form", "a:=1"], r"raw JSON fields \(:=\) need a JSON body"),
        (["x", "--json", "f@file"], r"file uploads \(@\) need a form"),
        (["x", "--data", "abc", "a=1"], "--data and body fields cannot be used together"),
        (["x", "--no-verify", "--cacert", "ca.pem"], "--cacert and --no-verify"),
        (["x", "--unix-socket", "/s", "--proxy", "http://p"], "--unix-socket and --proxy"),
        (["x", "--continue"], "use it with --download"),
        (["x", "--print", "hx"], "use the letters H"),
        (["x", "-v", "--headers"], "--verbose and --headers cannot be used together"),
        (["x", "--json-output", "-v"], "--json-output shows everything"),
        (["x", "--timeout", "0"], "must be a positive number of seconds"),
        (["x", "--timeout", "soon"], "'soon' is not a number of seconds"),
        (["x", "--max-redirects=-1"], "must be 0 or more"),
        (["x", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["x", "n:=nope"], "not valid JSON"),
    ],
)
def test_bad_command_lines_say_what_is_wrong(args: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_args(args)


def test_print_shortcuts() -> None:
    assert parse_args(["x"]).print_what is None
    assert parse_args(["x", "--headers"]).print_what == "h"
    assert parse_args(["x", "-b"]).print_what == "b"
    assert parse_args(["x", "-p", "Hh"]).print_what == "Hh"


# -- the request built from the options ---------------------------------------------------


def _plan(args: list[str]) -> RequestPlan:
    with contextlib.ExitStack() as stack:
        return plan_request(parse_args(args), stack)


def test_method_is_get_without_a_body_and_post_with_one() -> None:
    assert _plan(["example.org", "q==1", "X:y"]).method == "GET"
    assert _plan(["example.org", "a=1"]).method == "POST"
    assert _plan(["PUT", "example.org", "a=1"]).method == "PUT"
    assert _plan(["example.org", "--data", "x"]).method == "POST"


def test_fields_make_a_json_object_and_repeated_names_a_list() -> None:
    plan = _plan(["example.org", "a=1", "n:=2", "t:=true", "a=3", "a=4", 'o:={"k": null}'])
    assert isinstance(plan.body, bytes)
    assert json.loads(plan.body) == {"a": ["1", "3", "4"], "n": 2, "t": True, "o": {"k": None}}
    assert plan.headers["Content-Type"] == "application/json"
    assert plan.headers["Accept"] == "application/json, */*;q=0.5"
    assert plan.body_text == plan.body.decode()


def test_a_content_type_item_wins_over_the_implied_one() -> None:
    plan = _plan(["example.org", "a=1", "Content-Type:application/vnd.api+json"])
    assert plan.headers.getall("Content-Type") == ["application/vnd.api+json"]


def test_form_fields_are_urlencoded_in_order() -> None:
    plan = _plan(["example.org", "--form", "b=2", "a=x y", "b=&"])
    assert plan.body == b"b=2&a=x+y&b=%26"
    assert plan.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Accept" not in plan.headers


def test_headers_params_and_left_out_defaults() -> None:
    plan = _plan(["example.org", "X-A:1", "X-A:2", "X-E;", "User-Agent:", "q==1", "q==2"])
    assert plan.headers.getall("X-A") == ["1", "2"]
    assert plan.headers["X-E"] == ""
    assert "User-Agent" not in plan.headers
    assert plan.skip_auto_headers == {"User-Agent"}
    assert plan.params == [("q", "1"), ("q", "2")]


def test_field_files_are_read_for_embedding(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("héllo\n", encoding="utf-8")
    (tmp_path / "d.json").write_text('{"x": [1]}', encoding="utf-8")
    plan = _plan(["example.org", f"t=@{tmp_path / 't.txt'}", f"d:=@{tmp_path / 'd.json'}"])
    assert isinstance(plan.body, bytes)
    assert json.loads(plan.body) == {"t": "héllo\n", "d": {"x": [1]}}


def test_a_missing_file_is_a_local_file_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.bin"
    with pytest.raises(LocalFileError, match=r"cannot read '.*nope.bin' for item 'f@"):
        _plan(["example.org", f"f@{missing}"])
    with pytest.raises(LocalFileError, match=r"for --data '@"):
        _plan(["example.org", "--data", f"@{missing}"])


def test_auth_user_and_password() -> None:
    plan = _plan(["example.org", "--auth", "ann:p:w"])
    assert plan.auth is not None
    assert (plan.auth.login, plan.auth.password) == ("ann", "p:w")


def test_auth_without_a_password_and_no_terminal_asks_for_one_in_the_command_line() -> None:
    with pytest.raises(UsageError, match="has no password and there is no terminal"):
        _plan(["example.org", "--auth", "ann"])


def test_auth_asks_for_a_missing_password_when_it_can() -> None:
    with contextlib.ExitStack() as stack:
        plan = plan_request(
            parse_args(["example.org", "-a", "ann"]), stack, ask_password=lambda _: "s3cret"
        )
    assert plan.auth is not None
    assert plan.auth.password == "s3cret"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("zz", "is not hexadecimal"),
        ("ab" * 10 + "cd", "fingerprint of 11 bytes"),
    ],
)
def test_a_bad_fingerprint_is_a_usage_error(value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _plan(["https://example.org", "--fingerprint", value])


def test_a_fingerprint_may_be_written_with_colons() -> None:
    digest = ":".join(["ab"] * 32)
    assert _plan(["https://example.org", "--fingerprint", digest]).connector is not None


def test_timeouts() -> None:
    plan = _plan(["example.org", "--timeout", "2.5", "--max-time", "9"])
    assert plan.timeout is not None
    assert (plan.timeout.sock_connect, plan.timeout.sock_read, plan.timeout.total) == (
        2.5,
        2.5,
        9.0,
    )
    only_total = _plan(["example.org", "--max-time", "9"]).timeout
    assert only_total is not None
    assert (only_total.sock_connect, only_total.sock_read, only_total.total) == (30, 300, 9.0)
    assert _plan(["example.org"]).timeout is None


# -- exit codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [(200, 0), (204, 0), (301, 0), (304, 0), (400, 4), (404, 4), (499, 4), (500, 5), (503, 5)],
)
def test_exit_codes_by_status(status: int, code: int) -> None:
    assert exit_code_for_status(status) == code


_URL = URL("http://h/")
_INFO = RequestInfo("GET", _URL, None, _URL)  # type: ignore[arg-type]  # headers unused


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConnectTimeoutError(1.0, host="h", port=1), ExitCode.TIMEOUT),
        (ReadTimeoutError(1.0, host="h", port=1), ExitCode.TIMEOUT),
        (TotalTimeoutError("took too long", timeout=1.0), ExitCode.TIMEOUT),
        (ClientConnectorCertificateError("h", 443, "self-signed"), ExitCode.TLS),
        (ClientSSLError("h", 443), ExitCode.TLS),
        (FingerprintMismatch(b"a" * 32, b"b" * 32, "h", 443), ExitCode.TLS),
        (
            ClientConnectorError("h", 1, ConnectionRefusedError(111, "refused")),
            ExitCode.CONNECTION,
        ),
        (ServerDisconnectedError("body", received=1, expected=2), ExitCode.CONNECTION),
        (BadResponseError("bad status line"), ExitCode.ERROR),
        (ClientPayloadError("bad chunk"), ExitCode.ERROR),
        (TooManyRedirects(_INFO, (), max_redirects=1), ExitCode.TOO_MANY_REDIRECTS),
        (LocalFileError("cannot write"), ExitCode.ERROR),
    ],
)
def test_exit_codes_by_error(error: BaseException, code: ExitCode) -> None:
    assert exit_code_for_error(error) is code


def test_exit_codes_are_distinct() -> None:
    values = [code.value for code in ExitCode]
    assert len(values) == len(set(values))


# -- download names and ranges -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://h/files/report.pdf", "report.pdf"),
        ("http://h/files/report%20v2.pdf?x=1", "report v2.pdf"),
        ("http://h/dir/", "dir"),
        ("http://h/", None),
        ("http://h/..", None),
    ],
)
def test_names_from_urls(url: str, name: str | None) -> None:
    assert name_from_url(URL(url)) == name


def test_an_existing_name_gets_a_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert unique_name("a.bin") == "a.bin"
    Path("a.bin").touch()
    assert unique_name("a.bin") == "a-1.bin"
    Path("a-1.bin.part").touch()
    assert unique_name("a.bin") == "a-2.bin"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("bytes 100-199/1000", (100, 1000)),
        ("bytes 0-0/*", (0, None)),
        ("bytes */1000", None),
        ("items 1-2/3", None),
        (None, None),
    ],
)
def test_content_range_rfc_9110_section_14_4(
    value: str | None, parsed: tuple[int, int | None] | None
) -> None:
    assert content_range_start(value) == parsed


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (256 * 2**20, "256.0 MiB")],
)
def test_sizes_for_people(size: int, shown: str) -> None:
    assert format_size(size) == shown


# -- timings ------------------------------------------------------------------------------


def _hop(status: int, timings: Timings, history: tuple[object, ...] = ()) -> ClientResponse:
    """Stands in for a response: the formatting reads only these attributes."""
    return cast(
        ClientResponse,
        types.SimpleNamespace(
            method="GET",
            url=URL(f"http://ann:s3cret@example.org/{status}"),
            status=status,
            timings=timings,
            history=history,
        ),
    )


_NEW = Timings(
    start=10.0,
    dns_start=10.0,
    dns_end=10.001,
    connect_start=10.001,
    connect_end=10.003,
    acquired=10.004,
    request_sent=10.005,
    first_byte=10.025,
    body_done=None,
    is_reused=False,
    local_address=("127.0.0.1", 50000),
    remote_address=("127.0.0.1", 8080),
)


def test_timings_show_each_phase_and_the_connection() -> None:
    lines = timing_lines(_hop(200, _NEW), 10.125)
    assert lines == [
        "timings:",
        "  pool wait    4.0 ms",
        "  dns          1.0 ms",
        "  connect      2.0 ms",
        "  tls          -",
        "  sending      1.0 ms",
        "  waiting      20.0 ms",
        "  receiving    100.0 ms",  # the end of the body the command saw: not stamped yet
        "  total        125.0 ms",
        "  connection   new, 127.0.0.1:50000 -> 127.0.0.1:8080",
    ]


def test_timings_of_each_hop_and_no_password_in_their_urls() -> None:
    reused = dataclasses.replace(
        _NEW,
        dns_start=None,
        dns_end=None,
        connect_start=None,
        connect_end=None,
        is_reused=True,
        body_done=10.05,
    )
    first = _hop(302, reused)
    lines = timing_lines(_hop(200, _NEW, (first,)), None)
    assert lines[1] == "  hop 1: GET http://example.org/302 302"
    assert "    dns          -" in lines
    assert "    total        50.0 ms" in lines
    assert "    connection   reused, 127.0.0.1:50000 -> 127.0.0.1:8080" in lines
    assert "  hop 2: GET http://example.org/200 200" in lines
    assert lines[-2] == "    total        -"  # no end of body seen, none stamped
    assert "s3cret" not in "\n".join(lines)
    records = timings_record(_hop(200, _NEW, (first,)), 10.2)
    assert [r["status"] for r in records] == [302, 200]
    assert records[1]["total"] == pytest.approx(0.2)
    assert records[1]["remote_address"] == "127.0.0.1:8080" and records[0]["is_reused"] is True
