"""Sphinx configuration for the httpwire documentation."""

from __future__ import annotations

project = "httpwire"
author = "The httpwire authors"
copyright = "2026, The httpwire authors"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# "Attributes:" sections become fields, so autodoc's own entries for them are not duplicates.
napoleon_use_ivar = True
html_theme = "alabaster"
exclude_patterns = ["_build"]
