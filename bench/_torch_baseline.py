"""Gradient training of ``U relu(V X)`` in PyTorch (CPU), for the comparison bench only.

Imported by ``bench/compare.py --torch`` when PyTorch is installed (``pip install -r
requirements-bench.txt``); the package and its tests never need it. Same loss, same
initialisation rule and same stopping rule as ``relulearn.train`` (Adam, step halved on
plateaus), so the tables compare implementations, not recipes.
"""

from __future__ import annotations

import numpy as np
import torch

import relulearn as rl


def train_torch(
    X, Y, k, *, seed=0, lr=0.01, max_iter=3000, batch_size=None, tol=1e-14, patience=100
):
    """Adam on ``||U relu(V X) - Y||^2 / (2n)`` in float64 PyTorch; returns a ``relulearn.TwoLayerNetwork``."""
    torch.set_num_threads(max(1, torch.get_num_threads()))
    X = np.asarray(X, float)
    Y = np.atleast_2d(np.asarray(Y, float))
    d, n = X.shape
    gen = np.random.default_rng(seed)
    V0 = gen.standard_normal((k, d)) / np.sqrt(d)
    H = np.maximum(V0 @ X, 0)
    U0 = np.linalg.lstsq(H.T, Y.T, rcond=None)[0].T
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    U = torch.tensor(U0, requires_grad=True)
    V = torch.tensor(V0, requires_grad=True)
    opt = torch.optim.Adam([U, V], lr=lr)
    yy = float((Yt**2).sum()) / (2 * n)
    best, since = np.inf, 0
    g = torch.Generator().manual_seed(int(seed))
    for _ in range(max_iter):
        if batch_size is None or batch_size >= n:
            batches = [slice(None)]
        else:
            batches = torch.randperm(n, generator=g).split(batch_size)
        for idx in batches:
            opt.zero_grad()
            R = U @ torch.relu(V @ Xt[:, idx]) - Yt[:, idx]
            loss = (R**2).sum() / (2 * R.shape[1])
            loss.backward()
            opt.step()
        with torch.no_grad():
            R = U @ torch.relu(V @ Xt) - Yt
            L = float((R**2).sum()) / (2 * n)
        if L / yy < tol:
            break
        if L < best * (1 - 1e-3):
            best, since = L, 0
        else:
            since += 1
            if since >= patience:
                for group in opt.param_groups:
                    group["lr"] *= 0.5
                since = 0
                if opt.param_groups[0]["lr"] < lr * 1e-4:
                    break
    return rl.TwoLayerNetwork(U.detach().numpy(), V.detach().numpy())
