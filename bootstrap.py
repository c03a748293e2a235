#!/usr/bin/env python3
"""Set up the task runner and run nox: the one entry point a fresh machine needs.

``python3 bootstrap.py`` runs every test (exactly what CI runs);
``python3 bootstrap.py -s demo`` runs the demo. Any arguments go to nox.

Needs only Python 3.11+ with its standard ``venv`` module. The first run makes
``.tools/`` (a venv holding the pinned nox and uv of tools-requirements.txt);
later runs reuse it until that file changes. nox then builds every other
environment itself.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
REQUIREMENTS = ROOT / "tools-requirements.txt"


def _bin(name: str) -> Path:
    return TOOLS / ("Scripts" if os.name == "nt" else "bin") / name


def _ensure_tools() -> None:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = TOOLS / "requirements.sha256"
    if stamp.exists() and stamp.read_text() == digest and _bin("nox").exists():
        return
    print(f"bootstrap: installing {REQUIREMENTS.name} into {TOOLS}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
    subprocess.run(
        [str(_bin("python")), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(digest)


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is what a too-old Python runs first
        sys.exit("httpwire needs Python 3.11 or newer")
    _ensure_tools()
    env = dict(os.environ)
    # nox finds uv through PATH; put the pinned one first.
    env["PATH"] = str(_bin("")) + os.pathsep + env.get("PATH", "")
    os.chdir(ROOT)
    return subprocess.run([str(_bin("nox")), *sys.argv[1:]], env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
