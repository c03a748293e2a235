"""Every public name is exported once, documented, and importable alone."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import httpwire.forms


def _public_members(obj: type) -> list[str]:
    return [
        name
        for name, member in vars(obj).items()
        if not name.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, property))
    ]


def test_every_public_name_and_method_has_a_docstring() -> None:
    missing = []
    for name in httpwire.forms.__all__:
        obj = getattr(httpwire.forms, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not (obj.__doc__ or "").strip():
                missing.append(name)
            if inspect.isclass(obj):
                for member in _public_members(obj):
                    if not (getattr(obj, member).__doc__ or "").strip():
                        missing.append(f"{name}.{member}")
    assert missing == []


def test_all_is_unique() -> None:
    names = httpwire.forms.__all__
    assert len(names) == len(set(names))


def test_each_module_imports_alone() -> None:
    modules = [
        "_delimiters",
        "_errors",
        "_factory",
        "_files",
        "_formdata",
        "_headers",
        "_parser",
        "_payloads",
        "_reader",
        "_streaming",
        "_values",
        "_writer",
    ]
    # A fresh interpreter per module (a circular import only shows on its own), all at once.
    runs = [
        subprocess.Popen([sys.executable, "-c", f"import httpwire.forms.{module}"])
        for module in modules
    ]
    assert [run.wait(timeout=60) for run in runs] == [0] * len(modules)


def test_no_sibling_but_streams_is_imported() -> None:
    code = (
        "import sys, httpwire.forms\n"
        "bad = [m for m in sys.modules if m.startswith(('httpwire.parser', "
        "'httpwire.connectors', 'httpwire.client'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_import_loads_only_the_errors_and_the_header_helpers() -> None:
    # Every other public name comes from its module on first use (PEP 562): a client that
    # sends no form, file or stream body never loads the payloads, writer or reader.
    code = (
        "import json, sys\n"
        "import httpwire.forms as forms\n"
        "before = sorted(m for m in sys.modules if m.startswith('httpwire.forms'))\n"
        "missing = [n for n in forms.__all__ if n not in dir(forms)]\n"
        "namespace = {}\n"
        "exec('from httpwire.forms import *', namespace)\n"
        "unbound = [n for n in forms.__all__ if n not in namespace]\n"
        "from httpwire.forms._formdata import FormData\n"
        "print(json.dumps([before, missing, unbound, forms.FormData is FormData]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    before, missing, unbound, same = json.loads(result.stdout)
    assert before == [
        "httpwire.forms",
        "httpwire.forms._errors",
        "httpwire.forms._headers",
        "httpwire.forms._version",
    ]
    assert (missing, unbound, same) == ([], [], True)
