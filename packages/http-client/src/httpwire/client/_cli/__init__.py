"""The ``httpwire`` command: an HTTP client for the terminal, built on httpwire.client.

Installed as the ``httpwire`` console script by ``pip install 'httpwire-client[cli]'``, and
run as ``python -m httpwire.client``. The library never imports this package, nor rich,
which only the command uses (for colours and progress bars; without it the command works
in plain text). ``httpwire --help`` documents the syntax, the options and the exit codes.

Modules: ``_items`` (request items and URL shorthands), ``_args`` (options), ``_build``
(the request to send), ``_output`` (heads and bodies), ``_progress`` (progress bars),
``_download`` (``--download``), ``_timings`` (``--timings``), ``_exit`` (exit codes),
``_main`` (the flow and its error handling).
"""

from __future__ import annotations

from ._exit import ExitCode
from ._main import main

__all__ = ["ExitCode", "main"]
