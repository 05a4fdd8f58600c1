"""Each chapter has a text source (MyST Markdown in chapters/text/) that agrees with its executed notebook.

Chapters are edited as text and reviewed as text; the notebook carries the outputs. A pair that
disagrees (a notebook edited without its text, or a text not synced into the notebook) fails here.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
TEXT = CHAPTERS / "text"
NOTEBOOKS = sorted(CHAPTERS.glob("*.ipynb"))
FORMATS = "ipynb,text//md:myst"


def test_every_notebook_has_a_text_source_and_back():
    assert NOTEBOOKS, "no chapters found"
    assert {p.stem for p in NOTEBOOKS} == {p.stem for p in TEXT.glob("*.md")}


def _cells(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_text_source_agrees_with_notebook(notebook):
    nb = nbformat.read(notebook, as_version=4)
    text = jupytext.read(TEXT / f"{notebook.stem}.md")
    assert nb.metadata.get("jupytext", {}).get("formats") == FORMATS, "notebook is not paired with its text"
    got, want = _cells(nb), _cells(text)
    assert len(got) == len(want), f"{len(got)} cells in the notebook, {len(want)} in its text source"
    for i, (a, b) in enumerate(zip(got, want)):
        assert a == b, f"cell {i} differs between {notebook.name} and text/{notebook.stem}.md:\n{a}\n---\n{b}"
