"""The README's examples are real: every ``pycon`` block runs, in order, as a doctest."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```pycon\n(.*?)^```$", re.M | re.S)


def test_readme_examples_run() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = list(_BLOCK.finditer(text))
    assert len(blocks) >= 10
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs: dict[str, object] = {}
    for match in blocks:
        line = text.count("\n", 0, match.start(1))
        test = parser.get_doctest(match.group(1), globs, "README.md", str(README), line)
        runner.run(test, clear_globs=False)
        globs = test.globs  # DocTest copies its globals: carry them to the next block
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 40
    assert failed == 0, f"{failed} README example(s) failed; see the output above"
