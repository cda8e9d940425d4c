"""Random Loss Weighting.

Lin, Ye, Xu, Shi, Zhang and Kwok, "Reasonable Effectiveness of Random
Weighting: A Litmus Test for Multi-Task Learning", TMLR 2022.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._base import WeightingStrategy

__all__ = ["RLW"]

_DISTRIBUTIONS = ("normal", "dirichlet")


class RLW(WeightingStrategy):
    """Draw fresh random task weights at every training step.

    With ``distribution="normal"`` the weights are ``softmax(z)``,
    ``z ~ N(0, I)`` (the variant the paper recommends); with
    ``"dirichlet"`` they are a draw of ``Dirichlet(1, ..., 1)`` used as is
    (it already sums to 1). Either way the random weights of the tasks present
    in the batch are positive and sum to 1 (a task without labelled rows gets
    weight 0 and the others share the unit mass); the loss is
    ``sum_t lambda_t w_t L_t`` with ``w_t`` the estimator's ``task_weights``,
    so the reported weights sum to 1 when ``task_weights`` is None.

    Parameters
    ----------
    distribution : {"normal", "dirichlet"}, default="normal"
        The distribution of the random weights.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws (one value per task and step, whichever tasks are
        present). None draws the seed from torch's global generator, which the
        estimator seeds from its own ``random_state`` during ``fit``.

    Attributes
    ----------
    generator_ : torch.Generator
        The (CPU) generator of the draws, seeded by :meth:`init`.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import RLW
    >>> w = RLW(random_state=0)
    >>> _ = w.init(["a", "b", "c"])
    >>> total, weights = w.combine(torch.tensor([1.0, 2.0, 3.0]),
    ...                            torch.tensor([True, True, False]), torch.ones(3), None)
    >>> round(float(weights.sum()), 6), float(weights[2])
    (1.0, 0.0)
    """

    def __init__(self, distribution: str = "normal", random_state=None) -> None:
        self.distribution = distribution
        self.random_state = random_state

    def init(self, task_names):
        super().init(task_names)
        if self.distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"RLW distribution must be one of {list(_DISTRIBUTIONS)}, "
                f"got {self.distribution!r}."
            )
        if self.random_state is None:
            seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        elif isinstance(self.random_state, numbers.Integral):
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.generator_ = torch.Generator().manual_seed(seed)
        return None

    def _draw(self, n: int) -> torch.Tensor:
        if self.distribution == "normal":
            return torch.randn(n, generator=self.generator_, dtype=torch.float64)
        # Dirichlet(1) is normalised i.i.d. Exponential(1) draws.
        u = torch.rand(n, generator=self.generator_, dtype=torch.float64)
        return -torch.log1p(-u)

    def combine(self, losses, present, task_weights, state):
        draw = self._draw(len(losses)).to(losses.device)
        on = present.to(draw.device)
        if self.distribution == "normal":
            lam = torch.softmax(draw.masked_fill(~on, -torch.inf), dim=0)
        else:
            mass = draw * on
            lam = mass / mass.sum().clamp_min(torch.finfo(mass.dtype).tiny)
        lam = torch.nan_to_num(lam, nan=0.0)  # no task present: all weights 0
        weights = lam.to(losses.dtype) * task_weights * present.to(losses.dtype)
        return (weights * losses).sum(), weights
