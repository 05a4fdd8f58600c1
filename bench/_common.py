"""Shared helpers of the bench scripts: timing, peak memory, log-log slopes, table printing.

Not part of the package and never run by CI as tests.
"""

from __future__ import annotations

import os
import time
import tracemalloc

import numpy as np

from relulearn import loglog_slope  # noqa: F401 - re-exported for the scripts


def machine_line() -> str:
    """One line that says what the numbers were measured on."""
    import platform

    return f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def timed(fn, *args, **kwargs):
    """(result, seconds) of one call."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def peak_memory(fn, *args, **kwargs):
    """(result, peak MiB of Python/numpy allocations during the call, by tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        out = fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak / 2**20


def print_table(title: str, header: list[str], rows: list[list]) -> None:
    """Print a plain fixed-width table."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for j, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(c) -> str:
    if isinstance(c, float):
        return (
            "nan"
            if not np.isfinite(c)
            else (
                f"{c:.2e}"
                if (abs(c) < 1e-2 or abs(c) >= 1e4) and c != 0
                else f"{c:.3g}"
            )
        )
    return str(c)
