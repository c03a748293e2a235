"""Check the built HTML: every public name has its entry, and no page shows an error.

Run by the docs session after the build: ``python docs/check_build.py docs/_build/html``.

- A name of a package's ``__all__`` must appear in ``objects.inv`` under the package that
  defines it (``httpwire.client`` re-exports names of the packages below it).
- No type field of the API reference may hold a sentence (napoleon's reading of a colon).
- No page may show inline markup as it was typed (nested markup is shown raw).
- No page may contain a docutils system message or a theme's error box: some of these are
  rendered into the page without a warning, so ``-W`` alone does not catch them.
"""

from __future__ import annotations

import importlib
import re
import sys
import zlib
from html import unescape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

from httpwire_docs import PACKAGES, home_of, is_prose


def check_pages(html: Path) -> list[str]:
    """Pages that show an error to the reader, with what they show."""
    shown: list[str] = []
    for page in sorted(html.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for marker in ('class="system-message"', "ERROR: ", "WARNING: "):
            if marker in text:
                shown.append(f"{page.relative_to(html)}: contains {marker!r}")
        # reStructuredText does not nest inline markup: "**``x`` y**" shows its backquotes.
        prose = _CODE.sub("", text)
        if "``" in prose:
            at = prose.index("``")
            excerpt = prose[max(0, at - 40) : at + 40]
            shown.append(f"{page.relative_to(html)}: raw markup {excerpt!r}")
    return shown


# Where double backquotes may appear as they are: code blocks, and the page's source.
_CODE = re.compile(r"<pre.*?</pre>|<script.*?</script>|<textarea.*?</textarea>", re.S)


_TYPE_FIELD = re.compile(
    r'<dt class="field-\w+">(?P<field>Type|Return type)<.*?</dt>\s*<dd class="field-\w+"><p>'
    r"(?P<text>.*?)</p>",
    re.S,
)


def check_types(html: Path) -> list[str]:
    """Type fields of the API reference that hold a sentence rather than a type.

    napoleon takes the text before a first colon for a type (``Returns: The events, in
    order: ...``); the extension gives such text back to the description, and this check
    catches any form it missed.
    """
    found: list[str] = []
    for page in sorted((html / "api").glob("*.html")):
        for match in _TYPE_FIELD.finditer(page.read_text(encoding="utf-8")):
            text = unescape(re.sub(r"<[^>]+>", "", match["text"])).strip()
            if is_prose(text):
                found.append(f"{page.relative_to(html)}: {match['field']} {text[:80]!r}")
    return found


def python_objects(inventory_path: Path) -> set[str]:
    """The names of the Python objects in an inventory (format version 2).

    Read directly, rather than through Sphinx's loader, whose signature changes between
    releases: four comment lines, then zlib-compressed ``name domain:role priority uri
    dispname`` lines.
    """
    data = inventory_path.read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = data.index(b"\n", header_end) + 1
    if not data.startswith(b"# Sphinx inventory version 2"):
        raise ValueError(f"{inventory_path} is not a version 2 Sphinx inventory")
    names: set[str] = set()
    for line in zlib.decompress(data[header_end:]).decode("utf-8").splitlines():
        match = _ENTRY.match(line)
        if match and match["domain"] == "py":
            names.add(match["name"])
    return names


_ENTRY = re.compile(r"(?P<name>.+?)\s+(?P<domain>[^\s:]+):(?P<role>\S+)\s+-?\d+\s+\S*\s+.*")


def check_names(inventory_path: Path) -> tuple[int, list[str]]:
    """Compare each package's ``__all__`` with the Python objects of the inventory."""
    documented = python_objects(inventory_path)
    missing: list[str] = []
    count = 0
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            if name.startswith("__"):
                continue  # __version__: shown on the page, not an object to describe
            count += 1
            full = f"{home_of(module, name)}.{name}"
            if full not in documented:
                missing.append(f"{package}.{name} (expected as {full})")
    return count, missing


def main(html: Path) -> int:
    """Run both checks; print what failed and return 1, or 0."""
    count, missing = check_names(html / "objects.inv")
    broken = check_pages(html)
    prose = check_types(html)
    for title, problems in (
        ("public names without an entry in the API reference:", missing),
        ("pages showing an error:", broken),
        ("type fields holding a sentence (napoleon split it at a colon):", prose),
    ):
        if problems:
            print(title, file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
    if missing or broken or prose:
        return 1
    print(f"API reference: all {count} public names of {len(PACKAGES)} packages documented")
    print("no page shows an error or a system message; no type field holds a sentence")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
