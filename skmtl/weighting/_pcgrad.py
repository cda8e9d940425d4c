"""PCGrad: projecting conflicting gradients.

Yu, Kumar, Gupta, Levine, Hausman and Finn, "Gradient Surgery for
Multi-Task Learning", NeurIPS 2020.
"""

from __future__ import annotations

import numpy as np

from ._gradients import GradientAggregation, gram, result, seeded_rng

__all__ = ["PCGrad"]


class PCGrad(GradientAggregation):
    """Project each task gradient off the gradients it conflicts with, then sum.

    For every task ``i``, ``g_i^PC`` starts at ``g_i``; for the other tasks
    ``j`` in a random order, if ``g_i^PC . g_j < 0`` then
    ``g_i^PC <- g_i^PC - (g_i^PC . g_j / ||g_j||^2) g_j``. The shared update
    is ``d = sum_i g_i^PC`` (the paper's sum). With two tasks, ``d`` has a
    non-negative inner product with both gradients.

    The computation runs on the Gram matrix ``G G^T``, so the returned
    coefficients ``alpha`` are exact: ``d = sum_i alpha_i g_i``; the weights
    recorded during training are ``c_i alpha_i`` (see
    :class:`~skmtl.weighting.GradientAggregation`).

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.
    random_state : int, Generator or None, default=None
        Seed of the projection order (irrelevant for two tasks). None draws
        the seed from torch's global generator when the strategy is
        initialised, which the estimator seeds from its own ``random_state``
        during ``fit``: the strategy is then reproducible exactly when the
        estimator is.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import PCGrad
    >>> d, alpha = PCGrad().aggregate(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
    >>> d.tolist(), alpha.tolist()
    ([0.5, 1.5], [2.0, 1.5])
    """

    _name = "PCGrad"

    def __init__(self, on: str = "parameters", random_state=None) -> None:
        self.on = on
        self.random_state = random_state

    def _validate(self) -> None:
        self._rng = seeded_rng(self.random_state)

    def aggregate(self, G):
        if getattr(self, "_rng", None) is None:
            self._rng = seeded_rng(self.random_state)
        M = gram(G)
        k = len(M)
        C = np.eye(k)
        for i in range(k):
            for j in self._rng.permutation(k):
                if j == i or M[j, j] <= 0:
                    continue
                ip = C[i] @ M[:, j]
                if ip < 0:
                    C[i, j] -= ip / M[j, j]
        return result(G, C.sum(0))
