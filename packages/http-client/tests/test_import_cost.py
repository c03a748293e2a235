"""``import httpwire.client`` leaves out what only some requests need.

Each module listed here is imported by the function that needs it (saving cookies, reading
a netrc file, an HTTP-date ``Retry-After``, a digest nonce, a multipart boundary, guessing a
file's type, guessing a charset) or only by the command line. (brotli and zstandard are
probed at import: ``Accept-Encoding`` lists a coding only when its library can decode it.)
The check runs in a fresh interpreter, since this test process has imported most of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LAZY = (
    "chardet",
    "email.utils",
    "mimetypes",
    "netrc",
    "rich",
    "secrets",
    "tempfile",
)


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(result.stdout))


def test_import_leaves_out_optional_modules() -> None:
    loaded = _modules_after("import httpwire.client")
    assert "httpwire.client" in loaded
    assert sorted(loaded.intersection(LAZY)) == []


def test_lazy_modules_still_load_on_use(tmp_path: Path) -> None:
    # Using a feature loads the module it needs: the check above names real imports.
    target = tmp_path / "cookies.json"
    loaded = _modules_after(
        "from httpwire.client import CookieJar\n"
        f"CookieJar().save({str(target)!r})\n"
        "from httpwire.forms import MultipartWriter\n"
        "MultipartWriter()"
    )
    assert target.exists()
    assert {"tempfile", "secrets"} <= loaded
