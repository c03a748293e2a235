"""Peer programs in processes of their own, and their end whatever happens to the tests.

Each peer runs in a new session (``start_new_session=True``) under a small
keeper (``_supervise.py``) that leads its process group, so
:meth:`PeerProcess.stop` ends it together with its children (gunicorn's
workers, proxy.py's acceptors) with one ``killpg``: SIGTERM, then SIGKILL after
a grace period. Every running peer is also registered for
:func:`stop_all_peers`, called at interpreter exit (``atexit``) and on
SIGTERM/SIGHUP, so an interrupted test run leaves nothing behind. On Linux the
keeper also asks the kernel for SIGTERM when the process that started it dies
(``PR_SET_PDEATHSIG``), and then kills its whole group, which covers even a
SIGKILLed test run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

from ._net import wait_listening

__all__ = [
    "PeerProcess",
    "PeerUnavailableError",
    "install_signal_handlers",
    "stop_all_peers",
]

_RUNNING: set[PeerProcess] = set()
_LOCK = threading.Lock()
_STOP_GRACE = 5.0


class PeerUnavailableError(RuntimeError):
    """A peer cannot run here because a package it needs is not installed."""


def stop_all_peers() -> None:
    """Stop every peer process still running (idempotent)."""
    with _LOCK:
        peers = list(_RUNNING)
    for peer in peers:
        peer.stop()


atexit.register(stop_all_peers)

_handlers_installed = False


def install_signal_handlers() -> None:
    """Stop all peers on SIGTERM and SIGHUP, then let the signal do what it did before.

    Only signals whose handler is still the default are taken over, and only from
    the main thread (Python delivers signals there).
    """
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    _handlers_installed = True
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(signum)
        if previous is not signal.SIG_DFL:
            continue

        def handler(received: int, frame: FrameType | None) -> None:
            stop_all_peers()
            signal.signal(received, signal.SIG_DFL)
            os.kill(os.getpid(), received)

        signal.signal(signum, handler)


class PeerProcess:
    """One peer program in its own process group, its output kept in a log file.

    Args:
        name: A short name for messages.
        argv: The command line.
        log_path: Where stdout and stderr go.
        pass_fds: Descriptors the child inherits (pre-bound listening sockets).
        workdir: A private directory of this peer, removed when it stops (by
            :meth:`stop`, or by the keeper when the test process died first).
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        pass_fds: tuple[int, ...] = (),
        workdir: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.pass_fds = pass_fds
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the program in a new session (its own process group)."""
        install_signal_handlers()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["HTTPWIRE_PASS_FDS"] = ",".join(str(fd) for fd in self.pass_fds)
        env["HTTPWIRE_WORKDIR"] = str(self.workdir or "")
        # The keeper leads the group and kills it whole, whatever the program leaves behind.
        argv = [sys.executable, "-m", "httpwire_testserver._supervise", *self.argv]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=self.pass_fds,
                env=env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        with _LOCK:
            _RUNNING.add(self)

    @property
    def pid(self) -> int | None:
        """The process id (and process group id), while it runs."""
        return self.process.pid if self.process is not None else None

    def exit_reason(self) -> str | None:
        """Why the process is gone, with the end of its log; ``None`` while it runs."""
        if self.process is None or self.process.poll() is None:
            return None
        return f"{self.name} exited with status {self.process.returncode}:\n{self.log_tail()}"

    def log_tail(self, size: int = 4000) -> str:
        """The last ``size`` characters of the log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-size:]

    def wait_ready(self, *addresses: tuple[str, int] | str, timeout: float = 60.0) -> None:
        """Wait until every address accepts connections.

        Raises:
            RuntimeError: The process exited first (its log tail is in the message).
            TimeoutError: It did not listen in time.
        """
        for address in addresses:
            try:
                wait_listening(address, timeout=timeout, alive=self.exit_reason)
            except TimeoutError as exc:
                raise TimeoutError(f"{self.name}: {exc}\n{self.log_tail()}") from None

    def stop(self) -> None:
        """End the process group: SIGTERM, then SIGKILL after a grace period."""
        process = self.process
        with _LOCK:
            _RUNNING.discard(self)
        if process is None:
            return
        self.process = None
        try:
            self._end(process)
        finally:
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)

    @staticmethod
    def _end(process: subprocess.Popen[bytes]) -> None:
        for signum, wait in ((signal.SIGTERM, _STOP_GRACE), (signal.SIGKILL, _STOP_GRACE)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signum)
            try:
                process.wait(wait)
                # The leader is gone; children that outlived it still hold the group.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                return
            except subprocess.TimeoutExpired:
                continue


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies, even by SIGKILL (Linux)."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
