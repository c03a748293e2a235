"""httpwire side by side with the HTTP clients users pick, and with the raw-asyncio floors.

Runs every workload of ``bench/README.md`` through every contender, each measurement in a
fresh process, and prints the tables (absolute figures and ratios) on the default event
loop and on uvloop. ``python bench/run_clients.py --help`` lists the options;
``python3 bootstrap.py -s bench_clients`` installs the contenders and runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clients._main import main

if __name__ == "__main__":
    main()
