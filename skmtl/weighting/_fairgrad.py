"""FairGrad: alpha-fair allocation of the update among the tasks.

Ban and Ji, "Fair Resource Allocation in Multi-Task Learning", ICML 2024.
"""

from __future__ import annotations

import numpy as np

from ._gradients import GradientAggregation, check_real, gram, result

__all__ = ["FairGrad", "fairgrad_weights"]

# Ridge, relative to the largest entry of the Gram matrix, that keeps the problem bounded
# when a positive combination of the gradients is 0 (no solution exists then).
_RIDGE = 1e-12


def _utility(x: np.ndarray, q: float) -> np.ndarray:
    """``(x^q - 1) / q`` (``log x`` at ``q = 0``): a primitive of ``x^(q - 1)``."""
    if q == 0:
        return np.log(x)
    return np.expm1(q * np.log(x)) / q


def fairgrad_weights(M: np.ndarray, alpha: float, max_iter: int = 100) -> np.ndarray:
    """The positive ``w`` with ``M w = w^(-1/alpha)`` (elementwise).

    ``w`` is the minimiser of the strictly convex
    ``f(w) = w^T M w / 2 - sum_i phi(w_i)`` with ``phi' (w) = w^(-1/alpha)``,
    found by damped Newton steps that keep ``w > 0`` (``M`` is first divided
    by its largest entry, which scales the solution by a known power, and
    gets a relative ridge of 1e-12 so that a solution always exists).
    """
    M = np.asarray(M, dtype=np.float64)
    k = len(M)
    scale = max(float(np.abs(M).max()), 1e-300)
    Ms = M / scale + _RIDGE * np.eye(k)
    p = 1.0 / float(alpha)
    q = 1.0 - p

    def f(x):
        return 0.5 * x @ Ms @ x - _utility(x, q).sum()

    w = np.ones(k)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for _ in range(max_iter):
            target = w**-p
            g = Ms @ w - target
            if np.linalg.norm(g) <= 1e-13 * np.linalg.norm(target):
                break
            step = np.linalg.solve(Ms + np.diag(p * target / w), g)
            t, fw, slope = 1.0, f(w), g @ step
            while t > 1e-12:
                new = w - t * step
                if np.all(new > 0):
                    fn = f(new)
                    if np.isfinite(fn) and fn <= fw - 0.25 * t * slope:
                        break
                t *= 0.5
            else:
                break  # no progress left at this precision
            w = new
    # Ms w = w^(-p) gives (scale Ms) (c w) = (c w)^(-p) for c = scale^(-1 / (1 + p)).
    return w * scale ** (-1.0 / (1.0 + p))


class FairGrad(GradientAggregation):
    """Allocate the update fairly: ``alpha``-fairness of the tasks' improvements.

    The update ``d`` is chosen to maximise ``sum_i (g_i . d)^(1 - alpha) / (1 - alpha)``
    (``sum_i log(g_i . d)`` at ``alpha = 1``) for a step of bounded length,
    the alpha-fair utility of the tasks' first-order loss decreases
    ``g_i . d``. Its solution is ``d = sum_i w_i g_i`` with ``w > 0`` solving

    ``(G G^T) w = w^(-1/alpha)`` (elementwise),

    so that each task's improvement is ``g_i . d = w_i^(-1/alpha)``.
    ``alpha = 1`` is proportional fairness (``w_i (g_i . d) = 1`` for every
    task: the Nash bargaining solution of
    :class:`~skmtl.weighting.NashMTL`, there on a normalised Gram matrix);
    a large ``alpha`` approaches max-min fairness; ``alpha -> 0`` tends to
    the sum of the gradients. As in the paper and the official code, the Gram matrix is not
    normalised, so ``d`` scales as ``||g||^((1 - alpha) / (1 + alpha))``.

    The equation is solved exactly, by Newton's method on the strictly
    convex problem it is the optimality condition of (the official code,
    LibMTL and TorchJD run ``scipy.optimize.least_squares`` on the residual
    from uniform weights, which stops at its tolerances); a relative ridge
    of 1e-12 on the Gram matrix keeps a solution in existence when a
    positive combination of the gradients is 0. ``alpha`` are the weights
    ``w``. TorchJD also accepts ``alpha = 0`` (the mean gradient); here
    ``alpha`` must be positive, as the equation requires.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.
    alpha : float, default=1.0
        The fairness parameter (> 0): 1 is proportional fairness, larger
        values favour the worst-served task more.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import FairGrad
    >>> G = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> d, w = FairGrad(alpha=1.0).aggregate(G)
    >>> [round(v, 4) for v in w.tolist()]  # orthogonal gradients: w_i = 1 / ||g_i||
    [1.0, 0.5]
    >>> [round(v, 4) for v in (w * (G @ d)).tolist()]  # equal shares
    [1.0, 1.0]
    """

    _name = "FairGrad"

    def __init__(self, on: str = "parameters", alpha: float = 1.0) -> None:
        self.on = on
        self.alpha = alpha

    def _validate(self) -> None:
        check_real("FairGrad", "alpha", self.alpha, low=0.0, low_open=True)

    def aggregate(self, G):
        self._validate()
        return result(G, fairgrad_weights(gram(G), float(self.alpha)))
