"""CAGrad: conflict-averse gradient descent.

Liu, Liu, Jin, Stone and Liu, "Conflict-Averse Gradient Descent for
Multi-task Learning", NeurIPS 2021.
"""

from __future__ import annotations

import numpy as np

from ._gradients import GradientAggregation, check_real, gram, result, simplex_minimize

__all__ = ["CAGrad"]


class CAGrad(GradientAggregation):
    """Maximise the worst task's improvement within a ball around the mean gradient.

    With ``g_0 = mean_i g_i`` and ``phi = c^2 ||g_0||^2``, solve the dual
    ``w* = argmin_{w in simplex} g_w . g_0 + sqrt(phi) ||g_w||`` with
    ``g_w = sum_i w_i g_i`` (SLSQP on the Gram matrix), then

    ``d = (g_0 + sqrt(phi) / ||g_w*|| g_w*) / (1 + c^2)``

    (the division is the official code's ``rescale=1``; ``rescale=False``
    drops it). ``c = 0`` gives the mean gradient; for ``c < 1``,
    ``d . g_0 >= (1 - c) ||g_0||^2 / (1 + c^2) > 0``. The returned
    ``alpha`` are the exact coefficients ``(1/k + sqrt(phi)/||g_w*|| w*_i)/(1 + c^2)``.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.
    c : float, default=0.4
        Radius of the ball around the mean gradient, relative to its norm (>= 0).
    rescale : bool, default=True
        Divide the update by ``1 + c^2``.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import CAGrad
    >>> d, alpha = CAGrad(c=0.0).aggregate(torch.tensor([[1.0, 0.0], [-1.0, 2.0]]))
    >>> d.tolist(), alpha.tolist()
    ([0.0, 1.0], [0.5, 0.5])
    """

    _name = "CAGrad"

    def __init__(self, on: str = "parameters", c: float = 0.4, rescale: bool = True) -> None:
        self.on = on
        self.c = c
        self.rescale = rescale

    def _validate(self) -> None:
        check_real("CAGrad", "c", self.c, low=0.0)

    def aggregate(self, G):
        self._validate()
        M = gram(G)
        k = len(M)
        c = float(self.c)
        alpha = np.full(k, 1.0 / k)
        g0_sq = float(M.sum()) / k**2
        if c > 0 and g0_sq > 0:
            scale = float(np.abs(M).max())
            Ms = M / scale
            mbar = Ms.mean(1)
            root = c * np.sqrt(g0_sq / scale)

            def fun(w):
                return w @ mbar + root * np.sqrt(max(w @ Ms @ w, 1e-30))

            def jac(w):
                return mbar + root * (Ms @ w) / np.sqrt(max(w @ Ms @ w, 1e-30))

            w = simplex_minimize(fun, jac, k)
            gw = np.sqrt(max(w @ Ms @ w, 0.0))
            if gw > 0:
                alpha = alpha + root / gw * w
        if self.rescale:
            alpha = alpha / (1.0 + c**2)
        return result(G, alpha)
