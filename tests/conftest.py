"""Fixtures shared by the tests of the built book (test_book.py, test_api_reference.py).

The book is built once per test session, with ``jupyter-book build . -W -n --keep-going``
into a temporary folder; a warning or an error fails every test that uses the build.
``RELULEARN_BOOK_HTML=/path/to/_build/html`` uses an existing build instead (to check a
build made by hand without building again); it is not set in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    existing = os.environ.get("RELULEARN_BOOK_HTML")
    if existing:
        html = Path(existing)
        assert (html / "index.html").is_file(), f"no built book at {html}"
        return html
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(jb),
        "build",
        str(ROOT),
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(out),
    ]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    log = proc.stdout + proc.stderr
    warnings = [
        line for line in log.splitlines() if "WARNING" in line or "ERROR" in line
    ]
    assert proc.returncode == 0 and not warnings, (
        "book build failed or warned:\n" + "\n".join(warnings or [log[-3000:]])
    )
    return out / "_build" / "html"
