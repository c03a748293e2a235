"""The ``httpwire`` command, run for real: ``python -m httpwire.client`` in a subprocess.

Against the local test server (``httpwire_server``): every item syntax as the server
echoes it, every exit code from a real cause, downloads checked byte for byte with the
child's peak memory, resuming after a cut, Ctrl-C, and a pseudo-terminal for colours and
progress bars. A scripted server (:class:`RangeServer`) covers what no real peer does on
demand: cutting a response and then answering the range request that resumes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pty
import random
import re
import select
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from httpwire_testserver import LocalServer

COMMAND = [sys.executable, "-m", "httpwire.client"]
# rich hidden from the child: the command must work in plain text without the extra.
WITHOUT_RICH = [
    sys.executable,
    "-c",
    "import sys; sys.modules['rich'] = None; "
    "from httpwire.client._cli import main; raise SystemExit(main())",
]

# For the Ctrl-C tests: SIGINT restored to Python's default first. A shell runs a background
# job with SIGINT ignored, its children inherit that, and Python then leaves SIGINT ignored:
# the signal these tests send would do nothing.
INTERRUPTIBLE = [
    sys.executable,
    "-c",
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from httpwire.client._cli import main; raise SystemExit(main())",
]


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")
    }
    # Every run shows what it leaks (an unclosed socket, file or session): none may.
    env["PYTHONWARNINGS"] = "always::ResourceWarning"
    env.update(extra)
    return env


def httpwire(
    *args: str,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    command: list[str] = COMMAND,
) -> subprocess.CompletedProcess[str]:
    """Run the command with pipes (not a terminal) and return what it did, as text."""
    done = subprocess.run(
        [*command, *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        env=_env(),
        timeout=90,
    )
    result = subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
    assert "ResourceWarning" not in result.stderr, result.stderr
    return result


def echoed(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single error line on standard error (no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("httpwire: error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def seeded_bytes(size: int, seed: int) -> bytes:
    """What the server's ``/bytes/{size}?seed=`` sends: 64 KiB pieces of one Random."""
    rng = random.Random(seed)
    return b"".join(rng.randbytes(min(65536, size - at)) for at in range(0, size, 65536))


def seeded_digest(size: int, seed: int) -> str:
    rng = random.Random(seed)
    digest = hashlib.sha256()
    for at in range(0, size, 65536):
        digest.update(rng.randbytes(min(65536, size - at)))
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


# -- request items, as the server receives them --------------------------------------------


def test_json_fields_params_and_headers_arrive(httpwire_server: LocalServer) -> None:
    got = echoed(
        httpwire(
            httpwire_server.url("/post"),
            "name=Ann",
            "age:=31",
            'tags:=["a", "b"]',
            "ok:=true",
            r"a\=b=c",
            r"at=\@home",
            "q==search",
            "q==more",
            "X-Trace:abc",
            "X-Empty;",
        )
    )
    assert got["json"] == {
        "name": "Ann",
        "age": 31,
        "tags": ["a", "b"],
        "ok": True,
        "a=b": "c",
        "at": "@home",
    }
    assert got["args"] == {"q": ["search", "more"]}
    assert got["headers"]["Content-Type"] == "application/json"
    assert got["headers"]["Accept"] == "application/json, */*;q=0.5"
    assert got["headers"]["X-Trace"] == "abc"
    assert got["headers"]["X-Empty"] == ""


def test_the_method_is_inferred_or_given(httpwire_server: LocalServer) -> None:
    assert echoed(httpwire(httpwire_server.url("/anything")))["method"] == "GET"
    assert echoed(httpwire(httpwire_server.url("/anything"), "a=1"))["method"] == "POST"
    assert echoed(httpwire("PUT", httpwire_server.url("/anything"), "a=1"))["method"] == "PUT"
    assert echoed(httpwire("delete", httpwire_server.url("/anything")))["method"] == "DELETE"


def test_the_port_shorthand_requests_localhost(httpwire_server: LocalServer) -> None:
    got = echoed(httpwire(f":{httpwire_server.port}/get", "x==1"))
    assert got["url"] == f"http://localhost:{httpwire_server.port}/get?x=1"


def test_a_default_header_can_be_left_out(httpwire_server: LocalServer) -> None:
    got = echoed(httpwire(httpwire_server.url("/headers"), "User-Agent:"))
    assert "User-Agent" not in got["headers"]
    default = echoed(httpwire(httpwire_server.url("/headers")))
    assert default["headers"]["User-Agent"].startswith("httpwire/")


def test_form_fields_are_urlencoded(httpwire_server: LocalServer) -> None:
    got = echoed(httpwire("--form", httpwire_server.url("/post"), "a=1", "b=x y&z", "a=2"))
    assert got["form"] == {"a": ["1", "2"], "b": "x y&z"}
    assert got["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_file_fields_upload_a_multipart_form(httpwire_server: LocalServer, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_bytes(b"a,b\n1,2\n")
    image = tmp_path / "pixel.bin"
    image.write_bytes(bytes(range(256)))
    got = echoed(
        httpwire(
            httpwire_server.url("/post"),
            "title=Q3",
            f"report@{report}",
            f"image@{image};type=image/x-test",
        )
    )
    assert got["form"] == {"title": "Q3"}
    assert got["files"]["report"] == "a,b\n1,2\n"
    assert got["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert int(got["headers"]["Content-Length"]) > 256  # the size was known: not chunked


def test_multipart_is_forced_without_files(httpwire_server: LocalServer) -> None:
    got = echoed(httpwire("--multipart", httpwire_server.url("/post"), "a=1"))
    assert got["form"] == {"a": "1"}
    assert got["headers"]["Content-Type"].startswith("multipart/form-data")


def test_field_text_and_json_from_files(httpwire_server: LocalServer, tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("line 1\nline 2\n", encoding="utf-8")
    (tmp_path / "doc.json").write_text('{"k": [1, 2]}', encoding="utf-8")
    got = echoed(
        httpwire(
            httpwire_server.url("/post"),
            f"note=@{tmp_path / 'note.txt'}",
            f"doc:=@{tmp_path / 'doc.json'}",
        )
    )
    assert got["json"] == {"note": "line 1\nline 2\n", "doc": {"k": [1, 2]}}


def test_data_text_is_sent_as_is(httpwire_server: LocalServer) -> None:
    got = echoed(httpwire(httpwire_server.url("/anything"), "--data", "plain words"))
    assert (got["method"], got["data"]) == ("POST", "plain words")


def test_data_from_a_file_is_streamed_with_its_length(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    content = random.Random(7).randbytes(5 * 2**20 + 3)
    big.write_bytes(content)
    got = echoed(httpwire(httpwire_server.url("/upload-digest"), "--data", f"@{big}"))
    assert got["sha256"] == hashlib.sha256(content).hexdigest()
    assert got["content_length"] == len(content)
    assert got["chunked"] is False


def test_data_from_standard_input_is_streamed_chunked(httpwire_server: LocalServer) -> None:
    content = random.Random(8).randbytes(300_000)
    got = echoed(httpwire(httpwire_server.url("/upload-digest"), "--data", "@-", stdin=content))
    assert got["sha256"] == hashlib.sha256(content).hexdigest()
    assert got["chunked"] is True
    assert got["method"] == "POST"


def test_json_mode_sends_a_data_file_as_json(httpwire_server: LocalServer, tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text('{"x": 1}', encoding="utf-8")
    got = echoed(
        httpwire("--json", httpwire_server.url("/post"), "--data", f"@{tmp_path / 'b.json'}")
    )
    assert got["json"] == {"x": 1}
    assert got["headers"]["Content-Type"] == "application/json"


def test_chunked_is_forced_when_asked(httpwire_server: LocalServer, tmp_path: Path) -> None:
    body = tmp_path / "b.bin"
    body.write_bytes(b"z" * 100_000)
    got = echoed(
        httpwire("--chunked", httpwire_server.url("/upload-digest"), "--data", f"@{body}")
    )
    assert got["chunked"] is True
    assert got["sha256"] == hashlib.sha256(b"z" * 100_000).hexdigest()


def test_expect_continue(httpwire_server: LocalServer) -> None:
    got = echoed(
        httpwire("--expect-continue", httpwire_server.url("/upload-digest"), "--data", "x" * 10)
    )
    assert got["expect_continue"] is True
    assert got["bytes"] == 10


def test_ipv4_only(httpwire_server: LocalServer) -> None:
    got = echoed(httpwire("-4", f"http://localhost:{httpwire_server.port}/connection-id"))
    assert got["peer"].startswith("127.0.0.1"), got


def test_ipv6_only_cannot_reach_an_ipv4_address(httpwire_server: LocalServer) -> None:
    result = httpwire("-6", httpwire_server.url("/get"))
    assert result.returncode == 6
    one_error_line(result)


def test_ipv6_only(httpwire_server: LocalServer) -> None:
    try:
        socket.getaddrinfo("localhost", None, socket.AF_INET6)
    except socket.gaierror:
        pytest.skip("localhost has no IPv6 address on this machine")
    if not httpwire_server.ipv6:
        pytest.skip("no IPv6 loopback on this machine")
    got = echoed(httpwire("-6", f"http://localhost:{httpwire_server.port}/connection-id"))
    assert got["peer"].startswith(("::1", "[::1]")), got


def test_basic_auth(httpwire_server: LocalServer) -> None:
    ok = httpwire("-a", "ann:s3cr:et", httpwire_server.url("/basic-auth/ann/s3cr:et"))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"authenticated": True, "user": "ann"}
    wrong = httpwire("-a", "ann:nope", httpwire_server.url("/basic-auth/ann/s3cr:et"))
    assert wrong.returncode == 4
    assert "nope" not in wrong.stderr


def test_unix_socket(httpwire_server: LocalServer) -> None:
    got = echoed(httpwire("--unix-socket", httpwire_server.unix_path, "http://localhost/get"))
    assert got["url"] == "http://localhost/get"


def test_tls_with_the_ca_given(httpwire_server: LocalServer) -> None:
    got = echoed(
        httpwire("--cacert", str(httpwire_server.ca_pem), httpwire_server.https_url + "/get")
    )
    assert got["url"].startswith("https://localhost:")


def _server_fingerprint(server: LocalServer) -> str:
    pem = ssl.get_server_certificate(("127.0.0.1", server.tls_port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_a_pinned_fingerprint_with_no_verify(httpwire_server: LocalServer) -> None:
    digest = _server_fingerprint(httpwire_server)
    colons = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    result = httpwire("--no-verify", "--fingerprint", colons, httpwire_server.https_url + "/get")
    assert result.returncode == 0, result.stderr


def test_through_a_proxy(httpwire_server: LocalServer, proxy: Any) -> None:
    got = echoed(httpwire("--proxy", proxy.url, httpwire_server.url("/get")))
    assert got["url"] == httpwire_server.url("/get")


def test_through_a_proxy_that_wants_credentials(httpwire_server: LocalServer, proxy: Any) -> None:
    refused = httpwire("--proxy", proxy.auth_proxy_url, httpwire_server.url("/get"))
    assert refused.returncode == 4  # the proxy's own 407 is the response
    assert "407" in refused.stderr
    got = echoed(httpwire("--proxy", proxy.auth_url, httpwire_server.url("/get")))
    assert got["url"] == httpwire_server.url("/get")


# -- output -------------------------------------------------------------------------------


def test_piped_output_is_the_body_only_and_raw(httpwire_server: LocalServer) -> None:
    result = httpwire(httpwire_server.url("/bytes/1000?seed=3"))
    assert result.returncode == 0
    raw = subprocess.run(
        [*COMMAND, httpwire_server.url("/bytes/1000?seed=3")],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=_env(),
        check=True,
    )
    assert raw.stdout == seeded_bytes(1000, 3)


def test_a_reader_that_stops_early_ends_the_command_quietly(
    httpwire_server: LocalServer,
) -> None:
    """``httpwire URL | head -c 10``: a closed pipe is the end of the output, not an error."""
    proc = subprocess.Popen(
        [*COMMAND, httpwire_server.url(f"/bytes/{32 * 2**20}")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert err == b""


def test_version() -> None:
    result = httpwire("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"httpwire \d+\.\d+\.\d+\n", result.stdout)


def test_verbose_shows_the_request_and_the_response(httpwire_server: LocalServer) -> None:
    result = httpwire("-v", httpwire_server.url("/post"), "a=1", "X-A:b")
    assert result.returncode == 0
    request_head, request_body, response_head, body = result.stdout.split("\n\n", 3)
    lines = request_head.splitlines()
    assert lines[0] == "POST /post HTTP/1.1"
    assert f"Host: 127.0.0.1:{httpwire_server.port}" in lines
    assert "X-A: b" in lines
    assert "Content-Length: 10" in lines
    assert request_body == '{"a": "1"}'
    assert response_head.splitlines()[0] == "HTTP/1.1 200 OK"
    assert json.loads(body)["json"] == {"a": "1"}


def test_headers_only(httpwire_server: LocalServer) -> None:
    result = httpwire("--headers", httpwire_server.url("/response-headers?X-Mine=1"))
    assert result.returncode == 0
    assert result.stdout.startswith("HTTP/1.1 200 OK\n")
    assert "X-Mine: 1" in result.stdout.splitlines()
    assert result.stdout.endswith("\n\n")


def test_format_indents_json_without_colours(httpwire_server: LocalServer) -> None:
    result = httpwire("--pretty", "format", httpwire_server.url("/json"))
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout
    assert re.search(r'^    "slideshow": \{$', result.stdout, re.MULTILINE)


def test_output_to_a_file(httpwire_server: LocalServer, tmp_path: Path) -> None:
    target = tmp_path / "body.bin"
    result = httpwire("-o", str(target), httpwire_server.url("/bytes/70000?seed=4"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_bytes() == seeded_bytes(70000, 4)


def test_output_to_a_file_is_formatted_but_never_coloured(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    target = tmp_path / "shown.txt"
    result = httpwire(
        "--pretty", "all", "-p", "hb", "-o", str(target), httpwire_server.url("/json")
    )
    assert result.returncode == 0, result.stderr
    written = target.read_text(encoding="utf-8")
    assert "\x1b[" not in written
    assert written.startswith("HTTP/1.1 200 OK\n")
    assert re.search(r'^    "slideshow": \{$', written, re.MULTILINE)


def test_json_output(httpwire_server: LocalServer) -> None:
    result = httpwire("--json-output", httpwire_server.url("/get?x=1"), "X-A:b")
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == 0
    assert doc["request"]["method"] == "GET"
    assert ["X-A", "b"] in doc["request"]["headers"]
    assert doc["response"]["status"] == 200
    assert ["Content-Type", "application/json"] in doc["response"]["headers"]
    assert doc["response"]["body"]["json"]["args"] == {"x": "1"}
    (hop,) = doc["timings"]
    assert hop["status"] == 200 and hop["url"] == httpwire_server.url("/get?x=1")
    assert hop["is_reused"] is False
    assert hop["remote_address"] == f"127.0.0.1:{httpwire_server.port}"
    assert 0 < hop["waiting"] <= hop["total"]
    assert hop["tls"] is None


def test_json_output_of_binary_and_of_errors(httpwire_server: LocalServer) -> None:
    doc = json.loads(httpwire("--json-output", httpwire_server.url("/bytes/16?seed=1")).stdout)
    assert doc["response"]["body"]["bytes"] == 16
    import base64

    assert base64.b64decode(doc["response"]["body"]["base64"]) == seeded_bytes(16, 1)
    failed = httpwire("--json-output", httpwire_server.url("/status/503"))
    assert failed.returncode == 5
    assert json.loads(failed.stdout)["exit_code"] == 5


_PHASE = re.compile(r"^ +([a-z ]+?) +(-|[0-9.]+ ms)$")


def _phases(lines: list[str]) -> dict[str, str]:
    return {m[1]: m[2] for line in lines if (m := _PHASE.match(line))}


def test_timings_show_the_phases_the_library_measured(httpwire_server: LocalServer) -> None:
    result = httpwire("--timings", httpwire_server.url("/get"))
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # the body is untouched on standard output
    lines = result.stderr.splitlines()
    assert lines[0] == "timings:"
    phases = _phases(lines)
    assert list(phases) == [
        "pool wait",
        "dns",
        "connect",
        "tls",
        "sending",
        "waiting",
        "receiving",
        "total",
    ]
    assert phases["tls"] == "-"  # plain HTTP: no handshake
    assert all(phases[name].endswith(" ms") for name in ("pool wait", "connect", "waiting"))
    assert re.fullmatch(
        rf"  connection   new, 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:{httpwire_server.port}",
        lines[-1],
    ), lines[-1]


def test_timings_of_tls_and_of_each_redirect_hop(httpwire_server: LocalServer) -> None:
    result = httpwire(
        "--timings",
        "--follow",
        "--cacert",
        str(httpwire_server.ca_pem),
        httpwire_server.https_url + "/redirect/1",
    )
    assert result.returncode == 0, result.stderr
    err = result.stderr
    hops = re.split(r"^  hop \d+: ", err, flags=re.MULTILINE)[1:]
    assert [hop.splitlines()[0] for hop in hops] == [
        f"GET {httpwire_server.https_url}/redirect/1 302",
        f"GET {httpwire_server.https_url}/get 200",
    ]
    first, second = (_phases(hop.splitlines()) for hop in hops)
    assert first["tls"].endswith(" ms") and first["dns"].endswith(" ms")
    assert second["tls"] == "-" and second["connect"] == "-"  # the same connection again
    assert "connection   new" in hops[0] and "connection   reused" in hops[1]


# -- exit codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/status/200", 0),
        ("/status/204", 0),
        ("/status/302", 0),
        ("/status/404", 4),
        ("/status/418", 4),
        ("/status/500", 5),
        ("/status/503", 5),
    ],
)
def test_exit_code_by_status(httpwire_server: LocalServer, path: str, code: int) -> None:
    result = httpwire(httpwire_server.url(path))
    assert result.returncode == code, result.stderr
    if code:
        assert f"httpwire: warning: HTTP {path.rsplit('/', 1)[1]}" in result.stderr


def test_every_exit_code_is_documented() -> None:
    from httpwire.client._cli import ExitCode

    shown = httpwire("--help")
    assert shown.returncode == 0, shown.stderr
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert re.search(rf"^  {int(code)} +\S", shown.stdout, re.MULTILINE), code
        assert re.search(rf"^\| {int(code)} \| \S", readme, re.MULTILINE), code


def test_redirects_are_followed_when_asked(httpwire_server: LocalServer) -> None:
    assert httpwire(httpwire_server.url("/redirect/2")).returncode == 0
    followed = echoed(httpwire("--follow", httpwire_server.url("/redirect/2")))
    assert followed["url"] == httpwire_server.url("/get")


def test_too_many_redirects_exit_3(httpwire_server: LocalServer) -> None:
    result = httpwire("-F", "--max-redirects", "1", httpwire_server.url("/redirect/3"))
    assert result.returncode == 3
    assert "redirect" in one_error_line(result)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_exit_6() -> None:
    port = _closed_port()
    result = httpwire(f"http://127.0.0.1:{port}/get")
    assert result.returncode == 6
    line = one_error_line(result)
    assert f"cannot connect to 127.0.0.1:{port}" in line


def test_untrusted_certificate_exit_7(httpwire_server: LocalServer) -> None:
    result = httpwire(httpwire_server.https_url + "/get")
    assert result.returncode == 7
    assert "certificate verification failed" in one_error_line(result)


def test_fingerprint_mismatch_exit_7(httpwire_server: LocalServer) -> None:
    result = httpwire(
        "--no-verify", "--fingerprint", "00" * 32, httpwire_server.https_url + "/get"
    )
    assert result.returncode == 7
    assert "does not match the pinned fingerprint" in one_error_line(result)


def test_timeout_exit_8(httpwire_server: LocalServer) -> None:
    result = httpwire("--timeout", "0.3", httpwire_server.url("/fault/stall"))
    assert result.returncode == 8
    assert "sock_read timeout" in one_error_line(result)


def test_total_timeout_exit_8(httpwire_server: LocalServer) -> None:
    result = httpwire("--max-time", "0.3", httpwire_server.url("/fault/stall"))
    assert result.returncode == 8
    assert "total timeout" in one_error_line(result)


def test_usage_errors_exit_2(httpwire_server: LocalServer) -> None:
    for args in (["--nope", "x"], [], ["x", "n:=[1,"], ["ftp://example.org/"]):
        result = httpwire(*args)
        assert result.returncode == 2, args
        one_error_line(result)


def test_a_password_in_a_bad_url_is_not_shown() -> None:
    result = httpwire("ftp://ann:s3cret@example.org/")
    assert result.returncode == 2
    assert "the scheme must be http or https" in one_error_line(result)
    assert "s3cret" not in result.stderr


def test_an_invalid_body_exits_1(httpwire_server: LocalServer) -> None:
    result = httpwire(httpwire_server.url("/fault/bad-chunk-size"))
    assert result.returncode == 1
    one_error_line(result)


def test_a_missing_file_exits_1_before_any_request(tmp_path: Path) -> None:
    result = httpwire(f"http://127.0.0.1:{_closed_port()}/post", f"f@{tmp_path / 'none'}")
    assert result.returncode == 1
    assert "cannot read" in one_error_line(result)


def test_a_cut_response_exits_6(httpwire_server: LocalServer) -> None:
    result = httpwire(httpwire_server.url("/fault/close-mid-body?length=1000&sent=100"))
    assert result.returncode == 6
    assert "after 100 of 1000 body bytes" in one_error_line(result)


# -- downloads ----------------------------------------------------------------------------


def test_download_named_after_the_url(httpwire_server: LocalServer, tmp_path: Path) -> None:
    url = httpwire_server.url("/bytes/300000?seed=5")
    result = httpwire("-d", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "300000").read_bytes() == seeded_bytes(300000, 5)
    assert "saved 293.0 KiB to 300000" in result.stderr
    again = httpwire("-d", url, cwd=tmp_path)  # never overwrites: a new name
    assert again.returncode == 0
    assert (tmp_path / "300000-1").read_bytes() == seeded_bytes(300000, 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["300000", "300000-1"]


def test_download_named_by_content_disposition(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    url = httpwire_server.url(
        "/response-headers?Content-Disposition=attachment;filename=%22../r.json%22"
    )
    result = httpwire("-d", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["Content-Disposition"]


def test_download_does_not_save_an_error_body(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    result = httpwire("-d", "-o", "out", httpwire_server.url("/status/404"), cwd=tmp_path)
    assert result.returncode == 4
    assert list(tmp_path.iterdir()) == []


def test_download_says_when_it_was_redirected(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    result = httpwire("-d", httpwire_server.url("/redirect/1"), cwd=tmp_path)
    assert result.returncode == 0
    assert "nothing saved; add --follow to download from '/get'" in result.stderr
    assert list(tmp_path.iterdir()) == []
    followed = httpwire("-d", "-F", httpwire_server.url("/redirect/1"), cwd=tmp_path)
    assert followed.returncode == 0, followed.stderr
    assert json.loads((tmp_path / "get").read_text())["url"] == httpwire_server.url("/get")


def test_a_cut_download_keeps_a_part_file(httpwire_server: LocalServer, tmp_path: Path) -> None:
    url = httpwire_server.url("/fault/close-mid-body?length=1000&sent=100")
    result = httpwire("-d", "-o", "out.bin", url, cwd=tmp_path)
    assert result.returncode == 6
    assert (tmp_path / "out.bin.part").read_bytes() == b"x" * 100
    assert not (tmp_path / "out.bin").exists()
    assert (
        "100 bytes kept in out.bin.part; resume with --continue --output out.bin" in result.stderr
    )
    one_error_line(result)


def test_continue_asks_for_the_rest(httpwire_server: LocalServer, tmp_path: Path) -> None:
    """RFC 9110 §14.2: ``Range: bytes=N-``; the 206's Content-Range starts at N."""
    full = httpwire(httpwire_server.url("/range/5000"), command=COMMAND)
    whole = full.stdout.encode()
    assert len(whole) == 5000
    (tmp_path / "r.bin.part").write_bytes(whole[:1234])
    result = httpwire("-d", "-c", "-o", "r.bin", httpwire_server.url("/range/5000"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.bin").read_bytes() == whole
    assert not (tmp_path / "r.bin.part").exists()
    assert "resumed at 1.2 KiB" in result.stderr


def test_continue_on_a_complete_part_file(httpwire_server: LocalServer, tmp_path: Path) -> None:
    """RFC 9110 §15.5.17: a 416 whose Content-Range is ``bytes */N`` for N bytes on disk."""
    whole = httpwire(httpwire_server.url("/range/3000")).stdout.encode()
    (tmp_path / "r.bin.part").write_bytes(whole)
    result = httpwire("-d", "-c", "-o", "r.bin", httpwire_server.url("/range/3000"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.bin").read_bytes() == whole
    assert "was already complete" in result.stderr


def test_continue_when_the_server_ignores_ranges(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    (tmp_path / "b.bin.part").write_bytes(b"stale bytes")
    url = httpwire_server.url("/bytes/100000?seed=6")
    result = httpwire("-d", "-c", "-o", "b.bin", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "b.bin").read_bytes() == seeded_bytes(100000, 6)
    assert "does not resume" in result.stderr


@dataclass
class RangeServer:
    """A scripted server: one body, ranges honoured, and its first answer cut or stalled.

    ``mode="cut"`` closes the first response after ``cut_at`` body bytes; ``"stall"``
    sends ``cut_at`` bytes and then nothing until the client leaves. Later requests are
    answered whole (200) or from their ``Range`` (206). ``ranges`` records each request's
    Range field.
    """

    body: bytes
    cut_at: int
    mode: str = "cut"
    ranges: list[str | None] = field(default_factory=list)
    port: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)

    def serve(self) -> Iterator[RangeServer]:
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    piece = self.request.recv(65536)
                    if not piece:
                        return
                    head += piece
                wanted = None
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"range":
                        wanted = value.strip().decode()
                outer.ranges.append(wanted)
                first = len(outer.ranges) == 1
                start = int(wanted.split("=")[1].split("-")[0]) if wanted else 0
                data = outer.body[start:]
                status = "206 Partial Content" if wanted else "200 OK"
                fields = f"Content-Length: {len(data)}\r\n"
                if wanted:
                    fields += (
                        f"Content-Range: bytes {start}-{len(outer.body) - 1}/{len(outer.body)}\r\n"
                    )
                self.request.sendall(
                    f"HTTP/1.1 {status}\r\n{fields}Connection: close\r\n\r\n".encode()
                )
                if first:
                    self.request.sendall(data[: outer.cut_at])
                    if outer.mode == "stall":
                        outer.stalled.set()
                        while self.request.recv(65536):
                            pass
                    return
                self.request.sendall(data)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        with Server(("127.0.0.1", 0), Handler) as server:
            self.port = server.server_address[1]
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield self
            finally:
                server.shutdown()
                thread.join()


@pytest.fixture
def range_server(request: pytest.FixtureRequest) -> Iterator[RangeServer]:
    mode, cut_at = request.param
    body = random.Random(9).randbytes(3 * 2**20)
    yield from RangeServer(body, cut_at, mode).serve()


@pytest.mark.parametrize("range_server", [("cut", 1_000_000)], indirect=True)
def test_resume_after_a_cut(range_server: RangeServer, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{range_server.port}/files/data.bin"
    cut = httpwire("-d", url, cwd=tmp_path)
    assert cut.returncode == 6
    assert (tmp_path / "data.bin.part").stat().st_size == 1_000_000
    resumed = httpwire("-d", "--continue", url, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert range_server.ranges == [None, "bytes=1000000-"]
    assert (tmp_path / "data.bin").read_bytes() == range_server.body


@pytest.mark.parametrize("range_server", [("stall", 700_000)], indirect=True)
@pytest.mark.timeout(300)  # two runs of the command on a loaded machine; nothing is timed
def test_ctrl_c_leaves_a_part_file_to_resume(range_server: RangeServer, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{range_server.port}/data.bin"
    part = tmp_path / "data.bin.part"
    proc = subprocess.Popen(
        [*INTERRUPTIBLE, "-d", url],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        # The server has sent its 700 000 bytes and stalls: wait until the child wrote
        # them all (each piece goes to the .part file unbuffered as it arrives).
        assert range_server.stalled.wait(120), "the command never asked for the file"
        while not (part.exists() and part.stat().st_size == 700_000):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.01)  # polling the file: the condition has no event to wait on
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.communicate()  # reaps the child and closes both pipes
    assert proc.returncode == 130, err
    assert "httpwire: error: interrupted" in err
    assert "Traceback" not in err
    assert "ResourceWarning" not in err
    assert "700000 bytes kept in data.bin.part" in err
    assert part.read_bytes() == range_server.body[:700_000]
    assert not (tmp_path / "data.bin").exists()
    resumed = httpwire("-d", "-c", url, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert range_server.ranges == [None, "bytes=700000-"]
    assert (tmp_path / "data.bin").read_bytes() == range_server.body


@contextlib.contextmanager
def _server_that_stops_reading() -> Iterator[tuple[int, threading.Event]]:
    """A server that reads a request's head and then nothing: the upload stalls."""
    got_head = threading.Event()
    done = threading.Event()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            head = b""
            while b"\r\n\r\n" not in head:
                piece = self.request.recv(4096)
                if not piece:
                    return
                head += piece
            got_head.set()
            done.wait()  # reads nothing more: the client's upload fills the buffers, stalls

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1], got_head
        finally:
            done.set()
            server.shutdown()
            thread.join()


@pytest.mark.timeout(300)  # nothing is timed: a loaded machine may be slow to start Python
def test_ctrl_c_during_an_upload_stops_cleanly(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as file:
        file.truncate(64 * 2**20)  # more than any socket buffers hold
    with _server_that_stops_reading() as (port, got_head):
        proc = subprocess.Popen(
            [*INTERRUPTIBLE, f"http://127.0.0.1:{port}/upload", "--data", f"@{big}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        try:
            assert got_head.wait(120), "the command never sent its request"
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.returncode is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130, err
    assert err.splitlines() == ["httpwire: error: interrupted"]  # nor traceback nor warning
    assert out == ""


def _peak_rss_kib(args: list[str], cwd: Path) -> tuple[int, int, str]:
    """Run the command; its exit code, its peak RSS in KiB (``wait4``), its stderr."""
    err_path = cwd / "stderr.txt"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [*COMMAND, *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=_env(),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss, err_path.read_text()


def _own_memory_kib() -> tuple[int, int] | None:
    """This process's resident and peak resident memory in KiB, or ``None`` off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            fields = dict(line.split(":", 1) for line in status)
    except OSError:
        return None
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _reset_own_peak() -> bool:
    """Restart this process's peak resident memory count from now (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def _download_in_flat_memory(server: LocalServer, tmp_path: Path, size: int) -> None:
    code, baseline, _ = _peak_rss_kib([server.url("/bytes/100?seed=2")], tmp_path)
    assert code == 0
    url = server.url(f"/bytes/{size}?seed=2")
    # The server runs in this process (a thread): its peak is counted from here.
    before = _own_memory_kib() if _reset_own_peak() else None
    code, peak, err = _peak_rss_kib(["-d", "-o", "big.bin", url], tmp_path)
    after = _own_memory_kib()
    assert code == 0, err
    if before is not None and after is not None:
        # The server generated the body piece by piece: it never held it either.
        assert after[1] - before[0] < 32 * 1024, (before, after)
    target = tmp_path / "big.bin"
    assert target.stat().st_size == size
    assert file_digest(target) == seeded_digest(size, 2)
    # The body never sits in memory: the peak stays within a few MiB of a tiny request's.
    assert peak - baseline < 16 * 1024, (baseline, peak)


def test_a_256_mib_download_in_flat_memory(httpwire_server: LocalServer, tmp_path: Path) -> None:
    _download_in_flat_memory(httpwire_server, tmp_path, 256 * 2**20)


@pytest.mark.slow
def test_a_1_gib_download_in_flat_memory(httpwire_server: LocalServer, tmp_path: Path) -> None:
    _download_in_flat_memory(httpwire_server, tmp_path, 2**30)


def test_piping_a_large_body_in_flat_memory(httpwire_server: LocalServer, tmp_path: Path) -> None:
    code, baseline, _ = _peak_rss_kib([httpwire_server.url("/bytes/100?seed=2")], tmp_path)
    code, peak, err = _peak_rss_kib([httpwire_server.url(f"/bytes/{64 * 2**20}")], tmp_path)
    assert code == 0, err
    assert peak - baseline < 16 * 1024, (baseline, peak)


# -- a terminal ---------------------------------------------------------------------------


def in_terminal(
    *args: str, command: list[str] = COMMAND, cwd: Path | None = None
) -> tuple[int, str]:
    """Run the command with standard output and error on a pseudo-terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*command, *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=_env(TERM="xterm-256color", COLUMNS="120", LINES="40"),
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                piece = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not piece:
                break
            chunks.append(piece)
    finally:
        os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


_ESC = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_colours_on_a_terminal(httpwire_server: LocalServer) -> None:
    pytest.importorskip("rich")
    code, shown = in_terminal(httpwire_server.url("/get"))
    assert code == 0
    status_line = next(line for line in shown.splitlines() if "HTTP/1.1" in line)
    assert _ESC.search(status_line), status_line
    assert _ESC.sub("", status_line).strip() == "HTTP/1.1 200 OK"
    header = next(line for line in shown.splitlines() if "Content-Type" in line)
    assert _ESC.search(header)
    assert json.loads(_ESC.sub("", shown).split("\r\n\r\n", 1)[1])["url"].endswith("/get")


def test_a_progress_bar_on_a_terminal(httpwire_server: LocalServer, tmp_path: Path) -> None:
    pytest.importorskip("rich")
    code, shown = in_terminal(
        "-d", httpwire_server.url(f"/bytes/{8 * 2**20}?seed=1"), cwd=tmp_path
    )
    assert code == 0, shown
    plain = _ESC.sub("", shown)
    assert re.search(r"8\.0/8\.0 MiB +[0-9.]+ (B|KiB|MiB|GiB)/s", plain), plain
    assert "saved 8.0 MiB to " in plain
    assert (tmp_path / str(8 * 2**20)).stat().st_size == 8 * 2**20


def test_an_upload_progress_bar_on_a_terminal(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    pytest.importorskip("rich")
    big = tmp_path / "up.bin"
    big.write_bytes(bytes(3 * 2**20))
    code, shown = in_terminal("-b", httpwire_server.url("/upload-digest"), "--data", f"@{big}")
    assert code == 0, shown
    plain = _ESC.sub("", shown)
    assert "uploading up.bin" in plain
    # The final state, with the transfer's rate (known even from only two reports).
    assert re.search(r"3\.0/3\.0 MiB +[0-9.]+ (B|KiB|MiB|GiB)/s", plain), plain


def test_a_multipart_upload_progress_bar_on_a_terminal(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    pytest.importorskip("rich")
    (tmp_path / "a.bin").write_bytes(bytes(2 * 2**20))
    (tmp_path / "b.txt").write_bytes(b"b" * 2**20)
    code, shown = in_terminal(
        "-b",
        httpwire_server.url("/post"),
        "note=hi",
        f"first@{tmp_path / 'a.bin'}",
        f"second@{tmp_path / 'b.txt'};type=text/plain",
    )
    assert code == 0, shown
    plain = _ESC.sub("", shown)
    assert "uploading a.bin, b.txt" in plain
    # The form's size: both files and the parts' heads, all of it counted as sent.
    drawn = re.findall(r"uploading a\.bin, b\.txt.*?([0-9.]+)/([0-9.]+) MiB", plain)
    assert drawn and drawn[-1] == ("3.0", "3.0"), plain


def test_an_upload_progress_line_without_rich(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    big = tmp_path / "up.bin"
    big.write_bytes(bytes(3 * 2**20))
    code, shown = in_terminal(
        "-b", httpwire_server.url("/upload-digest"), "--data", f"@{big}", command=WITHOUT_RICH
    )
    assert code == 0, shown
    assert "uploading up.bin" in shown
    assert "3.0 MiB of 3.0 MiB (100 %)" in shown
    assert json.loads(shown[shown.index("{") :])["bytes"] == 3 * 2**20


def test_plain_on_a_terminal_without_rich(httpwire_server: LocalServer, tmp_path: Path) -> None:
    code, shown = in_terminal(httpwire_server.url("/get"), command=WITHOUT_RICH)
    assert code == 0
    assert "\x1b[" not in shown
    assert "HTTP/1.1 200 OK\r\n" in shown
    assert re.search(r'^    "url": ', shown, re.MULTILINE)  # still formatted
    code, shown = in_terminal(
        "-d", httpwire_server.url(f"/bytes/{2**20}"), command=WITHOUT_RICH, cwd=tmp_path
    )
    assert code == 0
    assert "1.0 MiB of 1.0 MiB (100 %)" in shown


def test_asking_for_colours_without_rich_says_what_to_install(
    httpwire_server: LocalServer,
) -> None:
    result = httpwire("--pretty", "colors", httpwire_server.url("/get"), command=WITHOUT_RICH)
    assert result.returncode == 2
    assert "pip install 'httpwire-client[cli]'" in one_error_line(result)


def test_binary_bodies_are_not_shown_on_a_terminal(httpwire_server: LocalServer) -> None:
    code, shown = in_terminal(httpwire_server.url("/bytes/5000?seed=1"), command=WITHOUT_RICH)
    assert code == 0
    assert "NOTE: binary data not shown in terminal" in shown


def test_the_library_never_imports_the_command_or_rich() -> None:
    probe = (
        "import sys, httpwire.client; "
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith(('rich.', "
        "'httpwire.client._cli'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=_env()
    )
    assert result.stdout.strip() == "[]"
