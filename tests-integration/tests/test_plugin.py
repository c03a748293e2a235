"""The plugin imports cheaply, the server runs by hand, and peers never outlive the test run."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from httpwire_testserver import HttpbinPeer, LocalServer
from httpwire_testserver.plugin import Proxies


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
                 "httpwire_testserver._local", "httpwire_testserver._peers",
                 "httpwire_testserver._process", "asyncio"]
        print(",".join(name for name in heavy if name in sys.modules))
        """
    )
    assert out.strip() == ""


def test_lazy_names_resolve() -> None:
    import httpwire_testserver

    assert httpwire_testserver.LocalServer.__name__ == "LocalServer"
    assert "ProxyPeer" in dir(httpwire_testserver)
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = httpwire_testserver.Nothing


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
        conn = http.client.HTTPConnection("127.0.0.1", int(url.rpartition(":")[2]), timeout=5)
        try:
            conn.request("GET", "/status/204")
            assert conn.getresponse().status == 204
        finally:
            conn.close()
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


# What a child runs first when a test interrupts it: SIGINT back to Python's default. A
# shell runs a background job with SIGINT ignored, its children inherit that, and Python
# then leaves it ignored: the SIGINT a test sends would do nothing.
_DEFAULT_SIGINT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"

_RUN_PYTEST = "import pytest; raise SystemExit(pytest.console_main())"

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
    holder = subprocess.Popen(
        [sys.executable, "-c", _DEFAULT_SIGINT + _HOLDER], stdout=subprocess.PIPE, text=True
    )
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


def test_nothing_listens_beyond_loopback(
    httpwire_server: LocalServer, httpbin_server: HttpbinPeer, proxy: Proxies
) -> None:
    # Every listening TCP socket of the peers' process groups, and of this process
    # (our server's thread), is bound to 127.0.0.1 or ::1.
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc")
    groups = {httpbin_server.pid, proxy.open_peer.pid, proxy.auth_peer.pid}
    assert None not in groups
    pids = {os.getpid()} | {pid for pid in _all_pids() if _pgrp(pid) in groups}
    inodes = set().union(*(_socket_inodes(pid) for pid in pids))
    listening = _listening_sockets()
    ours = {address for inode, address in listening if inode in inodes}

    ports = {port for _, port in ours}
    expected = {httpwire_server.port, httpwire_server.tls_port, httpbin_server.port}
    assert expected | {proxy.open_peer.port, proxy.auth_peer.port} <= ports
    assert {host for host, _ in ours} <= {"127.0.0.1", "::1"}, ours


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _pgrp(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: fields after its ")" are safe to split.
    return int(stat.rpartition(")")[2].split()[2])


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        entries = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return inodes
    for entry in entries:
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _listening_sockets() -> list[tuple[int, tuple[str, int]]]:
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            host_hex, port_hex = fields[1].split(":")
            raw = bytes.fromhex(host_hex)
            # /proc shows addresses as 32-bit words in host order (little-endian here).
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((int(fields[9]), (socket.inet_ntop(family, words), int(port_hex, 16))))
    return found


_INTERRUPTED_SUITE = """
import os, time

def test_hold(httpbin_server, proxy):
    print("GROUPS", httpbin_server.pid, proxy.open_peer.pid, proxy.auth_peer.pid, flush=True)
    time.sleep(60)
"""


def test_an_interrupted_pytest_run_stops_its_peers(tmp_path: Path) -> None:
    pytest.importorskip("gunicorn")
    pytest.importorskip("proxy")
    (tmp_path / "test_hold.py").write_text(_INTERRUPTED_SUITE)
    run = subprocess.Popen(
        [sys.executable, "-c", _DEFAULT_SIGINT + _RUN_PYTEST,
         "-s", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path), "-c", os.devnull, str(tmp_path / "test_hold.py")],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert run.stdout is not None
        line = ""
        while not line.startswith("GROUPS"):
            line = run.stdout.readline()
            assert line, "the inner run ended before its fixtures started"
        pgids = [int(pid) for pid in line.split()[1:]]
        assert all(_group_alive(pgid) for pgid in pgids)
        run.send_signal(signal.SIGINT)  # what Ctrl-C does
        run.wait(30)
        assert _wait_gone(pgids) == []
        assert run.returncode == 2  # pytest's code for an interrupted run
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if run.stdout is not None:
            run.stdout.close()
