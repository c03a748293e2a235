"""A process-group keeper for one peer: ``python -m httpwire_testserver._supervise ARGV...``.

It leads the peer's process group, runs the program as its child, and when told
to stop (SIGTERM, SIGINT, SIGHUP; on Linux also sent when the test process dies,
even by SIGKILL) it asks the program to stop, waits a grace period, then SIGKILLs
the whole group, itself included. Programs such as proxy.py may leave worker
processes behind when their main process ends; the group kill takes them too.
It also ends the group when the program exits on its own. Descriptors named in
``HTTPWIRE_PASS_FDS`` (comma-separated) are handed to the program; the peer's
private directory named in ``HTTPWIRE_WORKDIR`` is removed when told to stop
(the test process may be gone and unable to do it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from types import FrameType

__all__ = ["main"]

GRACE = 3.0


def main(argv: list[str]) -> int:
    """Run ``argv`` and keep its process group; return only if ``argv`` is empty."""
    if not argv:
        print("usage: python -m httpwire_testserver._supervise PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    fds = tuple(int(fd) for fd in os.environ.pop("HTTPWIRE_PASS_FDS", "").split(",") if fd)
    workdir = os.environ.pop("HTTPWIRE_WORKDIR", "")
    child = subprocess.Popen(argv, pass_fds=fds)
    deadline: list[float] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if not deadline:
            deadline.append(time.monotonic() + GRACE)
            child.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    while child.poll() is None and not (deadline and time.monotonic() > deadline[0]):
        time.sleep(0.05)
    if child.returncode is not None and not deadline:
        # The program died on its own: keep the work directory, whose log says why.
        print(f"{argv[0]} exited with status {child.returncode}", file=sys.stderr, flush=True)
    elif workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    os.killpg(os.getpgrp(), signal.SIGKILL)
    return 1  # not reached: the group kill ends this process too


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
