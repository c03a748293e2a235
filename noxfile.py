"""Every development task of the httpwire monorepo.

A bare ``nox`` runs what CI runs: each package's unit tests in a virtualenv that
holds only that package, its declared dependencies and the test tools (on every
Python from 3.11 to 3.13 found on the machine, and 3.14 where installed), the
integration tests, lint (with the import layering), types and the build check.
``nox -s demo`` runs the main demo; ``nox -s bench`` runs the benchmarks, which
are never part of CI.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
# 3.14 joins the matrix only where it is installed, so that no session asks uv to download it.
PYTHONS = ["3.11", "3.12", "3.13", *(["3.14"] if shutil.which("python3.14") else [])]
PACKAGES = ["parser", "streams", "connectors", "forms", "client"]

# Every distribution that lives in this repository, by its requirement name.
LOCAL = {f"httpwire-{name}": ROOT / "packages" / f"http-{name}" for name in PACKAGES}
LOCAL["httpwire-testserver"] = ROOT / "tests-integration" / "testserver"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "integration", "lint", "types", "docs", "build"]
nox.options.error_on_missing_interpreters = False

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _req_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-").replace(".", "-")


def _pyproject(path: Path) -> dict[str, object]:
    return nox.project.load_toml(path / "pyproject.toml")


def _requirements(path: Path, *groups: str) -> list[str]:
    """The declared dependencies of one local project, plus the named groups."""
    data = _pyproject(path)
    project = data.get("project", {})
    assert isinstance(project, dict)
    reqs = list(project.get("dependencies", []))
    for group in groups:
        reqs += nox.project.dependency_groups(data, group)
    return reqs


def _install(session: nox.Session, requirements: list[str]) -> None:
    """Install requirements, taking every httpwire distribution from its folder.

    Local distributions are resolved transitively, so a package's venv gets its
    siblings from this checkout and never from an index.
    """
    paths: list[Path] = []
    others: list[str] = []
    pending = list(requirements)
    while pending:
        req = pending.pop(0)
        name = _req_name(req)
        if name in LOCAL:
            path = LOCAL[name]
            if path not in paths:
                paths.append(path)
                pending += _requirements(path)
        elif req not in others:
            others.append(req)
    args: list[str] = []
    if session.venv_backend == "uv":
        # A reused venv would otherwise keep a stale build of an unchanged version.
        for path in paths:
            args += ["--reinstall-package", _req_name(str(_pyproject(path)["project"]["name"]))]  # type: ignore[index]
    session.install(*args, *(str(p) for p in paths), *others)


def _local(*names: str) -> list[str]:
    return [f"httpwire-{n}" if n in PACKAGES else n for n in names]


@nox.session(python=PYTHONS)
@nox.parametrize("package", PACKAGES)
def tests(session: nox.Session, package: str) -> None:
    """Unit tests of one package, in a venv holding only it, its dependencies and test tools."""
    path = LOCAL[f"httpwire-{package}"]
    _install(session, [f"httpwire-{package}", *_requirements(path, "test")])
    session.chdir(path)
    session.run("pytest", "--hypothesis-profile=ci", "-m", "not slow", *session.posargs)


@nox.session(python=None)
def integration(session: nox.Session) -> None:
    """Cross-package tests against real peers (our server, httpbin on gunicorn, a proxy)."""
    reqs = [*_local(*PACKAGES), "httpwire-testserver"]
    reqs += _requirements(LOCAL["httpwire-testserver"], "test")
    _install(session, reqs)
    session.chdir(ROOT / "tests-integration")
    session.run("pytest", "--hypothesis-profile=ci", "-m", "not slow", *session.posargs)


@nox.session(python=None)
def lint(session: nox.Session) -> None:
    """ruff (check and format) and the layering of DESIGN.md, enforced by import-linter."""
    _install(session, [*_local(*PACKAGES), "ruff>=0.8", "import-linter>=2.1"])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", "--config", str(ROOT / ".importlinter"))


@nox.session(python=None)
def types(session: nox.Session) -> None:
    """mypy --strict, run per package over its sources and tests, then the noxfile and bench."""
    reqs = [*_local(*PACKAGES), "httpwire-testserver", "mypy>=1.13", "nox"]
    for package in PACKAGES:
        reqs += _requirements(LOCAL[f"httpwire-{package}"], "test")
    reqs += _requirements(LOCAL["httpwire-testserver"], "test")
    _install(session, reqs)
    # The benchmarks import their contenders, so mypy needs them too.
    session.install("-r", str(ROOT / "bench" / "requirements.txt"))
    config = str(ROOT / "pyproject.toml")
    for package in PACKAGES:
        session.chdir(LOCAL[f"httpwire-{package}"])
        session.run("mypy", "--config-file", config, "src", "tests")
    session.chdir(LOCAL["httpwire-testserver"].parent)
    session.run("mypy", "--config-file", config, "testserver/src", "tests")
    session.chdir(ROOT)
    session.run("mypy", "--config-file", config, "noxfile.py", "examples")
    session.chdir(ROOT / "bench")  # the benchmarks import their helper modules by bare name
    session.run("mypy", "--config-file", config, ".")


@nox.session(python=None)
def docs(session: nox.Session) -> None:
    """Build the Sphinx documentation (furo), every warning an error, then check the pages.

    Intersphinx reads the inventories vendored in docs/_inventories, so the build needs no
    network; ``nox -s docs -- --refresh-inventories`` downloads them again first.
    """
    _install(session, [*_local(*PACKAGES), "sphinx>=8.1", "furo>=2024.8.6", "myst-parser>=4.0"])
    if "--refresh-inventories" in session.posargs:
        session.run("python", str(ROOT / "docs" / "_inventories" / "refresh.py"))
    out = ROOT / "docs" / "_build" / "html"
    session.run(
        "sphinx-build", "-W", "--keep-going", "-q", "-E", "-b", "html", "docs", str(out),
    )  # fmt: skip
    # Every public name must have its entry in the reference, and no page may show an error.
    session.run("python", str(ROOT / "docs" / "check_build.py"), str(out))
    session.log(f"documentation in {out / 'index.html'}")


@nox.session(python=None)
def build(session: nox.Session) -> None:
    """Wheel and sdist of each package; then prove the parser wheel installs and works alone."""
    session.install("build[uv]>=1.2")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for package in PACKAGES:
        session.run(
            "python", "-m", "build", "--installer=uv", "--outdir", str(dist),
            str(LOCAL[f"httpwire-{package}"]), silent=True,
        )  # fmt: skip
    wheels = sorted(p.name for p in dist.glob("*.whl"))
    sdists = sorted(p.name for p in dist.glob("*.tar.gz"))
    session.log(f"built {wheels} and {sdists}")
    if len(wheels) != len(PACKAGES) or len(sdists) != len(PACKAGES):
        session.error("every package must build one wheel and one sdist")
    for wheel in dist.glob("*.whl"):
        names = session.run("python", "-m", "zipfile", "-l", str(wheel), silent=True) or ""
        if "httpwire/__init__.py" in str(names):
            session.error(f"{wheel.name} ships httpwire/__init__.py: breaks the PEP 420 namespace")

    alone = Path(session.create_tmp()) / "parser-alone"
    shutil.rmtree(alone, ignore_errors=True)
    session.run("uv", "venv", "--quiet", "--python", sys.executable, str(alone))
    python = str(alone / ("Scripts" if os.name == "nt" else "bin") / "python")
    (parser_wheel,) = dist.glob("httpwire_parser-*.whl")
    session.run("uv", "pip", "install", "--quiet", "--python", python, str(parser_wheel))
    check = (
        "import importlib.util, sys\n"
        "import httpwire.parser\n"
        "assert 'asyncio' not in sys.modules, 'httpwire.parser imported asyncio'\n"
        "assert importlib.util.find_spec('httpwire.client') is None, 'client is importable'\n"
        "print('httpwire.parser', httpwire.parser.__version__, 'works alone, without asyncio')\n"
    )
    session.run(python, "-c", check, external=True)


@nox.session(python=None)
def demo(session: nox.Session) -> None:
    """The main demo: the guide's sections with the client, against the local test server.

    trustme makes the throw-away CA of the server's HTTPS listener (the SSL section).
    """
    _install(session, [*_local(*PACKAGES), "httpwire-testserver", "trustme>=1.2"])
    session.run("python", str(ROOT / "examples" / "demo.py"), *session.posargs)


@nox.session(python=None)
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks against other libraries (never part of CI).

    ``nox -s bench -- parser`` runs only bench/bench_parser.py.
    """
    _install(session, [*_local(*PACKAGES), "httpwire-testserver"])
    session.install("-r", str(ROOT / "bench" / "requirements.txt"))
    selected = session.posargs or sorted(
        p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py")
    )
    for name in selected:
        session.run("python", str(ROOT / "bench" / f"bench_{name}.py"))


@nox.session(python=None)
def bench_clients(session: nox.Session) -> None:
    """httpwire side by side with other HTTP clients and the raw-asyncio floors (never in CI).

    Installs the httpwire packages, bench/requirements.txt, then each contender of
    bench/requirements-clients.txt on its own: one that fails is recorded and reported in
    the table, not dropped. Installs nginx with apt-get when it is missing and this runs as
    root (the canned server stands in when that fails). Arguments after ``--`` go to
    bench/run_clients.py, e.g. ``-- --quick`` or ``-- --workloads seq,c100``.
    ``BENCH_HTTPWIRE_TREE=/path/to/checkout`` measures that checkout's httpwire packages.
    """
    import json

    tree = Path(os.environ.get("BENCH_HTTPWIRE_TREE", ROOT)).resolve()
    paths = [tree / "packages" / f"http-{name}" for name in PACKAGES]
    args: list[str] = []
    if session.venv_backend == "uv":  # a reused venv would keep a stale build of one version
        for name in PACKAGES:
            args += ["--reinstall-package", f"httpwire-{name}"]
    session.log(f"httpwire packages from {tree}")
    session.install(*args, *(str(p) for p in paths))
    session.install("-r", str(ROOT / "bench" / "requirements.txt"))
    failures: dict[str, str] = {}
    for line in (ROOT / "bench" / "requirements-clients.txt").read_text().splitlines():
        requirement = line.partition("#")[0].strip()
        if not requirement:
            continue
        try:
            session.install(requirement, silent=True)
        except nox.command.CommandFailed as exc:
            name = _req_name(requirement).replace("-", "_")
            failures[name] = f"'{requirement}' failed to install ({exc.reason or 'see the log'})"
            session.warn(f"{requirement} did not install; the table will say so")
    record = Path(session.create_tmp()) / "install-failures.json"
    record.write_text(json.dumps(failures))

    nginx_path = f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/local/sbin"
    if not shutil.which("nginx", path=nginx_path) and not os.environ.get("BENCH_NO_APT"):
        if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
            session.log("nginx is missing: installing it with apt-get install -y nginx")
            env = {"DEBIAN_FRONTEND": "noninteractive"}
            for command in (["apt-get", "install", "-y", "-q", "nginx"],
                            ["apt-get", "update", "-q"],
                            ["apt-get", "install", "-y", "-q", "nginx"]):  # fmt: skip
                try:
                    session.run(*command, external=True, env=env)
                except nox.command.CommandFailed:
                    continue
                if shutil.which("nginx", path=nginx_path):
                    break
            else:
                session.warn("nginx did not install: the canned server will serve instead")
        else:
            session.log("nginx is missing (not root): the canned server will serve instead")
    session.run(
        "python",
        str(ROOT / "bench" / "run_clients.py"),
        *session.posargs,
        env={"BENCH_INSTALL_FAILURES": str(record)},
    )
