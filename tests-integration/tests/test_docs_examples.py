"""Every code example of docs/ runs against our test server; every public name has a docstring.

How examples are found: each ``.. code-block:: python`` of a page under ``docs/`` is a
program. It runs in a fresh interpreter, as a reader would run it, with top-level ``await``
allowed (the way ``python -m asyncio`` runs what is typed at its prompt), warnings turned into
errors, and must exit cleanly with nothing on stderr. When the block right after it is a
``.. code-block:: text`` with ``:class: output``, what the program prints must match it
(``...`` stands for any text). A python block captioned ``test_*.py`` is a test module: it
runs under pytest beside the page's other captioned files. The ``.. code-block:: pycon``
blocks of a page run in order as one doctest session. No other code block may hold Python:
a page cannot carry an example that nothing runs.

The addresses in the examples are the documented defaults, replaced here by the fixtures':
``http://127.0.0.1:8080`` and ``http://localhost:8080`` by our server (``localhost`` where
cookies must be shared: IP hosts get no cookies), ``https://localhost:8443`` by its TLS
side, ``/path/to/ca-bundle.crt`` by the CA that signed it, ``/path/to/socket`` by its Unix
socket, and ``http://127.0.0.1:3128`` / ``http://127.0.0.1:3129`` by the open and the
authenticating proxy.py (whose credentials replace ``"user", "pass"`` and ``user:pass@``),
``127.0.0.1:1080`` / ``127.0.0.1:1081`` by an open SOCKS5 proxy and one that wants the
username ``user`` and the password ``pass`` (both run here, :class:`Socks5Server`), and
``http://127.0.0.1:8000`` by httpbin on gunicorn (for what our server lacks: Digest auth).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import doctest
import importlib
import inspect
import ipaddress
import pkgutil
import re
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from httpwire_testserver import HttpbinPeer, LocalServer
from httpwire_testserver.plugin import Proxies

DOCS = Path(__file__).resolve().parents[2] / "docs"
PACKAGES = ["parser", "streams", "connectors", "forms", "client"]

_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: *(?P<lang>\S+) *$")
_OPTION = re.compile(r"^ *:(?P<name>[\w-]+):(?P<value>.*)$")

# What each example runs, in a fresh interpreter: the program from stdin, top-level await
# allowed; a program with top-level await becomes a coroutine, run on a new event loop.
_RUNNER = """\
import ast, asyncio, sys
source = sys.stdin.read()
code = compile(source, sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
result = eval(code, namespace)
if result is not None:
    asyncio.run(result)
"""


@dataclass(frozen=True)
class Block:
    """One code block of a page: where it is, its language, its text, its expected output."""

    page: str
    line: int
    lang: str
    code: str
    output: str | None
    caption: str | None = None

    @property
    def name(self) -> str:
        """``page:line``, the test id."""
        return f"{self.page}:{self.line}"


def _blocks_of(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    page = path.relative_to(DOCS).as_posix()
    found: list[tuple[int, str, dict[str, str], str]] = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if match is None:
            i += 1
            continue
        start, indent = i + 1, len(match["indent"])
        options: dict[str, str] = {}
        i += 1
        while i < len(lines) and (option := _OPTION.match(lines[i])):
            options[option["name"]] = option["value"].strip()
            i += 1
        body: list[str] = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            body.append(lines[i])
            i += 1
        text = inspect.cleandoc("\n".join(body)) if any(s.strip() for s in body) else ""
        found.append((start, match["lang"], options, text + "\n"))
    blocks: list[Block] = []
    for n, (line, lang, options, text) in enumerate(found):
        if lang == "text" and "output" in options.get("class", ""):
            # An output block checks the program right before it, and nothing else.
            before = found[n - 1][1] if n > 0 else None
            assert before == "python", f"{page}:{line}: an output block after no program"
            continue
        output = None
        if n + 1 < len(found):
            _, next_lang, next_options, next_text = found[n + 1]
            if next_lang == "text" and "output" in next_options.get("class", ""):
                output = next_text
        blocks.append(Block(page, line, lang, text, output, options.get("caption")))
    return blocks


def _is_test_file(block: Block) -> bool:
    return bool(block.caption and re.fullmatch(r"test_\w+\.py", block.caption))


BLOCKS = [b for path in sorted(DOCS.rglob("*.rst")) for b in _blocks_of(path)]
PROGRAMS = [b for b in BLOCKS if b.lang == "python" and not _is_test_file(b)]
TEST_FILES = [b for b in BLOCKS if b.lang == "python" and _is_test_file(b)]
DOCTESTS = [b for b in BLOCKS if b.lang == "pycon"]


class Socks5Server:
    """A SOCKS5 proxy on loopback (RFC 1928 CONNECT, RFC 1929 username/password), for the
    SOCKS examples: it negotiates, connects to the target it is asked for and relays both
    ways, on an event loop of its own in a thread (the examples run in other processes).

    Args:
        credentials: ``(username, password)`` it requires, or ``None`` to require none.
    """

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.port = 0
        self.targets: list[tuple[int, str, int]] = []  # (address type, host, port) asked
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> Socks5Server:
        """Listen on a free port of 127.0.0.1 and serve from the thread."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Close the listener and every connection, then stop the thread and the loop."""

        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _negotiate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[str, int] | None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        wanted = 0x00 if self.credentials is None else 0x02
        if version != 5 or wanted not in methods:
            writer.write(b"\x05\xff")  # RFC 1928 §3: no acceptable method
            return None
        writer.write(bytes([5, wanted]))
        if self.credentials is not None:  # RFC 1929 §2
            _, name_length = await reader.readexactly(2)
            name = (await reader.readexactly(name_length)).decode("utf-8")
            (password_length,) = await reader.readexactly(1)
            password = (await reader.readexactly(password_length)).decode("utf-8")
            ok = (name, password) == self.credentials
            writer.write(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return None
        _, command, _, atyp = await reader.readexactly(4)
        if atyp == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif atyp == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode("ascii")
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.targets.append((atyp, host, port))
        if command != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))  # command not supported
            return None
        return host, port

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            target = await self._negotiate(reader, writer)
            if target is None:
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*target)
            except OSError:
                writer.write(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
                return
            self._writers.add(up_writer)
            writer.write(b"\x05\x00\x00\x01" + bytes(6))  # succeeded (bound: 0.0.0.0:0)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            self._writers.discard(up_writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(OSError):
            writer.close()


@pytest.fixture(scope="session")
def socks_proxies() -> Iterator[tuple[Socks5Server, Socks5Server]]:
    """An open SOCKS5 proxy, and one that wants ``user``/``pass``."""
    servers = (Socks5Server().start(), Socks5Server(("user", "pass")).start())
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def substitutions(request: pytest.FixtureRequest) -> Substitutions:
    """The documented addresses and what they become here (peers start on first use)."""

    def lazy(code: str) -> dict[str, str]:
        server: LocalServer = request.getfixturevalue("httpwire_server")
        table = {
            "http://127.0.0.1:8080": server.http_url,
            "http://localhost:8080": server.localhost_url,
            "https://localhost:8443": server.https_url,
            "/path/to/ca-bundle.crt": str(server.ca_pem),
            "/path/to/socket": server.unix_path,
        }
        if "127.0.0.1:312" in code:
            proxies: Proxies = request.getfixturevalue("proxy")
            user, password = proxies.auth
            table["http://user:pass@127.0.0.1:3129"] = proxies.auth_url
            table["http://127.0.0.1:3128"] = proxies.url
            table["http://127.0.0.1:3129"] = proxies.auth_proxy_url
            table['"user", "pass"'] = f"{user!r}, {password!r}"
        if "127.0.0.1:108" in code:
            open_socks, auth_socks = request.getfixturevalue("socks_proxies")
            table["127.0.0.1:1080"] = f"127.0.0.1:{open_socks.port}"
            table["127.0.0.1:1081"] = f"127.0.0.1:{auth_socks.port}"
        if "http://127.0.0.1:8000" in code:
            httpbin: HttpbinPeer = request.getfixturevalue("httpbin_server")
            table["http://127.0.0.1:8000"] = httpbin.http_url
        return table

    return Substitutions(lazy)


class Substitutions:
    """Replaces the documented addresses in a text, starting the peers it names."""

    def __init__(self, table_for: Callable[[str], dict[str, str]]) -> None:
        self.table_for = table_for

    def apply(self, code: str) -> str:
        """The text with every documented address replaced."""
        for old, new in self.table_for(code).items():
            code = code.replace(old, new)
        return code


def _checker_matches(expected: str, got: str) -> bool:
    return doctest.OutputChecker().check_output(expected, got, doctest.ELLIPSIS)


def test_the_docs_have_examples_on_every_guide_page() -> None:
    pages = {b.page for b in PROGRAMS + DOCTESTS + TEST_FILES}
    guide = sorted(p.relative_to(DOCS).as_posix() for p in (DOCS / "guide").glob("*.rst"))
    assert len(guide) >= 9, guide
    for page in guide:
        assert page in pages, f"{page} has no example that runs"


def test_no_other_code_block_holds_python() -> None:
    allowed = {"python", "pycon", "text", "console", "sh", "ini", "toml", "none"}
    for block in BLOCKS:
        assert block.lang in allowed, f"{block.name}: code-block language {block.lang!r}"
        if block.lang not in {"python", "pycon"}:
            assert not _PYTHON.search(block.code), (
                f"{block.name}: Python in a {block.lang!r} block is never run"
            )


_PYTHON = re.compile(r"^\s*(import |from \S+ import |async (def|with|for) |await )", re.M)


@pytest.mark.parametrize("path", sorted(DOCS.rglob("*.rst")), ids=lambda p: p.name)
def test_no_literal_block_holds_python(path: Path) -> None:
    """A ``::`` literal block is never run, so Python must go in a ``code-block``."""
    text = path.read_text(encoding="utf-8")
    for match in re.finditer(r"(?<!\.\. )[^\n]*::\n\n((?:[ \t]+[^\n]*\n|\n)+)", text):
        if match.group(0).lstrip().startswith(".."):
            continue
        assert not _PYTHON.search(match.group(1)), (
            f"{path.name}: a literal block holds Python that no test runs:\n{match.group(1)}"
        )


@pytest.mark.parametrize("block", PROGRAMS, ids=[b.name for b in PROGRAMS])
def test_example_runs(block: Block, substitutions: Substitutions) -> None:
    code = substitutions.apply(block.code)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _RUNNER, block.name],
        input=code,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, f"{block.name} failed:\n{done.stderr}"
    assert done.stderr == "", f"{block.name} wrote to stderr:\n{done.stderr}"
    if block.output is not None:
        expected = substitutions.apply(block.output)
        assert _checker_matches(expected, done.stdout), (
            f"{block.name} printed:\n{done.stdout}\nthe page shows:\n{expected}"
        )


@pytest.mark.parametrize("block", TEST_FILES, ids=[b.name for b in TEST_FILES])
def test_example_test_file_passes(block: Block, tmp_path: Path) -> None:
    """A page's example test module runs under pytest with the page's other files.

    Every block of the page captioned with a file name (the modules it imports, its
    ``pytest.ini``) is written next to it, as a reader following the page would.
    """
    assert block.caption is not None
    for other in BLOCKS:
        if other.page == block.page and other.caption:
            (tmp_path / other.caption).write_text(other.code, encoding="utf-8")
    pytest_options = ["-q", "-p", "no:cacheprovider", "-W", "error"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_options, block.caption],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{block.name}:\n{done.stdout}\n{done.stderr}"
    assert re.search(r"^\d+ passed", done.stdout.splitlines()[-1]), done.stdout


DOCTEST_PAGES = sorted({b.page for b in DOCTESTS})


@pytest.mark.parametrize("page", DOCTEST_PAGES)
def test_doctest_blocks(page: str, substitutions: Substitutions) -> None:
    """A page's ``pycon`` blocks run in order in one namespace, as one interpreter session."""
    namespace: dict[str, object] = {}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out: list[str] = []
    for block in (b for b in DOCTESTS if b.page == page):
        code = substitutions.apply(block.code)
        parser = doctest.DocTestParser()
        test = parser.get_doctest(code, namespace, block.name, block.page, block.line)
        test.globs = namespace  # get_doctest copies the globals: keep one namespace
        result = runner.run(test, out=out.append, clear_globs=False)
        assert result.attempted > 0, f"{block.name} holds no example"
    assert runner.failures == 0, "".join(out)


# -- every public name has a docstring --------------------------------------------------------


def _data_has_doc(package: ModuleType, name: str) -> bool:
    """A constant or alias is documented by a string after it or ``#:`` comments before it."""
    obj = getattr(package, name)
    # A name may be re-exported from a sibling (the client re-exports the connectors'
    # aliases): look where it is defined, in any package. ``__main__`` runs a program.
    homes = [importlib.import_module(f"httpwire.{p}") for p in PACKAGES]
    infos = [
        info
        for home in homes
        for info in pkgutil.iter_modules(home.__path__, home.__name__ + ".")
        if not info.name.endswith("__main__")
    ]
    for info in infos:
        module = importlib.import_module(info.name)
        if module.__dict__.get(name, _MISSING) is not obj:
            continue
        source = inspect.getsource(module)
        tree = ast.parse(source)
        lines = source.splitlines()
        for n, node in enumerate(tree.body):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
                continue
            after = tree.body[n + 1] if n + 1 < len(tree.body) else None
            if (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                return True
            return lines[node.lineno - 2].lstrip().startswith("#:")
    return False


_MISSING = object()


def _has_own_docstring(obj: object) -> bool:
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return False
    # dataclasses and NamedTuples make up a docstring from the signature: not documentation.
    name = getattr(obj, "__name__", "")
    return not (isinstance(obj, type) and doc.startswith(f"{name}("))


def _public(package: str) -> list[tuple[str, str]]:
    module = importlib.import_module(f"httpwire.{package}")
    return [(package, n) for n in module.__all__ if not n.startswith("__")]


PUBLIC = [pair for package in PACKAGES for pair in _public(package)]


@pytest.mark.parametrize(("package", "name"), PUBLIC, ids=[f"{p}.{n}" for p, n in PUBLIC])
def test_public_name_has_a_docstring(package: str, name: str) -> None:
    module = importlib.import_module(f"httpwire.{package}")
    obj = getattr(module, name)
    if inspect.isclass(obj) or inspect.isroutine(obj):
        assert _has_own_docstring(obj), f"httpwire.{package}.{name} has no docstring"
    else:
        assert _data_has_doc(module, name), (
            f"httpwire.{package}.{name} has no docstring (a string after it, or #: before it)"
        )
