"""``python -m httpwire.client``: the ``httpwire`` command."""

from __future__ import annotations

from httpwire.client._cli import main

# Guarded so that tools walking the package's modules (autodoc, docstring checks) can
# import this one without running the command.
if __name__ == "__main__":
    raise SystemExit(main())
