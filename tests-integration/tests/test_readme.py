"""The root README's examples run as written, against our test server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from httpwire_testserver import LocalServer

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def _run(code: str) -> str:
    # Each example runs in a fresh interpreter, as a reader would run it.
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_readme_has_its_three_first_examples() -> None:
    assert len(BLOCKS) == 3
    assert "from httpwire.client import ClientSession" in BLOCKS[0], "the client comes first"


def test_the_client_example_gets_and_posts(httpwire_server: LocalServer) -> None:
    code = BLOCKS[0].replace("http://127.0.0.1:8080", httpwire_server.http_url)
    assert code != BLOCKS[0], "the example no longer names the server it talks to"
    assert _run(code).splitlines() == [
        "200 application/json",
        f"{httpwire_server.http_url}/get?key=value",
        "{'key': 'value'}",
        "{'name': 'httpwire'}",
    ]


def test_the_connection_level_example_fetches_a_page(httpwire_server: LocalServer) -> None:
    code = BLOCKS[1].replace("http://127.0.0.1:8080", httpwire_server.http_url)
    assert code != BLOCKS[1], "the example no longer names the server it talks to"
    lines = _run(code).splitlines()
    assert lines[0] == "200 application/json"
    total = sum(int(line.split()[0]) for line in lines[1:])
    assert total > 0
    assert all(line.endswith(" bytes") for line in lines[1:])


def test_the_parser_example_prints_its_events() -> None:
    assert _run(BLOCKS[2]).splitlines() == ["200 5", "body b'hello'", "end of message"]


@pytest.mark.parametrize("block", range(len(BLOCKS)))
def test_examples_import_only_public_names(block: int) -> None:
    for module, names in re.findall(r"from (httpwire\.\w+) import ([^\n(]+)", BLOCKS[block]):
        imported = __import__(module, fromlist=["__all__"])
        for name in names.split(","):
            assert name.strip() in imported.__all__, (module, name)
