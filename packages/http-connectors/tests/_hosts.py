"""Run a script where host names resolve to several loopback addresses.

The machine's /etc/hosts gives ``localhost`` one address. To show what only a name with
several addresses shows (rotation, Happy Eyeballs across families), a script runs in a
private mount namespace (``unshare -m``, needs root) where a hosts file of the test's own is
bind-mounted over /etc/hosts: the real resolver (glibc's ``getaddrinfo``) then answers with
those addresses. Nothing outside the child process sees the change. Tests skip when the
machine cannot make mount namespaces.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

__all__ = ["run_with_hosts"]

_MOUNT = 'mount --bind "$0" /etc/hosts && exec "$@"'


@functools.cache
def _unavailable() -> str | None:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return "needs Linux with unshare(1)"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", _MOUNT, "/etc/hosts", "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode:
        return f"cannot bind-mount a hosts file in a mount namespace: {probe.stderr.strip()}"
    return None


def run_with_hosts(tmp_path: Path, hosts: str, script: str, timeout: float = 60) -> str:
    """Run a Python ``script`` with ``hosts`` as its /etc/hosts; return its stdout.

    Skips the calling test when mount namespaces are not available.

    Raises:
        AssertionError: The script failed (its stderr is in the message).
    """
    reason = _unavailable()
    if reason is not None:
        pytest.skip(reason)
    hosts_file = tmp_path / "hosts"
    hosts_file.write_text("127.0.0.1 localhost\n" + textwrap.dedent(hosts))
    script_file = tmp_path / "script.py"
    script_file.write_text(textwrap.dedent(script))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", _MOUNT, str(hosts_file), sys.executable, str(script_file)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert done.returncode == 0, f"script failed ({done.returncode}):\n{done.stderr}"
    return done.stdout
