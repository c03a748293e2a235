"""Each module imports alone in a clean interpreter, and the package imports no sibling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import httpwire.streams

MODULES = sorted(
    f"httpwire.streams.{path.stem}"
    for path in Path(httpwire.streams.__file__).parent.glob("_*.py")
    if path.stem != "__init__"
)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)


def test_package_imports_no_other_httpwire_package() -> None:
    code = (
        "import sys, httpwire.streams\n"
        "others = sorted(m for m in sys.modules if m.startswith('httpwire.')"
        " and not m.startswith('httpwire.streams'))\n"
        "assert not others, others\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
