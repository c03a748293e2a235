"""Bulk transfers and idle memory of httpwire's connection level, before and after a change.

Runs the side-by-side benchmark's ``download``, ``upload-mem`` and ``idle`` workloads
(see ``bench/README.md``) through the bulk floor and through httpwire's connection level
imported from one or more checkouts, interleaved round by round in one run, with the same
servers and CPU pinning as ``run_clients.py``. It prints the medians and each as a share of
the bulk floor.

Usage:
  python bench/bench_bulk.py --checkout before=../base --checkout after=. [--runs 3]
      [--workloads download,upload-mem,idle] [--loop asyncio]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clients._common import WORKLOADS, Spec, pin_to
from clients._server import start_servers

BENCH = Path(__file__).resolve().parent


def _sources(checkout: str) -> list[str]:
    root = Path(checkout).resolve() / "packages"
    return [
        str(root / f"http-{name}" / "src")
        for name in ("connectors", "parser", "streams", "forms", "client")
    ]


def _run(spec: Spec, path: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCH), *path])}
    cmd = [sys.executable, "-m", "clients._worker", spec.to_json()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{spec.contender} {spec.workload} failed:\n{done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", default="download,upload-mem,idle")
    parser.add_argument("--loop", default="asyncio")
    args = parser.parse_args()
    checkouts = {n: _sources(p) for n, _, p in (c.partition("=") for c in args.checkout)}
    contenders: dict[str, tuple[str, list[str]]] = {"bulk-floor": ("bulk-floor", [])}
    contenders.update({name: ("httpwire-conn", path) for name, path in checkouts.items()})
    works = [WORKLOADS[w] for w in args.workloads.split(",")]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    client_cpu, server_cpu = (cpus[0], cpus[-1]) if len(cpus) > 1 else (-1, -1)
    pin_to(client_cpu)
    bulk_mib = max([w.count for w in works if w.bulk], default=0)
    upload_file = Path(tempfile.mkdtemp(prefix="httpwire-bench-bulk-"), "upload.bin")
    upload_file.write_bytes(b"")
    servers = start_servers([bulk_mib] if bulk_mib else [], server_cpu)
    figures: dict[tuple[str, str], list[dict[str, float]]] = {}
    try:
        names = list(contenders)
        for round_no in range(args.runs):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            for work in works:
                for name in order:
                    contender, path = contenders[name]
                    if contender == "bulk-floor" and not work.bulk:
                        continue
                    spec = Spec(
                        contender,
                        work.name,
                        args.loop,
                        servers.http,
                        servers.https,
                        servers.upload,
                        servers.ca_pem,
                        str(upload_file),
                        work.count,
                        1,
                        work.concurrency,
                        client_cpu,
                    )
                    result = _run(spec, path)
                    figures.setdefault((work.name, name), []).append(result)
                    print(f"  {round_no + 1} {work.name} {name}: {result}", file=sys.stderr)
    finally:
        servers.stop()
    print(f"loop {args.loop}; client CPU {client_cpu}, servers CPU {server_cpu}; ", end="")
    print(f"load {os.getloadavg()[0]:.1f}; medians of {args.runs} rounds")
    for work in works:
        floor = figures.get((work.name, "bulk-floor"))
        for name in contenders:
            runs = figures.get((work.name, name))
            if not runs:
                continue
            cells = []
            for metric in runs[0]:
                value = statistics.median(r[metric] for r in runs)
                cell = f"{metric} {value:,.1f}"
                if floor and metric == "mb_s":
                    cell += f" ({value / statistics.median(r[metric] for r in floor):.2f}x floor)"
                cells.append(cell)
            print(f"| {work.name} | {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
