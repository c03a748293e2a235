"""What ``trust_env=True`` reads: proxy variables, ``NO_PROXY``, ``.netrc``, trust store.

Every function takes the environment and the home folder explicitly, so these tests never
touch the process environment (except one that checks the ``os.environ`` default) and open
no socket: the TLS test handshakes over memory BIOs.
"""

from __future__ import annotations

import logging
import os
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from httpwire.client._environment import (
    EnvironmentSettings,
    NetrcCredentials,
    NoProxy,
    ProxySettings,
    _first_existing,
    netrc_auth,
    netrc_path,
    proxy_for,
    ssl_context_from_env,
)
from httpwire.connectors import BasicAuth

HTTP = URL("http://example.org/path")
HTTPS = URL("https://example.org/path")


# -- proxy variables -----------------------------------------------------------------------


def test_no_variable_means_no_proxy() -> None:
    settings = ProxySettings.from_env({})
    assert not settings
    assert settings.proxy_for(HTTP) is None
    assert settings.proxy_for(HTTPS) is None


def test_each_scheme_uses_its_own_variable() -> None:
    env = {"http_proxy": "http://plain:3128", "https_proxy": "http://secure:3129"}
    assert proxy_for(HTTP, env) == URL("http://plain:3128")
    assert proxy_for(HTTPS, env) == URL("http://secure:3129")
    assert proxy_for(URL("ws://example.org/"), env) == URL("http://plain:3128")
    assert proxy_for(URL("wss://example.org/"), env) == URL("http://secure:3129")


def test_lower_case_wins_over_upper_case() -> None:
    env = {
        "http_proxy": "http://lower:1",
        "HTTP_PROXY": "http://upper:1",
        "HTTPS_PROXY": "http://upper:2",
        "https_proxy": "http://lower:2",
        "ALL_PROXY": "http://upper:3",
        "all_proxy": "http://lower:3",
    }
    assert proxy_for(HTTP, env) == URL("http://lower:1")
    assert proxy_for(HTTPS, env) == URL("http://lower:2")
    assert proxy_for(URL("ftp://example.org/"), env) == URL("http://lower:3")


def test_upper_case_is_used_when_lower_case_is_absent() -> None:
    env = {"HTTP_PROXY": "http://upper:1", "HTTPS_PROXY": "http://upper:2"}
    assert proxy_for(HTTP, env) == URL("http://upper:1")
    assert proxy_for(HTTPS, env) == URL("http://upper:2")


def test_an_empty_lower_case_variable_hides_the_upper_case_one() -> None:
    env = {"https_proxy": "", "HTTPS_PROXY": "http://upper:2", "all_proxy": "http://all:3"}
    # Empty scheme variable: no proxy of its own, so ALL_PROXY is the fallback.
    assert proxy_for(HTTPS, env) == URL("http://all:3")
    assert proxy_for(HTTPS, {"https_proxy": " ", "HTTPS_PROXY": "http://upper:2"}) is None


def test_scheme_variable_wins_over_all_proxy() -> None:
    env = {"ALL_PROXY": "socks5://all:1080", "HTTPS_PROXY": "http://secure:3129"}
    assert proxy_for(HTTPS, env) == URL("http://secure:3129")
    assert proxy_for(HTTP, env) == URL("socks5://all:1080")


def test_upper_case_http_proxy_is_ignored_under_cgi() -> None:
    """httpoxy (CVE-2016-5385): under CGI, HTTP_PROXY is the request's ``Proxy:`` header."""
    env = {"REQUEST_METHOD": "GET", "HTTP_PROXY": "http://attacker:8080"}
    assert proxy_for(HTTP, env) is None
    # ALL_PROXY is then the fallback, and the lower-case spelling is still honoured.
    assert proxy_for(HTTP, {**env, "ALL_PROXY": "http://all:1"}) == URL("http://all:1")
    assert proxy_for(HTTP, {**env, "http_proxy": "http://mine:1"}) == URL("http://mine:1")
    # Other variables are not request headers under CGI.
    assert proxy_for(HTTPS, {**env, "HTTPS_PROXY": "http://secure:2"}) == URL("http://secure:2")


def test_a_proxy_without_scheme_means_http() -> None:
    assert proxy_for(HTTP, {"http_proxy": "proxy.local:3128"}) == URL("http://proxy.local:3128")
    assert proxy_for(HTTP, {"http_proxy": "u:p@proxy.local:3128"}) == URL(
        "http://u:p@proxy.local:3128"
    )


def test_socks_proxies_are_accepted_and_default_to_port_1080() -> None:
    assert proxy_for(HTTP, {"all_proxy": "socks5://gate"}) == URL("socks5://gate:1080")
    assert proxy_for(HTTP, {"all_proxy": "socks5h://gate:9050"}) == URL("socks5h://gate:9050")


def test_proxy_path_query_and_fragment_are_dropped() -> None:
    assert proxy_for(HTTP, {"http_proxy": "http://proxy:3128/?x=1#y"}) == URL("http://proxy:3128")


def test_credentials_in_a_proxy_url_are_kept_encoded_for_basicauth() -> None:
    proxy = proxy_for(HTTP, {"http_proxy": "http://us%40er:p%3Ass%20w@proxy:3128"})
    assert proxy is not None
    assert proxy.raw_user == "us%40er"
    assert BasicAuth.from_url(proxy) == BasicAuth("us@er", "p:ss w")


def test_an_ipv6_proxy_keeps_its_brackets() -> None:
    proxy = proxy_for(HTTP, {"http_proxy": "http://u:p@[::1]:8080/"})
    assert proxy is not None
    assert (proxy.host, proxy.port, proxy.user) == ("::1", 8080, "u")


@pytest.mark.parametrize("value", ["ftp://proxy:21", "socks4://proxy:1080", "file:///etc/passwd"])
def test_an_unsupported_proxy_scheme_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match=r"^HTTPS_PROXY=.*scheme") as info:
        ProxySettings.from_env({"HTTPS_PROXY": value})
    assert "socks5h" in str(info.value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("http://user:s3cret@:8080", "not a valid proxy URL"),
        ("socks5://user:s3cret@/", "has no host"),
        ("http://user:s3cret@proxy:port", "not a valid proxy URL"),
        ("http://user:s3:cr@et@proxy:port/x@y", "not a valid proxy URL"),
        ("http://user:s3cr://et@proxy:port", "not a valid proxy URL"),
        ("user:s3cr:et@proxy:port", "not a valid proxy URL"),
    ],
)
def test_an_unusable_proxy_value_names_the_variable_but_not_the_password(
    value: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=rf"^all_proxy='.*user:\*\*\*@.*' .*{reason}") as info:
        ProxySettings.from_env({"all_proxy": value})
    assert "s3" not in str(info.value)
    assert "et@" not in str(info.value)


def test_proxy_for_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower() in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}:
            monkeypatch.delenv(name)
    monkeypatch.setenv("https_proxy", "http://from-environ:3128")
    assert proxy_for(HTTPS) == URL("http://from-environ:3128")
    assert proxy_for(HTTP) is None


# -- NO_PROXY ------------------------------------------------------------------------------


def _bypassed(no_proxy: str, url: str) -> bool:
    env = {"all_proxy": "http://proxy:3128", "NO_PROXY": no_proxy}
    return proxy_for(URL(url), env) is None


def test_no_proxy_star_bypasses_everything() -> None:
    assert _bypassed("*", "http://anything.example/")
    assert _bypassed("internal, *", "https://10.1.2.3/")


@pytest.mark.parametrize("entry", ["example.com", ".example.com", "*.example.com", "EXAMPLE.com"])
@pytest.mark.parametrize(
    ("host", "bypassed"),
    [
        ("example.com", True),
        ("a.example.com", True),
        ("a.b.Example.COM", True),
        ("example.com.", True),
        ("badexample.com", False),
        ("example.com.evil", False),
        ("com", False),
    ],
)
def test_no_proxy_domain_suffixes(entry: str, host: str, bypassed: bool) -> None:
    assert _bypassed(entry, f"http://{host}/") is bypassed


def test_no_proxy_host_and_port() -> None:
    assert _bypassed("example.com:8080", "http://example.com:8080/")
    assert _bypassed("example.com:8080", "http://a.example.com:8080/")
    assert not _bypassed("example.com:8080", "http://example.com/")
    assert _bypassed("example.com:80", "http://example.com/")  # the default port counts
    assert _bypassed("10.0.0.1:8080", "http://10.0.0.1:8080/")
    assert not _bypassed("10.0.0.1:8080", "http://10.0.0.1:8081/")


def test_no_proxy_ipv4_addresses_and_cidr_blocks() -> None:
    assert _bypassed("127.0.0.1", "http://127.0.0.1:8000/")
    assert not _bypassed("127.0.0.1", "http://127.0.0.2/")
    assert _bypassed("10.0.0.0/8", "http://10.200.3.4/")
    assert not _bypassed("10.0.0.0/8", "http://11.0.0.1/")
    assert _bypassed("192.168.1.7/24", "http://192.168.1.200/")  # host bits ignored


def test_no_proxy_ipv6_addresses_and_cidr_blocks() -> None:
    assert _bypassed("::1", "http://[::1]:8080/")
    assert _bypassed("[::1]", "http://[::1]/")
    assert _bypassed("[::1]:8080", "http://[::1]:8080/")
    assert not _bypassed("[::1]:8080", "http://[::1]:8081/")
    assert _bypassed("fd00::/8", "http://[fd12:3456::1]/")
    assert not _bypassed("fd00::/8", "http://[fe80::1]/")
    # A bracketed address with a prefix is no form of NO_PROXY entry: ignored.
    assert not _bypassed("[2001:db8::]/32", "http://[2001:db8:1::5]/")


def test_no_proxy_names_are_not_resolved_to_match_addresses() -> None:
    assert not _bypassed("127.0.0.1", "http://localhost/")
    assert not _bypassed("localhost", "http://127.0.0.1/")
    assert _bypassed("localhost", "http://localhost:5000/")


def test_no_proxy_ignores_whitespace_empty_and_unusable_entries() -> None:
    no_proxy = " , internal.example ,, 10.0.0.0/8 ,[::1:, host:port, "
    assert _bypassed(no_proxy, "http://internal.example/")
    assert _bypassed(no_proxy, "http://10.9.9.9/")
    assert not _bypassed(no_proxy, "http://example.org/")
    assert not _bypassed(" , ,", "http://example.org/")


def test_no_proxy_international_names_match_their_idna_form() -> None:
    assert _bypassed("bücher.example", "http://xn--bcher-kva.example/")
    assert _bypassed("xn--bcher-kva.example", "http://shop.bücher.example/")


def test_no_proxy_lower_case_wins() -> None:
    env = {"all_proxy": "http://proxy:1", "no_proxy": "a.example", "NO_PROXY": "b.example"}
    assert proxy_for(URL("http://a.example/"), env) is None
    assert proxy_for(URL("http://b.example/"), env) == URL("http://proxy:1")


def test_no_proxy_parse_keeps_each_kind_apart() -> None:
    parsed = NoProxy.parse(".Example.com, example.net:81, 10.0.0.0/8, [::1]:99")
    assert parsed.domains == frozenset({"example.com"})
    assert parsed.domain_ports == frozenset({("example.net", 81)})
    assert [str(n) for n in parsed.networks] == ["10.0.0.0/8"]
    assert {(str(a), p) for a, p in parsed.address_ports} == {("::1", 99)}
    assert not NoProxy.parse("")


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_domain = st.lists(_label, min_size=1, max_size=4).map(".".join)


@given(domain=_domain, sub=st.lists(_label, max_size=3), glued=_label)
def test_no_proxy_domain_matches_itself_and_subdomains_only(
    domain: str, sub: list[str], glued: str
) -> None:
    no_proxy = NoProxy.parse(f" .{domain} ")
    subdomain = ".".join([*sub, domain])
    assert no_proxy.matches(URL(f"http://{subdomain}/"))
    # Glued onto the first label without a dot, it is another domain.
    assert not no_proxy.matches(URL(f"http://{glued}{domain}/"))


@given(
    octets=st.tuples(*[st.integers(0, 255)] * 4),
    prefix=st.integers(0, 32),
    probe=st.tuples(*[st.integers(0, 255)] * 4),
)
def test_no_proxy_cidr_matches_exactly_the_block(
    octets: tuple[int, int, int, int], prefix: int, probe: tuple[int, int, int, int]
) -> None:
    block = ".".join(map(str, octets))
    host = ".".join(map(str, probe))
    as_int = int.from_bytes(bytes(octets), "big")
    probe_int = int.from_bytes(bytes(probe), "big")
    mask = ((1 << prefix) - 1) << (32 - prefix)
    expected = (as_int & mask) == (probe_int & mask)
    assert NoProxy.parse(f"{block}/{prefix}").matches(URL(f"http://{host}/")) is expected


# -- .netrc --------------------------------------------------------------------------------


def _netrc(tmp_path: Path, text: str, name: str = ".netrc") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


NETRC_TEXT = """\
machine api.example.com login alice password s3cret
machine Other.Example login bob password "pass word"
default login anon password guest
"""


def test_netrc_path_prefers_the_netrc_variable(tmp_path: Path) -> None:
    assert netrc_path({"NETRC": "/etc/my-netrc"}, home=tmp_path) == Path("/etc/my-netrc")
    assert netrc_path({}, home=tmp_path) == tmp_path / ".netrc"
    assert netrc_path({"NETRC": ""}, home=tmp_path) == tmp_path / ".netrc"


def test_windows_reads_underscore_netrc_when_there_is_no_dot_netrc(tmp_path: Path) -> None:
    names = (".netrc", "_netrc")
    assert _first_existing(tmp_path, names) == tmp_path / ".netrc"
    (tmp_path / "_netrc").touch()
    assert _first_existing(tmp_path, names) == tmp_path / "_netrc"
    (tmp_path / ".netrc").touch()
    assert _first_existing(tmp_path, names) == tmp_path / ".netrc"


def test_netrc_gives_the_machine_entry_then_default(tmp_path: Path) -> None:
    _netrc(tmp_path, NETRC_TEXT)
    assert netrc_auth("api.example.com", {}, tmp_path) == BasicAuth("alice", "s3cret")
    assert netrc_auth("other.example", {}, tmp_path) == BasicAuth("bob", "pass word")
    assert netrc_auth("API.Example.com.", {}, tmp_path) == BasicAuth("alice", "s3cret")
    assert netrc_auth("unknown.example", {}, tmp_path) == BasicAuth("anon", "guest")


def test_netrc_without_default_gives_nothing_for_other_hosts(tmp_path: Path) -> None:
    _netrc(tmp_path, "machine api.example.com login alice password s3cret\n")
    credentials = NetrcCredentials.load({}, tmp_path)
    assert credentials.for_host("api.example.com") == BasicAuth("alice", "s3cret")
    assert credentials.for_host("www.example.com") is None
    assert credentials.for_host(None) is None


def test_netrc_named_by_the_variable_is_read(tmp_path: Path) -> None:
    path = _netrc(tmp_path, "machine h login u password p\n", name="custom")
    assert netrc_auth("h", {"NETRC": str(path)}, home=tmp_path / "nowhere") == BasicAuth("u", "p")


def test_a_missing_netrc_gives_nothing_silently(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="httpwire.client"):
        credentials = NetrcCredentials.load({}, tmp_path)
    assert not credentials
    assert credentials.for_host("example.com") is None
    assert caplog.records == []


def test_a_missing_file_named_by_netrc_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="httpwire.client"):
        assert netrc_auth("h", {"NETRC": str(tmp_path / "absent")}, tmp_path) is None
    assert [r.getMessage() for r in caplog.records] == [
        f"ignoring NETRC={tmp_path / 'absent'}: no such file"
    ]


def test_a_malformed_netrc_is_ignored_with_a_warning_that_hides_tokens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _netrc(tmp_path, "machine ok login u password p\nbogus-token hunter2\n")
    with caplog.at_level(logging.WARNING, logger="httpwire.client"):
        assert netrc_auth("ok", {}, tmp_path) is None
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.name == "httpwire.client"
    assert record.getMessage() == f"ignoring {path}: malformed at line 2"
    assert "hunter2" not in record.getMessage()
    assert "bogus" not in record.getMessage()


def test_an_unreadable_netrc_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with caplog.at_level(logging.WARNING, logger="httpwire.client"):
        assert netrc_auth("h", {"NETRC": str(folder)}, tmp_path) is None
    (record,) = caplog.records
    assert record.getMessage().startswith(f"ignoring {folder}: cannot be read (")


def test_a_netrc_that_is_not_utf8_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / ".netrc"
    path.write_bytes(b"machine h login u password \xff\xfe\n")
    with caplog.at_level(logging.WARNING, logger="httpwire.client"):
        assert netrc_auth("h", {}, tmp_path) is None
    (record,) = caplog.records
    assert record.getMessage() == f"ignoring {path}: cannot be read (UnicodeDecodeError)"


def test_a_netrc_entry_unfit_for_basic_auth_is_skipped_without_its_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _netrc(
        tmp_path,
        "machine bad login a:b password topsecret\nmachine good login u password p\n",
    )
    with caplog.at_level(logging.WARNING, logger="httpwire.client"):
        credentials = NetrcCredentials.load({}, tmp_path)
    assert credentials.for_host("bad") is None
    assert credentials.for_host("good") == BasicAuth("u", "p")
    (record,) = caplog.records
    assert "'bad'" in record.getMessage()
    assert "topsecret" not in record.getMessage()
    assert "a:b" not in record.getMessage()


# -- SSL_CERT_FILE / SSL_CERT_DIR ----------------------------------------------------------


def _handshake(client: ssl.SSLContext, server: ssl.SSLContext, hostname: str) -> None:
    """A full TLS handshake between two contexts over memory BIOs (no socket)."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(c_in, c_out, server_hostname=hostname)
    server_side = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):  # a handshake takes a few flights; bounded, not timed
        for name, side in (("client", client_side), ("server", server_side)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return
    raise AssertionError("the handshake did not finish")


@pytest.fixture
def trust(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A trustme CA in a PEM file, and a server context whose certificate it signed."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("test.example").configure_cert(server)
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return cafile, server


@pytest.mark.skipif(
    ssl.get_default_verify_paths().openssl_cafile_env != "SSL_CERT_FILE",
    reason="this OpenSSL does not name SSL_CERT_FILE for its default paths",
)
def test_stdlib_default_context_reads_ssl_cert_file_from_the_process_environment(
    trust: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the module documents: without it, the variable still applies, process-wide."""
    cafile, server = trust
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(cafile))
    _handshake(ssl.create_default_context(), server, "test.example")


def test_without_the_variables_the_default_context_applies() -> None:
    assert ssl_context_from_env({}) is None
    assert ssl_context_from_env({"SSL_CERT_FILE": "", "SSL_CERT_DIR": ""}) is None


def test_ssl_cert_file_is_the_trust_store(trust: tuple[Path, ssl.SSLContext]) -> None:
    cafile, server = trust
    context = ssl_context_from_env({"SSL_CERT_FILE": str(cafile)})
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    # The file replaces the system store: its one CA is all the context trusts.
    assert [c["subject"] for c in context.get_ca_certs()] == [
        c["subject"] for c in _pem_ca(cafile).get_ca_certs()
    ]
    _handshake(context, server, "test.example")
    # Still a verifying context: the wrong name is refused.
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        _handshake(context, server, "other.test")


def _pem_ca(cafile: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(cafile))
    return context


def test_an_empty_ssl_cert_dir_trusts_nothing(
    trust: tuple[Path, ssl.SSLContext], tmp_path: Path
) -> None:
    """The control for the test above: the variables replace the store, never add to it."""
    _, server = trust
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    context = ssl_context_from_env({"SSL_CERT_DIR": str(empty)})
    assert context is not None
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        _handshake(context, server, "test.example")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool to rehash")
def test_ssl_cert_dir_is_the_trust_store(
    trust: tuple[Path, ssl.SSLContext], tmp_path: Path
) -> None:
    cafile, server = trust
    folder = tmp_path / "certs"
    folder.mkdir()
    shutil.copy(cafile, folder / "ca.pem")
    subprocess.run(["openssl", "rehash", str(folder)], check=True, capture_output=True)
    context = ssl_context_from_env({"SSL_CERT_DIR": str(folder)})
    assert context is not None
    _handshake(context, server, "test.example")


def test_a_missing_ssl_cert_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ValueError, match=r"^SSL_CERT_FILE='.*nope\.pem' cannot be loaded"):
        ssl_context_from_env({"SSL_CERT_FILE": str(missing)})


def test_an_ssl_cert_file_without_certificates_is_an_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ValueError, match=r"^SSL_CERT_FILE=.*junk\.pem' cannot be loaded"):
        ssl_context_from_env({"SSL_CERT_FILE": str(junk)})


def test_an_ssl_cert_dir_that_is_not_a_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^SSL_CERT_DIR=.* is not a folder"):
        ssl_context_from_env({"SSL_CERT_DIR": str(tmp_path / "absent")})


# -- all together --------------------------------------------------------------------------


def test_environment_settings_read_everything_once(tmp_path: Path) -> None:
    _netrc(tmp_path, NETRC_TEXT)
    env = {
        "HTTPS_PROXY": "http://u:p@proxy:3128",
        "NO_PROXY": "localhost,127.0.0.0/8",
    }
    settings = EnvironmentSettings.read(env, home=tmp_path)
    assert settings.proxies.proxy_for(HTTPS) == URL("http://u:p@proxy:3128")
    assert settings.proxies.proxy_for(URL("https://127.0.0.1/")) is None
    assert settings.proxies.proxy_for(HTTP) is None
    assert settings.netrc.for_host("api.example.com") == BasicAuth("alice", "s3cret")
    assert settings.ssl_context is None
    # Read once: later changes to the file do not show in the settings already read.
    _netrc(tmp_path, "machine api.example.com login eve password other\n")
    assert settings.netrc.for_host("api.example.com") == BasicAuth("alice", "s3cret")


def test_empty_environment_settings() -> None:
    settings = EnvironmentSettings()
    assert not settings.proxies
    assert not settings.netrc
    assert settings.ssl_context is None


def test_settings_are_values_compared_hashed_and_shown_by_their_fields() -> None:
    a = NoProxy.parse("example.com, 10.0.0.0/8, [::1]:8080")
    b = NoProxy.parse("10.0.0.0/8,example.com,[::1]:8080")
    assert a == b
    assert hash(a) == hash(b)
    assert a != NoProxy.parse("example.org")
    assert NoProxy() == NoProxy()
    assert a.__eq__("example.com") is NotImplemented
    assert repr(NoProxy(everything=True)) == (
        "NoProxy(everything=True, domains=frozenset(), domain_ports=frozenset(), "
        "networks=(), address_ports=frozenset())"
    )
    proxies = ProxySettings(fallback=URL("http://proxy:3128"))
    assert proxies == ProxySettings(by_scheme={}, fallback=URL("http://proxy:3128"))
    assert repr(NetrcCredentials()) == "NetrcCredentials(machines={}, default=None)"
    assert EnvironmentSettings() == EnvironmentSettings(ProxySettings(), NetrcCredentials())


def test_settings_are_immutable() -> None:
    settings = EnvironmentSettings()
    with pytest.raises(AttributeError, match="cannot assign to field 'netrc'"):
        settings.netrc = NetrcCredentials()
    with pytest.raises(AttributeError, match="cannot delete field 'everything'"):
        del NoProxy().everything
