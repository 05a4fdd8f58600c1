"""Re-run strict nbval of every chapter under other BLAS kernels, SIMD dispatch and thread counts.

The book's stored outputs must be what a clean run produces on *any* machine. Kernels
round differently (OpenBLAS picks its kernels by CPU; numpy dispatches ``exp``, ``log``,
... to SIMD code by CPU), and so does the number of BLAS threads. This script runs the
same strict nbval check as ``make test`` once per variant below and prints every cell
whose output differs from the stored one.

Usage: ``make check-repro`` (or ``.venv/bin/python scripts/check_repro.py [--jobs 2]
[--only NAME ...]``).

Not part of ``make test`` or CI on purpose: it overrides ``OPENBLAS_CORETYPE``, which
some machines preset because older OpenBLAS builds crash on their CPUs. The "as preset"
variants leave a preset ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` alone. Exit status
0 when every variant matches.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _numpy_features() -> tuple[list[str], list[str]]:
    """(dispatched features this CPU has, the subset that is AVX-512), from the project's numpy."""
    code = (
        "from numpy._core._multiarray_umath import __cpu_dispatch__ as d, __cpu_features__ as f\n"
        "print(' '.join(x for x in d if f.get(x)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return out, [x for x in out if "512" in x or x == "X86_V4"]


def variants() -> list[tuple[str, dict[str, str]]]:
    found, avx512 = _numpy_features()
    one = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    two = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    out = [
        ("kernel as preset, 1 thread", dict(one)),
        ("kernel as preset, 2 threads", dict(two)),
        ("OpenBLAS Sandybridge, 1 thread", {**one, "OPENBLAS_CORETYPE": "Sandybridge"}),
        ("OpenBLAS Prescott, 2 threads", {**two, "OPENBLAS_CORETYPE": "Prescott"}),
    ]
    if avx512:
        out.append(
            (
                "numpy without AVX-512, 1 thread",
                {**one, "NPY_DISABLE_CPU_FEATURES": " ".join(avx512)},
            )
        )
    if found:  # numpy's baseline code only: no AVX2 / AVX-512 dispatch
        out.append(
            (
                "numpy baseline SIMD only, 1 thread",
                {**one, "NPY_DISABLE_CPU_FEATURES": " ".join(found)},
            )
        )
    return out


def run_variant(
    name: str, env_extra: dict[str, str], paths: list[str]
) -> tuple[str, float, list[tuple[str, str]], str]:
    env = dict(os.environ)
    for key in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES"):
        if key in env_extra:
            env.pop(key, None)
    if "OPENBLAS_CORETYPE" in env_extra:
        env.pop(
            "OPENBLAS_L2_SIZE", None
        )  # an L2 size preset for another core type would mislead it
    env.update(env_extra)
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "report.xml"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={xml}",
                *paths,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - t0
        diffs = []
        if xml.is_file():
            for case in ET.parse(xml).getroot().iter("testcase"):
                for bad in list(case.findall("failure")) + list(case.findall("error")):
                    text = (bad.get("message") or "") + "\n" + (bad.text or "")
                    cell = f"{case.get('classname')}::{case.get('name')}"
                    diffs.append((cell, _diff_lines(text)))
        tail = (
            "" if diffs or proc.returncode == 0 else (proc.stdout + proc.stderr)[-2000:]
        )
    return name, seconds, diffs, tail


def _diff_lines(text: str) -> str:
    keep = [
        ln
        for ln in text.splitlines()
        if ln.strip().startswith(("-", "+", "?")) or "mismatch" in ln
    ]
    return (
        "\n".join("      " + ln for ln in keep[:40]) or "      " + text.strip()[:1500]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="variants run at once",
    )
    parser.add_argument(
        "--only",
        action="append",
        help="run only the variants whose name contains this word (repeatable)",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=["chapters"],
        help="notebooks or folders (default: chapters)",
    )
    args = parser.parse_args()
    todo = variants()
    if args.only:
        todo = [
            (n, e) for n, e in todo if any(w.lower() in n.lower() for w in args.only)
        ]
    _, avx512 = _numpy_features()
    print(
        f"{len(todo)} variants of strict nbval on {', '.join(args.paths)}: one-thread variants {args.jobs} at a"
        " time, the others alone"
    )
    if not avx512:
        print(
            "(this CPU has no AVX-512: the 'numpy without AVX-512' variant would change nothing and is skipped)"
        )
    t0 = time.perf_counter()
    # one-thread variants run side by side; a variant with more BLAS threads runs alone,
    # since two runs competing for the cores oversubscribe OpenBLAS's threads and take
    # several times as long
    single = [v for v in todo if v[1].get("OPENBLAS_NUM_THREADS") == "1"]
    multi = [v for v in todo if v[1].get("OPENBLAS_NUM_THREADS") != "1"]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda v: run_variant(v[0], v[1], args.paths), single))
    results += [run_variant(name, env, args.paths) for name, env in multi]
    todo = single + multi
    bad = 0
    for (name, seconds, diffs, tail), (_, env) in zip(results, todo):
        flags = " ".join(f"{k}={v}" for k, v in env.items())
        verdict = (
            "identical" if not diffs and not tail else f"{len(diffs)} cell(s) differ"
        )
        print(f"\n[{verdict}] {name}  ({seconds:.0f} s; {flags})")
        for cell, diff in diffs:
            print(f"  {cell}\n{diff}")
        if tail:
            print("  pytest did not run cleanly:\n" + tail)
        bad += bool(diffs or tail)
    print(
        f"\n{len(results) - bad} of {len(results)} variants identical to the stored outputs; "
        f"{time.perf_counter() - t0:.0f} s in all"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
