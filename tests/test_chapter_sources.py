"""Each chapter has a text source (MyST Markdown in chapters/text/) that agrees with its executed notebook.

Chapters are edited as text and reviewed as text; the notebook carries the outputs. A
pair that disagrees (a notebook edited without its text, or a text not synced into the
notebook) fails here.
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
    return [
        (c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", [])))
        for c in nb.cells
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_text_source_agrees_with_notebook(notebook):
    nb = nbformat.read(notebook, as_version=4)
    text = jupytext.read(TEXT / f"{notebook.stem}.md")
    assert nb.metadata.get("jupytext", {}).get("formats") == FORMATS, (
        "notebook is not paired with its text"
    )
    got, want = _cells(nb), _cells(text)
    assert len(got) == len(want), (
        f"{len(got)} cells in the notebook, {len(want)} in its text source"
    )
    for i, (a, b) in enumerate(zip(got, want)):
        assert a == b, (
            f"cell {i} differs between {notebook.name} and text/{notebook.stem}.md:\n{a}\n---\n{b}"
        )


# The shape every chapter keeps (ARCHITECTURE, "Notebooks"): its main result stated as a
# theorem with a proof (or a proof sketch labelled as such) - chapter 8, which is
# empirical, states observations instead - at least three exercises each with a
# solution, and plotting code folded behind `hide-input`.
TEXTS = sorted(TEXT.glob("0*.md"))


def _directives(text: str, name: str) -> list[str]:
    """Bodies of the ```{name} ...``` blocks of a MyST text (fences of three or more backticks)."""
    import re

    pattern = re.compile(
        r"^(`{3,})\{" + re.escape(name) + r"\}[^\n]*\n(.*?)^\1\s*$",
        re.DOTALL | re.MULTILINE,
    )
    return [m.group(2) for m in pattern.finditer(text)]


@pytest.mark.parametrize("source", TEXTS, ids=lambda p: p.stem)
def test_chapter_states_its_result_and_has_exercises(source):
    text = source.read_text()
    if source.stem.startswith("08"):
        assert _directives(text, "prf:observation"), (
            "chapter 8 states its findings as prf:observation blocks"
        )
    else:
        assert _directives(text, "prf:theorem"), "no prf:theorem"
        assert _directives(text, "prf:proof"), (
            "a theorem needs a proof or a labelled proof sketch"
        )
    exercises = _directives(text, "exercise")
    solutions = _directives(text, "solution")
    assert len(exercises) >= 3, f"{len(exercises)} exercises, want at least 3"
    assert len(solutions) >= len(exercises), "every exercise needs a solution"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_plotting_cells_are_folded(notebook):
    nb = nbformat.read(notebook, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (
            "plt.subplots" in cell.source or "plt.figure" in cell.source
        ):
            assert "hide-input" in cell.metadata.get("tags", []), (
                f"cell {i} plots but is not tagged hide-input"
            )
