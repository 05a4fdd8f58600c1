"""The planted networks shared by the tests of the moment route (initialisation, sign patterns, low rank)."""

from __future__ import annotations

import numpy as np

import relulearn as rl


def planted_low_rank(d, k, m, seed, rank=None):
    """``planted_network(d, k, m, rng=seed)``, with an output layer of the given rank if ``rank`` is set."""
    net = rl.planted_network(d, k, m, rng=seed)
    if rank is not None:
        g = np.random.default_rng(seed + 1000)
        net = rl.TwoLayerNetwork(
            g.standard_normal((m, rank)) @ g.standard_normal((rank, k)), net.V
        )
    return net
