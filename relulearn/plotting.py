"""The few figure helpers the chapters share: one style, the recovery-versus-n curve,
and the numbers behind a figure.

matplotlib is imported lazily, so the package itself does not need a display.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_success_vs_n", "series_text", "use_style"]

_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "font.size": 10,
}


def use_style() -> None:
    """Apply the book's matplotlib style (small PNG figures, light grid, no top/right
    spines).

    Updates ``matplotlib.rcParams`` for the rest of the session.

    Returns
    -------
    None
    """
    import matplotlib as mpl

    mpl.rcParams.update(_STYLE)


def plot_success_vs_n(ax, ns, successes, trials, *, label=None, **kwargs):
    """Plot the fraction of successes against the sample size n on log-x axes.

    Parameters
    ----------
    ax : matplotlib Axes
    ns : sequence of int
        Sample sizes.
    successes : sequence of int
        Successes at each n.
    trials : int
        Trials per n.
    label : str, optional
        Legend label.

    Returns
    -------
    The line artist.
    """
    ns = np.asarray(ns)
    rate = np.asarray(successes, dtype=float) / trials
    (line,) = ax.plot(ns, rate, marker="o", label=label, **kwargs)
    ax.set_xscale("log")
    ax.set_xlabel("number of samples n")
    ax.set_ylabel(f"fraction exact ({trials} trials)")
    ax.set_ylim(-0.03, 1.03)
    return line


def series_text(
    label: str, x, y, *, digits: int = 2, floor: float | None = None
) -> str:
    """The numbers behind a plotted series, as one line of text:
    ``"label: x1: y1, x2: y2, ..."``.

    nbval compares printed text, not images, so each chapter prints what it plots; a
    figure then cannot drift unnoticed.

    Parameters
    ----------
    label : str
        What the series is.
    x, y : sequence
        The plotted points (x may be numbers or names).
    digits : int
        Significant digits of each y value: no more than its standard error supports, so
        that the line is the same on every machine.
    floor : float, optional
        Values below it (in magnitude) print as ``< floor``: round-off-level numbers
        differ between BLAS kernels and are not results.

    Returns
    -------
    str
    """
    parts = []
    for xi, yi in zip(x, y):
        yi = float(yi)
        if floor is not None and abs(yi) < floor:
            val = f"< {floor:.0e}"
        elif yi == 0 or not np.isfinite(yi):
            val = f"{yi:g}"
        else:
            val = (
                f"{yi:.{max(int(digits), 1)}g}"
                if 1e-3 <= abs(yi) < 1e4
                else f"{yi:.{max(int(digits) - 1, 0)}e}"
            )
        parts.append(f"{xi}: {val}")
    return f"{label}: " + ", ".join(parts)
