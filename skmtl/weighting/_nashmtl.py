"""Nash-MTL: multi-task learning as a bargaining game.

Navon, Shamsian, Achituve, Maron, Kawaguchi, Chechik and Fetaya,
"Multi-Task Learning as a Bargaining Game", ICML 2022.
"""

from __future__ import annotations

import numpy as np

from ._gradients import GradientAggregation, check_real, gram, result

__all__ = ["NashMTL", "nash_weights"]


def nash_weights(M: np.ndarray, max_iter: int = 100, tol: float = 1e-10) -> np.ndarray:
    """The positive ``alpha`` with ``M alpha = 1 / alpha`` (elementwise).

    It is the minimiser of the strictly convex
    ``f(alpha) = alpha^T M alpha / 2 - sum_i log alpha_i``, found by damped
    Newton steps that keep ``alpha > 0``.
    """
    k = len(M)
    a = np.ones(k)

    def f(x):
        return 0.5 * x @ M @ x - np.log(x).sum()

    for _ in range(max_iter):
        g = M @ a - 1.0 / a
        if np.linalg.norm(g) < tol:
            break
        step = np.linalg.solve(M + np.diag(1.0 / a**2), g)
        t, fa, slope = 1.0, f(a), g @ step
        while t > 1e-12 and (np.any(a - t * step <= 0) or f(a - t * step) > fa - 0.25 * t * slope):
            t *= 0.5
        a = a - t * step
    return a


class NashMTL(GradientAggregation):
    """The Nash bargaining solution: the update that maximises ``sum_i log(g_i·d)``.

    With ``d = sum_i alpha_i g_i`` restricted to a ball, the solution
    satisfies ``(G G^T) alpha = 1 / alpha`` elementwise, ``alpha > 0``:
    each task's share ``alpha_i (g_i . d) = 1`` is the same. As in the
    official code, ``G G^T`` is divided by its Frobenius norm first (the
    weights do not depend on the gradients' overall scale). The paper's
    sequence of convex programs (cvxpy) is replaced by an exact Newton
    solve of the equivalent strictly convex problem
    ``min alpha^T M alpha / 2 - sum log alpha_i``; ``reg`` (times the
    identity) keeps it bounded when the gradients are linearly dependent.
    The official code's options to solve every few steps and to clip the
    update's norm are not implemented.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.
    reg : float, default=1e-6
        Ridge added to the normalised Gram matrix (>= 0).

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import NashMTL
    >>> d, alpha = NashMTL(reg=0.0).aggregate(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    >>> [round(v, 4) for v in alpha.tolist()]  # 1 / sqrt(diag(M) / ||M||)
    [2.0305, 1.0153]
    """

    _name = "Nash-MTL"

    def __init__(self, on: str = "parameters", reg: float = 1e-6) -> None:
        self.on = on
        self.reg = reg

    def _validate(self) -> None:
        check_real("NashMTL", "reg", self.reg, low=0.0)

    def aggregate(self, G):
        self._validate()
        M = gram(G)
        norm = float(np.linalg.norm(M))
        if norm <= 0:
            return result(G, np.zeros(len(M)))
        Mn = M / norm + float(self.reg) * np.eye(len(M))
        return result(G, nash_weights(Mn))
