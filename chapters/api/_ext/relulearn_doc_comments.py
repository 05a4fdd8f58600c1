"""Sphinx extension of the book: the doc comments of relulearn's constants.

The API pages document every public name as ``relulearn.NAME``. For a function or a
class autodoc reads the docstring, wherever the object is defined. A constant has no
docstring: its documentation is the ``#:`` comment above its assignment, in the module
that defines it (``PHI0`` in relulearn/moments.py, ``relu`` in relulearn/activations.py,
...), but autodoc looks for that comment in the module named in the directive
(relulearn/__init__.py), finds none, and falls back to the docstring of the value's type
("Convert a string or number to a floating point number", or the docstring of
:class:`~relulearn.Activation` for ``relu``). This hook gives ``relulearn.NAME`` the
``#:`` comment of the submodule that defines NAME, for the entries (``autodata``) and
for the summary tables (``autosummary``) alike.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from sphinx.pycode import ModuleAnalyzer

PACKAGE = "relulearn"


@cache
def _cached_doc_comments() -> dict[str, list[str]]:
    return doc_comments()


def doc_comments(package: str = PACKAGE) -> dict[str, list[str]]:
    """NAME -> the lines of the ``#:`` comment of the module-level NAME, per submodule.

    A name with a doc comment in two submodules is left out (it would be ambiguous).
    """
    found: dict[str, list[list[str]]] = {}
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        analyzer = ModuleAnalyzer.for_module(f"{package}.{info.name}")
        analyzer.analyze()
        for (scope, name), lines in analyzer.attr_docs.items():
            if scope == "":
                found.setdefault(name, []).append(list(lines))
    return {name: docs[0] for name, docs in found.items() if len(docs) == 1}


def _give_doc_comment(app, what, name, obj, options, lines) -> None:
    module, _, attr = name.rpartition(".")
    if what == "data" and module == PACKAGE:
        docs = _cached_doc_comments()
        if attr in docs:
            lines[:] = docs[attr]


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", _give_doc_comment)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
