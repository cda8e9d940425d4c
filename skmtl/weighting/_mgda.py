"""MGDA: the multiple-gradient descent algorithm as multi-objective optimisation.

Sener and Koltun, "Multi-Task Learning as Multi-Objective Optimization",
NeurIPS 2018.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from ._gradients import GradientAggregation, gram, result

__all__ = ["MGDA", "min_norm_weights"]

_NORMALIZATIONS = ("none", "l2")


def min_norm_weights(M: np.ndarray) -> np.ndarray:
    """Weights on the simplex of the min-norm point of the hull of the rows of ``G``.

    ``M = G G^T``; minimises ``alpha^T M alpha`` over the probability
    simplex (closed form for two tasks, non-negative least squares otherwise).
    """
    k = len(M)
    if k == 1:
        return np.ones(1)
    if k == 2:
        den = M[0, 0] + M[1, 1] - 2 * M[0, 1]
        a = 0.5 if den <= 0 else float(np.clip((M[1, 1] - M[0, 1]) / den, 0.0, 1.0))
        return np.array([a, 1.0 - a])
    # min ||A a||^2 (A^T A = M) with a >= 0 and a heavily penalised sum(a) = 1: an
    # exact active-set NNLS, more accurate than a general solver on this problem.
    lam, V = np.linalg.eigh(M / max(float(np.abs(M).max()), 1e-300))
    A = np.sqrt(np.clip(lam, 0, None))[:, None] * V.T
    big = 1e4
    a, _ = nnls(np.vstack([A, np.full((1, k), big)]), np.concatenate([np.zeros(k), [big]]))
    return a / a.sum() if a.sum() > 0 else np.full(k, 1.0 / k)


class MGDA(GradientAggregation):
    """Step along the min-norm element of the convex hull of the task gradients.

    ``alpha = argmin_{alpha in simplex} ||sum_i alpha_i g_i||^2`` and
    ``d = sum_i alpha_i g_i``: a common descent direction (``d . g_i >=
    ||d||^2`` for every task), 0 at a Pareto-stationary point. Two tasks have
    the closed form ``alpha_1 = clip((g_2 - g_1) . g_2 / ||g_1 - g_2||^2, 0, 1)``;
    more tasks are solved by non-negative least squares on the Gram matrix (the paper uses
    Frank-Wolfe on the same problem). ``d`` sums weights that add to 1, so
    its scale is that of one task gradient, not of their sum.

    ``on="parameters"`` is exact MGDA on the shared parameters.
    ``on="representation"`` is MGDA-UB, the paper's cheap upper bound: the
    same solve on the gradients with respect to the shared representation
    ``z`` (one backward pass through the heads per task), then one backward
    pass of ``sum_i alpha_i dL_i/dz`` through the trunk.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        What the gradients are taken with respect to: the trainable shared
        parameters (MGDA) or the shared representation (MGDA-UB).
    normalization : {"none", "l2"}, default="none"
        "l2" solves for unit-norm gradients (the paper's gradient
        normalisation); the returned ``alpha`` are then the coefficients of
        the raw gradients (``alpha_i / ||g_i||``).

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import MGDA
    >>> d, alpha = MGDA().aggregate(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    >>> [round(v, 4) for v in d.tolist()], [round(v, 4) for v in alpha.tolist()]
    ([0.8, 0.4], [0.8, 0.2])
    """

    _name = "MGDA"

    def __init__(self, on: str = "parameters", normalization: str = "none") -> None:
        self.on = on
        self.normalization = normalization

    def _validate(self) -> None:
        if self.normalization not in _NORMALIZATIONS:
            raise ValueError(
                f"MGDA normalization must be one of {_NORMALIZATIONS}, got {self.normalization!r}."
            )

    def aggregate(self, G):
        self._validate()
        M = gram(G)
        scale = np.ones(len(M))
        if self.normalization == "l2":
            norms = np.sqrt(np.clip(np.diag(M), 0, None))
            scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)
            M = M * scale[:, None] * scale[None, :]
        return result(G, min_norm_weights(M) * scale)
