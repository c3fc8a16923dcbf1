"""Sphinx configuration for the numbarnn documentation."""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import numbarnn  # noqa: E402

project = "numbarnn"
author = "numbarnn developers"
copyright = "numbarnn developers"
version = numbarnn.__version__
release = numbarnn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "numpydoc",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False,
                           "show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
nitpicky = False

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_static_path = []

doctest_global_setup = """
import numpy as np
import numbarnn as nr
"""

import doctest  # noqa: E402

# Sequential.summary() pads its columns with trailing spaces and separates its rows
# with lines of spaces, as tf-keras's.
doctest_default_flags = (doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL
                         | doctest.DONT_ACCEPT_TRUE_FOR_1 | doctest.NORMALIZE_WHITESPACE)


def _public_bases(app, name, obj, options, bases):
    """Show the public parents of a private base class (``_Seeded`` -> ``Initializer``)."""
    out = []
    for base in bases:
        while base.__name__.startswith("_") and base.__bases__ and base is not object:
            base = base.__bases__[0]
        if base not in out:
            out.append(base)
    bases[:] = out


def setup(app):
    app.connect("autodoc-process-bases", _public_bases)
