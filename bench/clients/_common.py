"""What is measured, by whom, and what a worker process is told.

Strategy: the orchestrator and the workers share nothing but this module and a JSON
``Spec``: a worker runs exactly one (contender, workload, event loop) measurement in a fresh
interpreter and prints one JSON object of metrics. Everything a worker needs (URLs, sizes,
counts, the CA file, the CPU to run on) is in the spec, so a worker can also be run by hand.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "BODY",
    "BULK_CHUNK",
    "CONTENDERS",
    "JSON_DOC",
    "LOOPS",
    "WORKLOADS",
    "Contender",
    "Metric",
    "Spec",
    "Workload",
    "json_document",
    "peak_rss_bytes",
    "pin_to",
    "raise_fd_limit",
    "reset_peak_rss",
    "rss_bytes",
    "socket_count",
]

BODY = b"Hello, world!"  # the 13-byte body of the small-request workloads
BULK_CHUNK = 65536  # what the clients read at a time in the download workload


def json_document() -> bytes:
    """A deterministic JSON document of about 1.6 KiB (a list of small records)."""
    records = [
        {
            "id": i,
            "name": f"user-{i:04d}",
            "email": f"user{i}@example.org",
            "active": i % 3 != 0,
            "score": round(i * 1.37, 2),
            "tags": ["alpha", "beta"][: 1 + i % 2],
        }
        for i in range(14)
    ]
    return json.dumps({"count": len(records), "records": records}).encode()


JSON_DOC = json_document()


@dataclass(frozen=True)
class Metric:
    """One figure a workload reports.

    Attributes:
        key: The key in the worker's JSON result.
        unit: What the figure counts, printed in the table.
        higher_is_better: Whether a bigger figure is a better one (ratios read accordingly).
        resolution: Figures below it are noise; ratios count them as this much.
    """

    key: str
    unit: str
    higher_is_better: bool
    resolution: float = 0.0


RATE = Metric("rate", "req/s", True)
MBPS = Metric("mb_s", "MB/s", True)
RSS = Metric("rss_mib", "peak RSS growth MiB", False, 1.0)  # pages, allocator arenas
PER_CONN = Metric("bytes_per_conn", "bytes per idle connection", False)
IMPORT_MS = Metric("import_ms", "ms to import", False)


@dataclass(frozen=True)
class Workload:
    """One workload of the benchmark.

    Attributes:
        name: Its short name on the command line and in the table.
        title: What it does, in a line.
        metrics: The figures it reports.
        count: Requests per measurement (or MiB for the bulk transfers; runs for ``import``).
        quick: The same in ``--quick`` mode.
        concurrency: Requests in flight at once, each over its own pooled connection.
        https: Over TLS.
        keepalive: Connections kept alive between requests.
    """

    name: str
    title: str
    metrics: tuple[Metric, ...]
    count: int
    quick: int
    concurrency: int = 1
    https: bool = False
    keepalive: bool = True

    @property
    def bulk(self) -> bool:
        """Whether this is a bulk transfer (its floor is the bulk floor)."""
        return self.name in ("download", "upload-mem", "upload-file")


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("seq", "sequential GET of a 13-byte body", (RATE,), 10_000, 300),
        Workload(
            "c100",
            "100 tasks over 100 pooled connections, 13-byte GETs",
            (RATE,),
            40_000,
            2_000,
            concurrency=100,
        ),
        Workload("json", "sequential GET + json() of a 1.6 KiB document", (RATE,), 10_000, 300),
        Workload(
            "download", "download of a large body, read 64 KiB at a time", (MBPS, RSS), 100, 16
        ),
        Workload(
            "upload-mem",
            "upload of an in-memory body (the server reads it all)",
            (MBPS, RSS),
            100,
            16,
        ),
        Workload(
            "upload-file", "upload of a file (the server reads it all)", (MBPS, RSS), 100, 16
        ),
        Workload(
            "oneshot",
            "module-level request() without a session: a connection per call",
            (RATE,),
            1_000,
            50,
            keepalive=False,
        ),
        Workload(
            "https-seq",
            "https: sequential GETs on a kept-alive TLS connection",
            (RATE,),
            5_000,
            200,
            https=True,
        ),
        Workload(
            "https-new",
            "https: a new TLS connection (full handshake) per request",
            (RATE,),
            500,
            30,
            https=True,
            keepalive=False,
        ),
        Workload(
            "c1000",
            "1 000 tasks over 1 000 pooled connections, 13-byte GETs",
            (RATE,),
            40_000,
            4_000,
            concurrency=1000,
        ),
        Workload(
            "idle",
            "memory per idle pooled connection (1 000 opened, then idle)",
            (PER_CONN,),
            1000,
            1000,
            concurrency=1000,
        ),
        Workload(
            "import",
            "import time of the library (-X importtime, fresh interpreter)",
            (IMPORT_MS,),
            5,
            1,
        ),
    )
}


@dataclass(frozen=True)
class Contender:
    """One contender of the table.

    Attributes:
        name: Its short name on the command line.
        label: How the table names it.
        family: Contenders of one family are never each other's "best other".
        distribution: The distribution whose version the table prints (None: no library).
        module: What the ``import`` workload imports.
    """

    name: str
    label: str
    family: str
    distribution: str | None
    module: str


CONTENDERS: dict[str, Contender] = {
    c.name: c
    for c in (
        Contender("floor", "raw asyncio.Protocol (per-request floor)", "floor", None, "asyncio"),
        Contender(
            "bulk-floor",
            "bulk floor (256 KiB BufferedProtocol / 1 MiB slices)",
            "floor",
            None,
            "asyncio",
        ),
        Contender(
            "httpwire", "httpwire ClientSession", "httpwire", "httpwire-client", "httpwire.client"
        ),
        Contender(
            "httpwire-conn",
            "httpwire connection level",
            "httpwire",
            "httpwire-connectors",
            "httpwire.connectors",
        ),
        Contender("aiohttp", "aiohttp ClientSession", "aiohttp", "aiohttp", "aiohttp"),
        Contender("httpx", "httpx AsyncClient", "httpx", "httpx", "httpx"),
        Contender("pyreqwest", "pyreqwest Client", "pyreqwest", "pyreqwest", "pyreqwest.client"),
        Contender("wreq", "wreq Client (rnet's successor)", "wreq", "wreq", "wreq"),
        Contender(
            "curl_cffi", "curl_cffi AsyncSession", "curl_cffi", "curl_cffi", "curl_cffi.requests"
        ),
        Contender("niquests", "niquests AsyncSession", "niquests", "niquests", "niquests"),
    )
}

LOOPS = ("asyncio", "uvloop")


@dataclass(frozen=True)
class Spec:
    """Everything one worker needs for one measurement.

    Attributes:
        contender: A key of ``CONTENDERS``.
        workload: A key of ``WORKLOADS``.
        loop: ``"asyncio"`` or ``"uvloop"``.
        http: The plain-http base URL (``http://127.0.0.1:PORT``).
        https: The https base URL (certificate for 127.0.0.1 from the test CA).
        upload: The URL that reads a whole request body and answers with its length.
        ca_pem: The CA file that verifies the https server.
        upload_file: The file the file-upload workload sends.
        count: Requests to time (for bulk transfers: MiB to move).
        warmup: Untimed requests made first (connections opened, code paths warm).
        concurrency: Requests in flight at once.
        cpu: The CPU to pin the worker to, or -1 for none.
    """

    contender: str
    workload: str
    loop: str
    http: str
    https: str
    upload: str
    ca_pem: str
    upload_file: str
    count: int
    warmup: int
    concurrency: int
    cpu: int

    def to_json(self) -> str:
        """The spec as the JSON argument of a worker."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Spec:
        """The spec a worker was given."""
        return cls(**json.loads(text))

    @property
    def work(self) -> Workload:
        """The workload measured."""
        return WORKLOADS[self.workload]

    @property
    def base(self) -> str:
        """The base URL of the workload: http or https."""
        return self.https if self.work.https else self.http

    def download_url(self) -> str:
        """The URL of the large file (``count`` MiB)."""
        return f"{self.http}/dl-{self.count}"


def pin_to(cpu: int) -> None:
    """Run this process (and the threads and children it starts later) on one CPU."""
    if cpu < 0 or not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        pass


def raise_fd_limit() -> None:
    """Lift the soft limit of open files to the hard one (1 000 connections need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > 65536:
        hard = 65536
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int:
    """The resident set size of this process now."""
    kib = _status_kib("VmRSS")
    if kib is None:  # not Linux: the peak is the best we have
        return peak_rss_bytes()
    return kib * 1024


def reset_peak_rss() -> None:
    """Reset the peak RSS to the current RSS (Linux: ``/proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_bytes() -> int:
    """The peak resident set size since the start or the last ``reset_peak_rss``."""
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def socket_count() -> int:
    """How many sockets this process holds open (Linux; 0 elsewhere)."""
    count = 0
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return 0
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count
