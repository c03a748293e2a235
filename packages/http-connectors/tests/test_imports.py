"""``import httpwire.connectors`` leaves out what only some connections need.

The SOCKS5 code is imported by the first ``socks5://`` or ``socks5h://`` proxy (or by the
first use of the name ``SocksError``), ``hashlib`` by the first certificate pin checked. The
checks run in a fresh interpreter, since this test process has imported all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys

LAZY = ("hashlib", "httpwire.connectors._socks", "httpwire.connectors._socks_codec")


def _run(code: str) -> list[object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON list."""
    result = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def test_import_leaves_out_the_socks_code_and_hashlib() -> None:
    loaded = _run("import httpwire.connectors\nprint(json.dumps(sorted(sys.modules)))")
    assert "httpwire.connectors._tcp_connector" in loaded
    assert set(loaded) & set(LAZY) == set()


def test_every_public_name_resolves() -> None:
    missing, unbound, error = _run(
        "import httpwire.connectors as package\n"
        "missing = [n for n in package.__all__ if n not in dir(package)]\n"
        "namespace = {}\nexec('from httpwire.connectors import *', namespace)\n"
        "unbound = [n for n in package.__all__ if n not in namespace]\n"
        "from httpwire.connectors._socks import SocksError\n"
        "error = package.SocksError is SocksError\n"
        "error = error and issubclass(SocksError, package.ClientError)\n"
        "print(json.dumps([missing, unbound, error]))"
    )
    assert missing == []
    assert unbound == []
    assert error is True


def test_a_socks_proxy_loads_the_socks_code() -> None:
    loaded = _run(
        "from httpwire.connectors._proxy import resolve_proxy\n"
        "resolve_proxy('socks5h://127.0.0.1:1080', None)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    assert "httpwire.connectors._socks" in loaded


def test_a_pin_loads_hashlib_when_checked() -> None:
    loaded = _run(
        "from httpwire.connectors import Fingerprint\n"
        "pin = Fingerprint(bytes(32))\n"
        "before = 'hashlib' in sys.modules\n"
        "digest = pin.digest_of(b'der')\n"
        "import hashlib\n"
        "print(json.dumps([before, digest == hashlib.sha256(b'der').digest()]))"
    )
    assert loaded == [False, True]
