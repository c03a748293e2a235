"""``import httpwire.client`` leaves out what only some requests need.

Each module listed here is imported by the function that needs it (saving cookies, reading
a netrc file, a cookie's ``Expires`` date, an HTTP-date ``Retry-After``, a digest nonce, a
multipart boundary, guessing a file's type, guessing a charset, checking a certificate pin),
on first use of a public name that only some applications use (``DigestAuth``,
``RateLimiter``, the payloads, ``FormData``, ``MultipartWriter``, ``MultipartReader``,
``Timings``, ``TraceEvent``, which the first snapshot of a request's timings imports,
``ProgressEvents``), by
the first body that is neither ``bytes`` nor ``json=`` (the payloads), by the first session
(brotli and zstandard, probed for ``Accept-Encoding``, which lists a coding only when its
library can decode it), or only by the command line.
The check runs in a fresh interpreter, since this test process has imported most of them.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest

LAZY = (
    "brotli",
    "calendar",
    "chardet",
    "datetime",
    "email.utils",
    "hashlib",
    "httpwire.client._digest",
    "httpwire.client._progress_events",
    "httpwire.client._ratelimit",
    "httpwire.client._snapshots",
    "httpwire.forms._factory",
    "httpwire.forms._files",
    "httpwire.forms._formdata",
    "httpwire.forms._parser",
    "httpwire.forms._payloads",
    "httpwire.forms._reader",
    "httpwire.forms._streaming",
    "httpwire.forms._writer",
    "mimetypes",
    "netrc",
    "quopri",
    "rich",
    "secrets",
    "tempfile",
    "zstandard",
)


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(result.stdout))


def test_import_leaves_out_optional_modules() -> None:
    loaded = _modules_after("import httpwire.client")
    assert "httpwire.client" in loaded
    assert sorted(loaded.intersection(LAZY)) == []


def test_lazy_modules_still_load_on_use(tmp_path: Path) -> None:
    # Using a feature loads the module it needs: the check above names real imports.
    target = tmp_path / "cookies.json"
    loaded = _modules_after(
        "from httpwire.client import CookieJar\n"
        f"CookieJar().save({str(target)!r})\n"
        "from httpwire.forms import MultipartWriter\n"
        "MultipartWriter()"
    )
    assert target.exists()
    assert {"tempfile", "secrets"} <= loaded


def test_dates_load_their_modules_on_use() -> None:
    loaded = _modules_after(
        "from httpwire.client._cookies import parse_cookie_date\n"
        "assert parse_cookie_date('Wed, 21 Oct 2015 07:28:00 GMT') == 1445412480.0\n"
    )
    assert "calendar" in loaded


@pytest.mark.parametrize("package", ["httpwire.client", "httpwire.forms"])
def test_every_public_name_resolves_in_a_fresh_interpreter(package: str) -> None:
    # Names imported on first access still come from the package, are listed by dir(),
    # and "import *" binds every name of __all__.
    code = (
        "import json, sys\n"
        f"import {package} as package\n"
        "missing = [n for n in package.__all__ if n not in dir(package)]\n"
        f"namespace = {{}}\nexec('from {package} import *', namespace)\n"
        "unbound = [n for n in package.__all__ if n not in namespace]\n"
        "print(json.dumps([missing, unbound, sorted(sys.modules)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    missing, unbound, loaded = json.loads(result.stdout)
    assert missing == []
    assert unbound == []
    assert "httpwire.forms._reader" in loaded  # the star import loaded the lazy names


def test_lazy_names_are_the_defining_modules_objects() -> None:
    import httpwire.client as client
    import httpwire.forms as forms
    from httpwire.client._digest import DigestAuth, DigestBodyError
    from httpwire.client._progress_events import ProgressEvent, ProgressEvents
    from httpwire.client._ratelimit import RateLimiter
    from httpwire.client._snapshots import Timings, TraceEvent
    from httpwire.forms._parser import END_OF_MULTIPART, END_OF_PART, MultipartParser, PartHead
    from httpwire.forms._reader import BodyPartReader, ByteSource, MultipartReader

    assert client.DigestAuth is DigestAuth
    assert client.DigestBodyError is DigestBodyError
    assert client.RateLimiter is RateLimiter
    assert (client.Timings, client.TraceEvent) == (Timings, TraceEvent)
    assert (client.ProgressEvent, client.ProgressEvents) == (ProgressEvent, ProgressEvents)
    assert client.MultipartReader is forms.MultipartReader is MultipartReader
    assert (forms.BodyPartReader, forms.ByteSource) == (BodyPartReader, ByteSource)
    assert (forms.MultipartParser, forms.PartHead) == (MultipartParser, PartHead)
    assert (forms.END_OF_PART, forms.END_OF_MULTIPART) == (END_OF_PART, END_OF_MULTIPART)
    with pytest.raises(AttributeError, match="has no attribute 'NotAName'"):
        typing.cast(typing.Any, client).NotAName  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'NotAName'"):
        typing.cast(typing.Any, forms).NotAName  # noqa: B018


def test_digest_auth_loads_its_module_on_use() -> None:
    loaded = _modules_after(
        "from httpwire.client import DigestAuth\nDigestAuth('user', 'secret')\n"
    )
    assert {"httpwire.client._digest", "hashlib"} <= loaded


def test_the_first_session_headers_probe_the_optional_decoders() -> None:
    loaded = _modules_after(
        "from httpwire.client._headers import session_headers\n"
        "assert 'gzip' in session_headers(None, None)['Accept-Encoding']\n"
    )
    for name in ("brotli", "zstandard"):
        assert (name in loaded) == (importlib.util.find_spec(name) is not None)


def test_only_a_form_or_stream_body_loads_the_payloads() -> None:
    # bytes and json= bodies are sent without the payloads; a form (or str) body loads them.
    code = (
        "import json\nfrom httpwire.client._bodies import make_body\n"
        "assert make_body(b'x', None, json.dumps, None)[1] == 'application/octet-stream'\n"
        "assert make_body(None, {'a': 1}, json.dumps, None)[0] == b'{\"a\": 1}'\n"
    )
    assert sorted(_modules_after(code).intersection(LAZY)) == []
    loaded = _modules_after(
        code + "assert make_body({'a': '1'}, None, json.dumps, None)[0].size == 3\n"
    )
    assert {"httpwire.forms._factory", "httpwire.forms._formdata"} <= loaded


def test_a_timings_snapshot_loads_the_snapshot_types() -> None:
    loaded = _modules_after(
        "from httpwire.client._tracing import TimingsRecorder\n"
        "assert TimingsRecorder(1.0).snapshot().start == 1.0\n"
    )
    assert "httpwire.client._snapshots" in loaded
