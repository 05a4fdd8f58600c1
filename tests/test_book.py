"""The book builds without warnings, its math renders with no network, and its pages fit.

The build runs ``jupyter-book build . -W -n --keep-going`` into a temporary folder.
Where Chromium is installed, every page with math is loaded headless with all host
names unresolvable (so nothing can be fetched from the network) and must contain MathJax
output (``mjx-container``). Independently of Chromium, no page may reference a script or
stylesheet on another host.

Pages that fit: where Chromium and its driver (Debian's ``chromium-driver``,
``/usr/bin/chromedriver``) are installed, selenium opens every page of ``_toc.yml`` in
one headless browser with a 1280-px-wide viewport (``window.innerWidth == 1280``; the
vertical scroll bar takes 15 px of it), opens every folded block (hidden inputs,
solutions), waits for MathJax to finish typesetting and for the fonts, and checks that
nothing scrolls sideways: for every table container, table, ``pre``, cell output (and
every element inside one whose ``overflow-x`` is not ``visible``) and ``mjx-container``,
``scrollWidth <= clientWidth + 1``. The theme puts inline math in a ``span.math`` with
``display: inline-flex; overflow: hidden``, so a too-wide inline formula would be
clipped, not scrolled: an inline ``mjx-container`` must also lie (within 1 px) inside
that span and inside the content box of its nearest block-level ancestor.

The same check runs on an existing build without pytest::

    .venv/bin/python tests/test_book.py --overflow /tmp/jb_x/_build/html [PAGE ...]

which prints one line per offending element (page, kind, text excerpt,
scrollWidth/clientWidth) and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = (
    shutil.which("chromium")
    or shutil.which("chromium-browser")
    or shutil.which("google-chrome")
)
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if os.access("/usr/bin/chromedriver", os.X_OK) else None
)
VIEWPORT_WIDTH = 1280
VIEWPORT_HEIGHT = 900
# The flags of the offline math check: no network, no first-run or background traffic.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
_SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")


def _toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every page of the table of contents, in order, without file extension.

    Handles both ``chapters:`` and ``parts: - chapters:`` layouts, nested
    ``sections:``, and ``glob:`` entries; ``url:`` entries are not pages of the book.
    """
    toc = yaml.safe_load(toc_path.read_text())
    files: list[str] = []

    def add(name: str) -> None:
        name = str(name)
        for suffix in _SOURCE_SUFFIXES:
            name = name.removesuffix(suffix)
        if name not in files:
            files.append(name)

    def walk(entries) -> None:
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            if "file" in entry:
                add(entry["file"])
            if "glob" in entry:
                base = toc_path.parent
                for suffix in _SOURCE_SUFFIXES:
                    for match in sorted(base.glob(entry["glob"] + suffix)):
                        add(match.relative_to(base).as_posix())
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    add(toc["root"])
    walk([toc])
    return files


# the fixture ``built_site`` (the book built once per session) is in tests/conftest.py


def test_toc_parser_handles_parts_and_sections(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: Book\n    chapters:\n      - file: a.md\n"
        "      - file: b\n        sections:\n          - file: b/c.ipynb\n"
        "  - caption: API\n    chapters:\n      - file: api/index\n"
        "        sections:\n          - file: api/relulearn.comparison\n"
        "      - url: https://example.org\n        title: elsewhere\n"
    )
    assert _toc_files(toc) == [
        "intro",
        "a",
        "b",
        "b/c",
        "api/index",
        "api/relulearn.comparison",
    ]


def test_every_toc_page_is_built(built_site):
    for name in _toc_files():
        assert (built_site / f"{name}.html").is_file(), f"{name}.html missing"


def test_no_page_loads_anything_from_the_network(built_site):
    remote = re.compile(
        r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"(?:https?:)?//[^\"]*\"",
        re.IGNORECASE,
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


def _has_math(page: Path) -> bool:
    return bool(re.search(r'class="math notranslate', page.read_text(errors="replace")))


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)"
)
def test_math_renders_offline_in_headless_chromium(built_site, tmp_path):
    pages = [name for name in _toc_files() if _has_math(built_site / f"{name}.html")]
    assert pages, "no page of the book has math"
    for name in pages:
        url = (built_site / f"{name}.html").as_uri()
        cmd = [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ]
        dom = subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=120
        ).stdout
        assert "mjx-container" in dom, (
            f"{name}: no rendered math (MathJax did not run offline)"
        )


# --- pages that fit ------------------------------------------------------------------

# Runs in the page (selenium's execute_async_script): unfold, wait, measure.
_MEASURE_JS = r"""
const done = arguments[arguments.length - 1];
function unfold() {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  // sphinx-togglebutton (exercise solutions, toggled admonitions)
  document.querySelectorAll('.toggle-hidden').forEach((e) => {
    e.classList.remove('toggle-hidden');
  });
}
function excerpt(el) {
  let text = '';
  if (el.tagName === 'MJX-CONTAINER' && window.MathJax && MathJax.startup
      && MathJax.startup.document) {
    try {
      const item = MathJax.startup.document.getMathItemsWithin(el.parentNode)
        .find((m) => m.typesetRoot === el);
      if (item) text = item.math;
    } catch (e) { text = ''; }
  }
  if (!text) text = el.textContent || '';
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 70 ? text.slice(0, 67) + '...' : text;
}
function rendered(el) { return el.getClientRects().length > 0; }
function blockAncestor(el) {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const d = getComputedStyle(p).display;
    if (!d.startsWith('inline') && d !== 'contents') return p;
  }
  return document.body;
}
function contentBox(el) {
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  return {
    left: r.left + parseFloat(s.borderLeftWidth) + parseFloat(s.paddingLeft),
    right: r.right - parseFloat(s.borderRightWidth) - parseFloat(s.paddingRight),
  };
}
function measure() {
  const found = [];
  let checked = 0;
  let hidden = 0;
  const seen = new Set();
  function check(el, kind) {
    if (seen.has(el)) return;
    seen.add(el);
    if (!rendered(el)) { hidden += 1; return; }
    checked += 1;
    if (el.scrollWidth > el.clientWidth + 1) {
      found.push({kind: kind, text: excerpt(el), sw: el.scrollWidth,
                  cw: el.clientWidth, note: ''});
    }
  }
  const scope = document.querySelector('main') || document.body;
  scope.querySelectorAll('div.pst-scrollable-table-container')
    .forEach((e) => check(e, 'table container'));
  scope.querySelectorAll('table').forEach((e) => check(e, 'table'));
  scope.querySelectorAll('pre').forEach((e) => check(e, 'pre'));
  scope.querySelectorAll('div.cell_output').forEach((out) => {
    check(out, 'cell output');
    out.querySelectorAll('*').forEach((e) => {
      if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') return;
      if (getComputedStyle(e).overflowX !== 'visible') {
        check(e, 'cell output ' + e.tagName.toLowerCase());
      }
    });
  });
  scope.querySelectorAll('mjx-container').forEach((e) => {
    const inline = !e.closest('div.math') && e.getAttribute('display') !== 'true';
    const kind = inline ? 'inline math' : 'display math';
    if (!inline) { check(e, kind); return; }
    // Inline: MathJax draws each glyph as a zero-width box whose character overflows
    // it by the font's advance, so even ``k`` has scrollWidth > clientWidth by a few
    // px; the box itself must fit instead (see the module docstring).
    if (seen.has(e)) return;
    seen.add(e);
    if (!rendered(e)) { hidden += 1; return; }
    checked += 1;
    const r = e.getBoundingClientRect();
    const boxes = [];
    const clip = e.closest('span.math');
    if (clip) boxes.push(['span.math', contentBox(clip)]);
    const block = blockAncestor(clip || e);
    boxes.push([block.tagName.toLowerCase(), contentBox(block)]);
    for (const [name, box] of boxes) {
      if (r.left < box.left - 1 || r.right > box.right + 1) {
        found.push({kind: kind, text: excerpt(e), sw: Math.round(r.width),
                    cw: Math.round(box.right - box.left),
                    note: 'sticks out of its ' + name + ' by '
                      + Math.round(Math.max(box.left - r.left, r.right - box.right))
                      + ' px'});
        break;
      }
    }
  });
  const fontErrors = [];
  document.fonts.forEach((f) => {
    if (f.status === 'error') fontErrors.push(f.family);
  });
  return {found: found, checked: checked, hidden: hidden,
          innerWidth: window.innerWidth, fontErrors: fontErrors};
}
function whenTypeset() {
  // MathJax's inline configuration object exists before the deferred script has
  // replaced it; wait for the real one (or for a page without MathJax to load).
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    (function poll() {
      const hasScript = document.querySelector('script[src*="mathjax"]');
      if (document.readyState === 'complete' && !hasScript) return resolve();
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        return MathJax.startup.promise.then(resolve, reject);
      }
      if (Date.now() - t0 > 20000) return reject(new Error('MathJax did not start'));
      setTimeout(poll, 50);
    })();
  });
}
whenTypeset()
  .then(() => document.fonts.ready)
  .then(() => { unfold(); return document.fonts.ready; })
  .then(() => new Promise((r) => requestAnimationFrame(() => r())))
  .then(() => done(measure()))
  .catch((e) => done({error: String(e)}));
"""


def overflow_report(
    site: Path, pages: list[str] | None = None
) -> tuple[list[str], str]:
    """Load every page of ``site`` in headless Chromium and measure what overflows.

    Returns ``(failures, summary)``: one readable line per element that scrolls
    sideways, and a line saying how much was checked.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    site = Path(site)
    pages = pages if pages is not None else _toc_files()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="overflow-profile-")
    for flag in [
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={VIEWPORT_WIDTH},{VIEWPORT_HEIGHT}",
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    failures: list[str] = []
    checked = 0
    try:
        driver.set_script_timeout(60)
        for name in pages:
            page = site / f"{name}.html"
            if not page.is_file():
                failures.append(f"{name}: page not built ({page})")
                continue
            driver.get(page.as_uri())
            result = driver.execute_async_script(_MEASURE_JS)
            if "error" in result:
                failures.append(f"{name}: could not measure: {result['error']}")
                continue
            if result["innerWidth"] != VIEWPORT_WIDTH:
                failures.append(
                    f"{name}: viewport is {result['innerWidth']} px wide, "
                    f"not {VIEWPORT_WIDTH}"
                )
            if result["fontErrors"]:
                failures.append(f"{name}: fonts failed to load: {result['fontErrors']}")
            checked += result["checked"]
            for item in result["found"]:
                note = f" ({item['note']})" if item["note"] else ""
                failures.append(
                    f"{name}: {item['kind']} \u00ab{item['text']}\u00bb "
                    f"scrollWidth/clientWidth = {item['sw']}/{item['cw']}{note}"
                )
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    summary = (
        f"{len(pages)} pages, {checked} elements checked at a {VIEWPORT_WIDTH}-px "
        f"window, {len(failures)} overflowing"
    )
    return failures, summary


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium or chromedriver is not installed "
    "(.ci/run installs chromium and chromium-driver)",
)
def test_nothing_scrolls_sideways_at_1280_px(built_site):
    failures, summary = overflow_report(built_site)
    assert not failures, (
        f"{summary}; these scroll sideways or stick out:\n" + "\n".join(failures)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--overflow",
        metavar="HTML_DIR",
        type=Path,
        required=True,
        help="a built site, e.g. /tmp/jb_x/_build/html",
    )
    parser.add_argument(
        "pages", nargs="*", help="pages to check (default: every page of _toc.yml)"
    )
    args = parser.parse_args(argv)
    if CHROMIUM is None or CHROMEDRIVER is None:
        print("Chromium or chromedriver is not installed", file=sys.stderr)
        return 2
    pages = [p.removesuffix(".html") for p in args.pages] or None
    failures, summary = overflow_report(args.overflow, pages)
    print("\n".join(failures))
    print(summary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
