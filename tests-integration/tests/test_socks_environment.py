"""SOCKS5 proxies taken from the environment (``trust_env=True``), through a real SOCKS server.

The peer is pproxy (a SOCKS5 server from PyPI) in a subprocess on loopback, open or asking
for a username and password (RFC 1929), run verbose: it writes one line per tunnel it
opens, ``socks5 CLIENT -> TARGET``, which shows that a request went through it and which
side resolved the name (``socks5h://``: the proxy, so the target is the name;
``socks5://``: the client, so the target is an address). ``ALL_PROXY`` names it with the
credentials in its URL, percent-encoded; ``NO_PROXY`` sends the hosts it lists direct.
The ``httpwire`` command's ``--proxy`` takes the same URLs.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from httpwire.client import ClientProxyError, ClientSession
from httpwire_testserver import LocalServer

USER = "tester"
PASSWORD = "p@ss:w/rd %#?&"
PASSWORD_IN_URL = "p%40ss%3Aw%2Frd%20%25%23%3F%26"

# pproxy's main() installs uvloop when it can import it and then asks for the current
# event loop outside a running one, which recent uvloop refuses: run it on asyncio's loop.
_LAUNCH = (
    "import asyncio, sys\n"
    "sys.modules['uvloop'] = None\n"
    "asyncio.set_event_loop(asyncio.new_event_loop())\n"
    "from pproxy.server import main\n"
    "sys.argv = ['pproxy', *sys.argv[1:]]\n"
    "main()\n"
)

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")


class Socks:
    """pproxy serving SOCKS5 on 127.0.0.1, its log of tunnels readable by the test."""

    def __init__(self, workdir: Path, credentials: bool) -> None:
        self.workdir = workdir
        self.credentials = credentials
        self.port = 0
        self.log = workdir / "pproxy.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Socks:
        listen = "socks5://127.0.0.1:0"
        if self.credentials:
            users = self.workdir / "users"
            users.write_text(f"{USER}:{PASSWORD}\n", encoding="latin-1")
            listen += f"##{users}"  # a file of "user:password" lines
        with self.log.open("wb") as out:
            # -v: one line per tunnel; --auth 0: check the credentials on every connection.
            self._process = subprocess.Popen(
                [sys.executable, "-u", "-c", _LAUNCH, "-l", listen, "-v", "--auth", "0"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"Serving on \S+ 127\.0\.0\.1:(\d+)", self.text())
            if found:
                self.port = int(found[1])
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.05)  # polling its log: it says nothing else when it listens
        self.stop()
        raise RuntimeError(f"pproxy did not start: {self.text()[-2000:]}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tunnels(self) -> list[str]:
        """The target of each tunnel opened so far, as pproxy logged it."""
        return re.findall(r"^socks5 \S+ -> (\S+)$", self.text(), re.MULTILINE)

    def url(self, scheme: str = "socks5h", userinfo: str = "") -> str:
        return f"{scheme}://{userinfo}127.0.0.1:{self.port}"


def _pproxy_or_skip(config: pytest.Config) -> None:
    # Not imported here: its modules warn on import, and warnings are errors in tests.
    if importlib.util.find_spec("pproxy") is None:
        reason = "the SOCKS tests need pproxy: pip install pproxy"
        if config.getoption("--httpwire-require-peers"):
            pytest.fail(f"{reason} (required by --httpwire-require-peers)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def open_socks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Socks]:
    _pproxy_or_skip(request.config)
    peer = Socks(tmp_path_factory.mktemp("socks-open"), credentials=False).start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def auth_socks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Socks]:
    _pproxy_or_skip(request.config)
    peer = Socks(tmp_path_factory.mktemp("socks-auth"), credentials=True).start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable, .netrc or trust store from the machine running the tests."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("NETRC", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _localhost_url(server: LocalServer, path: str) -> str:
    return f"http://localhost:{server.port}{path}"


async def test_all_proxy_socks5h_lets_the_proxy_resolve_the_name(
    open_socks: Socks, httpwire_server: LocalServer, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("ALL_PROXY", open_socks.url("socks5h"))
    before = len(open_socks.tunnels())
    async with (
        ClientSession(trust_env=True) as session,
        session.get(_localhost_url(httpwire_server, "/get?via=env")) as r,
    ):
        assert r.status == 200
        answer = await r.json()
    assert answer["args"] == {"via": "env"}
    assert answer["headers"]["Host"] == f"localhost:{httpwire_server.port}"
    assert not any(name.lower().startswith("proxy-") for name in answer["headers"])
    assert open_socks.tunnels()[before:] == [f"localhost:{httpwire_server.port}"]


async def test_lower_case_all_proxy_socks5_resolves_on_the_client(
    open_socks: Socks, httpwire_server: LocalServer, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("all_proxy", open_socks.url("socks5"))
    before = len(open_socks.tunnels())
    async with (
        ClientSession(trust_env=True) as session,
        session.get(_localhost_url(httpwire_server, "/get")) as r,
    ):
        assert r.status == 200
    (target,) = open_socks.tunnels()[before:]
    assert target in (f"127.0.0.1:{httpwire_server.port}", f"::1:{httpwire_server.port}")


async def test_without_trust_env_the_variable_is_ignored(
    auth_socks: Socks, httpwire_server: LocalServer, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("ALL_PROXY", auth_socks.url("socks5h"))  # would refuse us
    async with ClientSession() as session, session.get(httpwire_server.url("/get")) as r:
        assert r.status == 200


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_credentials_in_the_proxy_url_rfc_1929(
    auth_socks: Socks,
    httpwire_server: LocalServer,
    environment: pytest.MonkeyPatch,
    scheme: str,
) -> None:
    """RFC 1929: the username and password, percent-decoded from ALL_PROXY, are accepted."""
    environment.setenv("ALL_PROXY", auth_socks.url(scheme, f"{USER}:{PASSWORD_IN_URL}@"))
    before = len(auth_socks.tunnels())
    async with (
        ClientSession(trust_env=True) as session,
        session.get(_localhost_url(httpwire_server, "/headers")) as r,
    ):
        assert r.status == 200
        headers = (await r.json())["headers"]
    assert "Proxy-Authorization" not in headers  # SOCKS credentials never reach the target
    assert len(auth_socks.tunnels()) == before + 1


@pytest.mark.parametrize("userinfo", ["", f"{USER}:wrong-secret@"])
async def test_missing_or_wrong_credentials_fail_without_showing_them(
    auth_socks: Socks,
    httpwire_server: LocalServer,
    environment: pytest.MonkeyPatch,
    userinfo: str,
) -> None:
    environment.setenv("ALL_PROXY", auth_socks.url("socks5h", userinfo))
    async with ClientSession(trust_env=True) as session:
        with pytest.raises(ClientProxyError) as info:
            await session.get(_localhost_url(httpwire_server, "/get"))
    message = str(info.value)
    assert "SOCKS" in message or "socks" in message, message
    assert "wrong-secret" not in message and PASSWORD not in message


async def test_https_through_a_socks_proxy_from_the_environment(
    auth_socks: Socks, httpwire_server: LocalServer, environment: pytest.MonkeyPatch
) -> None:
    """TLS to the target inside the tunnel, its certificate checked against the name."""
    environment.setenv("HTTPS_PROXY", auth_socks.url("socks5h", f"{USER}:{PASSWORD_IN_URL}@"))
    environment.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the other scheme's: unused
    before = len(auth_socks.tunnels())
    async with (
        ClientSession(trust_env=True) as session,
        session.get(httpwire_server.https_url + "/get", ssl=httpwire_server.ssl_context()) as r,
    ):
        assert r.status == 200
        assert (await r.json())["url"] == httpwire_server.https_url + "/get"
    assert auth_socks.tunnels()[before:] == [f"localhost:{httpwire_server.tls_port}"]


async def test_no_proxy_sends_the_hosts_it_lists_direct(
    auth_socks: Socks, httpwire_server: LocalServer, environment: pytest.MonkeyPatch
) -> None:
    # Through this proxy without credentials every request fails: one that succeeds
    # went direct.
    environment.setenv("ALL_PROXY", auth_socks.url("socks5h"))
    environment.setenv("NO_PROXY", "example.org, localhost")
    before = len(auth_socks.tunnels())
    async with ClientSession(trust_env=True) as session:
        async with session.get(_localhost_url(httpwire_server, "/get")) as r:
            assert r.status == 200  # listed: direct
        with pytest.raises(ClientProxyError):
            await session.get(httpwire_server.url("/get"))  # 127.0.0.1 is not listed
    environment.setenv("no_proxy", "127.0.0.0/8")  # lower case wins; a CIDR block
    async with ClientSession(trust_env=True) as session:
        async with session.get(httpwire_server.url("/get")) as r:
            assert r.status == 200
        with pytest.raises(ClientProxyError):
            await session.get(_localhost_url(httpwire_server, "/get"))
    environment.setenv("no_proxy", "*")
    async with ClientSession(trust_env=True) as session:
        for url in (httpwire_server.url("/get"), _localhost_url(httpwire_server, "/get")):
            async with session.get(url) as r:
                assert r.status == 200
    assert auth_socks.tunnels()[before:] == []  # the refused ones opened no tunnel


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``httpwire`` (``python -m httpwire.client``) with pipes, as a script would."""
    return subprocess.run(
        [sys.executable, "-m", "httpwire.client", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_through_a_socks_proxy(
    auth_socks: Socks, httpwire_server: LocalServer, environment: pytest.MonkeyPatch
) -> None:
    before = len(auth_socks.tunnels())
    proxy = auth_socks.url("socks5h", f"{USER}:{PASSWORD_IN_URL}@")
    done = _command("--proxy", proxy, _localhost_url(httpwire_server, "/get?via=cli"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["args"] == {"via": "cli"}
    assert auth_socks.tunnels()[before:] == [f"localhost:{httpwire_server.port}"]
    wrong = auth_socks.url("socks5h", f"{USER}:wrong-secret@")
    refused = _command("--proxy", wrong, _localhost_url(httpwire_server, "/get"))
    assert refused.returncode == 6, refused.stderr  # a proxy refusal: a connection error
    (line,) = refused.stderr.splitlines()
    assert line.startswith("httpwire: error: ") and "wrong-secret" not in line
