"""The book builds without warnings, and its math renders with no network.

The build runs ``jupyter-book build . -W -n --keep-going`` into a temporary folder. Where Chromium is
installed, every chapter page is loaded headless with all host names unresolvable (so nothing can be
fetched from the network) and must contain MathJax output (``mjx-container``). Independently of
Chromium, no page may reference a script or stylesheet on another host.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = (
    shutil.which("chromium")
    or shutil.which("chromium-browser")
    or shutil.which("google-chrome")
)


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for entry in toc.get("chapters", []):
        files.append(entry["file"])
    return files


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
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
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    log = proc.stdout + proc.stderr
    warnings = [
        line for line in log.splitlines() if "WARNING" in line or "ERROR" in line
    ]
    assert proc.returncode == 0 and not warnings, (
        "book build failed or warned:\n" + "\n".join(warnings or [log[-3000:]])
    )
    return out / "_build" / "html"


def test_every_toc_page_is_built(built_site):
    for name in _toc_files():
        assert (built_site / f"{name}.html").is_file(), f"{name}.html missing"


def test_no_page_loads_anything_from_the_network(built_site):
    remote = re.compile(
        r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"(?:https?:)?//[^\"]*\"", re.I
    )
    offenders = {}
    for page in built_site.rglob("*.html"):
        for tag in remote.findall(page.read_text(errors="replace")):
            if (
                tag.lower().startswith("<link")
                and 'rel="stylesheet"' not in tag
                and "preload" not in tag
            ):
                continue  # plain hyperlinks in <link rel=...> metadata are not loads
            offenders.setdefault(str(page.relative_to(built_site)), []).append(
                tag[:120]
            )
    assert not offenders, f"pages load remote resources: {offenders}"
    assert (built_site / "_static" / "mathjax" / "tex-chtml.js").is_file(), (
        "MathJax is not served from the site"
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)"
)
def test_math_renders_offline_in_headless_chromium(built_site, tmp_path):
    pages = [name for name in _toc_files() if Path(name).name not in ("references",)]
    for name in pages:
        url = (built_site / f"{name}.html").as_uri()
        cmd = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ]
        dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
        assert "mjx-container" in dom, (
            f"{name}: no rendered math (MathJax did not run offline)"
        )
