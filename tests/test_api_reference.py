"""The API reference documents every public name once, and the chapters link to it.

1. Every name of ``relulearn.__all__`` (and of ``relulearn.comparison.__all__``) has
   exactly one entry on the API pages (``chapters/api/*.html``): an element with
   ``id="relulearn.NAME"`` (``relulearn.comparison.NAME``) whose rendered docstring is
   not empty.
2. In each chapter notebook, every public name its code cells use (``rl.NAME``,
   ``relulearn.NAME``, ``mod.NAME`` for a module imported from relulearn such as
   ``cmp``, ``exact`` or ``moments``, and the names of ``from relulearn import ...``) is
   linked in the chapter's markdown with a MyST ``py`` role (``{py:func}``,
   ``{py:class}``, ``{py:data}``, ``{py:obj}``, ``{py:attr}``, ``{py:exc}``,
   ``{py:meth}``) whose target is ``relulearn.NAME`` (``~`` allowed), and the first
   mention of the name in the markdown (the role, or a code span such as ``NAME``,
   ``NAME(...)`` or ``rl.NAME``) is that link. The test reads the notebooks only.
3. In the built chapter, each of those links resolves: an
   ``<a class="reference internal" href="api/...#relulearn.NAME">``.

Run on an existing build with ``RELULEARN_BOOK_HTML=/tmp/jb_x/_build/html`` (see
tests/conftest.py).
"""

from __future__ import annotations

import ast
import importlib
import re
from collections import Counter
from functools import cache
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

import relulearn
from relulearn import comparison

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("0*.ipynb"))
PUBLIC = {"relulearn": set(relulearn.__all__)}
PUBLIC["relulearn.comparison"] = set(comparison.__all__)

ROLE = r"\{(?:py:)?(?:func|class|data|obj|attr|exc|meth|const)\}"
# a role with its target, or a plain code span (single or double backticks)
MENTION = re.compile(
    rf"(?P<role>{ROLE})?(?P<ticks>`+)(?P<text>.+?)(?P=ticks)", re.DOTALL
)
# fenced blocks whose content is code, not markdown (directives keep their content)
CODE_FENCE = re.compile(
    r"^(`{3,}|~{3,}|:{3,})\s*(\{(code-block|code|code-cell)\}|\w*)\s*$"
)


def _qualname(module: str, name: str) -> str:
    return f"{module}.{name}"


# --------------------------------------------------------------------------- #
# 1. every public name has one entry with a docstring
# --------------------------------------------------------------------------- #
@cache
def _api_entries(html_root: Path) -> dict[str, list[tuple[str, str]]]:
    """id -> [(page, rendered docstring text)] over the API pages."""
    entries: dict[str, list[tuple[str, str]]] = {}
    for page in sorted((html_root / "chapters" / "api").glob("*.html")):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        for dt in soup.select("dl.py > dt[id]"):
            dd = dt.find_next_sibling("dd")
            text = dd.get_text(" ", strip=True) if dd is not None else ""
            entries.setdefault(dt["id"], []).append((page.name, text))
    return entries


def _public_ids() -> list[str]:
    return [_qualname(m, n) for m in sorted(PUBLIC) for n in sorted(PUBLIC[m])]


def test_every_public_name_has_one_entry_with_a_docstring(built_site):
    entries = _api_entries(built_site)
    missing = [q for q in _public_ids() if q not in entries]
    twice = {
        q: [p for p, _ in entries[q]]
        for q in _public_ids()
        if len(entries.get(q, [])) > 1
    }
    empty = [q for q in _public_ids() if q in entries and not entries[q][0][1]]
    assert not missing, f"public names without an entry on the API pages: {missing}"
    assert not twice, f"public names documented more than once: {twice}"
    assert not empty, f"entries whose rendered docstring is empty: {empty}"


def test_api_pages_document_no_unknown_top_level_name(built_site):
    # an entry relulearn.X whose X is not public would document a name users cannot
    # import from the package (members such as relulearn.Recovery.ok are fine)
    public = set(_public_ids())
    stray = [
        q
        for q in _api_entries(built_site)
        if q not in public
        and q.removeprefix("relulearn.comparison.").count(".") == 0
        and q.removeprefix("relulearn.").count(".") == 0
    ]
    assert not stray, f"API entries of names that are not public: {stray}"


# --------------------------------------------------------------------------- #
# 2. chapters: the names the code uses, and their first mention in the markdown
# --------------------------------------------------------------------------- #
def _code_of(nb) -> str:
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            # IPython magics and shell escapes are not Python
            lines.append("" if line.lstrip().startswith(("%", "!")) else line)
        lines.append("")
    return "\n".join(lines)


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def used_names(nb) -> list[str]:
    """Qualified public names (relulearn.X, relulearn.comparison.X) the code uses."""
    tree = ast.parse(_code_of(nb))
    modules: dict[str, str] = {}  # local alias -> module (relulearn or a submodule)
    direct: dict[str, str] = {}  # local name -> qualified name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "relulearn" or alias.name.startswith("relulearn."):
                    if alias.asname:
                        modules[alias.asname] = alias.name
                    else:
                        modules["relulearn"] = "relulearn"
        elif (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] == "relulearn"
        ):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if _is_module(full):
                    modules[alias.asname or alias.name] = full
                else:
                    direct[alias.asname or alias.name] = full
    found: dict[str, None] = {}

    def add(module: str, name: str) -> None:
        # a submodule other than comparison re-exports its public names from relulearn
        home = (
            "relulearn.comparison" if module == "relulearn.comparison" else "relulearn"
        )
        if name in PUBLIC[home]:
            found[_qualname(home, name)] = None

    for full in direct.values():
        module, _, name = full.rpartition(".")
        add(module, name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            add(modules[node.value.id], node.attr)
    return sorted(found)


def _markdown_of(nb) -> list[tuple[int, str]]:
    """(cell index, markdown text without code blocks) of every markdown cell."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        kept, fence = [], None
        for line in cell.source.splitlines():
            m = CODE_FENCE.match(line.strip())
            if fence is None and m and (m.group(2) or "") != "":
                fence = m.group(1)
                continue
            if fence is not None:
                if line.strip() == fence:
                    fence = None
                continue
            if re.match(r"\s*(`{3,}|~{3,}|:{3,})", line):
                # the fence of a directive (its content is markdown, kept)
                kept.append("")
                continue
            kept.append(line)
        out.append((i, "\n".join(kept)))
    return out


def _role_target(text: str) -> str:
    m = re.search(r"<([^<>]+)>\s*$", text)
    target = (m.group(1) if m else text).strip().lstrip("~!")
    return target.removesuffix("()")


def _mentions(qualname: str, span: str) -> bool:
    """Whether a code span's text names the object (``NAME``, ``rl.NAME(...)``...)."""
    name = qualname.rpartition(".")[2]
    return (
        re.fullmatch(
            rf"(?:[A-Za-z_]\w*\.)*{re.escape(name)}(?:\(.*\))?", span.strip(), re.DOTALL
        )
        is not None
    )


def link_problems(nb) -> list[str]:
    """What is wrong with the chapter's links to the names its code uses."""
    used = used_names(nb)
    first: dict[str, tuple[int, str, bool]] = {}  # name -> (cell, excerpt, is link)
    linked: set[str] = set()
    for cell, text in _markdown_of(nb):
        for m in MENTION.finditer(text):
            span = m.group("text")
            if m.group("role"):
                target = _role_target(span)
                if target in used:
                    linked.add(target)
                    first.setdefault(target, (cell, m.group(0), True))
                continue
            for q in used:
                if q not in first and _mentions(q, span):
                    first[q] = (cell, m.group(0), False)
    problems = []
    for q in used:
        if q not in linked:
            problems.append(f"{q}: used by the code, never linked in the markdown")
        elif not first[q][2]:
            cell, excerpt, _ = first[q]
            problems.append(
                f"{q}: first mentioned unlinked in markdown cell {cell}: {excerpt}"
            )
    return problems


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_links_the_first_mention_of_each_name_it_uses(chapter):
    nb = nbformat.read(chapter, as_version=4)
    problems = link_problems(nb)
    assert not problems, f"{chapter.name}:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------- #
# 3. the links resolve in the built chapters
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_links_resolve_to_the_api_pages(chapter, built_site):
    nb = nbformat.read(chapter, as_version=4)
    html = built_site / "chapters" / f"{chapter.stem}.html"
    soup = BeautifulSoup(html.read_text(), "html.parser")
    targets = Counter()
    for a in soup.select("a.reference.internal[href]"):
        m = re.fullmatch(r"api/[\w-]+\.html#(relulearn\.[\w.]+)", a["href"])
        if m:
            targets[m.group(1)] += 1
    unresolved = [q for q in used_names(nb) if not targets[q]]
    assert not unresolved, (
        f"{html.name}: no resolved link (a.reference.internal to api/...#NAME) for"
        f" {unresolved}"
    )


def test_used_names_reads_every_import_form():
    src = (
        "import relulearn as rl\nimport relulearn.comparison as cmp\n"
        "from relulearn import moments, svec\nfrom relulearn.comparison import Setting\n"
        "%matplotlib inline\n"
        "rl.recover_exact(X, Y, 2); cmp.accuracy_vs_n; moments.first_moment\n"
        "rl.not_public; moments._private\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)])
    assert used_names(nb) == [
        "relulearn.comparison.Setting",
        "relulearn.comparison.accuracy_vs_n",
        "relulearn.first_moment",
        "relulearn.recover_exact",
        "relulearn.svec",
    ]


def test_link_problems_finds_unlinked_first_mentions():
    code = nbformat.v4.new_code_cell("import relulearn as rl\nrl.train; rl.sample\n")
    md = nbformat.v4.new_markdown_cell(
        "We call `rl.train(X, Y, k)` here, then {py:func}`~relulearn.train`; and"
        " {py:func}`draw <relulearn.sample>`.\n```python\nrl.sample(net, 10)\n```\n"
    )
    nb = nbformat.v4.new_notebook(cells=[md, code])
    assert link_problems(nb) == [
        "relulearn.train: first mentioned unlinked in markdown cell 0: `rl.train(X, Y, k)`"
    ]
