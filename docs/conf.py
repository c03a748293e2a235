"""Sphinx configuration for the httpwire documentation.

The build must pass with every warning an error and without network access: intersphinx
reads the inventories vendored in ``_inventories/`` (``_inventories/refresh.py`` downloads
them again), and links still point at each project's published documentation.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "httpwire"
author = "The httpwire authors"
copyright = "2026, The httpwire authors"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "myst_parser",
    "httpwire_docs",
]

# The package CHANGES.md files are Markdown; every page of our own is reStructuredText.
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
exclude_patterns = ["_build", "_inventories", "_ext", "README.md"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_class_signature = "mixed"
autodoc_preserve_defaults = True
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    # Inherited members are part of a class's API (a payload's content_type, an error's
    # attributes), except what builtins, the standard library and typing add.
    "inherited-members": (
        "BaseException, Exception, OSError, TimeoutError, ValueError, RuntimeError, EOFError,"
        " IncompleteReadError, tuple, object, Protocol, Generic, dict, Coroutine"
    ),
}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# "Attributes:" sections become fields, so autodoc's own entries for them are not duplicates.
napoleon_use_ivar = True

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", (str(HERE / "_inventories" / "python.inv"), None)),
    "multidict": (
        "https://multidict.aio-libs.org/en/stable",
        (str(HERE / "_inventories" / "multidict.inv"), None),
    ),
    "yarl": (
        "https://yarl.aio-libs.org/en/stable",
        (str(HERE / "_inventories" / "yarl.inv"), None),
    ),
}
intersphinx_timeout = 10

html_theme = "furo"
html_title = "httpwire"
html_static_path = ["_static"]
html_css_files = ["httpwire.css"]
pygments_style = "friendly"
pygments_dark_style = "monokai"
