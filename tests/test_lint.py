"""ruff is clean on the package, the tests, the benchmarks, the scripts and the chapters.

The settings are in pyproject.toml: line length 88 (what a code cell of the book shows at
a 1280-pixel-wide window), with E501 enforced on the package (its docstrings are the API
reference) and on the chapters' code (ruff reads the notebooks, whose code cells are
their text sources' code cells: tests/test_chapter_sources.py checks that they agree).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")
PATHS = ["relulearn", "tests", "bench", "scripts", "conftest.py", "chapters"]


def test_ruff_check_is_clean():
    proc = subprocess.run(
        [str(RUFF), "check", "--no-cache", *PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_the_chapters_are_linted_with_the_line_length_of_the_book():
    # the rule the book's width depends on is really active on the chapters
    proc = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--show-settings", "chapters/01_problem.ipynb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    settings = proc.stdout
    assert "line-too-long (E501)" in settings and "line_length = 88" in settings
    assert "ipynb" in settings  # notebooks are included
