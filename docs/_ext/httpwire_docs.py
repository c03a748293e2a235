"""The Sphinx extension of the httpwire documentation: one directive for each package's API.

``.. httpwire-api:: httpwire.client`` documents every name of the module's ``__all__`` that
the module itself defines, and lists the names it re-exports from a lower package with a link
to where they are documented. Each object is so described once, under the package that
defines it, and every public name of every package still has its place in the reference.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

__all__ = ["PACKAGES", "attribute_doc", "home_of", "is_prose", "restore_prose_types", "setup"]

#: The packages, lowest layer first: a name's home is the lowest one exporting it.
PACKAGES = (
    "httpwire.parser",
    "httpwire.streams",
    "httpwire.connectors",
    "httpwire.forms",
    "httpwire.client",
)


def home_of(module: ModuleType, name: str) -> str:
    """The package that defines ``module.name``: the lowest one exporting the same object."""
    obj = getattr(module, name)
    for package in PACKAGES:
        if package == module.__name__:
            break
        other = importlib.import_module(package)
        if name in getattr(other, "__all__", ()) and getattr(other, name) is obj:
            return package
    return module.__name__


def attribute_doc(package: ModuleType, name: str) -> list[str]:
    """The doc comment or string of a constant or alias, from the private module defining it.

    autodoc reads such documentation only in the module it documents, and a package's
    ``__init__`` only imports these names, so the defining module is looked up here.
    """
    obj = getattr(package, name)
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        if module.__dict__.get(name, _MISSING) is not obj:
            continue
        docs = ModuleAnalyzer.for_module(info.name).find_attr_docs()
        if ("", name) in docs:
            return list(docs["", name])
    return []


_MISSING = object()


class PackageAPI(SphinxDirective):
    """``.. httpwire-api:: MODULE``: the module's own names by kind, then its re-exports.

    The directive's content may list names to show first, in that order (the names a user
    meets first); the others follow in the order of ``__all__``.
    """

    required_arguments = 1
    has_content = True

    def run(self) -> list[nodes.Node]:
        modname = self.arguments[0]
        module = importlib.import_module(modname)
        first = [line.strip() for line in self.content if line.strip()]
        public = [n for n in module.__all__ if not n.startswith("__")]
        public.sort(key=lambda n: first.index(n) if n in first else len(first))
        reexported: dict[str, list[str]] = {}
        groups: dict[str, list[str]] = {"Classes": [], "Functions": [], "Errors": [], "data": []}
        for name in public:
            obj = getattr(module, name)
            home = home_of(module, name)
            if home != modname:
                reexported.setdefault(home, []).append(name)
            elif inspect.isclass(obj) and issubclass(obj, BaseException):
                groups["Errors"].append(name)
            elif inspect.isclass(obj):
                groups["Classes"].append(name)
            elif callable(obj):
                groups["Functions"].append(name)
            else:
                groups["data"].append(name)
        # The module's docstring only: each name gets its own directive below, in order.
        lines = [f".. automodule:: {modname}", f"   :exclude-members: {', '.join(public)}", ""]
        directive = {
            "Classes": "autoclass",
            "Functions": "autofunction",
            "Errors": "autoexception",
        }
        for title, kind in directive.items():
            if groups[title]:
                lines += [title, "-" * len(title), ""]
                for name in groups[title]:
                    lines += [f".. {kind}:: {modname}.{name}", ""]
        if groups["data"]:
            # Constants and type aliases: autodoc reads their documentation only in the module
            # that defines them, so it is looked up there and written out here.
            title = "Constants and type aliases"
            lines += [title, "-" * len(title), ""]
            for name in groups["data"]:
                value = repr(getattr(module, name))
                lines += [f".. py:data:: {name}", f"   :module: {modname}"]
                if len(value) <= 200 and "\n" not in value:
                    lines.append(f"   :value: {value}")
                lines.append("")
                lines += [f"   {line}" for line in attribute_doc(module, name)]
                lines.append("")
        if reexported:
            title = "Re-exported names"
            lines += [
                title,
                "-" * len(title),
                "",
                f"``{modname}`` also exports these names, documented where they are defined:",
                "",
            ]
            for home in PACKAGES:
                if home in reexported:
                    refs = ", ".join(f":py:obj:`~{home}.{n}`" for n in reexported[home])
                    lines += [f"- from :py:mod:`{home}`: {refs}", ""]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=modname), container)
        return list(container.children)


# A type as docstrings write one: names, dots, brackets, backquoted roles; spaces only after
# a comma or around "|". Anything else before the first colon is the start of a sentence.
_TYPE_SPACES = re.compile(r",\s+|\s*\|\s*")
_TYPE = re.compile(r"[\w.,\[\]()`~:!*'\"…-]+")


def is_prose(text: str) -> bool:
    """Whether napoleon's "type" is really the start of a sentence (``The head's bytes``).

    Args:
        text: What napoleon took for a type.

    Returns:
        True when it cannot be a type expression.
    """
    return _TYPE.fullmatch(_TYPE_SPACES.sub(",", text.strip())) is None


def restore_prose_types(lines: list[str]) -> None:
    """Give a sentence napoleon split at its first colon back to the description.

    napoleon reads ``Returns: text: more`` and a property's first line ``text: more`` as
    ``type: description`` (Google style's inline type), so ``The events completed by these
    bytes, in order: heads, ...`` rendered as a return type "The events completed by these
    bytes, in order". The docstrings mean a sentence: where the "type" is prose (see
    :func:`is_prose`), the ``:rtype:`` or ``:type:`` line napoleon wrote is removed and its
    text put back in front of the description, colon included. Real types stay.

    Args:
        lines: The docstring's lines after napoleon, changed in place.
    """
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        for field, target in ((":rtype: ", ":returns: "), (":type: ", None)):
            if not line.startswith(field) or not is_prose(line[len(field) :]):
                continue
            text = line[len(field) :].strip()
            if target is None:  # a property's or attribute's inline type: the first line
                first = next(n for n, body in enumerate(lines) if body.strip())
                lines[first] = f"{text}: {lines[first].lstrip()}"
            else:
                owner = max(n for n in range(index) if lines[n].startswith(target))
                rest = lines[owner][len(target) :]
                lines[owner] = f"{target}{text}: {rest}"
            del lines[index]
            break


# The names the class being documented describes in its "Attributes:" and "Args:" sections
# (napoleon's ``:ivar name:`` and ``:param name:`` fields): an attribute that keeps a
# constructor argument is described by it. autodoc reads a class's docstring before its
# members.
_described: set[str] = set()
_IVAR = re.compile(r"^:(?:ivar|param) (?:[^:]+ )?(?P<name>\w+):")


def _process_docstring(
    app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    restore_prose_types(lines)
    if what in ("class", "exception"):
        _described.clear()
        _described.update(m["name"] for line in lines if (m := _IVAR.match(line)))


def _skip_described(
    app: Sphinx, what: str, name: str, obj: object, skip: bool, options: object
) -> bool | None:
    """Skip a data attribute that its class's docstring already describes.

    Without this, ``undoc-members`` adds an empty entry under the class for each of them
    (a slot, a field), after the described list: the same name twice, once with nothing.
    """
    if what not in ("class", "exception") or name not in _described:
        return None
    # What autodoc passes for an attribute known from annotations or __slots__ only (a
    # sentinel object of its own, whose class changes between Sphinx releases), and the
    # descriptors of slots and NamedTuple fields: none of them carries documentation.
    kind = type(obj)
    if kind.__module__.startswith("sphinx.ext.autodoc"):
        return True
    if kind.__name__ in ("member_descriptor", "_tuplegetter", "getset_descriptor"):
        return True
    return None


def _home_target(target: str) -> str | None:
    """``httpwire.client.ClientProxyError`` -> ``httpwire.connectors.ClientProxyError``.

    A re-exported name is described once, under the package that defines it; a reference
    through a package that re-exports it is sent there. ``None`` for any other target.
    """
    package, _, rest = target.rpartition(".")
    name = rest
    if package not in PACKAGES:
        # A member (``httpwire.client.ClientProxyError.status``): move its class.
        package, _, name = package.rpartition(".")
        if package not in PACKAGES:
            return None
        rest = f"{name}.{rest}"
    module = importlib.import_module(package)
    if name not in getattr(module, "__all__", ()):
        return None
    home = home_of(module, name)
    return None if home == package else f"{home}.{rest}"


def _resolve_reexported(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target = _home_target(node.get("reftarget", ""))
    if target is None:
        return None
    domain = env.get_domain("py")
    builder = app.builder
    return domain.resolve_xref(
        env, node.get("refdoc", ""), builder, node["reftype"], target, node, contnode
    )


def _drop_object_base(
    app: Sphinx, name: str, obj: object, options: object, bases: list[type]
) -> None:
    """A class whose only base is ``object`` gets no "Bases:" line: it says nothing.

    autodoc writes the line whatever the list holds; emptied here, it is removed from the
    page by :func:`_drop_empty_bases`.
    """
    if bases == [object]:
        bases.clear()


def _drop_empty_bases(app: Sphinx, doctree: nodes.document) -> None:
    for paragraph in list(doctree.findall(nodes.paragraph)):
        if paragraph.astext().strip() == "Bases:" and paragraph.parent is not None:
            paragraph.parent.remove(paragraph)


def setup(app: Sphinx) -> dict[str, object]:
    """Register the directive, the fix of napoleon's prose "types" (after napoleon), and
    the resolution of references to re-exported names."""
    app.add_directive("httpwire-api", PackageAPI)
    app.connect("missing-reference", _resolve_reexported)
    app.connect("autodoc-process-bases", _drop_object_base)
    app.connect("autodoc-skip-member", _skip_described)
    app.connect("doctree-read", _drop_empty_bases)
    app.setup_extension("sphinx.ext.napoleon")
    app.connect("autodoc-process-docstring", _process_docstring, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
