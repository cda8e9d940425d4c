"""UPGrad: unconflicting projection of gradients (Jacobian descent).

Quinton and Rey, "Jacobian Descent for Multi-Objective Optimization",
arXiv:2406.16232, 2024.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from ._gradients import GradientAggregation, gram, result

__all__ = ["UPGrad"]


def dual_cone_weights(M: np.ndarray) -> np.ndarray:
    """Row ``i``: ``w`` with ``G^T w`` the projection of ``g_i`` onto the dual cone of ``G``.

    ``w = argmin_{w >= e_i} w^T M w`` (``M = G G^T``), solved exactly as the
    non-negative least squares ``min_{v >= 0} ||A (v + e_i)||`` with
    ``A^T A = M``.
    """
    k = len(M)
    lam, V = np.linalg.eigh(M)
    A = np.sqrt(np.clip(lam, 0, None))[:, None] * V.T
    W = np.eye(k)
    for i in range(k):
        v, _ = nnls(A, -A[:, i])
        W[i] += v
    return W


class UPGrad(GradientAggregation):
    """Average of the task gradients each projected onto the dual cone of all of them.

    Every ``g_i`` is projected onto ``{x : g_j . x >= 0 for all j}`` (the
    vectors that conflict with no task), and ``d`` is the mean of the
    projections. ``d`` therefore has a non-negative inner product with
    every task gradient, and equals the mean gradient when no two
    gradients conflict. Each projection is a small quadratic program on the
    Gram matrix, solved exactly with :func:`scipy.optimize.nnls`; ``alpha``
    are the exact coefficients of ``d``. (This is the aggregator of the
    ``torchjd`` library with its default uniform preference.)

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import UPGrad
    >>> d, alpha = UPGrad().aggregate(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
    >>> [round(v, 4) for v in d.tolist()], [round(v, 4) for v in alpha.tolist()]
    ([0.25, 0.75], [1.0, 0.75])
    """

    _name = "UPGrad"

    def __init__(self, on: str = "parameters") -> None:
        self.on = on

    def aggregate(self, G):
        M = gram(G)
        scale = max(float(np.abs(M).max()), 1e-300)
        return result(G, dual_cone_weights(M / scale).mean(0))
