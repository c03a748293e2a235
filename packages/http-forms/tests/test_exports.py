"""Every public name is exported once, documented, and importable alone."""

from __future__ import annotations

import inspect
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
