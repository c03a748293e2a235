"""The orchestration of the client benchmark, and its table.

Strategy: one process tree, one run. This process pins itself (and every worker) to one
CPU and the servers to another when the OS allows it, starts the servers, asks each
contender in a subprocess whether it can run here (and its version), then runs rounds:
in each round, every workload on every event loop, through every contender in an order
that rotates from round to round, each measurement in a fresh worker process. A worker
that fails, crashes or hangs is recorded with its reason and that cell is not tried
again; the run goes on. The table gives, per workload and figure, the median over the
rounds, half the range as a share of it, and the ratios to the floor, to aiohttp and to
the best contender of another family.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from ._common import CONTENDERS, LOOPS, WORKLOADS, Metric, Spec, Workload, pin_to
from ._server import Servers, start_servers

__all__ = ["main"]

BENCH = Path(__file__).resolve().parent.parent
MIB = 1 << 20
Key = tuple[str, str, str]  # loop, workload, contender


class Run:
    """Everything measured in one run, and why a cell has no figure."""

    def __init__(self) -> None:
        self.figures: dict[Key, list[dict[str, float]]] = {}
        self.failures: dict[Key, str] = {}
        self.unavailable: dict[str, str] = {}
        self.versions: dict[str, str] = {}

    def to_json(self) -> dict[str, object]:
        """The raw figures, for ``--json``."""
        return {
            "figures": [
                {"loop": k[0], "workload": k[1], "contender": k[2], "runs": v}
                for k, v in self.figures.items()
            ],
            "failures": [
                {"loop": k[0], "workload": k[1], "contender": k[2], "reason": v}
                for k, v in self.failures.items()
            ],
            "unavailable": self.unavailable,
            "versions": self.versions,
        }


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(BENCH)}


def _worker(args: list[str], timeout: float) -> tuple[int, str, str]:
    cmd = [sys.executable, "-m", "clients._worker", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env())
    except subprocess.TimeoutExpired:
        return -1, "", f"timed out after {timeout:g} s"
    return done.returncode, done.stdout, done.stderr


def _reason(stderr: str) -> str:
    """The last meaningful line of a failed worker's output."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "no output")[:300]


def _probe(name: str) -> dict[str, str]:
    code, out, err = _worker(["--probe", name], 120)
    if code != 0:
        return {"ok": "", "reason": f"probe failed: {_reason(err)}"}
    result: dict[str, str] = json.loads(out.strip().splitlines()[-1])
    return result


def _install_failures() -> dict[str, str]:
    """Contenders the benchmark's session could not install (written by noxfile.py)."""
    path = os.environ.get("BENCH_INSTALL_FAILURES")
    if not path or not Path(path).exists():
        return {}
    failures: dict[str, str] = json.loads(Path(path).read_text())
    return failures


def _import_names(module: str) -> dict[str, int]:
    """Microseconds of each top-level import of ``python -X importtime -c "import module"``."""
    cmd = [sys.executable, "-X", "importtime", "-c", f"import {module}" if module else "pass"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=_env())
    tops: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2]
        if len(name) - len(name.lstrip()) == 1:  # imported at the top, not by another import
            tops[name.strip()] = int(parts[1])
    if done.returncode != 0:
        raise RuntimeError(_reason(done.stderr))
    return tops


def _import_ms(module: str, startup: set[str]) -> float:
    """Milliseconds to import ``module`` in a fresh interpreter (what startup imports aside)."""
    tops = _import_names(module)
    return sum(us for name, us in tops.items() if name not in startup) / 1000


def _supported(contender: str, work: Workload) -> bool:
    if contender == "bulk-floor":
        return work.bulk
    return True


def _rotated(items: list[str], by: int) -> list[str]:
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def _compile_bytecode() -> None:
    """Compile every installed module, as a normal install leaves them.

    uv installs without bytecode, and ``PYTHONDONTWRITEBYTECODE`` may be set: the import
    workload would then time the compiling of source files, not their import.
    """
    paths = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    env = {k: v for k, v in _env().items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [sys.executable, "-m", "compileall", "-q", "-j", "0", *sorted(paths)]
    subprocess.run(cmd, capture_output=True, timeout=600, env=env, check=False)


def _measure_import(run: Run, contenders: list[str], rounds: int) -> None:
    """The import workload: ``-X importtime``, contenders alternating, ``rounds`` times."""
    _compile_bytecode()
    startup = set(_import_names(""))
    for round_no in range(rounds):
        for name in _rotated(contenders, round_no):
            if name == "bulk-floor" or name in run.unavailable:
                continue
            key = ("asyncio", "import", name)
            if key in run.failures:
                continue
            try:
                ms = _import_ms(CONTENDERS[name].module, startup)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                run.failures[key] = str(exc)
                continue
            run.figures.setdefault(key, []).append({"import_ms": ms})
            print(f"  import {name}: {ms:.1f} ms", file=sys.stderr)


def _measure(run: Run, spec: Spec, timeout: float) -> None:
    key = (spec.loop, spec.workload, spec.contender)
    code, out, err = _worker([spec.to_json()], timeout)
    if code != 0:
        reason = _reason(err)
        run.failures[key] = reason
        print(f"  {' '.join(key)}: FAILED ({reason})", file=sys.stderr)
        return
    try:
        figures = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        run.failures[key] = f"no result in the worker's output: {out[-200:]!r}"
        return
    run.figures.setdefault(key, []).append(figures)
    shown = ", ".join(f"{k} {v:,.1f}" for k, v in figures.items())
    print(f"  {' '.join(key)}: {shown}", file=sys.stderr)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_clients.py",
        description="httpwire side by side with other HTTP clients and the raw-asyncio floors.",
    )
    parser.add_argument("--runs", type=int, help="rounds (default 5; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="few requests, 1 round: a smoke test")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated")
    parser.add_argument("--loops", default=",".join(LOOPS), help="asyncio,uvloop")
    parser.add_argument("--timeout", type=float, help="seconds per measurement")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    parser.add_argument("--no-nginx", action="store_true", help="use the canned server only")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to CPUs")
    parser.add_argument("--list", action="store_true", help="list workloads and contenders")
    args = parser.parse_args(argv)
    for option, known in (("workloads", WORKLOADS), ("contenders", CONTENDERS)):
        chosen = [x for x in getattr(args, option).split(",") if x]
        unknown = [x for x in chosen if x not in known]
        if unknown:
            parser.error(f"unknown {option} {unknown}; choose from {', '.join(known)}")
        setattr(args, option, chosen)
    args.loops = [x for x in args.loops.split(",") if x]
    if any(x not in LOOPS for x in args.loops):
        parser.error(f"--loops: choose from {', '.join(LOOPS)}")
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    if args.timeout is None:
        args.timeout = 180.0 if args.quick else 900.0
    return args


def _cpus(no_pin: bool) -> tuple[int, int, str]:
    """The client's CPU, the servers' CPU and how they were chosen."""
    if no_pin or not hasattr(os, "sched_getaffinity"):
        return -1, -1, "not pinned" + (" (--no-pin)" if no_pin else " (not supported here)")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return -1, -1, f"not pinned (only CPU {cpus} allowed)"
    return cpus[0], cpus[-1], f"client on CPU {cpus[0]}, servers on CPU {cpus[-1]}"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its tables."""
    args = _parse(argv)
    if args.list:
        for work in WORKLOADS.values():
            print(f"{work.name:12} {work.title}")
        for contender in CONTENDERS.values():
            print(f"{contender.name:14} {contender.label}")
        return
    client_cpu, server_cpu, pinning = _cpus(args.no_pin)
    pin_to(client_cpu)
    run = Run()
    failed_installs = _install_failures()
    for name in args.contenders:
        if name in failed_installs:
            run.unavailable[name] = f"did not install: {failed_installs[name]}"
            continue
        probe = _probe(name)
        if probe.get("ok"):
            run.versions[name] = probe.get("version", "?")
        else:
            run.unavailable[name] = probe.get("reason", "?")
    loops = list(args.loops)
    loop_note = ""
    if "uvloop" in loops:
        probe = _probe("uvloop")
        if probe.get("ok"):
            run.versions["uvloop"] = probe.get("version", "?")
        else:
            loops.remove("uvloop")
            loop_note = f"uvloop table skipped: {probe.get('reason')}"
    works = [WORKLOADS[w] for w in args.workloads]
    bulk_mib = max([(w.quick if args.quick else w.count) for w in works if w.bulk], default=0)
    tmp = tempfile.mkdtemp(prefix="httpwire-bench-upload-")
    upload_file = Path(tmp, "upload.bin")
    with open(upload_file, "wb") as out:
        block = bytes(range(256)) * (MIB // 256)
        for _ in range(bulk_mib):
            out.write(block)
    servers = start_servers([bulk_mib] if bulk_mib else [], server_cpu, not args.no_nginx)
    started = time.gmtime()
    try:
        _rounds(run, args, works, loops, servers, str(upload_file), client_cpu)
    finally:
        servers.stop()
        upload_file.unlink()
        os.rmdir(tmp)
    _header(run, args, servers, pinning, started, loops, loop_note)
    for loop in loops:
        _report(run, loop, works, args.contenders, args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps(run.to_json(), indent=1))


def _rounds(
    run: Run,
    args: argparse.Namespace,
    works: list[Workload],
    loops: list[str],
    servers: Servers,
    upload_file: str,
    cpu: int,
) -> None:
    ready = [c for c in args.contenders if c not in run.unavailable]
    for round_no in range(args.runs):
        print(f"round {round_no + 1}/{args.runs}", file=sys.stderr)
        for work in works:
            if work.name == "import":
                continue
            count = work.quick if args.quick else work.count
            warmup = 1 if work.bulk or work.name == "idle" else max(work.concurrency, count // 20)
            for loop in loops:
                for name in _rotated(ready, round_no):
                    if not _supported(name, work) or (loop, work.name, name) in run.failures:
                        continue
                    if not servers.alive():
                        raise RuntimeError("a benchmark server died; the figures would be void")
                    spec = Spec(
                        name,
                        work.name,
                        loop,
                        servers.http,
                        servers.https,
                        servers.upload,
                        servers.ca_pem,
                        upload_file,
                        count,
                        warmup,
                        work.concurrency,
                        cpu,
                    )
                    _measure(run, spec, args.timeout)
    if "import" in args.workloads:
        _measure_import(run, ready, 1 if args.quick else max(args.runs, 5))


def _installed_from(distribution: str) -> str:
    """Where a distribution was installed from (PEP 610's ``direct_url.json``)."""
    try:
        text = metadata.distribution(distribution).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return "not installed"
    if not text:
        return "an index"
    url = str(json.loads(text).get("url", "?"))
    return url.removeprefix("file://").removesuffix("/packages/http-connectors")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _header(
    run: Run,
    args: argparse.Namespace,
    servers: Servers,
    pinning: str,
    started: time.struct_time,
    loops: list[str],
    loop_note: str,
) -> None:
    print()
    print("# httpwire side by side with other HTTP clients")
    print()
    print(f"- measured: {time.strftime('%Y-%m-%d %H:%M UTC', started)}")
    print(
        f"- machine: {_cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}"
    )
    print(f"- httpwire installed from: {_installed_from('httpwire-connectors')}")
    print(f"- server (GET workloads): {servers.name}")
    print(f"- server (uploads): {servers.upload_name}")
    print(f"- pinning: {pinning}")
    mode = "quick (smoke test: figures not comparable)" if args.quick else "full"
    print(f"- mode: {mode}; rounds: {args.runs}; event loops: {', '.join(loops)}")
    if loop_note:
        print(f"- {loop_note}")
    print("- contenders:")
    for name in args.contenders:
        label = CONTENDERS[name].label
        if name in run.unavailable:
            print(f"  - {label}: NOT AVAILABLE: {run.unavailable[name]}")
        else:
            print(f"  - {label}: {run.versions.get(name, '?')}")
    if "uvloop" in run.versions:
        print(f"- uvloop {run.versions['uvloop']}")


def _median(runs: list[dict[str, float]], key: str) -> tuple[float, float] | None:
    values = [r[key] for r in runs if key in r]
    if not values:
        return None
    median = statistics.median(values)
    spread = (max(values) - min(values)) / 2 / median if median else 0.0
    return median, spread


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(mine: float, theirs: float | None, metric: Metric) -> str:
    if theirs is None:
        return "-"
    mine, theirs = max(mine, metric.resolution), max(theirs, metric.resolution)
    return "-" if theirs == 0 else f"{mine / theirs:.2f}"


def _best_other(medians: dict[str, float], name: str, metric: Metric) -> tuple[str, float] | None:
    family = CONTENDERS[name].family
    others = [(n, v) for n, v in medians.items() if CONTENDERS[n].family not in (family, "floor")]
    if not others:
        return None
    pick = max if metric.higher_is_better else min
    return pick(others, key=lambda item: item[1])


def _report(run: Run, loop: str, works: list[Workload], contenders: list[str], runs: int) -> None:
    print()
    print(f"## on {loop}")
    for work in works:
        if work.name == "import" and loop != "asyncio":
            continue
        names = [c for c in contenders if _supported(c, work)]
        if work.name == "import":
            names = [c for c in names if c != "bulk-floor"]
        for metric in work.metrics:
            _section(run, loop, work, metric, names, runs)


def _section(
    run: Run, loop: str, work: Workload, metric: Metric, names: list[str], runs: int
) -> None:
    medians: dict[str, float] = {}
    spreads: dict[str, float] = {}
    for name in names:
        found = _median(run.figures.get((loop, work.name, name), []), metric.key)
        if found is not None:
            medians[name], spreads[name] = found
    floor_name = "bulk-floor" if work.bulk else "floor"
    floor = medians.get(floor_name)
    aiohttp = medians.get("aiohttp")
    better = "higher is better" if metric.higher_is_better else "lower is better (ratios too)"
    print()
    print(f"### {work.name}: {work.title}")
    print(f"{metric.unit}, {better}; median of up to {runs} runs")
    print()
    print(f"| contender | {metric.unit} | ± | x {floor_name} | x aiohttp | x best other |")
    print("|---|---:|---:|---:|---:|---|")
    for name in names:
        label = CONTENDERS[name].label
        if name in medians:
            value = medians[name]
            best = _best_other(medians, name, metric)
            best_cell = "-"
            if best is not None and _ratio(value, best[1], metric) != "-":
                best_cell = f"{_ratio(value, best[1], metric)} ({best[0]})"
            print(
                f"| {label} | {_fmt(value)} | {100 * spreads[name]:.0f} % "
                f"| {_ratio(value, floor, metric)} | {_ratio(value, aiohttp, metric)} "
                f"| {best_cell} |"
            )
            continue
        why = run.unavailable.get(name) or run.failures.get((loop, work.name, name))
        why = f"not available: {why}" if name in run.unavailable else f"failed: {why}"
        print(f"| {label} | {_cell(why)} | | | | |")
    _notes(run, loop, work, metric, names)


def _cell(text: str) -> str:
    text = text.replace("|", "/").replace("\n", " ")
    return text if len(text) <= 120 else text[:117] + "..."


def _medians(run: Run, loop: str, workload: str, key: str) -> dict[str, float]:
    found = {}
    for (figure_loop, figure_work, name), runs in run.figures.items():
        if figure_loop == loop and figure_work == workload:
            median = _median(runs, key)
            if median is not None:
                found[name] = median[0]
    return found


def _notes(run: Run, loop: str, work: Workload, metric: Metric, names: Iterable[str]) -> None:
    """What the table alone does not show: linearity, import against httpx, pool sizes."""
    if work.name == "c1000":
        at_100 = _medians(run, loop, "c100", "rate")
        at_1000 = _medians(run, loop, "c1000", "rate")
        both = [n for n in names if n in at_100 and n in at_1000]
        ratios = [f"{n} {at_100[n] / at_1000[n]:.2f}" for n in both]
        if ratios:
            print(f"\ncost per request at 1 000 connections / at 100: {', '.join(ratios)}")
        return
    if work.name == "import":
        times = _medians(run, loop, "import", "import_ms")
        if "httpx" in times:
            ratios = [f"{n} {times[n] / times['httpx']:.2f}" for n in names if n in times]
            print(f"\nimport time / httpx's: {', '.join(ratios)}")
        return
    if work.name != "idle":
        return
    counts = []
    for name in names:
        runs = run.figures.get((loop, work.name, name), [])
        opened = sorted({int(r["connections"]) for r in runs if "connections" in r})
        if opened:
            counts.append(f"{name} {'/'.join(map(str, opened))}")
    if counts:
        print(f"\nconnections opened by the {work.count} concurrent requests: {', '.join(counts)}")
