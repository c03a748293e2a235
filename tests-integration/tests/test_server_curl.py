"""Our server driven by curl, a client with its own HTTP/1.1 parser (skipped where curl is absent).

curl's exit codes name what it saw: 18 a body cut short, 28 a timeout, 56 a
receive failure (reset, bad chunked framing).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from httpwire_testserver import LocalServer

CURL = shutil.which("curl")
pytestmark = pytest.mark.skipif(CURL is None, reason="curl is not installed")


def curl(*args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[bytes]:
    assert CURL is not None
    return subprocess.run(
        [CURL, "--silent", "--show-error", "--noproxy", "*", "--max-time", "5", *args],
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def test_get(httpwire_server: LocalServer) -> None:
    done = curl(httpwire_server.url("/get?x=1"), "-H", "X-Curl: yes")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["args"] == {"x": "1"}
    assert data["headers"]["X-Curl"] == "yes"
    assert data["headers"]["User-Agent"].startswith("curl/")


def test_post_form_and_file(httpwire_server: LocalServer) -> None:
    done = subprocess.run(
        [str(CURL), "-sS", "--noproxy", "*", httpwire_server.url("/post"),
         "-F", "name=value", "-F", "file=@-;filename=f.txt;type=text/plain"],
        input=b"file content", capture_output=True, timeout=10, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["form"] == {"name": "value"}
    assert data["files"] == {"file": "file content"}


def test_chunked_upload(httpwire_server: LocalServer) -> None:
    done = subprocess.run(
        [str(CURL), "-sS", "--noproxy", "*", "-T", "-", "-H", "Transfer-Encoding: chunked",
         httpwire_server.url("/upload-digest")],
        input=b"z" * 300_000, capture_output=True, timeout=10, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["bytes"] == 300_000
    assert data["chunked"] is True
    assert data["method"] == "PUT"


def test_https_with_the_ca(httpwire_server: LocalServer) -> None:
    done = curl("--cacert", str(httpwire_server.ca_pem), httpwire_server.https_url + "/get")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"] == httpwire_server.https_url + "/get"


def test_https_without_the_ca_fails_verification(httpwire_server: LocalServer) -> None:
    done = curl(httpwire_server.https_url + "/get")

    assert done.returncode == 60, done.stderr  # peer certificate cannot be authenticated


def test_unix_socket(httpwire_server: LocalServer) -> None:
    done = curl("--unix-socket", httpwire_server.unix_path, "http://localhost/connection-id")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["transport"] == "unix"


def test_gzip_decoded_by_curl(httpwire_server: LocalServer) -> None:
    done = curl("--compressed", httpwire_server.url("/gzip"))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["gzipped"] is True


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/fault/close-before-response", 52, b"Empty reply from server"),
        ("/fault/close-mid-headers?at=status", 52, b"Empty reply from server"),
        ("/fault/close-mid-body", 18, b"transfer closed with 900 bytes remaining to read"),
        ("/fault/close-mid-chunked", 18, b"transfer closed with outstanding read data remaining"),
        ("/fault/reset", 56, b"Connection reset by peer"),
        ("/fault/bad-chunk-size", 56, b"chunked"),
    ],
)
def test_faults(httpwire_server: LocalServer, path: str, code: int, message: bytes) -> None:
    done = curl("-o", "/dev/null", httpwire_server.url(path))

    assert done.returncode == code, done.stderr
    assert message in done.stderr


def test_huge_header_exceeds_curls_limit(httpwire_server: LocalServer) -> None:
    done = curl("-o", "/dev/null", httpwire_server.url("/fault/huge-header?size=300000"))

    # curl caps a response head at 100 KiB: CURLE_OUT_OF_MEMORY (27) before curl 8.6,
    # CURLE_TOO_LARGE (100) since.
    assert done.returncode in (27, 100), done.stderr


def test_stall_times_out(httpwire_server: LocalServer) -> None:
    done = curl("--max-time", "0.5", httpwire_server.url("/fault/stall"))

    assert done.returncode == 28, done.stderr
