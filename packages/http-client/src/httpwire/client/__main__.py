"""``python -m httpwire.client``: the ``httpwire`` command."""

from __future__ import annotations

from httpwire.client._cli import main

raise SystemExit(main())
