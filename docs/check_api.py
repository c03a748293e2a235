"""Check that the built API reference has an entry for every public name of every package.

Run by the docs session after the build: ``python docs/check_api.py PATH/objects.inv``.
A name of a package's ``__all__`` must appear in the inventory under the package that
defines it (``httpwire.client`` re-exports names of the packages below it); a missing one
fails the session, naming it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from sphinx.util.inventory import InventoryFile

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

from httpwire_docs import PACKAGES, home_of


def main(inventory_path: str) -> int:
    """Compare each package's ``__all__`` with the Python objects of the inventory."""
    with open(inventory_path, "rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    documented = {
        name for kind, names in inventory.items() if kind.startswith("py:") for name in names
    }
    missing: list[str] = []
    count = 0
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            if name.startswith("__"):
                continue  # __version__: shown on the page, not an object to describe
            count += 1
            full = f"{home_of(module, name)}.{name}"
            if full not in documented:
                missing.append(f"{package}.{name} (expected as {full})")
    if missing:
        print("public names without an entry in the API reference:", file=sys.stderr)
        for entry in missing:
            print(f"  {entry}", file=sys.stderr)
        return 1
    print(f"API reference: all {count} public names of {len(PACKAGES)} packages documented")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
