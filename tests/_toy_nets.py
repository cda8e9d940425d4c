"""Small networks and gradient matrices shared by the weighting-strategy tests."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TrunkNet(nn.Module):
    """A shared two-layer trunk and one linear head per task, like MultiTaskNetwork.

    Keeps the trunk's output as ``representation`` in a training forward pass with
    gradients (what ``on="representation"`` strategies read); ``weighting`` is None.
    """

    def __init__(self, n_in=5, width=8, n_tasks=2, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.trunk = nn.Sequential(nn.Linear(n_in, width), nn.Tanh(), nn.Linear(width, width))
        self.heads = nn.ModuleList(nn.Linear(width, 1) for _ in range(n_tasks))
        self.weighting = None

    def shared_parameters(self):
        return list(self.trunk.parameters())

    def forward(self, x):
        h = self.trunk(x)
        self.representation = h if self.training and torch.is_grad_enabled() else None
        return [head(h).squeeze(1) for head in self.heads]


def rand_G(seed, k=2, n=6, conflict=False, scales=None):
    """Random float64 gradients (k, n); with ``conflict`` the first two conflict;
    ``scales`` multiplies each row."""
    g = torch.Generator().manual_seed(seed)
    while True:
        G = torch.randn(k, n, generator=g, dtype=torch.float64)
        if not conflict or G[0] @ G[1] < 0:
            break
    return G if scales is None else G * torch.tensor(scales, dtype=torch.float64)[:, None]


def flat(tensors):
    """The tensors flattened and concatenated."""
    return torch.cat([t.reshape(-1) for t in tensors])


def regression_data(n=48):
    """Two regression tasks over 4 features; task "1" labelled on every 5th row only
    (absent from many small batches)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    Y = np.column_stack([X @ [1.0, 2.0, 0.0, 0.0], 10 * (X @ [0.0, 1.0, -1.0, 0.5])])
    Y[np.arange(n) % 5 != 0, 1] = np.nan
    return X, Y
