"""The README's examples run, and print what their comments say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
# A print call with the output it gives in a trailing comment.
PRINTED = re.compile(r"^\s*print\(.*\)\s+# (.*)$", re.MULTILINE)


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(1, len(BLOCKS)))
def test_example_runs_and_prints_what_it_says(index: int) -> None:
    code = BLOCKS[index]
    expected = PRINTED.findall(code)
    assert expected, "each example states its output"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
