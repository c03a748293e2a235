"""Download the intersphinx inventories of Python, multidict and yarl into this folder.

The documentation build reads these vendored files, so it needs no network; run this (or
``python3 bootstrap.py -s docs -- --refresh-inventories``) where the sites can be reached,
and commit the new files. See README.md here for where the current files came from.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = {
    "python.inv": "https://docs.python.org/3/objects.inv",
    "multidict.inv": "https://multidict.aio-libs.org/en/stable/objects.inv",
    "yarl.inv": "https://yarl.aio-libs.org/en/stable/objects.inv",
}


def main() -> int:
    """Fetch each inventory; keep the old file when a download fails."""
    failed = 0
    for name, url in SOURCES.items():
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                data = answer.read()
        except OSError as exc:
            print(f"{name}: kept the vendored file, {url} failed: {exc}", file=sys.stderr)
            failed += 1
            continue
        if not data.startswith(b"# Sphinx inventory version 2"):
            print(f"{name}: kept the vendored file, {url} is not an inventory", file=sys.stderr)
            failed += 1
            continue
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes from {url}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
