"""The few figure helpers the chapters share: one style, and the recovery-versus-n curve.

matplotlib is imported lazily, so the package itself does not need a display.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_success_vs_n", "use_style"]

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
    """Apply the book's matplotlib style (small PNG figures, light grid, no top/right spines)."""
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
