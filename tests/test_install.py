"""The package installs and works on its own: ``pip install .`` into a fresh environment.

A new virtual environment is made with the base interpreter (not this project's ``.venv``), and the
package is installed into it from a copy of the source tree (so the build writes nothing into the
checkout), not editable and without ``requirements.txt``: only the dependencies that
``pyproject.toml`` declares, from the package registry. Then, from a directory outside the
repository, that environment's python must import ``relulearn`` from its own site-packages, carry
the declared version and license, hold nothing beyond the package's dependency closure (no sympy,
no Jupyter), and run the README's quick-start example: the first ```python block of the section
"## Quick start" of README.md.

This test needs the package registry: pip's isolated build downloads the build backend
(setuptools) and the install downloads the dependencies unless pip's cache holds them. Measured on
2 cores busy with other work: 2 to 3 minutes (the venv ~20 s, pip ~90 to 120 s, the quick start
~17 s); a warm pip cache saved little.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# what a build never needs: the environment, build output, caches, version control
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "_build",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
)
# run in the fresh environment: where relulearn comes from, and what is installed
REPORT = """\
import importlib.metadata as md
import json
import sys

import relulearn

dist = md.distribution("relulearn")
print(json.dumps({
    "file": relulearn.__file__,
    "prefix": sys.prefix,
    "version": relulearn.__version__,
    "dist_version": dist.version,
    "license": dist.metadata.get("License-Expression"),
    "license_files": dist.metadata.get_all("License-File") or [],
    "files": [str(f) for f in dist.files or []],
    "installed": {d.metadata["Name"]: d.requires or [] for d in md.distributions()},
}))
"""


def quick_start_code(readme: str) -> str:
    """The first ```python block of the README's "## Quick start" section."""
    flags = re.MULTILINE | re.DOTALL
    section = re.search(r"^## Quick start[ \t]*\n(.*?)(?=^## |\Z)", readme, flags)
    assert section, 'README.md has no "## Quick start" section'
    block = re.search(r"^```python[ \t]*\n(.*?)^```[ \t]*$", section[1], flags)
    assert block, 'the "## Quick start" section of README.md has no ```python block'
    return block[1]


def dependency_closure(installed: dict[str, list[str]], root: str) -> set[str]:
    """Names of ``root`` and everything it requires, recursively (no extras)."""
    requires = {canonicalize_name(k): v for k, v in installed.items()}
    seen, todo = set(), [canonicalize_name(root)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in requires.get(name, []):
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


def _run(cmd: list, timeout: float, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, check=False, capture_output=True, text=True, timeout=timeout, **kw
    )
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


def test_pip_install_alone_gives_a_working_package(tmp_path):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    code = quick_start_code((ROOT / "README.md").read_text())

    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(venv)], timeout=300)
    python = venv / "bin" / "python"

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env["MPLBACKEND"] = "Agg"  # the example may plot; there is no display
    _run(
        [python, "-m", "pip", "install", "--disable-pip-version-check", str(src)],
        timeout=1200,  # a cold cache downloads numpy, scipy and matplotlib
        env=env,
    )

    # from outside the repository, so that nothing can be imported from the checkout
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "report.py").write_text(REPORT)
    (outside / "quick_start.py").write_text(code)
    report = json.loads(
        _run([python, "-I", "report.py"], timeout=300, cwd=outside, env=env).stdout
    )

    module = Path(report["file"]).resolve()
    assert module.is_relative_to(venv.resolve()), module
    assert not module.is_relative_to(ROOT), module
    assert report["version"] == report["dist_version"] == pyproject["version"]
    assert report["license"] == "MIT", report["license"]
    assert "LICENSE" in report["license_files"], report["license_files"]
    assert any(f.endswith("licenses/LICENSE") for f in report["files"])

    # only relulearn's own dependencies (pip may come with the venv, and nothing else)
    installed = {canonicalize_name(n) for n in report["installed"]}
    closure = dependency_closure(report["installed"], "relulearn")
    assert {canonicalize_name(n) for n in ["numpy", "scipy", "matplotlib"]} <= closure
    extra = installed - closure - {"pip", "setuptools"}
    assert not extra, f"installed beyond relulearn's dependencies: {sorted(extra)}"
    assert not {n for n in installed if n == "sympy" or "jupyter" in n}

    _run([python, "-I", "quick_start.py"], timeout=600, cwd=outside, env=env)
