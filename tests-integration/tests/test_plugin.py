"""The plugin imports cheaply, the server runs by hand, and peers never outlive the test run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest


def _run_python(code: str, timeout: float = 30.0) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_plugin_starts_and_imports_nothing_heavy() -> None:
    out = _run_python(
        """
        import sys
        import httpwire_testserver.plugin
        heavy = ["trustme", "httpwire.parser", "httpwire_testserver._server",
                 "httpwire_testserver._local", "httpwire_testserver._peers", "asyncio"]
        print(",".join(name for name in heavy if name in sys.modules))
        """
    )
    assert out.strip() == ""


def test_lazy_names_resolve() -> None:
    import httpwire_testserver

    assert httpwire_testserver.LocalServer.__name__ == "LocalServer"
    assert "ProxyPeer" in dir(httpwire_testserver)
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        getattr(httpwire_testserver, "Nothing")  # noqa: B009


def test_server_runs_by_hand(tmp_path: Path) -> None:
    unix_path = str(tmp_path / "s.sock")
    process = subprocess.Popen(
        [sys.executable, "-m", "httpwire_testserver", "--port", "0", "--unix", unix_path,
         "--tls-port", "0", "--make-certs", str(tmp_path / "certs")],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        url = lines[0].removeprefix("serving ")
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/status/204", timeout=5) as response:
            assert response.status == 204
        assert (tmp_path / "certs" / "ca.pem").exists()
        assert os.path.exists(unix_path)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        if process.stdout is not None:
            process.stdout.close()
    assert not os.path.exists(unix_path)


def test_tls_port_needs_certificates() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "httpwire_testserver", "--port", "0", "--tls-port", "0"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert "--tls-port needs --certfile and --keyfile, or --make-certs DIR" in done.stderr


_HOLDER = """
import sys, time
from httpwire_testserver import HttpbinPeer, ProxyPeer
peers = [HttpbinPeer().start(), ProxyPeer().start()]
print(peers[0]._process.process.pid, peers[1]._process.process.pid, flush=True)
time.sleep(60)
"""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pgids: list[int], timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pgid for pgid in pgids if _group_alive(pgid)]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["SIGTERM", "SIGINT", "SIGKILL"]
)
def test_peers_die_with_the_process_that_started_them(signum: int) -> None:
    if signum == signal.SIGKILL and sys.platform != "linux":
        pytest.skip("only Linux lets a child ask to die with its parent")
    pytest.importorskip("gunicorn")
    pytest.importorskip("proxy")
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        pgids = [int(pid) for pid in holder.stdout.readline().split()]
        assert len(pgids) == 2
        assert all(_group_alive(pgid) for pgid in pgids)
        holder.send_signal(signum)
        holder.wait(20)
        assert _wait_gone(pgids) == []
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_peer_sockets_listen_on_loopback_only(
    httpwire_server: object, httpbin_server: object, proxy: object
) -> None:
    # Every listening TCP socket of this test run's peers is bound to 127.0.0.1 or ::1.
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc/net/tcp")
    ports = _our_ports(httpwire_server, httpbin_server, proxy)
    ours = _listening_on(ports)
    assert ours, "no listening socket found for the fixtures' ports"
    assert ours <= {"127.0.0.1", "::1"}, ours


def _our_ports(*peers: object) -> set[int]:
    ports: set[int] = set()
    for peer in peers:
        for name in ("port", "tls_port"):
            value = getattr(peer, name, None)
            if isinstance(value, int):
                ports.add(value)
        for inner in ("open_peer", "auth_peer"):
            value = getattr(peer, inner, None)
            if value is not None:
                ports.add(value.port)
    return ports


def _listening_on(ports: set[int]) -> set[str]:
    found: set[str] = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            host_hex, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) not in ports:
                continue
            raw = bytes.fromhex(host_hex)
            # /proc shows addresses as host-order 32-bit words (little-endian here).
            words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
            found.add(socket.inet_ntop(family, b"".join(words)))
    return found
